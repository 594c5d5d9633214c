//! `neuroloop rig …`: typed configs → [`crate::rig`] → report (humans on stderr, `--json`
//! and listings on stdout).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use neuroloop_core::protocol::Streams;

use crate::progress::Progress;
use crate::rig::run::{InputSource, RunConfig, RunMode};
use crate::rig::{self, Client, Endpoint, RigError};

/// Where the device is and how long to wait for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conn {
    /// The device.
    pub endpoint: Endpoint,
    /// Longest wait for any answer.
    pub timeout: Duration,
}

impl Conn {
    fn connect(&self) -> Result<(Client, rig::client::DeviceInfo), RigError> {
        let mut c = Client::connect(&self.endpoint, self.timeout)?;
        let info = c.hello()?;
        Ok((c, info))
    }
}

/// Typed config of `neuroloop rig run` (checked by [`RigRunCmd::config`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RigRunCmd {
    /// The device.
    pub conn: Conn,
    /// Lockstep replay inputs.
    pub inputs: Option<PathBuf>,
    /// Timer rate.
    pub rate: Option<u32>,
    /// Timer duration, s.
    pub duration: Option<f64>,
    /// Timer tick limit.
    pub ticks: Option<u32>,
    /// Timer inputs file.
    pub input_file: Option<PathBuf>,
    /// Timer inputs from stdin.
    pub stdin: bool,
    /// Blob to upload first.
    pub blob: Option<PathBuf>,
    /// Stimulus map to set first.
    pub stimulus: Option<PathBuf>,
    /// Streamed state units.
    pub state_units: Vec<u16>,
    /// Streamed rate units.
    pub rate_units: Vec<u16>,
    /// Telemetry every N steps (timer).
    pub every: u16,
    /// Record events.
    pub events: bool,
    /// Session folder.
    pub session: Option<PathBuf>,
    /// `KEY=VALUE` pairs.
    pub meta: Vec<String>,
    /// Round trips measured first.
    pub ping: usize,
    /// Parameter changes: a control file, or `-` for stdin.
    pub control: Option<PathBuf>,
}

/// One `rig` subcommand with its typed config.
#[derive(Clone, Debug, PartialEq)]
pub enum RigCmd {
    /// `rig ports`.
    Ports {
        /// JSON on stdout.
        json: bool,
    },
    /// `rig info`.
    Info {
        /// The device.
        conn: Conn,
        /// JSON on stdout.
        json: bool,
    },
    /// `rig stats`.
    Stats {
        /// The device.
        conn: Conn,
        /// JSON on stdout.
        json: bool,
    },
    /// `rig upload`.
    Upload {
        /// The device.
        conn: Conn,
        /// The blob.
        model: PathBuf,
        /// Into flash.
        persist: bool,
    },
    /// `rig stimulus set`.
    StimulusSet {
        /// The device.
        conn: Conn,
        /// The TOML map.
        file: PathBuf,
    },
    /// `rig ping`.
    Ping {
        /// The device.
        conn: Conn,
        /// Round trips of each kind.
        count: usize,
        /// Also lockstep Input → Telemetry.
        lockstep: bool,
        /// JSON on stdout.
        json: bool,
    },
    /// `rig run`.
    Run(Box<RigRunCmd>),
    /// `rig recover`.
    Recover {
        /// Session folder.
        dir: PathBuf,
        /// JSON on stdout.
        json: bool,
    },
    /// `rig align`.
    Align {
        /// Session folder.
        dir: PathBuf,
        /// External pulse times.
        sync_times: PathBuf,
        /// Sync rule index.
        rule: Option<u8>,
        /// JSON on stdout.
        json: bool,
    },
}

impl RigCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> Result<()> {
        if let RigCmd::Run(r) = self {
            r.config()?;
        }
        Ok(())
    }
}

