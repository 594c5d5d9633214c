//! [`App`]: protocol handling, the stepping loop, telemetry and the transmit policy.
//!
//! Nothing here waits for the line: frames go into the board's transmit queue
//! ([`Serial::try_queue`]). Unasked frames (telemetry, events, heartbeats) are dropped and
//! counted when they do not fit, leaving [`REPLY_RESERVE`] bytes for replies; replies are
//! never dropped (they wait for the drain, outside any tick).

use heapless::Vec;
use neuroloop_core::protocol::{
    capability, frame, DeviceMsg, Event, FrameReader, Heartbeat, HostMsg, Info, Mode, ModelStore,
    NackReason, Packet, Stats, Streams, Telemetry, MAX_RULES, MAX_UNITS, MAX_VALUES,
    PROTOCOL_VERSION,
};
use neuroloop_core::{Model, State, StepError};

use crate::clock::Uptime;
use crate::flash::{blob_capacity, SlotWriter};
use crate::fmt::Debug2Format;
use crate::slots::{Refusal, Staging};
use crate::stimulus::StimulusMap;
use crate::upload::{Upload, UploadError};
use crate::{Actuators, Io, Serial, Ticker};

/// Board identity reported in `Info`.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Board name.
    pub board: &'static str,
}

/// What one [`App::poll`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Nothing to do (no byte, no tick): a board may sleep until an interrupt.
    Idle,
    /// Handled bytes, a frame or a tick.
    Busy,
    /// An upload of `len` bytes arrived whole with the announced CRC (request `re`): call
    /// [`Slots::commit`](crate::Slots::commit) (or, with `persist`,
    /// [`Slots::commit_flash`](crate::Slots::commit_flash), answering an error with
    /// [`App::refuse`]), then [`App::finish_swap`] with the next
    /// [`Slots::split`](crate::Slots::split) (see [`serve`](crate::serve)).
    Swap {
        /// `seq` of the `UploadCommit`.
        re: u16,
        /// Blob length.
        len: usize,
        /// Written to the free flash slot (not yet committed: no header).
        persist: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    Idle,
    Lockstep,
    Timer,
}

/// Bytes read from the serial port per [`App::poll`] at most, so that a stream of
/// incoming bytes cannot delay a timer tick by more than this.
const MAX_BYTES_PER_POLL: usize = 64;

/// Transmit-queue bytes unasked frames leave free, so that a reply (the largest: `Info`
/// or a `Nack` with text, ≤ 200 B) never waits behind telemetry.
pub const REPLY_RESERVE: usize = 256;

/// Device time between two heartbeats, µs.
const HEARTBEAT_US: u64 = 1_000_000;

/// The device state machine. Holds the network state (in a caller buffer), the stimulus
/// map, counters and the frame buffers; the model and the upload slot are lent to
/// [`App::poll`] by [`Slots`](crate::Slots).
#[derive(Debug)]
pub struct App<'s> {
    rx: FrameReader<{ frame::MAX_FRAME }>,
    inner: Inner<'s>,
}

#[derive(Debug)]
struct Inner<'s> {
    cfg: Config,
    state: State<'s>,
    state_words: usize,
    store: ModelStore,
    tx: [u8; frame::MAX_FRAME],
    tx_seq: u16,
    run: Run,
    streams: Streams,
    stimulus: StimulusMap,
    upload: Option<Upload>,
    /// The flash writer of a persistent upload in progress.
    writer: Option<SlotWriter>,
    input: Vec<i16, MAX_VALUES>,
    input_seq: u32,
    stats: Stats,
    uptime: Option<Uptime>,
    next_heartbeat_us: u64,
    /// Ticks that arrived while the previous tick's work ran (handled next poll).
    carry: u32,
}

