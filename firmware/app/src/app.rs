//! [`App`]: protocol handling, upload checks, the stepping loop and telemetry.

use core::fmt::Write as _;

use heapless::Vec;
use neuroloop_core::blob::CRC;
use neuroloop_core::protocol::{
    capability, frame, DeviceMsg, Event, FrameReader, HostMsg, Info, Mode, NackReason, Packet,
    Stats, Streams, Telemetry, MAX_TEXT, MAX_VALUES, PROTOCOL_VERSION,
};
use neuroloop_core::{Model, State, StepError};

use crate::fmt::Debug2Format;
use crate::stimulus::StimulusMap;
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
    /// An upload of `len` bytes was validated: call [`Slots::commit`](crate::Slots::commit)
    /// and [`App::adopt`] the new model.
    Swap {
        /// Blob length.
        len: usize,
    },
}

#[derive(Clone, Copy, Debug)]
struct Upload {
    len: u32,
    crc: u32,
    have: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    Idle,
    Lockstep,
    Timer { period_clocks: u32 },
}

/// Bytes read from the serial port per [`App::poll`] at most, so that a stream of
/// incoming bytes cannot delay a timer tick by more than this.
const MAX_BYTES_PER_POLL: usize = 64;

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
    tx: [u8; frame::MAX_FRAME],
    tx_seq: u16,
    run: Run,
    streams: Streams,
    stimulus: StimulusMap,
    upload: Option<Upload>,
    input: Vec<i16, MAX_VALUES>,
    input_seq: u32,
    stats: Stats,
}

/// Text for `Nack{BadBlob}`, truncated to [`MAX_TEXT`].
struct Text {
    buf: [u8; MAX_TEXT],
    len: usize,
}

impl core::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            let mut b = [0u8; 4];
            let e = c.encode_utf8(&mut b);
            if self.len + e.len() > MAX_TEXT {
                break;
            }
            self.buf[self.len..self.len + e.len()].copy_from_slice(e.as_bytes());
            self.len += e.len();
        }
        Ok(())
    }
}

impl Text {
    fn new() -> Self {
        Text {
            buf: [0; MAX_TEXT],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
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
            tx: [0; frame::MAX_FRAME],
            tx_seq: 0,
            run: Run::Idle,
            streams: Streams::default(),
            stimulus: StimulusMap::new(),
            upload: None,
            input: Vec::new(),
            input_seq: 0,
            stats: Stats::default(),
        };
        inner.zero_input(model);
        Ok(App {
            rx: FrameReader::new(),
            inner,
        })
    }

    /// Take `model` as the running model (after a swap): state reset, input zeroed; the run
    /// mode, streams and stimulus map are kept.
    pub fn adopt(&mut self, model: &Model<'_>) {
        info!(
            "model {=str} active: {=usize}x{=usize}x{=usize}, {=usize} B, crc {=u32:#010x}",
            model.name(),
            model.n_in(),
            model.n_rec(),
            model.n_out(),
            model.blob_len(),
            model.crc()
        );
        // Fits: uploads needing more than the state buffer are refused before the swap.
        let _ = self.inner.state.reset(model);
        self.inner.zero_input(model);
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.inner.stats
    }

