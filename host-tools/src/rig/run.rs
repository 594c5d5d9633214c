//! `rig run`: a recorded run of the device, in one of two modes.
//!
//! - **Lockstep replay** of an inputs `.npz` (key `x`, float `[batch, steps, N_in]`, read
//!   by [`crate::run::load_inputs`]): each trial starts with `ResetState`, then one
//!   `Input → Telemetry` round trip per step. Inputs are quantized with
//!   [`Model::quantize_inputs`](neuroloop_core::Model::quantize_inputs) of the device's model,
//!   the conversion `neuroloop run` uses, so the recorded outputs equal `neuroloop run`'s
//!   bit for bit.
//! - **Timer mode** at `rate_hz` until a host-time duration or a device tick count, with
//!   input samples from a text file (paced at the rate), from stdin (sent as they arrive)
//!   or none; one sample per line, `N_in` numbers separated by spaces, tabs or commas.
//!
//! In both, `--control` changes the stimulus map mid-run ([`control`](super::control)),
//! each change logged with its time. Both measure round-trip latency first (into `session.json`), record every frame, report
//! progress (steps, deadline misses, rx errors) through a callback, and stop when the
//! `stop` flag is set (Ctrl-C): the device is stopped and the session closed. An error mid-
//! run (a silent board) also closes the session — readable, with the error as its outcome
//! — before it is returned.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use neuroloop_core::protocol::{Mode, Stats, Streams};

use super::client::{DeviceInfo, Incoming};
use super::control::{self, Schedule};
use super::latency;
use super::recorder::Recorder;
use super::session::{BlobInfo, ModeInfo, Outcome, ParamChange, SessionFile, Stamp};
use super::stimulus::{self, Fracs};
use super::{Client, Endpoint, RigError};

/// Where timer-mode inputs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// No inputs (the device steps on zeros).
    None,
    /// Text file, one sample per line, sent at the tick rate.
    File(PathBuf),
    /// Standard input, each line sent as it arrives.
    Stdin,
}

/// The run's mode.
#[derive(Clone, Debug, PartialEq)]
pub enum RunMode {
    /// Lockstep replay of an `.npz` (key `x`).
    Lockstep {
        /// The inputs file.
        inputs: PathBuf,
    },
    /// Timer mode.
    Timer {
        /// Tick rate.
        rate_hz: u32,
        /// Stop after this much host time.
        duration: Option<Duration>,
        /// Stop once the device reports this tick.
        ticks: Option<u32>,
        /// Inputs.
        inputs: InputSource,
    },
}

/// A whole run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The device.
    pub endpoint: Endpoint,
    /// Request timeout.
    pub timeout: Duration,
    /// Session folder.
    pub session_dir: PathBuf,
    /// Upload this blob first.
    pub blob: Option<PathBuf>,
    /// Set this stimulus map first.
    pub stimulus: Option<PathBuf>,
    /// Telemetry to stream (`every` is forced to 1 in lockstep).
    pub streams: Streams,
    /// Mode.
    pub mode: RunMode,
    /// Round trips measured before the run (0: none).
    pub ping_count: usize,
    /// `--meta` pairs.
    pub meta: Vec<(String, String)>,
    /// The command line, for the record.
    pub command_line: Vec<String>,
    /// Parameter changes during the run: a control file, or `-` for standard input.
    pub control: Option<PathBuf>,
}

/// Progress, reported about 10 times a second.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunProgress {
    /// Telemetry rows recorded.
    pub steps: usize,
    /// Steps planned (lockstep) or 0.
    pub total: usize,
    /// Device deadline misses (last `Stats`).
    pub misses: u32,
    /// Device rx frame errors (last `Stats`).
    pub device_rx_errors: u32,
    /// Telemetry and event frames the device dropped (its transmit queue was full).
    pub dropped: u32,
    /// Host-side bad frames.
    pub host_rx_errors: u64,
    /// Device frames lost on the way (sequence gaps).
    pub lost: u64,
}

/// What happened.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// The session folder.
    pub dir: PathBuf,
    /// The final session record.
    pub session: SessionFile,
}

fn samples_from_text(text: &str, n_in: usize, what: &str) -> Result<Vec<Vec<f32>>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_sample(line, n_in).map_err(|e| format!("{what} line {}: {e}", i + 1))?);
    }
    Ok(out)
}