impl<'s> App<'s> {
    /// An app running `model` with its state in `state_buf` (at least
    /// `model.state_len()` words; uploads needing more are refused).
    pub fn new(
        cfg: Config,
        model: &Model<'_>,
        state_buf: &'s mut [i16],
    ) -> Result<Self, StepError> {
        let state_words = state_buf.len();
        let state = State::new(model, state_buf)?;
        let mut inner = Inner {
            cfg,
            state,
            state_words,
            store: ModelStore::Builtin,
            tx: [0; frame::MAX_FRAME],
            tx_seq: 0,
            run: Run::Idle,
            streams: Streams::default(),
            stimulus: StimulusMap::new(),
            upload: None,
            writer: None,
            input: Vec::new(),
            input_seq: 0,
            stats: Stats::default(),
            uptime: None,
            next_heartbeat_us: HEARTBEAT_US,
            carry: 0,
        };
        inner.zero_input(model);
        Ok(App {
            rx: FrameReader::new(),
            inner,
        })
    }

    /// Take `model` (stored in `store`) as the running model: state reset, input zeroed;
    /// the run mode, streams and stimulus map are kept.
    pub fn adopt(&mut self, model: &Model<'_>, store: ModelStore) {
        info!(
            "model {=str} active: {=usize}x{=usize}x{=usize}, {=usize} B, crc {=u32:#010x}",
            model.name(),
            model.n_in(),
            model.n_rec(),
            model.n_out(),
            model.blob_len(),
            model.crc()
        );
        self.inner.store = store;
        // Fits: uploads needing more than the state buffer are refused before the swap.
        let _ = self.inner.state.reset(model);
        self.inner.zero_input(model);
    }

    /// Answer the `UploadCommit` `re` once the committed slot was decoded: `refused` is
    /// the decode error, if any. Adopts the model and `Ack`s, or `Nack`s `BadBlob` (also
    /// when the model needs more state than the device has). Returns whether the model
    /// was adopted; if not, call [`Slots::rollback`](crate::Slots::rollback) (unless
    /// `refused` was set: the slots rolled back already).
    pub fn finish_swap<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        re: u16,
        model: &Model<'_>,
        store: ModelStore,
        refused: Option<neuroloop_core::blob::Error>,
        io: &mut Io<S, T, A>,
    ) -> bool {
        let why = match refused {
            Some(e) => Refusal::Blob(e),
            None if model.state_len() > self.inner.state_words => Refusal::State {
                need: model.state_len(),
                have: self.inner.state_words,
            },
            None => {
                self.inner.stats.uploads = self.inner.stats.uploads.wrapping_add(1);
                self.adopt(model, store);
                self.inner.ack(io, re);
                return true;
            }
        };
        self.refuse(re, why, io);
        false
    }

    /// Answer the `UploadCommit` `re` with the `Nack` for `why`: `BadBlob` (decode error,
    /// or more state than the device has) or `Storage` (flash).
    pub fn refuse<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        re: u16,
        why: Refusal,
        io: &mut Io<S, T, A>,
    ) {
        let mut text = crate::upload::Text::new();
        use core::fmt::Write as _;
        let reason = match why {
            Refusal::Blob(e) => {
                let _ = write!(text, "{e}");
                NackReason::BadBlob {
                    detail: text.as_str(),
                }
            }
            Refusal::State { need, have } => {
                let _ = write!(text, "model needs {need} state words, device has {have}");
                NackReason::BadBlob {
                    detail: text.as_str(),
                }
            }
            Refusal::Storage(e) => NackReason::Storage { detail: e.as_str() },
        };
        self.inner.nack(io, re, reason);
    }

    /// State words the device has (uploads needing more are refused).
    pub fn state_words(&self) -> usize {
        self.inner.state_words
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.inner.stats
    }

    /// Do one slice of work: due timer ticks, the clock-driven stimulus (`RandomSync`),
    /// the heartbeat, then serial bytes up to the end of one frame (handled at once).
    /// `staging` holds the free model slots for uploads.
    pub fn poll<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        model: &Model<'_>,
        staging: &mut Staging<'_>,
        io: &mut Io<S, T, A>,
    ) -> Poll {
        let inner = &mut self.inner;
        io.serial.tx_pump();
        let mut busy = false;
        if inner.run == Run::Timer {
            let ticks = inner.carry.wrapping_add(io.ticker.take_ticks());
            inner.carry = 0;
            if ticks > 0 {
                inner.on_ticks(ticks, model, io);
                busy = true;
            }
        }
        let now_us = inner.now_us(io);
        busy |= inner.on_clock(now_us, io);
        for _ in 0..MAX_BYTES_PER_POLL {
            let Some(b) = io.serial.read() else { break };
            busy = true;
            match self.rx.push(b) {
                None => {}
                Some(Err(e)) => {
                    debug!("bad frame: {}", e);
                    inner.stats.rx_frame_errors = inner.stats.rx_frame_errors.wrapping_add(1)
                }
                Some(Ok(f)) => match frame::decode::<HostMsg<'_>>(f) {
                    Ok(p) => return inner.handle(p, model, staging, io),
                    Err(e) => {
                        debug!("undecodable frame: {}", e);
                        inner.stats.rx_frame_errors = inner.stats.rx_frame_errors.wrapping_add(1)
                    }
                },
            }
        }
        if busy {
            Poll::Busy
        } else {
            Poll::Idle
        }
    }
}