fn store_name(s: neuroloop_core::protocol::ModelStore) -> String {
    use neuroloop_core::protocol::ModelStore as M;
    match s {
        M::Builtin => "the firmware (built-in)".into(),
        M::Ram { slot } => format!("RAM slot {}", if slot == 0 { 'A' } else { 'B' }),
        M::Flash { slot, generation } => format!(
            "flash slot {} (generation {generation})",
            if slot == 0 { 'A' } else { 'B' }
        ),
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Run a `rig` subcommand.
pub fn run(cmd: &RigCmd) -> Result<()> {
    match cmd {
        RigCmd::Ports { json } => {
            let ports = rig::transport::list_ports().context("listing serial ports")?;
            if *json {
                return print_json(&ports);
            }
            if ports.is_empty() {
                eprintln!("no serial ports found");
            }
            for p in ports {
                let usb = match (p.vid, p.pid) {
                    (Some(v), Some(d)) => format!("{v:04x}:{d:04x}"),
                    _ => "-".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    p.path,
                    p.kind,
                    usb,
                    p.serial_number.unwrap_or_else(|| "-".into()),
                    p.product.unwrap_or_default()
                );
            }
            Ok(())
        }
        RigCmd::Info { conn, json } => {
            let (_, info) = conn.connect()?;
            if *json {
                return print_json(&info);
            }
            println!(
                "board {} · firmware {} · protocol v{}",
                info.board, info.firmware, info.protocol
            );
            println!(
                "model {:?}: {} in × {} rec × {} out, {} B, crc {:#010x}",
                info.model_name, info.n_in, info.n_rec, info.n_out, info.model_len, info.model_crc
            );
            println!(
                "fractional bits: input {}, output {}, state {}, rate {}",
                info.input_frac, info.output_frac, info.state_frac, info.rate_frac
            );
            println!(
                "model stored in {} · upload slots: RAM {} B, flash {} B · TX queue {} B",
                store_name(info.model_store),
                info.ram_slot_bytes,
                info.flash_slot_bytes,
                info.tx_queue_bytes
            );
            println!(
                "clock {} Hz · {} PWM channels · {} pins · capabilities {:#x}",
                info.clock_hz, info.pwm_channels, info.pins, info.capabilities
            );
            Ok(())
        }
        RigCmd::Stats { conn, json } => {
            let (mut c, _) = conn.connect()?;
            let s = c.stats()?;
            if *json {
                return print_json(&s);
            }
            let mean = if s.steps > 0 {
                s.total_step_clocks / u64::from(s.steps)
            } else {
                0
            };
            println!(
                "steps {} · ticks {} · deadline misses {} · rx frame errors {} · dropped telemetry {} events {} · step clocks max {} mean {} · uploads {}",
                s.steps, s.ticks, s.deadline_misses, s.rx_frame_errors, s.telemetry_dropped, s.events_dropped, s.max_step_clocks, mean, s.uploads
            );
            Ok(())
        }
        RigCmd::Upload {
            conn,
            model,
            persist,
        } => {
            let bytes = std::fs::read(model).with_context(|| format!("{}", model.display()))?;
            let m = neuroloop_core::Model::from_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: invalid blob: {e}", model.display()))?;
            let name = m.name().to_string();
            let (mut c, _) = conn.connect()?;
            let bar = Progress::new(bytes.len() as u64, "upload");
            c.upload(&bytes, *persist, |sent, _| {
                bar.update(sent as u64, String::new())
            })?;
            bar.finish();
            let info = c.info()?;
            eprintln!(
                "uploaded {:?} ({} B, crc {:#010x}); device runs {:?} from {}",
                name,
                bytes.len(),
                m.crc(),
                info.model_name,
                store_name(info.model_store)
            );
            Ok(())
        }
        RigCmd::StimulusSet { conn, file } => {
            let (mut c, info) = conn.connect()?;
            let fracs = rig::stimulus::Fracs {
                output: info.output_frac,
                rate: info.rate_frac,
            };
            let rules = rig::stimulus::load(file, fracs)?;
            c.set_stimulus(&rules)?;
            eprintln!("stimulus map set: {} rule(s)", rules.len());
            Ok(())
        }
        RigCmd::Ping {
            conn,
            count,
            lockstep,
            json,
        } => {
            let (mut c, info) = conn.connect()?;
            let lockstep = lockstep.then_some(info.n_in as usize);
            let r = rig::latency::measure(&mut c, (*count).max(1), lockstep)?;
            if *json {
                return print_json(&r);
            }
            for (what, p) in [("Ping → Ack", r.ping), ("Input → Telemetry", r.lockstep)] {
                if let Some(p) = p {
                    println!(
                        "{what:<18} n {:>5}  p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs",
                        p.n, p.p50_us, p.p99_us, p.max_us
                    );
                }
            }
            Ok(())
        }
        RigCmd::Run(a) => run_cmd(a),
        RigCmd::Recover { dir, json } => {
            let r = rig::recover::recover(dir)?;
            if *json {
                return print_json(&r);
            }
            eprintln!(
                "{}: {} frames → {} telemetry rows, {} events{}",
                dir.display(),
                r.frames,
                r.steps,
                r.events,
                if r.torn_bytes > 0 {
                    format!(" ({} bytes of a torn last record ignored)", r.torn_bytes)
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        RigCmd::Align {
            dir,
            sync_times,
            rule,
            json,
        } => {
            let dev = rig::align::device_pulses(dir, *rule)?;
            let ext = rig::align::read_times(sync_times)?;
            let f = rig::align::fit(&dev, &ext).map_err(|e| {
                anyhow::anyhow!("{} vs {}: {e}", dir.display(), sync_times.display())
            })?;
            let path = dir.join("align.json");
            crate::model::file::write_atomic_io(
                &path,
                serde_json::to_string_pretty(&f)?.as_bytes(),
            )
            .with_context(|| path.display().to_string())?;
            if *json {
                return print_json(&f);
            }
            println!(
                "{} pulses matched (shift {}): external = {:.6} s + device × {:.9} (drift {:+.2} ppm); residuals rms {:.1} µs, max {:.1} µs → {}",
                f.matched, f.shift, f.offset_s, f.slope, f.drift_ppm, f.rms_residual_us, f.max_residual_us, path.display()
            );
            Ok(())
        }
    }
}

impl RigRunCmd {
    /// The library's run config; errors name the flag.
    pub fn config(&self) -> Result<RunConfig> {
        let a = self;
        let mode = match (&a.inputs, a.rate) {
            (Some(p), None) => RunMode::Lockstep { inputs: p.clone() },
            (None, Some(rate_hz)) => {
                if a.duration.is_none() && a.ticks.is_none() {
                    bail!("timer mode needs --duration S or --ticks N (or stop it with Ctrl-C): give one");
                }
                RunMode::Timer {
                    rate_hz,
                    duration: a
                        .duration
                        .map(|s| {
                            Duration::try_from_secs_f64(s)
                                .with_context(|| format!("--duration {s}"))
                        })
                        .transpose()?,
                    ticks: a.ticks,
                    inputs: match (&a.input_file, a.stdin) {
                        (Some(p), _) => InputSource::File(p.clone()),
                        (None, true) => InputSource::Stdin,
                        (None, false) => InputSource::None,
                    },
                }
            }
            _ => bail!("give --inputs X.npz (lockstep replay) or --rate HZ (timer mode)"),
        };
        if a.stdin && a.control.as_deref() == Some(std::path::Path::new("-")) {
            bail!("--stdin and --control - both read stdin: give the changes in a file");
        }
        let meta = a
            .meta
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .with_context(|| format!("--meta {kv:?}: expected KEY=VALUE"))
            })
            .collect::<Result<Vec<_>>>()?;
        let streams = Streams {
            every: a.every,
            state_units: heapless::Vec::from_slice(&a.state_units).map_err(|_| {
                anyhow::anyhow!("--state-units: {} units, at most 16", a.state_units.len())
            })?,
            rate_units: heapless::Vec::from_slice(&a.rate_units).map_err(|_| {
                anyhow::anyhow!("--rate-units: {} units, at most 16", a.rate_units.len())
            })?,
            events: a.events,
        };
        let session_dir = a.session.clone().unwrap_or_else(|| {
            let now = rig::framelog::HostClock::new().now_ns();
            let t = rig::session::utc(now).replace([':', '-'], "");
            PathBuf::from("rig-sessions").join(&t[..15])
        });
        Ok(RunConfig {
            endpoint: a.conn.endpoint.clone(),
            timeout: a.conn.timeout,
            session_dir: session_dir.clone(),
            blob: a.blob.clone(),
            stimulus: a.stimulus.clone(),
            streams,
            mode,
            ping_count: a.ping,
            meta,
            command_line: std::env::args().collect(),
            control: a.control.clone(),
        })
    }
}

fn run_cmd(a: &RigRunCmd) -> Result<()> {
    let cfg = a.config()?;
    let session_dir = cfg.session_dir.clone();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C while the handler is set is ignored; the first one stops the run.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let bar = Progress::new(0, "rig run");
    let upload_bar = Progress::new(0, "upload");
    let res = rig::run::run(
        &cfg,
        &stop,
        &mut |p| {
            bar.set_length(p.total as u64);
            bar.update(
                p.steps as u64,
                format!(
                    "misses {} · drops {} · device rx errors {} · host rx errors {} · lost {}",
                    p.misses, p.dropped, p.device_rx_errors, p.host_rx_errors, p.lost
                ),
            )
        },
        &mut |sent, total| {
            upload_bar.set_length(total as u64);
            upload_bar.update(sent as u64, String::new())
        },
    );
    bar.finish();
    upload_bar.finish();
    match res {
        Ok(s) => {
            let o = s.session.outcome.as_ref();
            eprintln!(
                "session {}: {} steps, {} events recorded",
                s.dir.display(),
                o.map_or(0, |o| o.steps_recorded),
                o.map_or(0, |o| o.events_recorded)
            );
            Ok(())
        }
        Err(RigError::Interrupted) => {
            bail!(
                "stopped by Ctrl-C; device stopped, session closed in {}",
                session_dir.display()
            )
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "rig run (session so far kept in {})",
            session_dir.display()
        ))),
    }
}