/// One text input sample: `n_in` finite numbers.
pub fn parse_sample(line: &str, n_in: usize) -> Result<Vec<f32>, String> {
    let v: Vec<f32> = line
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<f32>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{s:?} is not a finite number"))
        })
        .collect::<Result<_, _>>()?;
    if v.len() != n_in {
        return Err(format!("{} values, the model takes {n_in}", v.len()));
    }
    Ok(v)
}

/// Connect, say hello, upload and set the stimulus map as configured; returns the client,
/// the device and the partly filled session record.
pub fn prepare(
    cfg: &RunConfig,
    progress_upload: &mut dyn FnMut(usize, usize),
) -> Result<(Client, DeviceInfo, SessionFile), RigError> {
    let mut client = Client::connect(&cfg.endpoint, cfg.timeout)?;
    let mut info = client.hello()?;
    let mut session = SessionFile {
        command_line: cfg.command_line.clone(),
        meta: cfg.meta.iter().cloned().collect(),
        endpoint: cfg.endpoint.to_string(),
        ..SessionFile::default()
    };
    if let Some(p) = &cfg.blob {
        let bytes = std::fs::read(p).map_err(RigError::file(p))?;
        neuroloop_core::Model::from_bytes(&bytes)
            .map_err(|e| RigError::format(p, format!("invalid blob: {e}")))?;
        client.upload(&bytes, false, &mut *progress_upload)?;
        info = client.info()?;
        session.blob = Some(BlobInfo::of(p, &bytes));
    }
    if let Some(p) = &cfg.stimulus {
        let fracs = Fracs {
            output: info.output_frac,
            rate: info.rate_frac,
        };
        let rules = stimulus::load(p, fracs)?;
        client.set_stimulus(&rules)?;
        session.stimulus = rules;
    }
    session.device = Some(info.clone());
    Ok((client, info, session))
}

/// Run as configured; `stop` ends it early (Ctrl-C).
pub fn run(
    cfg: &RunConfig,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&RunProgress),
    progress_upload: &mut dyn FnMut(usize, usize),
) -> Result<RunSummary, RigError> {
    let (mut client, info, mut session) = prepare(cfg, progress_upload)?;
    let n_in = info.n_in as usize;
    // Lockstep inputs are read before anything is recorded: a bad file changes nothing.
    let replay = match &cfg.mode {
        RunMode::Lockstep { inputs } => {
            let (batch, steps, x) = crate::run::load_inputs(inputs, n_in).map_err(|e| {
                RigError::format(
                    inputs,
                    e.to_string()
                        .trim_start_matches(&format!("{}: ", inputs.display()))
                        .to_string(),
                )
            })?;
            Some((inputs.clone(), batch, steps, x))
        }
        RunMode::Timer { .. } => None,
    };
    // So is the control file (and every stimulus file it names).
    let fracs = Fracs {
        output: info.output_frac,
        rate: info.rate_frac,
    };
    let schedule = match cfg.control.as_deref() {
        None => Schedule::default(),
        Some(p) if p == Path::new("-") => {
            Schedule::new(Vec::new(), Some(control::from_stdin(fracs)))
        }
        Some(p) => Schedule::new(control::load(p, fracs)?, None),
    };
    if cfg.ping_count > 0 {
        session.ping = Some(latency::measure(&mut client, cfg.ping_count, Some(n_in))?);
    }
    let mut streams = cfg.streams.clone();
    session.mode = Some(match (&cfg.mode, &replay) {
        (RunMode::Lockstep { .. }, Some((p, batch, steps, _))) => {
            streams.every = 1;
            ModeInfo::Lockstep {
                inputs: p.display().to_string(),
                batch: *batch,
                steps: *steps,
            }
        }
        (
            RunMode::Timer {
                rate_hz,
                duration,
                ticks,
                inputs,
            },
            _,
        ) => ModeInfo::Timer {
            rate_hz: *rate_hz,
            duration_s: duration.map(|d| d.as_secs_f64()),
            ticks: *ticks,
            inputs: match inputs {
                InputSource::None => "none".into(),
                InputSource::Stdin => "stdin".into(),
                InputSource::File(p) => p.display().to_string(),
            },
        },
        _ => unreachable!("replay is read for lockstep runs"),
    });
    session.streams = streams.clone();
    let clock = client.clock();
    session.start = Some(Stamp::at(clock.now_ns(), None));
    let mut rec = Recorder::create(&cfg.session_dir, session)?;
    client.set_recording(true);
    let mut state = Loop {
        client: &mut client,
        rec: &mut rec,
        stop,
        progress,
        last_report: Instant::now(),
        prog: RunProgress::default(),
        schedule,
    };
    let result = match (&cfg.mode, replay) {
        (RunMode::Lockstep { .. }, Some((_, batch, steps, x))) => {
            state.prog.total = batch * steps;
            state.lockstep(&info, streams, batch, steps, &x)
        }
        (
            RunMode::Timer {
                rate_hz,
                duration,
                ticks,
                inputs,
            },
            _,
        ) => state.timer(&info, streams, *rate_hz, *duration, *ticks, inputs),
        _ => unreachable!("replay is read for lockstep runs"),
    };
    finish(client, rec, result, &cfg.session_dir)
}