/// Whether a frame is a reply (never dropped) or unasked (dropped when the queue is full).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Reply,
    Telemetry,
    Event,
    Heartbeat,
}

impl Inner<'_> {
    fn zero_input(&mut self, model: &Model<'_>) {
        self.input.clear();
        let _ = self.input.resize(model.n_in(), 0);
    }

    fn now_us<S, T: Ticker, A>(&mut self, io: &mut Io<S, T, A>) -> u64 {
        let now = io.ticker.now();
        let hz = io.ticker.clock_hz();
        self.uptime
            .get_or_insert_with(|| Uptime::new(hz, now))
            .update(now)
    }

    /// Clock-driven work: `RandomSync` edges and the 1 Hz heartbeat.
    fn on_clock<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        now_us: u64,
        io: &mut Io<S, T, A>,
    ) -> bool {
        let mut events: Vec<Event, MAX_RULES> = Vec::new();
        let tick = self.last_tick();
        self.stimulus
            .on_clock(now_us, &mut io.actuators, |rule, high, value| {
                let _ = events.push(Event {
                    device_us: now_us,
                    tick,
                    rule,
                    high,
                    value,
                });
            });
        let busy = !events.is_empty();
        for e in events {
            self.send(&mut io.serial, DeviceMsg::Event(e), Class::Event);
        }
        if now_us >= self.next_heartbeat_us {
            self.next_heartbeat_us = (now_us / HEARTBEAT_US + 1) * HEARTBEAT_US;
            let hb = Heartbeat {
                device_us: now_us,
                running: self.run != Run::Idle,
                stats: self.stats,
            };
            self.send(&mut io.serial, DeviceMsg::Heartbeat(hb), Class::Heartbeat);
            return true;
        }
        busy
    }

    fn last_tick(&self) -> u32 {
        match self.run {
            Run::Timer => self.stats.ticks,
            _ => self.state.steps(),
        }
    }

    /// Encode and queue `msg`. Replies wait for room; unasked frames are dropped (and
    /// counted) unless they fit with [`REPLY_RESERVE`] bytes to spare.
    fn send(&mut self, serial: &mut impl Serial, msg: DeviceMsg<'_>, class: Class) {
        let p = Packet {
            seq: self.tx_seq,
            msg,
        };
        let Ok(f) = frame::encode(&p, &mut self.tx) else {
            return;
        };
        if class == Class::Reply {
            while !serial.try_queue(f) {
                serial.tx_pump();
            }
        } else if serial.tx_free() < f.len() + REPLY_RESERVE || !serial.try_queue(f) {
            let s = &mut self.stats;
            match class {
                Class::Telemetry => s.telemetry_dropped = s.telemetry_dropped.wrapping_add(1),
                Class::Event => s.events_dropped = s.events_dropped.wrapping_add(1),
                _ => {}
            }
            return;
        }
        self.tx_seq = self.tx_seq.wrapping_add(1);
    }

    fn ack<S: Serial, T: Ticker, A>(&mut self, io: &mut Io<S, T, A>, re: u16) -> Poll {
        let device_us = self.now_us(io);
        self.send(
            &mut io.serial,
            DeviceMsg::Ack { re, device_us },
            Class::Reply,
        );
        Poll::Busy
    }

    fn nack<S: Serial, T, A>(
        &mut self,
        io: &mut Io<S, T, A>,
        re: u16,
        reason: NackReason<'_>,
    ) -> Poll {
        warn!("refused request #{=u16}: {}", re, Debug2Format(&reason));
        self.send(&mut io.serial, DeviceMsg::Nack { re, reason }, Class::Reply);
        Poll::Busy
    }

    fn info<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        re: u16,
        model: &Model<'_>,
        staging: &Staging<'_>,
        io: &mut Io<S, T, A>,
    ) {
        let (pwm, pins) = (io.actuators.pwm_channels(), io.actuators.pins());
        let mut caps = capability::LOCKSTEP | capability::TIMER | capability::UPLOAD;
        if pwm > 0 {
            caps |= capability::PWM;
        }
        if pins > 0 {
            caps |= capability::TTL | capability::SYNC;
        }
        let flash = staging
            .flash
            .as_ref()
            .map_or(0, |(d, _)| blob_capacity(d.size()));
        if flash > 0 {
            caps |= capability::PERSIST;
        }
        let info = Info {
            re,
            protocol: PROTOCOL_VERSION,
            firmware: crate::FIRMWARE_VERSION,
            board: self.cfg.board,
            model_name: model.name(),
            model_crc: model.crc(),
            model_len: model.blob_len() as u32,
            model_store: self.store,
            n_in: model.n_in() as u16,
            n_rec: model.n_rec() as u16,
            n_out: model.n_out() as u16,
            input_frac: model.input_frac(),
            output_frac: model.output_frac(),
            state_frac: model.state_frac(),
            rate_frac: model.rate_frac(),
            capabilities: caps,
            ram_slot_bytes: staging.ram.len() as u32,
            flash_slot_bytes: flash as u32,
            tx_queue_bytes: io.serial.tx_capacity() as u32,
            clock_hz: io.ticker.clock_hz(),
            pwm_channels: pwm,
            pins,
        };
        self.send(&mut io.serial, DeviceMsg::Info(info), Class::Reply);
    }

    fn handle<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        p: Packet<HostMsg<'_>>,
        model: &Model<'_>,
        staging: &mut Staging<'_>,
        io: &mut Io<S, T, A>,
    ) -> Poll {
        let re = p.seq;
        match p.msg {
            HostMsg::Hello { protocol } if protocol != PROTOCOL_VERSION => self.nack(
                io,
                re,
                NackReason::ProtocolVersion {
                    host: protocol,
                    device: PROTOCOL_VERSION,
                },
            ),
            HostMsg::Hello { .. } | HostMsg::GetInfo => {
                self.info(re, model, staging, io);
                Poll::Busy
            }
            HostMsg::UploadBegin { len, crc, persist } => {
                self.upload = None;
                self.writer = None;
                match self.begin_upload(len, crc, persist, staging) {
                    Ok(()) => {
                        debug!("upload begin: {=u32} B, crc {=u32:#010x}", len, crc);
                        self.ack(io, re)
                    }
                    Err(reason) => self.nack(io, re, reason),
                }
            }
            HostMsg::UploadChunk { offset, bytes } => {
                let Some(up) = self.upload.as_mut() else {
                    return self.nack(io, re, NackReason::NoUpload);
                };
                if self.writer.is_some() && self.run == Run::Timer {
                    // Started after `UploadBegin`: writing flash would stall the loop.
                    return self.nack(io, re, NackReason::Busy);
                }
                let done = match (self.writer.as_mut(), staging.flash.as_mut()) {
                    (Some(w), Some((dev, _))) => up.chunk_with(offset, bytes, |_, b| {
                        w.write(&mut **dev, b)
                            .map_err(|e| Some(NackReason::Storage { detail: e.as_str() }))
                    }),
                    _ => up.chunk(offset, bytes, staging.ram),
                };
                match done {
                    Ok(()) => self.ack(io, re),
                    Err(reason) => self.nack(io, re, reason),
                }
            }
            HostMsg::UploadCommit => {
                if self.writer.is_some() && self.run == Run::Timer {
                    return self.nack(io, re, NackReason::Busy);
                }
                let Some(up) = self.upload.take() else {
                    return self.nack(io, re, NackReason::NoUpload);
                };
                let writer = self.writer.take();
                let len = match up.finish() {
                    Ok(len) => len,
                    Err(UploadError(reason)) => return self.nack(io, re, reason),
                };
                let persist = match (writer, staging.flash.as_mut()) {
                    (Some(mut w), Some((dev, _))) => {
                        if let Err(e) = w.finish(&mut **dev) {
                            let detail = e.as_str();
                            return self.nack(io, re, NackReason::Storage { detail });
                        }
                        true
                    }
                    _ => false,
                };
                info!(
                    "upload complete: {=usize} B (persist: {=bool}); swapping",
                    len, persist
                );
                Poll::Swap { re, len, persist }
            }
            HostMsg::Start { mode, streams } => self.start(re, mode, streams, model, io),
            HostMsg::Stop => {
                io.ticker.stop();
                let s = &self.stats;
                info!(
                    "stop: {=u32} steps, {=u32} ticks, {=u32} deadline misses, max step {=u32} clocks",
                    s.steps,
                    s.ticks,
                    s.deadline_misses,
                    s.max_step_clocks
                );
                self.run = Run::Idle;
                self.carry = 0;
                self.ack(io, re)
            }
            HostMsg::Input { seq, values } => {
                if values.len() != model.n_in() {
                    let reason = NackReason::InputLength {
                        expected: model.n_in() as u16,
                        found: values.len() as u16,
                    };
                    return self.nack(io, re, reason);
                }
                self.input = values;
                self.input_seq = seq;
                match self.run {
                    Run::Lockstep => {
                        let t0 = io.ticker.now();
                        let tick = self.state.steps().wrapping_add(1);
                        self.step(tick, t0, model, io);
                        Poll::Busy
                    }
                    Run::Timer => Poll::Busy,
                    Run::Idle => self.nack(io, re, NackReason::NotRunning),
                }
            }
            HostMsg::SetStimulusMap { rules } => {
                let now_us = self.now_us(io);
                match self.stimulus.set(
                    &rules,
                    model.n_out(),
                    model.n_rec(),
                    now_us,
                    &mut io.actuators,
                ) {
                    Ok(()) => self.ack(io, re),
                    Err(reason) => self.nack(io, re, reason),
                }
            }
            HostMsg::ResetState => {
                let _ = self.state.reset(model); // the running model fits its buffer
                self.zero_input(model);
                self.ack(io, re)
            }
            HostMsg::Ping => self.ack(io, re),
            HostMsg::GetStats => {
                let (stats, device_us) = (self.stats, self.now_us(io));
                let msg = DeviceMsg::Stats {
                    re,
                    device_us,
                    stats,
                };
                self.send(&mut io.serial, msg, Class::Reply);
                Poll::Busy
            }
        }
    }

    /// `UploadBegin`: into the free RAM slot, or with `persist` the free flash slot
    /// (erased here; refused while timer mode runs, erasing stalls the loop).
    fn begin_upload(
        &mut self,
        len: u32,
        crc: u32,
        persist: bool,
        staging: &mut Staging<'_>,
    ) -> Result<(), NackReason<'static>> {
        if !persist {
            self.upload = Some(Upload::begin(len, crc, staging.ram.len())?);
            return Ok(());
        }
        let Some((dev, slot)) = staging.flash.as_mut() else {
            return Err(NackReason::Unsupported);
        };
        if self.run == Run::Timer {
            return Err(NackReason::Busy);
        }
        let up = Upload::begin(len, crc, blob_capacity(dev.size()))?;
        let w = SlotWriter::begin(&mut **dev, *slot, len as usize)
            .map_err(|e| NackReason::Storage { detail: e.as_str() })?;
        self.upload = Some(up);
        self.writer = Some(w);
        Ok(())
    }

    fn start<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        re: u16,
        mode: Mode,
        streams: Streams,
        model: &Model<'_>,
        io: &mut Io<S, T, A>,
    ) -> Poll {
        let n_rec = model.n_rec();
        let bad = streams
            .state_units
            .iter()
            .chain(streams.rate_units.iter())
            .position(|&u| u as usize >= n_rec);
        if let Some(at) = bad {
            return self.nack(io, re, NackReason::BadIndex { at: at as u8 });
        }
        let run = match mode {
            Mode::Lockstep => {
                io.ticker.stop();
                info!("start: lockstep");
                Run::Lockstep
            }
            Mode::Timer { rate_hz } => {
                let clock = io.ticker.clock_hz();
                if rate_hz == 0 || rate_hz > clock || !io.ticker.start(rate_hz) {
                    return self.nack(io, re, NackReason::BadRate { rate_hz });
                }
                let _ = io.ticker.take_ticks();
                info!(
                    "start: timer at {=u32} Hz ({=u32} clocks per tick)",
                    rate_hz,
                    clock / rate_hz
                );
                Run::Timer
            }
        };
        self.run = run;
        self.carry = 0;
        self.streams = streams;
        let s = self.stats;
        self.stats = Stats {
            rx_frame_errors: s.rx_frame_errors,
            uploads: s.uploads,
            telemetry_dropped: s.telemetry_dropped,
            events_dropped: s.events_dropped,
            ..Stats::default()
        };
        self.ack(io, re)
    }

    /// `ticks` timer ticks arrived: the last one steps, the ones before it were skipped
    /// (each a deadline miss); the stepped tick misses too if more ticks arrived while its
    /// work ran (those are carried to the next poll). Each tick counts at most once.
    fn on_ticks<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        ticks: u32,
        model: &Model<'_>,
        io: &mut Io<S, T, A>,
    ) {
        let t0 = io.ticker.now();
        let s = &mut self.stats;
        s.ticks = s.ticks.wrapping_add(ticks);
        s.deadline_misses = s.deadline_misses.wrapping_add(ticks - 1);
        let tick = s.ticks;
        self.step(tick, t0, model, io);
        let late = io.ticker.take_ticks();
        if late > 0 {
            self.stats.deadline_misses = self.stats.deadline_misses.wrapping_add(1);
            self.carry = late;
        }
    }

    /// One tick's work, timed from `t0`: the step on the latest input, the stimulus,
    /// telemetry and events queued.
    fn step<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        tick: u32,
        t0: u32,
        model: &Model<'_>,
        io: &mut Io<S, T, A>,
    ) {
        let device_us = self.now_us(io);
        if self.state.step(model, &self.input).is_err() {
            // Only after a model swap without `adopt`: recover instead of stepping garbage.
            warn!("step failed: state reset");
            let _ = self.state.reset(model);
            self.zero_input(model);
            return;
        }
        let step_no = self.state.steps().wrapping_sub(1);
        let mut values = Vec::new();
        let mut events: Vec<Event, MAX_RULES> = Vec::new();
        self.stimulus.apply(
            self.state.outputs(),
            self.state.rates(),
            step_no,
            &mut io.actuators,
            &mut values,
            |rule, high, value| {
                let _ = events.push(Event {
                    device_us,
                    tick,
                    rule,
                    high,
                    value,
                });
            },
        );
        self.stats.steps = self.stats.steps.wrapping_add(1);
        let every = self.streams.every as u32;
        if every > 0 && self.stats.steps % every == 0 {
            let pick = |src: &[i16], units: &[u16]| -> Vec<i16, MAX_UNITS> {
                units
                    .iter()
                    .map(|&u| src.get(u as usize).copied().unwrap_or(0))
                    .collect()
            };
            let t = Telemetry {
                device_us,
                tick,
                input_seq: self.input_seq,
                outputs: Vec::from_slice(self.state.outputs()).unwrap_or_default(),
                state: pick(self.state.state(), &self.streams.state_units),
                rates: pick(self.state.rates(), &self.streams.rate_units),
                stimulus: values,
                step_clocks: io.ticker.now().wrapping_sub(t0),
            };
            self.send(&mut io.serial, DeviceMsg::Telemetry(t), Class::Telemetry);
        }
        if self.streams.events {
            for e in events {
                self.send(&mut io.serial, DeviceMsg::Event(e), Class::Event);
            }
        }
        let clocks = io.ticker.now().wrapping_sub(t0);
        let s = &mut self.stats;
        s.max_step_clocks = s.max_step_clocks.max(clocks);
        s.total_step_clocks = s.total_step_clocks.wrapping_add(clocks as u64);
    }
}
