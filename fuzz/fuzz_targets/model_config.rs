//! Model JSON and train TOML. First byte even: the rest is a native model file
//! (`model::file::from_bytes`: kind detection, JSON, validation). Odd: the rest is a train
//! config (`train::config::TrainConfig::from_toml`, then `validate` and `transfer`).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use neuroloop::model::file::from_bytes;
use neuroloop::train::config::TrainConfig;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(m) = from_bytes(Path::new("fuzz.json"), rest) {
            let _ = m.effective();
        }
    } else if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(c) = TrainConfig::from_toml(text, "fuzz.toml") {
            let _ = c.validate();
            let _ = c.transfer();
        }
    }
});