/// Stop the device (if it answers), close the session with the outcome, and pass on the
/// run's error if there was one.
fn finish(
    mut client: Client,
    mut rec: Recorder,
    result: Result<Ended, RigError>,
    dir: &Path,
) -> Result<RunSummary, RigError> {
    let alive = !matches!(
        result,
        Err(RigError::Timeout { .. } | RigError::Link { .. })
    );
    let mut device_stats: Option<Stats> = None;
    if alive {
        let _ = client.stop();
        device_stats = client.stats().ok();
    }
    let end_ns = client.clock().now_ns();
    let _ = rec.record(client.take_frames());
    let ended_by = match &result {
        Ok(Ended::Completed) => "completed".to_string(),
        Ok(Ended::Interrupted) => "interrupted".to_string(),
        Err(e) => format!("error: {e}"),
    };
    let (steps, events, frames) = (rec.rows().len(), rec.events(), rec.frames());
    let s = rec.session_mut();
    s.end = Some(Stamp::at(end_ns, client.device_us()));
    s.outcome = Some(Outcome {
        ended_by,
        steps_recorded: steps,
        events_recorded: events,
        frames_logged: frames,
        device_stats,
        link: client.link_stats(),
    });
    let session = rec.close()?;
    match result {
        Ok(Ended::Completed) => Ok(RunSummary {
            dir: dir.into(),
            session,
        }),
        Ok(Ended::Interrupted) => Err(RigError::Interrupted),
        Err(e) => Err(e),
    }
}

enum Ended {
    Completed,
    Interrupted,
}

struct Loop<'a> {
    client: &'a mut Client,
    rec: &'a mut Recorder,
    stop: &'a AtomicBool,
    progress: &'a mut dyn FnMut(&RunProgress),
    last_report: Instant,
    prog: RunProgress,
    schedule: Schedule,
}

