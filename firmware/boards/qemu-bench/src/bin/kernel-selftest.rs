//! The firmware's kernel self-test (`neuroloop_firmware::selftest::kernels`) under QEMU,
//! for the machines the bench runs on: every dot kernel of this build (the Cortex-M0
//! Thumb-1 assembly on `microbit`, the Cortex-M4/M7 `asm!` on `mps2-an386`/`mps2-an500`)
//! against its plain reference, on extreme, random and overflowing inputs. The Cortex-M0
//! has no board in the QEMU end-to-end tests, so this is where its kernels are checked
//! case by case (`tests/tests/bench_qemu.rs` runs it; the bench binary checks whole
//! trajectories).
//!
//! Prints `selftest path=<kernel path> cases=N` on semihosting and exits 0, or prints the
//! first mismatch (or panic / HardFault) and exits 1. A separate binary so the bench
//! binary's code stays below the microbit's job address.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};

#[path = "../fault.rs"]
mod fault;

#[entry]
fn main() -> ! {
    match neuroloop_firmware::selftest::kernels() {
        Ok(cases) => {
            hprintln!(
                "selftest path={} cases={}",
                neuroloop_core::kernel::PATH,
                cases
            );
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(m) => {
            hprintln!("selftest mismatch: {:?}", m);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    #[allow(clippy::empty_loop)]
    loop {}
}
