//! The messages: [`HostMsg`] (host → device), [`DeviceMsg`] (device → host), and the
//! types they carry. Field order is wire order (postcard); see `docs/protocol.md`.

use heapless::Vec;
use serde::{Deserialize, Serialize};

/// Largest number of `i16` values in an `Input` or a telemetry output vector.
pub const MAX_VALUES: usize = crate::blob::MAX_IN;
/// Largest number of selected state or rate units streamed in telemetry.
pub const MAX_UNITS: usize = 16;
/// Largest number of stimulus rules.
pub const MAX_RULES: usize = 8;
/// Largest payload of one `UploadChunk`.
pub const MAX_CHUNK: usize = 512;
/// Longest text in a `Nack` reason or an `Info` string.
pub const MAX_TEXT: usize = 96;

/// One frame's content: a sequence number and a message.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Packet<M> {
    /// Sender's sequence number (wrapping).
    pub seq: u16,
    /// The message.
    pub msg: M,
}

/// Host → device messages.
// Fixed-capacity vectors instead of a heap: the size difference is the point.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum HostMsg<'a> {
    /// Open a session; the device answers `Info` or `Nack(ProtocolVersion)`.
    Hello {
        /// The host's [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION).
        protocol: u16,
    },
    /// Ask for `Info`.
    GetInfo,
    /// Start a model upload of `len` bytes whose CRC-32 (ISO-HDLC) is `crc`, into the free
    /// RAM slot or, with `persist`, straight into the free flash slot.
    UploadBegin {
        /// Blob length in bytes.
        len: u32,
        /// CRC-32 of the whole blob.
        crc: u32,
        /// Write the blob to flash (A/B slots) so that the board boots it from now on.
        persist: bool,
    },
    /// The next piece of the upload; `offset` must equal the bytes received so far.
    UploadChunk {
        /// Byte offset in the blob.
        offset: u32,
        /// At most [`MAX_CHUNK`] bytes.
        #[serde(borrow)]
        bytes: &'a [u8],
    },
    /// Check length, CRC and blob; on success the model is swapped in between two steps
    /// (and, for a persistent upload, marked as the one to boot).
    UploadCommit,
    /// Start stepping.
    Start {
        /// Lockstep or timer.
        mode: Mode,
        /// What telemetry to send.
        streams: Streams,
    },
    /// Stop stepping (state kept).
    Stop,
    /// An input sample (`n_in` values at `input_frac`).
    Input {
        /// The host's sample number, echoed in telemetry.
        seq: u32,
        /// The values.
        values: Vec<i16, MAX_VALUES>,
    },
    /// Replace the stimulus rules.
    SetStimulusMap {
        /// The rules, evaluated in order after every step.
        rules: Vec<Rule, MAX_RULES>,
    },
    /// Reset the network state to the model's initial state and zero the counters.
    ResetState,
    /// Liveness check; answered by `Ack`.
    Ping,
    /// Ask for `Stats`.
    GetStats,
}

/// How the device steps.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// One step per `Input` frame (deterministic tests, replay).
    Lockstep,
    /// One step per hardware timer tick on the latest input sample.
    Timer {
        /// Tick rate in Hz.
        rate_hz: u32,
    },
}

/// What the device streams while running.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Streams {
    /// Send `Telemetry` every this many steps (0: none; lockstep normally 1).
    pub every: u16,
    /// State units `x[i]` included in telemetry.
    pub state_units: Vec<u16, MAX_UNITS>,
    /// Rate units `r[i]` included in telemetry.
    pub rate_units: Vec<u16, MAX_UNITS>,
    /// Send an `Event` on every TTL rule transition (`RandomSync` edges are always sent).
    pub events: bool,
}

/// Where a stimulus rule reads its value.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Source {
    /// Network output `y[i]` (at `output_frac`).
    Output(u16),
    /// Rate `r[i]` of a recurrent unit (at `rate_frac`).
    Rate(u16),
}

