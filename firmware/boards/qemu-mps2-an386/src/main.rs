//! neuroloop firmware on QEMU `mps2-an386` (Cortex-M4F): what CI runs end to end.
//!
//! | function | peripheral |
//! |---|---|
//! | protocol | UART0 (CMSDK APB UART, 0x4000_4000) = QEMU's first `-serial`; RX polled, TX drained from a 4 KiB ring by the UART0 TX interrupt (IRQ 1) |
//! | clock | CMSDK timer 0 (0x4000_0000), 25 MHz free-running (`-icount shift=0`: 40 instructions per clock) |
//! | timer-mode tick | SysTick on the 25 MHz core clock, one tick per wrap |
//! | TTL / sync pins 0, 1 | FPGA LEDs 0, 1 (FPGAIO LED register, 0x4002_8000) |
//! | PWM channel 0 | stand-in: the duty is kept in RAM, nothing drives a pin |
//! | persistent model slots | 2 × 160 KiB of RAM standing in for flash (`board::flash`): `UploadBegin{persist}` works, the contents are lost when QEMU exits |
//! | logs | semihosting on QEMU's stdout: plain text (`hprintln!`), or defmt frames with the feature `defmt` |
//!
//! Run: `cargo run --release` in this folder (UART0 on TCP 127.0.0.1:7878), or
//! `cargo xtask qemu` from the root. A panic or HardFault prints a line and exits QEMU with
//! status 1.
//!
//! Feature `defmt` (off by default): every log line, the app's too (model swaps, refused
//! requests, start/stop with deadline misses), goes out as defmt frames through
//! `defmt-semihosting`, and no plain text is printed (it would corrupt the frames); decode
//! with `defmt-print -e ELF`, as `cargo xtask qemu --defmt` does. The end-to-end tests
//! read the plain-text boot lines, so they run the default build.
#![no_std]
#![no_main]

mod board;

#[cfg(feature = "defmt")]
use defmt_semihosting as _;

use cortex_m_rt::entry;
use neuroloop_firmware::{App, Config, Io, Outputs, Slots, DEFAULT_BLOB};

/// Largest upload: fits an N_rec = 256 network with i16 weights (≈ 133 KB).
const SLOT_BYTES: usize = 160 * 1024;
/// Each of the two persistent ("flash", RAM-backed) slots: the same largest upload, plus
/// the header page.
const FLASH_SLOT_BYTES: usize = 160 * 1024 + 4096;
/// State words: as many as the largest-state blob that fits a slot needs (any cell, any
/// shape: `neuroloop_firmware::sizing`), so every model the board can store can also run.
const STATE_WORDS: usize =
    neuroloop_firmware::sizing::max_state_words(if SLOT_BYTES > FLASH_SLOT_BYTES {
        SLOT_BYTES
    } else {
        FLASH_SLOT_BYTES
    });
/// Transmit ring, bytes (one less usable: `heapless::spsc`): ~35 telemetry frames of an
/// N_rec 64 net with 16 + 16 units streamed.
const TX_BYTES: usize = 4096;

#[entry]
fn main() -> ! {
    let cp = cortex_m::Peripherals::take().unwrap();
    // The kernels this build runs (core feature `dsp`: the Cortex-M4 `asm!` path) against
    // their plain references, extremes, tails and misalignment included; a mismatch
    // panics, which exits QEMU with status 1.
    match neuroloop_firmware::selftest::kernels() {
        Ok(cases) => {
            #[cfg(not(feature = "defmt"))]
            cortex_m_semihosting::hprintln!(
                "kernel self-test: {} path, {} cases bit-exact",
                neuroloop_core::kernel::PATH,
                cases
            );
            #[cfg(feature = "defmt")]
            defmt::info!(
                "kernel self-test: {=str} path, {=u32} cases bit-exact",
                neuroloop_core::kernel::PATH,
                cases
            );
        }
        Err(m) => panic!("kernel self-test failed: {:?}", m),
    }
    let (a, b, state) = board::buffers().unwrap();
    let mut slots = Slots::with_flash(DEFAULT_BLOB, a, b, board::flash().unwrap());
    let mut app = {
        let model = slots.split().model;
        #[cfg(not(feature = "defmt"))]
        cortex_m_semihosting::hprintln!(
            "neuroloop {} on mps2-an386: model {} ({}x{}x{}), slot {} B",
            neuroloop_firmware::FIRMWARE_VERSION,
            model.name(),
            model.n_in(),
            model.n_rec(),
            model.n_out(),
            SLOT_BYTES
        );
        // With defmt the app logs the model itself (`App::adopt`).
        #[cfg(feature = "defmt")]
        defmt::info!(
            "neuroloop {=str} on mps2-an386: slot {=usize} B",
            neuroloop_firmware::FIRMWARE_VERSION,
            SLOT_BYTES
        );
        App::new(
            Config {
                board: "qemu-mps2-an386",
            },
            &model,
            state,
        )
        .unwrap()
    };
    let mut io = Io {
        serial: board::Uart0::new().unwrap(),
        ticker: board::SysTicker::new(cp.SYST),
        actuators: Outputs {
            pwm: [board::RamPwm::default()],
            pins: [board::Led(0), board::Led(1)],
        },
    };
    neuroloop_firmware::run(&mut slots, &mut app, &mut io)
}
