//! [`Client`]: the typed host side of the wire protocol (`docs/protocol.md`).
//!
//! Every request waits for its answer at most [`Client::timeout`]; a device that stays
//! silent, closes the link or sends garbage ends in a [`RigError`] naming the request and
//! what the line carried meanwhile. Frames the device sends on its own (`Telemetry`,
//! `Event`) while the client waits for an answer are queued and handed out by
//! [`Client::poll`]. With recording on, every frame in both directions is kept, with its
//! host time, for the [`recorder`](super::recorder) to append to `frames.bin`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use neuroloop_core::blob::CRC;
use neuroloop_core::protocol::{
    frame, DeviceMsg, Event, FrameReader, Heartbeat, HostMsg, Info, Mode, NackReason, Packet, Rule,
    Stats, Streams, Telemetry, MAX_CHUNK, MAX_RULES, MAX_VALUES, PROTOCOL_VERSION,
};

use super::framelog::{Dir, HostClock, RawFrame};
use super::transport::{ChannelLink, Endpoint, SerialLink, StreamLink, Transport};
use super::RigError;

/// Default time a request may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// What the device is and runs: core's `Info` with owned strings.
pub type DeviceInfo = Info<String>;

/// A frame the device sent on its own.
// Telemetry is the common case: boxing it would allocate per step.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// One step's results.
    Telemetry(Telemetry),
    /// A stimulus rule changed level.
    Event(Event),
    /// The 1 Hz liveness message with counters.
    Heartbeat(Heartbeat),
}

/// Counters of the host side of the link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkStats {
    /// Frames sent.
    pub tx_frames: u64,
    /// Valid frames received.
    pub rx_frames: u64,
    /// Received frames that were not valid COBS or did not decode as a device message.
    pub rx_bad_frames: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Device sequence numbers skipped (frames the device sent that never arrived).
    pub rx_seq_gaps: u64,
}

/// The owned answer to a request.
enum Reply {
    Ack,
    Info(DeviceInfo),
    Stats(Stats),
}

/// Flash work a board may do per 4 KiB sector erase, on top of the request timeout: the
/// RP2040's W25Q16JV erases a sector in 45 ms typically (400 ms at most), so a 160 KiB
/// slot (41 sectors) is allowed 4.1 s.
pub const ERASE_PER_SECTOR: Duration = Duration::from_millis(100);
/// Allowed per 256-byte page program (3 ms: the W25Q16JV's maximum; 0.4 ms typically).
pub const PROGRAM_PER_PAGE: Duration = Duration::from_millis(3);
/// Allowed per 4 KiB of blob for the device's decode of an uploaded model at commit
/// (CRC and checks; ≈ 0.5 ms on a 125 MHz Cortex-M0+).
pub const DECODE_PER_4K: Duration = Duration::from_millis(2);

/// How long each request of an upload may take ([`Client::upload`]): the request timeout
/// plus the device work it starts, so that a board busy erasing flash is not taken for a
/// silent one, and a silent one is still reported within a bounded time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadWaits {
    /// `UploadBegin`: with persist, the device erases the whole flash slot first.
    pub begin: Duration,
    /// Each `UploadChunk`: with persist, its pages are programmed (plus one partial page).
    pub chunk: Duration,
    /// `UploadCommit`: the blob is decoded; with persist, the header page is written.
    pub commit: Duration,
}

impl UploadWaits {
    /// The waits for a blob of `blob_len` bytes; `flash_slot_bytes` is `Info`'s
    /// (`None`: a RAM upload).
    pub fn new(timeout: Duration, blob_len: usize, flash_slot_bytes: Option<u32>) -> Self {
        let times = |d: Duration, n: usize| d * u32::try_from(n).unwrap_or(u32::MAX);
        let decode = times(DECODE_PER_4K, blob_len.div_ceil(4096));
        match flash_slot_bytes {
            None => UploadWaits {
                begin: timeout,
                chunk: timeout,
                commit: timeout + decode,
            },
            Some(slot) => {
                // Info gives the blob capacity; the slot also holds the header page.
                let sectors = (slot as usize + 256).div_ceil(4096);
                UploadWaits {
                    begin: timeout + times(ERASE_PER_SECTOR, sectors),
                    chunk: timeout + times(PROGRAM_PER_PAGE, MAX_CHUNK.div_ceil(256) + 1),
                    commit: timeout + decode + PROGRAM_PER_PAGE * 2,
                }
            }
        }
    }
}