/// One stimulus rule: a value → an actuator. Its reported value (telemetry `stimulus`) is
/// given per kind.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rule {
    /// PWM duty = clamp((v − lo) / (hi − lo), 0, 1); reported in 1/10 000 of full scale.
    Pwm {
        /// Value read.
        source: Source,
        /// PWM channel index on the board.
        channel: u8,
        /// Value giving 0 % duty.
        lo: i16,
        /// Value giving 100 % duty (must differ from `lo`).
        hi: i16,
    },
    /// TTL pin high once v ≥ `on`, low again once v ≤ `off` (hysteresis, `off` ≤ `on`);
    /// reported 0/1.
    Ttl {
        /// Value read.
        source: Source,
        /// Pin index on the board.
        pin: u8,
        /// Rising threshold.
        on: i16,
        /// Falling threshold.
        off: i16,
    },
    /// Sync pin high during every `every`-th step (steps 0, N, 2N, …), low otherwise;
    /// reported 0/1.
    Sync {
        /// Pin index on the board.
        pin: u8,
        /// Period in steps (≥ 1).
        every: u32,
    },
    /// Sync pulses at pseudo-random intervals in device time, as pyControl's `Rsync`: each
    /// rising edge `pulse_ms` before its falling edge, rising edges
    /// [`RandomSync`](super::RandomSync) intervals apart (uniform in `[min_ms, max_ms]`
    /// from a xorshift32 seeded with `seed`). Runs from `SetStimulusMap` on, stepping or
    /// not; every edge is an `Event` with its device time. Reported 0/1.
    RandomSync {
        /// Pin index on the board.
        pin: u8,
        /// Generator seed (≠ 0).
        seed: u32,
        /// Shortest interval between rising edges, ms (> `pulse_ms`).
        min_ms: u32,
        /// Longest interval between rising edges, ms (≥ `min_ms`).
        max_ms: u32,
        /// Pulse width, ms (≥ 1).
        pulse_ms: u32,
    },
}

/// Device → host messages.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum DeviceMsg<'a> {
    /// Answer to `Hello` / `GetInfo`.
    #[serde(borrow)]
    Info(Info<&'a str>),
    /// Request `re` succeeded.
    Ack {
        /// `seq` of the request.
        re: u16,
        /// Device time when the request was handled, µs since boot.
        device_us: u64,
    },
    /// Request `re` was refused.
    Nack {
        /// `seq` of the request.
        re: u16,
        /// Why.
        #[serde(borrow)]
        reason: NackReason<'a>,
    },
    /// One step's results.
    Telemetry(Telemetry),
    /// A TTL or `RandomSync` rule changed level.
    Event(Event),
    /// Answer to `GetStats`.
    Stats {
        /// `seq` of the request.
        re: u16,
        /// Device time of the snapshot, µs since boot.
        device_us: u64,
        /// The counters.
        stats: Stats,
    },
    /// Sent once a second of device time, unasked: liveness and counters.
    Heartbeat(Heartbeat),
}

/// The 1 Hz liveness message.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Heartbeat {
    /// Device time, µs since boot.
    pub device_us: u64,
    /// Whether the device is stepping (lockstep or timer) since a `Start`.
    pub running: bool,
    /// The counters at that time.
    pub stats: Stats,
}

/// Where the running model is stored.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ModelStore {
    /// The model built into the firmware.
    Builtin,
    /// A RAM slot (lost at power-off).
    Ram {
        /// Slot index (0 = A, 1 = B).
        slot: u8,
    },
    /// A flash slot: booted after a reset.
    Flash {
        /// Slot index (0 = A, 1 = B).
        slot: u8,
        /// Commit sequence number of the slot (higher = newer).
        generation: u32,
    },
}

