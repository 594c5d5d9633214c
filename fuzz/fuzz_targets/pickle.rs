//! The pickle decoder (`interop::pickle::object_scalar`): arbitrary bytes give a value or
//! a `PickleError`, never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neuroloop::interop::pickle::object_scalar;

fuzz_target!(|data: &[u8]| {
    let _ = object_scalar(data);
});
