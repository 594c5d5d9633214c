//! `neuroloop rig`: drive a board (or the device simulator) over the wire protocol and
//! record every frame it sends.
//!
//! The pieces, one concept per file:
//! - [`transport`]: byte pipes with timeouts — a serial port, a TCP socket (QEMU), a Unix
//!   socket, or the in-process [`sim`]; and the serial port listing;
//! - [`client`]: the typed protocol client (`Hello`, upload, start/stop, lockstep input,
//!   stats, ping); every request has a timeout and a clear error, so a silent board never
//!   hangs the host;
//! - [`framelog`]: `frames.bin`, the append-only raw frame log with host receive times;
//! - [`session`]: `session.json`, the provenance record of a run;
//! - [`tables`]: the derived files (`telemetry.tsv`, `events.tsv`, `telemetry.npz`), built
//!   from frames the same way live and in [`recover`];
//! - [`recorder`]: one session folder per run, tying the three together;
//! - [`run`]: lockstep replay of an `.npz` and timer-mode runs;
//! - [`control`]: parameter changes during a run (`--control`);
//! - [`latency`]: ping round trips and their percentiles;
//! - [`stimulus`]: the TOML stimulus map;
//! - [`align`]: fitting device time to an external clock from sync pulses;
//! - [`sim`]: `device-sim`, the firmware app crate running on the host, with its flash
//!   slots in [`sim_flash`].
//!
//! The protocol itself is `neuroloop_core::protocol` (spec: `docs/protocol.md`); the session
//! files are described in `docs/rig.md`.

pub mod align;
pub mod client;
pub mod control;
pub mod error;
pub mod framelog;
pub mod latency;
pub mod recorder;
pub mod recover;
pub mod run;
pub mod session;
pub mod sim;
pub mod sim_flash;
pub mod stimulus;
pub mod tables;
pub mod transport;

pub use client::Client;
pub use error::RigError;
pub use transport::Endpoint;