    /// Do one slice of work: a due timer step, then serial bytes up to the end of one frame
    /// (handled at once). `staging` is the free model slot for uploads.
    pub fn poll<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        model: &Model<'_>,
        staging: &mut [u8],
        io: &mut Io<S, T, A>,
    ) -> Poll {
        let mut busy = false;
        if let Run::Timer { period_clocks } = self.inner.run {
            let ticks = io.ticker.take_ticks();
            if ticks > 0 {
                self.inner.on_ticks(ticks, period_clocks, model, io);
                busy = true;
            }
        }
        for _ in 0..MAX_BYTES_PER_POLL {
            let Some(b) = io.serial.read() else { break };
            busy = true;
            match self.rx.push(b) {
                None => {}
                Some(Err(e)) => {
                    debug!("bad frame: {}", e);
                    self.inner.stats.rx_frame_errors =
                        self.inner.stats.rx_frame_errors.wrapping_add(1)
                }
                Some(Ok(f)) => match frame::decode::<HostMsg<'_>>(f) {
                    Ok(p) => return self.inner.handle(p, model, staging, io),
                    Err(e) => {
                        debug!("undecodable frame: {}", e);
                        self.inner.stats.rx_frame_errors =
                            self.inner.stats.rx_frame_errors.wrapping_add(1)
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

impl Inner<'_> {
    fn zero_input(&mut self, model: &Model<'_>) {
        self.input.clear();
        let _ = self.input.resize(model.n_in(), 0);
    }

    fn send(&mut self, serial: &mut impl Serial, msg: DeviceMsg<'_>) {
        let p = Packet {
            seq: self.tx_seq,
            msg,
        };
        self.tx_seq = self.tx_seq.wrapping_add(1);
        if let Ok(f) = frame::encode(&p, &mut self.tx) {
            serial.write(f);
        }
    }

    fn ack(&mut self, serial: &mut impl Serial, re: u16) -> Poll {
        self.send(serial, DeviceMsg::Ack { re });
        Poll::Busy
    }

    fn nack(&mut self, serial: &mut impl Serial, re: u16, reason: NackReason<'_>) -> Poll {
        warn!("refused request #{=u16}: {}", re, Debug2Format(&reason));
        self.send(serial, DeviceMsg::Nack { re, reason });
        Poll::Busy
    }

    fn info<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        re: u16,
        model: &Model<'_>,
        slot: usize,
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
        let info = Info {
            re,
            protocol: PROTOCOL_VERSION,
            firmware: crate::FIRMWARE_VERSION,
            board: self.cfg.board,
            model_name: model.name(),
            model_crc: model.crc(),
            model_len: model.blob_len() as u32,
            n_in: model.n_in() as u16,
            n_rec: model.n_rec() as u16,
            n_out: model.n_out() as u16,
            input_frac: model.input_frac(),
            output_frac: model.output_frac(),
            state_frac: model.state_frac(),
            rate_frac: model.rate_frac(),
            capabilities: caps,
            slot_bytes: slot as u32,
            clock_hz: io.ticker.clock_hz(),
            pwm_channels: pwm,
            pins,
        };
        self.send(&mut io.serial, DeviceMsg::Info(info));
    }

    fn handle<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        p: Packet<HostMsg<'_>>,
        model: &Model<'_>,
        staging: &mut [u8],
        io: &mut Io<S, T, A>,
    ) -> Poll {
        let re = p.seq;
        let serial = &mut io.serial;
        match p.msg {
            HostMsg::Hello { protocol } if protocol != PROTOCOL_VERSION => self.nack(
                serial,
                re,
                NackReason::ProtocolVersion {
                    host: protocol,
                    device: PROTOCOL_VERSION,
                },
            ),
            HostMsg::Hello { .. } | HostMsg::GetInfo => {
                self.info(re, model, staging.len(), io);
                Poll::Busy
            }
            HostMsg::UploadBegin { len, crc } => {
                if len as usize > staging.len() {
                    self.upload = None;
                    return self.nack(
                        serial,
                        re,
                        NackReason::TooLarge {
                            len,
                            max: staging.len() as u32,
                        },
                    );
                }
                debug!("upload begin: {=u32} B, crc {=u32:#010x}", len, crc);
                self.upload = Some(Upload { len, crc, have: 0 });
                self.ack(serial, re)
            }
            HostMsg::UploadChunk { offset, bytes } => {
                let Some(up) = self.upload.as_mut() else {
                    return self.nack(serial, re, NackReason::NoUpload);
                };
                let end = offset as usize + bytes.len();
                if offset != up.have || end > up.len as usize {
                    let expected = up.have;
                    return self.nack(
                        serial,
                        re,
                        NackReason::BadOffset {
                            expected,
                            got: offset,
                        },
                    );
                }
                staging[offset as usize..end].copy_from_slice(bytes);
                up.have = end as u32;
                self.ack(serial, re)
            }
            HostMsg::UploadCommit => self.commit(re, staging, serial),
            HostMsg::Start { mode, streams } => {
                let n_rec = model.n_rec();
                let bad = streams
                    .state_units
                    .iter()
                    .chain(streams.rate_units.iter())
                    .position(|&u| u as usize >= n_rec);
                if let Some(at) = bad {
                    return self.nack(serial, re, NackReason::BadIndex { at: at as u8 });
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
                            return self.nack(&mut io.serial, re, NackReason::BadRate { rate_hz });
                        }
                        let _ = io.ticker.take_ticks();
                        info!(
                            "start: timer at {=u32} Hz ({=u32} clocks per tick)",
                            rate_hz,
                            clock / rate_hz
                        );
                        Run::Timer {
                            period_clocks: clock / rate_hz,
                        }
                    }
                };
                self.run = run;
                self.streams = streams;
                let (errors, uploads) = (self.stats.rx_frame_errors, self.stats.uploads);
                self.stats = Stats {
                    rx_frame_errors: errors,
                    uploads,
                    ..Stats::default()
                };
                self.ack(&mut io.serial, re)
            }
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
                self.ack(serial, re)
            }
            HostMsg::Input { seq, values } => {
                if values.len() != model.n_in() {
                    let reason = NackReason::InputLength {
                        expected: model.n_in() as u16,
                        found: values.len() as u16,
                    };
                    return self.nack(serial, re, reason);
                }
                self.input = values;
                self.input_seq = seq;
                match self.run {
                    Run::Lockstep => {
                        let tick = self.state.steps().wrapping_add(1);
                        self.step(tick, None, model, io);
                        Poll::Busy
                    }
                    Run::Timer { .. } => Poll::Busy,
                    Run::Idle => self.nack(serial, re, NackReason::NotRunning),
                }
            }
            HostMsg::SetStimulusMap { rules } => {
                match self
                    .stimulus
                    .set(&rules, model.n_out(), model.n_rec(), &mut io.actuators)
                {
                    Ok(()) => self.ack(&mut io.serial, re),
                    Err(reason) => self.nack(&mut io.serial, re, reason),
                }
            }
            HostMsg::ResetState => {
                let _ = self.state.reset(model); // the running model fits its buffer
                self.zero_input(model);
                self.ack(serial, re)
            }
            HostMsg::Ping => self.ack(serial, re),
            HostMsg::GetStats => {
                let stats = self.stats;
                self.send(serial, DeviceMsg::Stats { re, stats });
                Poll::Busy
            }
        }
    }

    fn commit(&mut self, re: u16, staging: &mut [u8], serial: &mut impl Serial) -> Poll {
        let Some(up) = self.upload.take() else {
            return self.nack(serial, re, NackReason::NoUpload);
        };
        if up.have != up.len {
            return self.nack(
                serial,
                re,
                NackReason::Incomplete {
                    have: up.have,
                    need: up.len,
                },
            );
        }
        let bytes = &staging[..up.len as usize];
        let found = CRC.checksum(bytes);
        if found != up.crc {
            return self.nack(
                serial,
                re,
                NackReason::CrcMismatch {
                    expected: up.crc,
                    found,
                },
            );
        }
        let mut text = Text::new();
        match Model::from_bytes(bytes) {
            Err(e) => {
                let _ = write!(text, "{e}");
            }
            Ok(m) if m.state_len() > self.state_words => {
                let _ = write!(
                    text,
                    "model needs {} state words, device has {}",
                    m.state_len(),
                    self.state_words
                );
            }
            Ok(m) => {
                info!(
                    "upload committed: {=str}, {=u32} B, crc {=u32:#010x}; swapping slots",
                    m.name(),
                    up.len,
                    up.crc
                );
                self.stats.uploads = self.stats.uploads.wrapping_add(1);
                self.ack(serial, re);
                return Poll::Swap {
                    len: up.len as usize,
                };
            }
        }
        let tx_text = text;
        self.nack(
            serial,
            re,
            NackReason::BadBlob {
                detail: tx_text.as_str(),
            },
        )
    }

    fn on_ticks<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        ticks: u32,
        period_clocks: u32,
        model: &Model<'_>,
        io: &mut Io<S, T, A>,
    ) {
        self.stats.ticks = self.stats.ticks.wrapping_add(ticks);
        self.stats.deadline_misses = self.stats.deadline_misses.wrapping_add(ticks - 1);
        let tick = self.stats.ticks;
        self.step(tick, Some(period_clocks), model, io);
    }

    /// One step on the latest input: network, stimulus, counters, then telemetry/events.
    fn step<S: Serial, T: Ticker, A: Actuators>(
        &mut self,
        tick: u32,
        period_clocks: Option<u32>,
        model: &Model<'_>,
        io: &mut Io<S, T, A>,
    ) {
        let t0 = io.ticker.now();
        if self.state.step(model, &self.input).is_err() {
            // Only after a model swap without `adopt`: recover instead of stepping garbage.
            warn!("step failed: state reset");
            let _ = self.state.reset(model);
            self.zero_input(model);
            return;
        }
        let step_no = self.state.steps().wrapping_sub(1);
        let mut values = Vec::new();
        let mut events: Vec<Event, { neuroloop_core::protocol::MAX_RULES }> = Vec::new();
        self.stimulus.apply(
            self.state.outputs(),
            self.state.rates(),
            step_no,
            &mut io.actuators,
            &mut values,
            |rule, high, value| {
                let _ = events.push(crate::stimulus::event(tick, rule, high, value));
            },
        );
        let clocks = io.ticker.now().wrapping_sub(t0);
        let s = &mut self.stats;
        s.steps = s.steps.wrapping_add(1);
        s.max_step_clocks = s.max_step_clocks.max(clocks);
        s.total_step_clocks = s.total_step_clocks.wrapping_add(clocks as u64);
        if period_clocks.is_some_and(|p| clocks > p) {
            s.deadline_misses = s.deadline_misses.wrapping_add(1);
        }
        let every = self.streams.every as u32;
        if every > 0 && s.steps % every == 0 {
            let pick =
                |src: &[i16], units: &[u16]| -> Vec<i16, { neuroloop_core::protocol::MAX_UNITS }> {
                    units
                        .iter()
                        .map(|&u| src.get(u as usize).copied().unwrap_or(0))
                        .collect()
                };
            let t = Telemetry {
                tick,
                input_seq: self.input_seq,
                outputs: Vec::from_slice(self.state.outputs()).unwrap_or_default(),
                state: pick(self.state.state(), &self.streams.state_units),
                rates: pick(self.state.rates(), &self.streams.rate_units),
                stimulus: values,
                step_clocks: clocks,
            };
            self.send(&mut io.serial, DeviceMsg::Telemetry(t));
        }
        if self.streams.events {
            for e in events {
                self.send(&mut io.serial, DeviceMsg::Event(e));
            }
        }
    }
}
