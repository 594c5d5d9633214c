//! neuroloop firmware on the Raspberry Pi Pico (RP2040, Cortex-M0+).
//!
//! | function | Pico pin | notes |
//! |---|---|---|
//! | protocol (default) | micro-USB | USB CDC-ACM, VID:PID 1209:0001 (`board::usb`, `neuroloop_firmware::usb_cdc`) |
//! | protocol (feature `uart`) | GP0 TX (pin 1), GP1 RX (pin 2) | UART0, 115 200 8N1, 3.3 V |
//! | PWM channel 0 | GP15 (pin 20) | PWM slice 7 B, 10 kHz |
//! | TTL pin 0 | GP16 (pin 21) | threshold rule output |
//! | TTL pin 1 | GP17 (pin 22) | threshold rule output |
//! | sync pin 2 | GP18 (pin 24) | `Sync` / `RandomSync` to a recording system |
//! | clock | TIMER, 1 MHz | device time, step durations in µs; timer mode polls it |
//! | logs | defmt over RTT (SWD) | `probe-rs run` prints them |
//!
//! Flash and run: `cargo run --release` in this folder with a debug probe on SWD (runner:
//! `probe-rs run --chip RP2040`); without one, `cargo xtask uf2` and BOOTSEL (README).
//! Model slots: 2 × 96 KiB of RAM (N_rec ≤ ~200 with i16 weights, ≤ ~300 with i8) and,
//! with `rig upload --persist`, 2 × 160 KiB of flash (`flash`: N_rec 256 with i16 weights
//! fits), the last committed one booted at power-on.
//! The flash driver is built and linted but has not been run on a board yet.
#![no_std]
#![no_main]

mod board;
mod flash;

use defmt_rtt as _;
use panic_probe as _;

use neuroloop_firmware::{App, Config, Io, Outputs, Slots, DEFAULT_BLOB};
use rp2040_hal as hal;

/// BOOT2 second-stage bootloader for the Pico's W25Q080 flash.
#[link_section = ".boot2"]
#[used]
pub static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// Largest upload.
const SLOT_BYTES: usize = 96 * 1024;
/// State words: as many as the largest-state blob that fits a slot needs (any cell, any
/// shape: `neuroloop_firmware::sizing`), so every model the board can store can also run.
const STATE_WORDS: usize =
    neuroloop_firmware::sizing::max_state_words(if SLOT_BYTES > flash::FLASH_SLOT_BYTES {
        SLOT_BYTES
    } else {
        flash::FLASH_SLOT_BYTES
    });
/// Transmit ring, bytes: ~70 telemetry frames of an N_rec 64 net with 16 + 16 units.
const TX_BYTES: usize = 8192;

#[hal::entry]
fn main() -> ! {
    let (serial, ticker, pwm, pins) = board::init();
    let (a, b, state) = board::buffers().unwrap();
    let mut slots = Slots::with_flash(DEFAULT_BLOB, a, b, flash::slots().unwrap());
    let mut app = {
        let model = slots.split().model;
        defmt::info!(
            "neuroloop {} on rp-pico: model {} ({}x{}x{})",
            neuroloop_firmware::FIRMWARE_VERSION,
            model.name(),
            model.n_in(),
            model.n_rec(),
            model.n_out()
        );
        App::new(Config { board: "rp-pico" }, &model, state).unwrap()
    };
    let mut io = Io {
        serial,
        ticker,
        actuators: Outputs { pwm: [pwm], pins },
    };
    neuroloop_firmware::run(&mut slots, &mut app, &mut io)
}
