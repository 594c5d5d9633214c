//! The host ↔ device wire protocol: postcard messages in COBS frames.
//!
//! Every frame on the wire is one [`Packet`] — a sequence number and a message — encoded
//! with postcard, COBS-stuffed and terminated by a `0x00` byte ([`frame`]). The host sends
//! [`HostMsg`]s, the device answers with [`DeviceMsg`]s. The full byte-level spec, one table
//! per message, is `docs/protocol.md`; this module is its reference implementation, shared
//! by the firmware and the host tools.
//!
//! Rules a client relies on:
//! - the host numbers its packets (`seq`, wrapping `u16`); every request is answered by
//!   exactly one reply carrying the request's `seq` in `re` ([`DeviceMsg::Ack`],
//!   [`DeviceMsg::Nack`], or `Info` / `Stats`); lockstep `Input` is answered by a
//!   [`DeviceMsg::Telemetry`] (or a `Nack`);
//! - the device numbers its own packets in a separate counter, so a host can count lost
//!   frames; unasked frames (`Telemetry`, `Event`, the 1 Hz [`DeviceMsg::Heartbeat`]) go
//!   through a transmit queue and are dropped, and counted in [`Stats`], when it is full —
//!   replies are never dropped;
//! - `Telemetry`, `Event`, `Ack`, `Stats` and `Heartbeat` carry the device time in µs
//!   since boot (`device_us`, `u64`), so a host can fit the device clock to its own;
//! - a frame that does not decode is counted (`Stats::rx_frame_errors`) and dropped —
//!   there is nobody to Nack;
//! - [`PROTOCOL_VERSION`] travels in `Hello` and `Info`; a device refuses a `Hello` with
//!   another version ([`NackReason::ProtocolVersion`]).
//!
//! ```
//! use neuroloop_core::protocol::{frame, HostMsg, Packet};
//! let mut buf = [0u8; frame::MAX_FRAME];
//! let wire = frame::encode(&Packet { seq: 7, msg: HostMsg::Ping }, &mut buf).unwrap();
//! assert_eq!(wire.last(), Some(&0)); // the frame delimiter
//! let mut rx = frame::FrameReader::<{ frame::MAX_FRAME }>::new();
//! let mut got = None;
//! for &b in wire.iter() {
//!     if let Some(Ok(bytes)) = rx.push(b) {
//!         let p = frame::decode::<HostMsg>(bytes).unwrap();
//!         got = Some((p.seq, p.msg == HostMsg::Ping));
//!     }
//! }
//! assert_eq!(got, Some((7, true)));
//! ```

pub mod frame;
mod message;
mod sync;

pub use frame::{FrameError, FrameReader};
pub use message::*;
pub use sync::RandomSync;

/// Version of this protocol; bumped on any change to the message tables.
///
/// A `Hello` keeps its version-1 layout (variant 0, one `u16`) and so does `Nack`
/// (variant 2: `re`, then `ProtocolVersion{host, device}` as reason 0), so a host of any
/// version gets a readable refusal.
pub const PROTOCOL_VERSION: u16 = 2;