/// A protocol connection to one device.
pub struct Client {
    link: Box<dyn Transport>,
    endpoint: String,
    timeout: Duration,
    clock: HostClock,
    seq: u16,
    reader: FrameReader<{ frame::MAX_FRAME }>,
    inbuf: Vec<u8>,
    inpos: usize,
    queue: VecDeque<Incoming>,
    recording: bool,
    frames: Vec<RawFrame>,
    stats: LinkStats,
    last_dev_seq: Option<u16>,
    last_bad: Option<String>,
    device_us: Option<u64>,
    /// Flash slot size from the last `Info` (sizes a persistent upload's waits).
    flash_slot_bytes: Option<u32>,
}

/// Words for a `Nack` reason.
pub fn describe_nack(r: &NackReason<'_>) -> String {
    match r {
        NackReason::ProtocolVersion { host, device } => {
            format!("protocol version: host v{host}, device v{device}")
        }
        NackReason::TooLarge { len, max } => {
            format!("model of {len} bytes does not fit the device's {max}-byte slot")
        }
        NackReason::NoUpload => "no upload in progress".into(),
        NackReason::BadOffset { expected, got } => {
            format!("upload chunk at offset {got}, device expected {expected}")
        }
        NackReason::Incomplete { have, need } => {
            format!("upload incomplete: {have} of {need} bytes received")
        }
        NackReason::CrcMismatch { expected, found } => {
            format!("upload CRC {found:#010x} differs from the announced {expected:#010x}")
        }
        NackReason::BadBlob { detail } => format!("invalid blob: {detail}"),
        NackReason::InputLength { expected, found } => {
            format!("input has {found} values, the model takes {expected}")
        }
        NackReason::NotRunning => "the device is not running (send Start first)".into(),
        NackReason::BadRate { rate_hz } => format!("the timer cannot run at {rate_hz} Hz"),
        NackReason::BadIndex { at } => format!(
            "entry {at} names a unit, output, channel or pin the device does not have, or has bad parameters"
        ),
        NackReason::Unsupported => "not supported by this device".into(),
        NackReason::Busy => {
            "a persistent upload while the timer runs (writing flash would stall the loop): stop the run first".into()
        }
        NackReason::Storage { detail } => format!("flash storage failed: {detail}"),
    }
}

