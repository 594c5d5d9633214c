//! neuroloop firmware, board-agnostic: the device side of the wire protocol, the model
//! slots, the stepping loop (lockstep and timer) and the stimulus outputs.
//!
//! A board crate provides three things and calls [`run`]:
//! - a [`Serial`] byte pipe for the protocol (UART, USB-CDC) whose transmit side is a
//!   queue ([`txring`]) the board drains from an interrupt, DMA or USB: the loop never
//!   waits for the line;
//! - a [`Ticker`]: a free-running clock for step durations and a periodic tick for timer
//!   mode;
//! - [`Actuators`]: PWM channels and TTL/sync pins, usually [`Outputs`] over embedded-hal
//!   `SetDutyCycle` / `OutputPin`.
//!
//! ```text
//! Serial ─► FrameReader ─► App::poll ─► handle(HostMsg) ─► Ack/Nack/Info/Stats ─┐
//!                              │                                                  │
//! Ticker ticks ───────────────►├─► State::step(model, latest input) ─► stimulus ──►│ Actuators
//!                              │                                   └─► Telemetry ─┤
//! device clock (µs) ──────────►└─► RandomSync edges, 1 Hz Heartbeat ─► Event ─────┤
//!                                                                                 ▼
//!                  TX ring (drop + count unasked frames when full) ─► board drain ─► wire
//! Slots: built-in blob │ RAM A │ RAM B │ flash A │ flash B ── upload into a free one,
//!        decode + swap between two ticks; flash: header written last (the commit),
//!        booted at power-on ([`flash`])
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
pub mod clock;
pub mod flash;
mod io;
pub mod selftest;
pub mod sizing;
mod slots;
pub mod stimulus;
#[cfg(feature = "std")]
pub mod testing;
pub mod txring;
mod upload;
#[cfg(feature = "usb")]
pub mod usb_cdc;

pub use app::{App, Config, Poll, REPLY_RESERVE};
use flash::FlashSlot;
pub use io::{Actuators, Io, NoActuators, Outputs, Serial, Ticker};
pub use slots::{Refusal, Slots, Split, Staging};

/// The model the firmware runs until a valid upload replaces it: a random-weight leaky
/// net (2 in, 32 rec, 2 out, i16), written by `testing::default_blob()`.
pub static DEFAULT_BLOB: &[u8] = include_bytes!("../default.nlb");

/// Firmware version reported in `Info`.
pub const FIRMWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The main loop: decode the active model, serve the protocol until an upload is
/// complete, commit it to its slot, decode it (once) and swap between two ticks, repeat.
/// Never returns.
pub fn run<S: Serial, T: Ticker, A: Actuators, F: FlashSlot>(
    slots: &mut Slots<'_, F>,
    app: &mut App<'_>,
    io: &mut Io<S, T, A>,
) -> ! {
    let mut next = Pending::Boot;
    loop {
        next = serve(slots, app, io, next, || false);
    }
}

/// What the next [`serve`] round does first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Adopt the active model (state reset): at boot.
    Boot,
    /// Keep running the active model, state kept.
    Resume,
    /// Decode the slot just committed and answer `UploadCommit` number `.0`.
    Swap(u16),
}

/// One round of [`run`]: split the slots, do `pending`, then poll until an upload is
/// complete (the slot is committed; returns `Swap`) or, after an idle poll, `idle()` says
/// to stop (returns `Resume`; host tests use this, boards pass `|| false`).
pub fn serve<S: Serial, T: Ticker, A: Actuators, F: FlashSlot>(
    slots: &mut Slots<'_, F>,
    app: &mut App<'_>,
    io: &mut Io<S, T, A>,
    pending: Pending,
    mut idle: impl FnMut() -> bool,
) -> Pending {
    let done = {
        let Split {
            model,
            store,
            mut staging,
            refused,
        } = slots.split();
        let go = match pending {
            Pending::Boot => {
                app.adopt(&model, store);
                Ok(())
            }
            Pending::Resume => Ok(()),
            Pending::Swap(re) => {
                let decoded = refused.is_none();
                match app.finish_swap(re, &model, store, refused, io) {
                    true => Ok(()),
                    // Not decoded: the slots rolled back already; else the app refused it.
                    false => Err(decoded),
                }
            }
        };
        go.map(|()| loop {
            match app.poll(&model, &mut staging, io) {
                Poll::Swap { re, len, persist } => break Some((re, len, persist)),
                Poll::Idle if idle() => break None,
                _ => {}
            }
        })
    };
    match done {
        Err(rollback) => {
            if rollback {
                slots.rollback();
            }
            Pending::Resume
        }
        Ok(Some((re, len, false))) => {
            slots.commit(len);
            Pending::Swap(re)
        }
        Ok(Some((re, len, true))) => match slots.commit_flash(len, app.state_words()) {
            Ok(()) => Pending::Swap(re),
            Err(why) => {
                app.refuse(re, why, io);
                Pending::Resume
            }
        },
        Ok(None) => Pending::Resume,
    }
}