impl Loop<'_> {
    fn note_stats(&mut self, s: &Stats) {
        self.prog.misses = s.deadline_misses;
        self.prog.device_rx_errors = s.rx_frame_errors;
        self.prog.dropped = s.telemetry_dropped.wrapping_add(s.events_dropped);
    }

    fn started(&mut self) {
        let now = self.client.clock().now_ns();
        self.rec.session_mut().start = Some(Stamp::at(now, self.client.device_us()));
    }

    /// Make the parameter changes that are due and log each with its time in both clocks.
    fn controls(&mut self) -> Result<(), RigError> {
        let start = self
            .rec
            .session_mut()
            .start
            .as_ref()
            .and_then(|s| s.device_us);
        let elapsed = match (start, self.client.device_us()) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        for c in self.schedule.take_due(elapsed)? {
            self.client.set_stimulus(&c.rules)?;
            let at = Stamp::at(self.client.clock().now_ns(), self.client.device_us());
            let value = serde_json::json!({
                "file": c.file.as_ref().map(|p| p.display().to_string()),
                "rules": c.rules,
                "line": c.line,
                "at_ms": c.at_ms,
            });
            let s = self.rec.session_mut();
            s.param_changes.push(ParamChange {
                at,
                what: "stimulus".into(),
                value,
            });
            self.rec.write_session()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), RigError> {
        let frames = self.client.take_frames();
        self.rec.record(frames)?;
        self.rec.sync_if_due()?;
        for m in self.client.drain() {
            if let Incoming::Heartbeat(h) = m {
                self.note_stats(&h.stats);
            }
        }
        let link = self.client.link_stats();
        self.prog.steps = self.rec.rows().len();
        self.prog.host_rx_errors = link.rx_bad_frames;
        self.prog.lost = link.rx_seq_gaps;
        if self.last_report.elapsed() >= Duration::from_millis(100) {
            self.last_report = Instant::now();
            (self.progress)(&self.prog);
        }
        Ok(())
    }

    fn lockstep(
        &mut self,
        info: &DeviceInfo,
        streams: Streams,
        batch: usize,
        steps: usize,
        x: &[f32],
    ) -> Result<Ended, RigError> {
        let n_in = info.n_in as usize;
        self.client.start(Mode::Lockstep, streams)?;
        self.started();
        let mut q = vec![0i16; n_in];
        for b in 0..batch {
            self.client.reset_state()?;
            for t in 0..steps {
                if self.stop.load(Ordering::Relaxed) {
                    return Ok(Ended::Interrupted);
                }
                let k = b * steps + t;
                self.controls()?;
                quantize_inputs(info, &x[k * n_in..(k + 1) * n_in], &mut q);
                self.client.step(k as u32, &q)?;
                self.flush()?;
            }
        }
        (self.progress)(&self.prog);
        Ok(Ended::Completed)
    }

    fn timer(
        &mut self,
        info: &DeviceInfo,
        streams: Streams,
        rate_hz: u32,
        duration: Option<Duration>,
        ticks: Option<u32>,
        inputs: &InputSource,
    ) -> Result<Ended, RigError> {
        let n_in = info.n_in as usize;
        let file_samples = match inputs {
            InputSource::File(p) => {
                let text = std::fs::read_to_string(p).map_err(RigError::file(p))?;
                samples_from_text(&text, n_in, &p.display().to_string())
                    .map_err(|e| RigError::format(p, e))?
            }
            _ => Vec::new(),
        };
        let stdin = matches!(inputs, InputSource::Stdin).then(|| stdin_lines(n_in));
        self.client.start(Mode::Timer { rate_hz }, streams)?;
        self.started();
        let t0 = Instant::now();
        let mut sent = 0usize;
        let mut last_stats = Instant::now();
        let mut last_tick = 0u32;
        let mut q = vec![0i16; n_in];
        // Silence limit: the device is asked for Stats every second, so a live device
        // answers at least that often.
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(Ended::Interrupted);
            }
            if duration.is_some_and(|d| t0.elapsed() >= d) || ticks.is_some_and(|n| last_tick >= n)
            {
                return Ok(Ended::Completed);
            }
            // Inputs due by now.
            let due = (t0.elapsed().as_secs_f64() * f64::from(rate_hz)) as usize + 1;
            while sent < file_samples.len().min(due) {
                quantize_inputs(info, &file_samples[sent], &mut q);
                self.client.send_input(sent as u32, &q)?;
                sent += 1;
            }
            if let Some(rx) = &stdin {
                while let Ok(line) = rx.try_recv() {
                    let v = line.map_err(|e| RigError::format("<stdin>", e))?;
                    quantize_inputs(info, &v, &mut q);
                    self.client.send_input(sent as u32, &q)?;
                    sent += 1;
                }
            }
            self.controls()?;
            if last_stats.elapsed() >= Duration::from_secs(1) {
                last_stats = Instant::now();
                let s = self.client.stats()?;
                self.note_stats(&s);
            }
            let _ = self.client.poll(Duration::from_millis(5))?;
            if let Some(r) = self.rec.rows().last() {
                last_tick = last_tick.max(r.t.tick);
            }
            self.flush()?;
        }
    }
}

/// Float inputs → the device's `i16` inputs at the model's `input_frac`: the conversion
/// behind `Model::quantize_inputs`, which `neuroloop run` uses.
pub fn quantize_inputs(info: &DeviceInfo, x: &[f32], out: &mut [i16]) {
    neuroloop_core::fixed::quantize_slice(x, info.input_frac, out);
}

fn stdin_lines(n_in: usize) -> mpsc::Receiver<Result<Vec<f32>, String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for (i, line) in std::io::stdin().lock().lines().enumerate() {
            let Ok(line) = line else { break };
            let line = line.trim().to_string();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let r = parse_sample(&line, n_in).map_err(|e| format!("line {}: {e}", i + 1));
            if tx.send(r).is_err() {
                break;
            }
        }
    });
    rx
}
