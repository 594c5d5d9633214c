//! Fault and panic handlers of both qemu-bench binaries (`main.rs`, `bin/kernel-selftest.rs`,
//! which include this file): print one line on semihosting and exit QEMU with status 1.

use core::sync::atomic::{AtomicBool, Ordering};

use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};

static FAILING: AtomicBool = AtomicBool::new(false);

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    // Load + store, not `swap`: thumbv6m has no atomic read-modify-write (one core).
    if !FAILING.load(Ordering::SeqCst) {
        FAILING.store(true, Ordering::SeqCst);
        hprintln!("HardFault at pc={:#010x}", ef.pc());
    }
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Load + store, not `swap`: thumbv6m has no atomic read-modify-write (one core).
    if !FAILING.load(Ordering::SeqCst) {
        FAILING.store(true, Ordering::SeqCst);
        hprintln!("panic: {}", info);
    }
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
