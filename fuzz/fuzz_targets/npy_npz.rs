//! NumPy import. First byte even: the rest is one `.npy` (`interop::npy::Array::from_npy`);
//! an array that parses must write back (`to_npy`) to bytes that parse to the same bytes
//! again. Odd: the rest is a PsychRNN weights `.npz` (`interop::psychrnn::import_bytes`,
//! which reads the zip, every `.npy` member and the `dale_ratio` pickle).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use neuroloop::interop::npy::Array;
use neuroloop::interop::psychrnn::{import_bytes, ImportOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(a) = Array::from_npy(rest) {
            let bytes = a.to_npy();
            let b = Array::from_npy(&bytes).expect("a written .npy parses");
            assert_eq!(bytes, b.to_npy(), "npy write ∘ read is not stable");
        }
    } else {
        let _ = import_bytes(
            Path::new("fuzz.npz"),
            rest,
            &ImportOptions::new(10.0, 100.0),
        );
    }
});