fn name_of(m: &HostMsg<'_>) -> &'static str {
    match m {
        HostMsg::Hello { .. } => "Hello",
        HostMsg::GetInfo => "GetInfo",
        HostMsg::UploadBegin { .. } => "UploadBegin",
        HostMsg::UploadChunk { .. } => "UploadChunk",
        HostMsg::UploadCommit => "UploadCommit",
        HostMsg::Start { .. } => "Start",
        HostMsg::Stop => "Stop",
        HostMsg::Input { .. } => "Input",
        HostMsg::SetStimulusMap { .. } => "SetStimulusMap",
        HostMsg::ResetState => "ResetState",
        HostMsg::Ping => "Ping",
        HostMsg::GetStats => "GetStats",
    }
}

/// The device time a message carries, µs since boot.
pub fn device_time(m: &DeviceMsg<'_>) -> Option<u64> {
    match m {
        DeviceMsg::Ack { device_us, .. } | DeviceMsg::Stats { device_us, .. } => Some(*device_us),
        DeviceMsg::Telemetry(t) => Some(t.device_us),
        DeviceMsg::Event(e) => Some(e.device_us),
        DeviceMsg::Heartbeat(h) => Some(h.device_us),
        DeviceMsg::Info(_) | DeviceMsg::Nack { .. } => None,
    }
}

fn describe_msg(m: &DeviceMsg<'_>) -> String {
    match m {
        DeviceMsg::Info(i) => format!("Info(re {})", i.re),
        DeviceMsg::Ack { re, .. } => format!("Ack(re {re})"),
        DeviceMsg::Nack { re, reason } => format!("Nack(re {re}: {})", describe_nack(reason)),
        DeviceMsg::Telemetry(t) => format!("Telemetry(input_seq {})", t.input_seq),
        DeviceMsg::Event(e) => format!("Event(rule {})", e.rule),
        DeviceMsg::Stats { re, .. } => format!("Stats(re {re})"),
        DeviceMsg::Heartbeat(h) => format!("Heartbeat(device_us {})", h.device_us),
    }
}

impl Client {
    /// A client over an open link; `endpoint` names it in messages.
    pub fn new(link: Box<dyn Transport>, endpoint: impl Into<String>, timeout: Duration) -> Self {
        Client {
            link,
            endpoint: endpoint.into(),
            timeout,
            clock: HostClock::new(),
            seq: 0,
            reader: FrameReader::new(),
            inbuf: Vec::new(),
            inpos: 0,
            queue: VecDeque::new(),
            recording: false,
            frames: Vec::new(),
            stats: LinkStats::default(),
            last_dev_seq: None,
            last_bad: None,
            device_us: None,
            flash_slot_bytes: None,
        }
    }

    /// Open `ep` (for [`Endpoint::Sim`], start a simulator thread in this process).
    pub fn connect(ep: &Endpoint, timeout: Duration) -> Result<Self, RigError> {
        let open = |error: std::io::Error| RigError::Open {
            endpoint: ep.to_string(),
            error,
        };
        let link: Box<dyn Transport> = match ep {
            Endpoint::Serial { path, baud } => {
                Box::new(SerialLink::open(path, *baud).map_err(open)?)
            }
            Endpoint::Tcp(addr) => {
                Box::new(StreamLink::tcp(addr, timeout.max(Duration::from_secs(2))).map_err(open)?)
            }
            Endpoint::Unix(p) => Box::new(StreamLink::unix(p).map_err(open)?),
            Endpoint::Sim => {
                let (tx, rx) = super::sim::spawn(super::sim::SimOptions::default());
                Box::new(ChannelLink::new(tx, rx))
            }
        };
        Ok(Client::new(link, ep.to_string(), timeout))
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Change the request timeout.
    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    /// The session's host clock (receive times are on it).
    pub fn clock(&self) -> HostClock {
        self.clock
    }

    /// Use `clock` for host times from now on.
    pub fn set_clock(&mut self, clock: HostClock) {
        self.clock = clock;
    }

    /// The endpoint's name.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Keep every frame (both directions) for [`Client::take_frames`].
    pub fn set_recording(&mut self, on: bool) {
        self.recording = on;
    }

    /// Frames kept since the last call (recording on).
    pub fn take_frames(&mut self) -> Vec<RawFrame> {
        std::mem::take(&mut self.frames)
    }

    /// The latest device time (µs since boot) any received frame carried.
    pub fn device_us(&self) -> Option<u64> {
        self.device_us
    }

    /// Host-side link counters.
    pub fn link_stats(&self) -> LinkStats {
        self.stats
    }

    /// Send raw bytes (tests, line-noise flush).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), RigError> {
        self.link.write_all(bytes).map_err(|error| RigError::Link {
            endpoint: self.endpoint.clone(),
            error,
        })
    }

    fn send(&mut self, msg: HostMsg<'_>) -> Result<u16, RigError> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let mut buf = [0u8; frame::MAX_FRAME];
        let p = Packet { seq, msg };
        let wire = frame::encode(&p, &mut buf).map_err(|e| {
            RigError::Invalid(format!("{} does not fit a frame: {e}", name_of(&p.msg)))
        })?;
        if self.recording {
            let bytes = postcard::to_allocvec(&p).unwrap_or_default();
            self.frames.push(RawFrame {
                dir: Dir::Tx,
                host_ns: self.clock.now_ns(),
                bytes,
            });
        }
        self.stats.tx_frames += 1;
        let wire = wire.to_vec();
        self.send_raw(&wire)?;
        Ok(seq)
    }

    /// The next complete frame (un-stuffed) before `deadline`, or `None` at the deadline.
    fn next_frame(&mut self, deadline: Instant) -> Result<Option<(u64, Vec<u8>)>, RigError> {
        loop {
            while self.inpos < self.inbuf.len() {
                let b = self.inbuf[self.inpos];
                self.inpos += 1;
                match self.reader.push(b) {
                    None => {}
                    Some(Err(e)) => {
                        self.stats.rx_bad_frames += 1;
                        self.last_bad = Some(e.to_string());
                    }
                    Some(Ok(f)) => {
                        let raw = f.to_vec();
                        let host_ns = self.clock.now_ns();
                        let mut v = raw.clone();
                        match cobs::decode_in_place(&mut v) {
                            Ok(n) => {
                                v.truncate(n);
                                return Ok(Some((host_ns, v)));
                            }
                            Err(_) => {
                                self.stats.rx_bad_frames += 1;
                                self.last_bad = Some(format!(
                                    "bytes {:02x?} are not a COBS frame",
                                    &raw[..raw.len().min(12)]
                                ));
                                if self.recording {
                                    self.frames.push(RawFrame {
                                        dir: Dir::RxBad,
                                        host_ns,
                                        bytes: raw,
                                    });
                                }
                            }
                        }
                    }
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.inbuf.resize(4096, 0);
            self.inpos = 0;
            let n = self
                .link
                .read(&mut self.inbuf, deadline - now)
                .map_err(|error| RigError::Link {
                    endpoint: self.endpoint.clone(),
                    error,
                });
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    self.inbuf.clear();
                    return Err(e);
                }
            };
            self.inbuf.truncate(n);
            self.stats.rx_bytes += n as u64;
        }
    }

    /// Wait until `pick` accepts a device message; queue telemetry and events meanwhile.
    fn wait_for<T>(
        &mut self,
        request: &str,
        timeout: Duration,
        keep: bool,
        mut pick: impl FnMut(&DeviceMsg<'_>) -> Option<Result<T, RigError>>,
    ) -> Result<T, RigError> {
        let deadline = Instant::now() + timeout;
        let bad_before = self.stats.rx_bad_frames;
        let mut other: Option<String> = None;
        loop {
            let Some((host_ns, bytes)) = self.next_frame(deadline)? else {
                let bad = self.stats.rx_bad_frames - bad_before;
                let mut hint = String::new();
                if bad > 0 {
                    hint = format!(
                        "; {bad} frame(s) meanwhile were garbage or did not decode as protocol v{PROTOCOL_VERSION} messages (last: {}): is this a neuroloop device with matching firmware and baud rate?",
                        self.last_bad.as_deref().unwrap_or("?")
                    );
                } else if let Some(o) = &other {
                    hint = format!("; the device sent other frames meanwhile (last: {o})");
                }
                return Err(RigError::Timeout {
                    endpoint: self.endpoint.clone(),
                    request: request.into(),
                    timeout,
                    hint,
                });
            };
            let parsed = postcard::from_bytes::<Packet<DeviceMsg<'_>>>(&bytes);
            let Ok(p) = parsed else {
                self.stats.rx_bad_frames += 1;
                self.last_bad = Some(format!(
                    "frame {:02x?} does not decode",
                    &bytes[..bytes.len().min(12)]
                ));
                if self.recording {
                    self.frames.push(RawFrame {
                        dir: Dir::Rx,
                        host_ns,
                        bytes,
                    });
                }
                continue;
            };
            self.stats.rx_frames += 1;
            if let Some(last) = self.last_dev_seq {
                self.stats.rx_seq_gaps += u64::from(p.seq.wrapping_sub(last).wrapping_sub(1));
            }
            self.last_dev_seq = Some(p.seq);
            if let Some(us) = device_time(&p.msg) {
                self.device_us = Some(us);
            }
            let got = pick(&p.msg);
            let queue = keep || got.is_none();
            match &p.msg {
                DeviceMsg::Telemetry(t) if queue => {
                    self.queue.push_back(Incoming::Telemetry(t.clone()))
                }
                DeviceMsg::Event(e) if queue => self.queue.push_back(Incoming::Event(*e)),
                DeviceMsg::Heartbeat(h) if queue => self.queue.push_back(Incoming::Heartbeat(*h)),
                m if got.is_none() => other = Some(describe_msg(m)),
                _ => {}
            }
            drop(p);
            if self.recording {
                self.frames.push(RawFrame {
                    dir: Dir::Rx,
                    host_ns,
                    bytes,
                });
            }
            if let Some(r) = got {
                return r;
            }
        }
    }

    fn request(&mut self, msg: HostMsg<'_>, timeout: Duration) -> Result<Reply, RigError> {
        let what = name_of(&msg);
        let seq = self.send(msg)?;
        self.wait_for(what, timeout, false, |m| match m {
            DeviceMsg::Ack { re, .. } if *re == seq => Some(Ok(Reply::Ack)),
            DeviceMsg::Info(i) if i.re == seq => {
                Some(Ok(Reply::Info(i.clone().map_str(String::from))))
            }
            DeviceMsg::Stats { re, stats, .. } if *re == seq => Some(Ok(Reply::Stats(*stats))),
            DeviceMsg::Nack { re, reason } if *re == seq => Some(Err(match reason {
                NackReason::ProtocolVersion { host, device } => RigError::ProtocolVersion {
                    host: *host,
                    device: *device,
                },
                r => RigError::Nack {
                    request: what.into(),
                    reason: describe_nack(r),
                },
            })),
            _ => None,
        })
    }

    fn ack(&mut self, msg: HostMsg<'_>) -> Result<(), RigError> {
        let what = name_of(&msg);
        match self.request(msg, self.timeout)? {
            Reply::Ack => Ok(()),
            _ => Err(RigError::Unexpected {
                request: what.into(),
                got: "a reply other than Ack".into(),
            }),
        }
    }

    /// Open the session: `Hello` with this host's protocol version → `Info`. A line-noise
    /// flush (`0x00`) goes first.
    pub fn hello(&mut self) -> Result<DeviceInfo, RigError> {
        self.send_raw(&[0])?;
        match self.request(
            HostMsg::Hello {
                protocol: PROTOCOL_VERSION,
            },
            self.timeout,
        )? {
            Reply::Info(i) if i.protocol != PROTOCOL_VERSION => Err(RigError::ProtocolVersion {
                host: PROTOCOL_VERSION,
                device: i.protocol,
            }),
            Reply::Info(i) => {
                self.flash_slot_bytes = Some(i.flash_slot_bytes);
                Ok(i)
            }
            _ => Err(RigError::Unexpected {
                request: "Hello".into(),
                got: "a reply other than Info".into(),
            }),
        }
    }

    /// `GetInfo`.
    pub fn info(&mut self) -> Result<DeviceInfo, RigError> {
        match self.request(HostMsg::GetInfo, self.timeout)? {
            Reply::Info(i) => {
                self.flash_slot_bytes = Some(i.flash_slot_bytes);
                Ok(i)
            }
            _ => Err(RigError::Unexpected {
                request: "GetInfo".into(),
                got: "a reply other than Info".into(),
            }),
        }
    }

    /// `GetStats`.
    pub fn stats(&mut self) -> Result<Stats, RigError> {
        match self.request(HostMsg::GetStats, self.timeout)? {
            Reply::Stats(s) => Ok(s),
            _ => Err(RigError::Unexpected {
                request: "GetStats".into(),
                got: "a reply other than Stats".into(),
            }),
        }
    }

    /// `Ping`; returns the round-trip time.
    pub fn ping(&mut self) -> Result<Duration, RigError> {
        let t0 = Instant::now();
        self.ack(HostMsg::Ping)?;
        Ok(t0.elapsed())
    }

    /// Upload a blob: `UploadBegin`, chunks of [`MAX_CHUNK`] bytes, `UploadCommit`;
    /// `progress(sent, total)` after each chunk. With `persist`, the device writes it to
    /// flash and boots it from then on. Each request waits as long as [`UploadWaits`]
    /// allows for the flash work it starts (the slot size comes from the last `Info`,
    /// asked for first if there was none).
    pub fn upload(
        &mut self,
        blob: &[u8],
        persist: bool,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(), RigError> {
        let len = u32::try_from(blob.len()).map_err(|_| {
            RigError::Invalid(format!("a blob of {} bytes is too large", blob.len()))
        })?;
        let slot = match (persist, self.flash_slot_bytes) {
            (false, _) => None,
            (true, Some(b)) => Some(b),
            (true, None) => Some(self.info()?.flash_slot_bytes),
        };
        let waits = UploadWaits::new(self.timeout, blob.len(), slot);
        let begin = HostMsg::UploadBegin {
            len,
            crc: CRC.checksum(blob),
            persist,
        };
        let not_ack = |request: &str| RigError::Unexpected {
            request: request.into(),
            got: "a reply other than Ack".into(),
        };
        if !matches!(self.request(begin, waits.begin)?, Reply::Ack) {
            return Err(not_ack("UploadBegin"));
        }
        let mut sent = 0usize;
        for chunk in blob.chunks(MAX_CHUNK) {
            let msg = HostMsg::UploadChunk {
                offset: sent as u32,
                bytes: chunk,
            };
            if !matches!(self.request(msg, waits.chunk)?, Reply::Ack) {
                return Err(not_ack("UploadChunk"));
            }
            sent += chunk.len();
            progress(sent, blob.len());
        }
        match self.request(HostMsg::UploadCommit, waits.commit)? {
            Reply::Ack => Ok(()),
            _ => Err(not_ack("UploadCommit")),
        }
    }

    /// `SetStimulusMap`.
    pub fn set_stimulus(&mut self, rules: &[Rule]) -> Result<(), RigError> {
        let rules = heapless::Vec::from_slice(rules).map_err(|_| {
            RigError::Invalid(format!(
                "{} stimulus rules, the protocol carries at most {MAX_RULES}",
                rules.len()
            ))
        })?;
        self.ack(HostMsg::SetStimulusMap { rules })
    }

    /// `Start`.
    pub fn start(&mut self, mode: Mode, streams: Streams) -> Result<(), RigError> {
        self.ack(HostMsg::Start { mode, streams })
    }

    /// `Stop`.
    pub fn stop(&mut self) -> Result<(), RigError> {
        self.ack(HostMsg::Stop)
    }

    /// `ResetState`.
    pub fn reset_state(&mut self) -> Result<(), RigError> {
        self.ack(HostMsg::ResetState)
    }

    fn input_msg(input_seq: u32, values: &[i16]) -> Result<HostMsg<'static>, RigError> {
        let values = heapless::Vec::from_slice(values).map_err(|_| {
            RigError::Invalid(format!(
                "an input of {} values, the protocol carries at most {MAX_VALUES}",
                values.len()
            ))
        })?;
        Ok(HostMsg::Input {
            seq: input_seq,
            values,
        })
    }

    /// Lockstep: send one input and wait for the step's telemetry.
    pub fn step(&mut self, input_seq: u32, values: &[i16]) -> Result<Telemetry, RigError> {
        let msg = Self::input_msg(input_seq, values)?;
        let seq = self.send(msg)?;
        let timeout = self.timeout;
        self.wait_for("Input (lockstep)", timeout, false, |m| match m {
            DeviceMsg::Telemetry(t) if t.input_seq == input_seq => Some(Ok(t.clone())),
            DeviceMsg::Nack { re, reason } if *re == seq => Some(Err(RigError::Nack {
                request: format!("Input {input_seq}"),
                reason: describe_nack(reason),
            })),
            _ => None,
        })
    }

    /// Timer mode: send an input sample (no answer).
    pub fn send_input(&mut self, input_seq: u32, values: &[i16]) -> Result<(), RigError> {
        let msg = Self::input_msg(input_seq, values)?;
        self.send(msg).map(|_| ())
    }

    /// The next frame the device sent on its own, waiting at most `wait`; `None` if none
    /// came. A broken link is an error.
    pub fn poll(&mut self, wait: Duration) -> Result<Option<Incoming>, RigError> {
        if let Some(m) = self.queue.pop_front() {
            return Ok(Some(m));
        }
        let r = self.wait_for("telemetry", wait, true, |m| match m {
            DeviceMsg::Telemetry(_) | DeviceMsg::Event(_) | DeviceMsg::Heartbeat(_) => Some(Ok(())),
            _ => None,
        });
        match r {
            Err(RigError::Timeout { .. }) => Ok(self.queue.pop_front()),
            Err(e) => Err(e),
            Ok(()) => Ok(self.queue.pop_front()),
        }
    }

    /// Take every queued frame without waiting.
    pub fn drain(&mut self) -> Vec<Incoming> {
        self.queue.drain(..).collect()
    }
}