/// What the device is and runs. `S` is the strings' type: `&str` on the wire (borrowed
/// from the frame: no heap), an owned string where a host keeps it (`Info<String>`, via
/// [`Info::map_str`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Info<S> {
    /// `seq` of the request (0 where absent in a self-describing format: JSON written
    /// before hosts kept it).
    #[serde(default)]
    pub re: u16,
    /// [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION) of the firmware.
    pub protocol: u16,
    /// Firmware version string.
    pub firmware: S,
    /// Board name.
    pub board: S,
    /// Name of the running model.
    pub model_name: S,
    /// CRC-32 of the running model's blob.
    pub model_crc: u32,
    /// Length of the running model's blob.
    pub model_len: u32,
    /// Where the running model is stored.
    pub model_store: ModelStore,
    /// Inputs.
    pub n_in: u16,
    /// Recurrent units.
    pub n_rec: u16,
    /// Outputs.
    pub n_out: u16,
    /// Fractional bits of inputs.
    pub input_frac: u8,
    /// Fractional bits of outputs.
    pub output_frac: u8,
    /// Fractional bits of the state.
    pub state_frac: u8,
    /// Fractional bits of the rates.
    pub rate_frac: u8,
    /// [`capability`] bits.
    pub capabilities: u32,
    /// Bytes a RAM upload may have (the free RAM slot).
    pub ram_slot_bytes: u32,
    /// Bytes a persistent upload may have (a flash slot; 0: no persistent storage).
    pub flash_slot_bytes: u32,
    /// Capacity of the device's transmit queue, bytes.
    pub tx_queue_bytes: u32,
    /// Frequency of the clock `Stats` and `Telemetry` durations count in, Hz.
    pub clock_hz: u32,
    /// PWM channels on the board.
    pub pwm_channels: u8,
    /// TTL/sync pins on the board.
    pub pins: u8,
}

impl<S> Info<S> {
    /// The same with each string mapped by `f` (e.g. `String::from` to keep it).
    pub fn map_str<T>(self, mut f: impl FnMut(S) -> T) -> Info<T> {
        Info {
            re: self.re,
            protocol: self.protocol,
            firmware: f(self.firmware),
            board: f(self.board),
            model_name: f(self.model_name),
            model_crc: self.model_crc,
            model_len: self.model_len,
            model_store: self.model_store,
            n_in: self.n_in,
            n_rec: self.n_rec,
            n_out: self.n_out,
            input_frac: self.input_frac,
            output_frac: self.output_frac,
            state_frac: self.state_frac,
            rate_frac: self.rate_frac,
            capabilities: self.capabilities,
            ram_slot_bytes: self.ram_slot_bytes,
            flash_slot_bytes: self.flash_slot_bytes,
            tx_queue_bytes: self.tx_queue_bytes,
            clock_hz: self.clock_hz,
            pwm_channels: self.pwm_channels,
            pins: self.pins,
        }
    }
}

/// Bits of [`Info::capabilities`].
pub mod capability {
    /// Lockstep mode.
    pub const LOCKSTEP: u32 = 1 << 0;
    /// Timer mode.
    pub const TIMER: u32 = 1 << 1;
    /// Model upload.
    pub const UPLOAD: u32 = 1 << 2;
    /// PWM stimulus outputs.
    pub const PWM: u32 = 1 << 3;
    /// TTL stimulus outputs.
    pub const TTL: u32 = 1 << 4;
    /// Sync pulse output (`Sync` and `RandomSync` rules).
    pub const SYNC: u32 = 1 << 5;
    /// Persistent models in flash (`UploadBegin{persist: true}`).
    pub const PERSIST: u32 = 1 << 6;
}

