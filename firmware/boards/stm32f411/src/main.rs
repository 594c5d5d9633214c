//! neuroloop firmware on STM32F411 boards (Cortex-M4F, 96 MHz): the WeAct Black Pill
//! F411CE (USB CDC, the default) and the Nucleo-F411RE (feature `uart`: USART2 through the
//! on-board ST-LINK's virtual COM port). Built with core's feature `dsp`: the Cortex-M4
//! `asm!` kernels run here, checked against the plain ones at every boot.
//!
//! | function | pin | Nucleo-F411RE | notes |
//! |---|---|---|---|
//! | protocol (default) | PA11 D− / PA12 D+ | (morpho CN10 14/12, no connector) | USB OTG FS CDC-ACM, VID:PID 1209:0001; 25 MHz HSE crystal (Black Pill) |
//! | protocol (feature `uart`) | PA2 TX / PA3 RX | ST-LINK VCP (USB) | USART2, 115 200 8N1, 3.3 V; 16 MHz HSI, no crystal needed |
//! | PWM channel 0 | PA8 | D7 | TIM1 CH1, 10 kHz |
//! | TTL pin 0 | PB5 | D4 | threshold rule output |
//! | TTL pin 1 | PB10 | D6 | threshold rule output |
//! | sync pin 2 | PB6 | D10 | `Sync` / `RandomSync` to a recording system |
//! | clock | TIM2, 1 MHz, 32 bit | | device time, step durations in µs; timer mode polls it |
//! | logs | defmt over RTT (SWD) | ST-LINK | `probe-rs run` prints them |
//!
//! Flash and run: `cargo run --release` in this folder with a probe on SWD (runner:
//! `probe-rs run --chip STM32F411CEUx`; the Nucleo's ST-LINK is one), or without a probe
//! over the ROM's USB DFU (README). Model slots: 2 × 40 KiB of RAM (N_rec ≤ 135 with i16
//! weights, ≤ 190 with i8; the 128 KiB SRAM also holds the rings and a ≈ 34 KiB stack)
//! and, with `rig upload --persist`, 2 × 128 KiB of flash (sectors 6 and 7: N_rec ≤ 250
//! with i16 weights, ≤ 350 with i8), the last committed one booted at power-on. Built and
//! linted in CI; not yet run on a board.
#![no_std]
#![no_main]

mod board;
mod flash;

use defmt_rtt as _;
use panic_probe as _;

use cortex_m_rt::entry;
use neuroloop_firmware::{App, Config, Io, Outputs, Slots, DEFAULT_BLOB};

/// Largest RAM upload.
const SLOT_BYTES: usize = 40 * 1024;
/// State words: as many as the largest-state blob that fits a slot needs (any cell, any
/// shape: `neuroloop_firmware::sizing`), so every model the board can store can also run.
const STATE_WORDS: usize =
    neuroloop_firmware::sizing::max_state_words(if SLOT_BYTES > flash::FLASH_SLOT_BYTES {
        SLOT_BYTES
    } else {
        flash::FLASH_SLOT_BYTES
    });
/// Transmit ring, bytes: ~35 telemetry frames of an N_rec 64 net with 16 + 16 units.
const TX_BYTES: usize = 4096;

#[entry]
fn main() -> ! {
    let (serial, ticker, pwm, pins, flash_ctl) = board::init();
    // The `dsp` kernels against their plain references (extremes, tails, misalignment), at
    // 96 MHz (USB enumerates meanwhile, from its interrupt); a mismatch panics before any
    // model runs.
    match neuroloop_firmware::selftest::kernels() {
        Ok(cases) => defmt::info!(
            "kernel self-test: {=str} path, {=u32} cases bit-exact",
            neuroloop_core::kernel::PATH,
            cases
        ),
        Err(m) => panic!("kernel self-test failed: {:?}", m),
    }
    let (a, b, state) = board::buffers().unwrap();
    let mut slots = Slots::with_flash(DEFAULT_BLOB, a, b, flash::slots(flash_ctl).unwrap());
    let mut app = {
        let model = slots.split().model;
        defmt::info!(
            "neuroloop {} on stm32f411: model {} ({}x{}x{})",
            neuroloop_firmware::FIRMWARE_VERSION,
            model.name(),
            model.n_in(),
            model.n_rec(),
            model.n_out()
        );
        App::new(Config { board: "stm32f411" }, &model, state).unwrap()
    };
    let mut io = Io {
        serial,
        ticker,
        actuators: Outputs { pwm: [pwm], pins },
    };
    neuroloop_firmware::run(&mut slots, &mut app, &mut io)
}
