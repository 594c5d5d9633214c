//! neuroloop firmware, board-agnostic: the device side of the wire protocol, the model
//! slots, the stepping loop (lockstep and timer) and the stimulus outputs.
//!
//! A board crate provides three things and calls [`run`]:
//! - a [`Serial`] byte pipe for the protocol (UART, USB-CDC);
//! - a [`Ticker`]: a free-running clock for step durations and a periodic tick for timer
//!   mode;
//! - [`Actuators`]: PWM channels and TTL/sync pins, usually [`Outputs`] over embedded-hal
//!   `SetDutyCycle` / `OutputPin`.
//!
//! ```text
//! Serial ─► FrameReader ─► App::poll ─► handle(HostMsg) ─► Ack/Nack/Info/Stats ─► Serial
//!                              │
//! Ticker ticks ───────────────►├─► State::step(model, latest input) ─► stimulus ─► Actuators
//!                              │                                   └─► Telemetry ─► Serial
//! Slots: built-in blob │ slot A │ slot B ── upload into the free one, swap on commit
//! ```
//!
//! Logs (model swaps, refused requests, start/stop with deadline misses) go through the
//! `fmt` shim: defmt with the feature `defmt`, nothing otherwise.
//!
//! Everything here is plain `no_std` Rust with no `unsafe` and is unit-tested on the host
//! with mock serial, ticker and pins.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

// First, so that the log macros are visible in the modules below.
#[macro_use]
mod fmt;

mod app;
mod io;
pub mod selftest;
mod slots;
pub mod stimulus;
#[cfg(feature = "std")]
pub mod testing;

pub use app::{App, Config, Poll};
pub use io::{Actuators, Io, NoActuators, Outputs, Serial, Ticker};
pub use slots::Slots;

/// The model the firmware runs until a valid upload replaces it: a random-weight leaky
/// net (2 in, 32 rec, 2 out, i16), written by `testing::default_blob()`.
pub static DEFAULT_BLOB: &[u8] = include_bytes!("../default.nlb");

/// Firmware version reported in `Info`.
pub const FIRMWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The main loop: decode the active model, serve the protocol until an upload commits,
/// swap slots, repeat. Never returns.
pub fn run<S: Serial, T: Ticker, A: Actuators>(
    slots: &mut Slots<'_>,
    app: &mut App<'_>,
    io: &mut Io<S, T, A>,
) -> ! {
    loop {
        let len = {
            let (model, staging) = slots.split();
            app.adopt(&model);
            loop {
                if let Poll::Swap { len } = app.poll(&model, staging, io) {
                    break len;
                }
            }
        };
        slots.commit(len);
    }
}