/// Why a request was refused.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum NackReason<'a> {
    /// `Hello` with another protocol version.
    ProtocolVersion {
        /// Version the host sent.
        host: u16,
        /// Version the device speaks.
        device: u16,
    },
    /// The upload does not fit the free model slot.
    TooLarge {
        /// Bytes announced.
        len: u32,
        /// Bytes available.
        max: u32,
    },
    /// `UploadChunk` / `UploadCommit` without `UploadBegin`.
    NoUpload,
    /// A chunk not at the next expected offset, or past the announced length.
    BadOffset {
        /// Offset expected.
        expected: u32,
        /// Offset received.
        got: u32,
    },
    /// `UploadCommit` before all bytes arrived.
    Incomplete {
        /// Bytes received.
        have: u32,
        /// Bytes announced.
        need: u32,
    },
    /// The received bytes do not have the announced CRC.
    CrcMismatch {
        /// CRC announced in `UploadBegin`.
        expected: u32,
        /// CRC of the received bytes.
        found: u32,
    },
    /// The bytes are not a valid blob (or need more state RAM than the device has).
    BadBlob {
        /// The decoder's error, as text.
        #[serde(borrow)]
        detail: &'a str,
    },
    /// `Input` with the wrong number of values.
    InputLength {
        /// `n_in`.
        expected: u16,
        /// Values received.
        found: u16,
    },
    /// `Input` while not running in lockstep (timer mode stores it instead: no Nack).
    NotRunning,
    /// The timer cannot run at this rate.
    BadRate {
        /// Rate asked.
        rate_hz: u32,
    },
    /// A stream or rule names a unit, output, channel or pin that does not exist, or has
    /// bad parameters.
    BadIndex {
        /// Index of the offending rule or unit in its list.
        at: u8,
    },
    /// This message is not accepted by the device.
    Unsupported,
    /// A persistent upload while the timer runs (writing flash would stall the loop).
    Busy,
    /// The flash refused an erase or a write.
    Storage {
        /// What failed, as text.
        #[serde(borrow)]
        detail: &'a str,
    },
}

/// One step's results.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Telemetry {
    /// Device time at the start of the step, µs since boot.
    pub device_us: u64,
    /// Lockstep: steps since reset; timer: timer ticks since start (skipped ones count).
    pub tick: u32,
    /// `seq` of the input sample the step used.
    pub input_seq: u32,
    /// Outputs `y` (at `output_frac`).
    pub outputs: Vec<i16, MAX_VALUES>,
    /// Selected state units (at `state_frac`), in `Streams::state_units` order.
    pub state: Vec<i16, MAX_UNITS>,
    /// Selected rates (at `rate_frac`), in `Streams::rate_units` order.
    pub rates: Vec<i16, MAX_UNITS>,
    /// Value each stimulus rule drove, in rule order (see [`Rule`]).
    pub stimulus: Vec<u16, MAX_RULES>,
    /// Clocks (`Info::clock_hz`) from the start of the tick to the encoding of this frame:
    /// the step, the stimulus outputs and the events (queueing the frame itself follows;
    /// `Stats::max_step_clocks` includes it).
    pub step_clocks: u32,
}

/// A TTL or `RandomSync` rule changed level.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Event {
    /// Device time of the pin change, µs since boot.
    pub device_us: u64,
    /// Tick of the step (as in telemetry); for `RandomSync`, the last step's tick.
    pub tick: u32,
    /// Index of the rule.
    pub rule: u8,
    /// New level (true: high).
    pub high: bool,
    /// TTL: the value that crossed; `RandomSync`: the pulse number (from 0, modulo 2^15).
    pub value: i16,
}

/// Device counters since boot (steps and ticks since the last `Start`/`ResetState`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Steps run.
    pub steps: u32,
    /// Timer ticks seen (timer mode).
    pub ticks: u32,
    /// Ticks that missed their deadline: skipped (no step of their own) or stepped but
    /// finished after the next tick was due. Each tick counts at most once.
    pub deadline_misses: u32,
    /// Received frames dropped since boot: bad COBS, undecodable, or too long.
    pub rx_frame_errors: u32,
    /// `Telemetry` frames dropped because the transmit queue was full.
    pub telemetry_dropped: u32,
    /// `Event` frames dropped because the transmit queue was full.
    pub events_dropped: u32,
    /// Longest tick (step, stimulus, telemetry queued), in `Info::clock_hz` clocks.
    pub max_step_clocks: u32,
    /// Sum of all step durations, in clocks (mean = this / steps).
    pub total_step_clocks: u64,
    /// Model swaps since boot.
    pub uploads: u32,
}
