//! `neuroloop rig …` and `neuroloop device-sim`: clap structs and the thin command layer
//! (flags → typed config → `crate::rig` call → report). Kept apart from `cli.rs` so that
//! the command-layer restructure can move it as a whole.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use neuroloop_core::protocol::Streams;

use crate::progress::Progress;
use crate::rig::run::{InputSource, RunConfig, RunMode};
use crate::rig::{self, Client, Endpoint, RigError};

/// `neuroloop rig …`.
#[derive(Subcommand, Debug)]
pub enum RigCommand {
    /// List serial ports with USB VID:PID and serial number.
    Ports(PortsArgs),
    /// Show the device: firmware, board, running model, capabilities.
    Info(InfoArgs),
    /// Upload a model blob (.nlb); it runs from the next step on.
    Upload(UploadArgs),
    /// Stimulus map commands.
    #[command(subcommand)]
    Stimulus(StimulusCommand),
    /// Show the device's counters.
    Stats(InfoArgs),
    /// Round-trip latency percentiles of Ping and of lockstep Input → Telemetry.
    Ping(PingArgs),
    /// A recorded run: lockstep replay of an .npz, or timer mode.
    Run(Box<RunArgs>),
    /// Rebuild a session's derived files from frames.bin (after a crash).
    Recover(RecoverArgs),
    /// Fit device time to an external clock from the session's sync pulses.
    Align(AlignArgs),
}

/// How to reach the device.
#[derive(Args, Debug, Clone)]
pub struct ConnArgs {
    /// Where.
    #[command(flatten)]
    pub to: WhereArgs,
    /// Baud rate of --port (USB-CDC ignores it).
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// Longest wait for any answer, ms.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub timeout_ms: u64,
}

/// Exactly one of `--port`, `--tcp`, `--unix`, `--sim`.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct WhereArgs {
    /// Serial port (USB-CDC or UART), e.g. /dev/ttyACM0 (`rig ports` lists them).
    #[arg(long)]
    pub port: Option<String>,
    /// TCP HOST:PORT (`cargo xtask qemu` serves the board on 127.0.0.1:7878;
    /// `neuroloop device-sim --tcp PORT`).
    #[arg(long, value_name = "HOST:PORT")]
    pub tcp: Option<String>,
    /// Unix socket (QEMU `-serial unix:PATH,server=on`).
    #[arg(long, value_name = "PATH")]
    pub unix: Option<PathBuf>,
    /// The device simulator, in this process.
    #[arg(long)]
    pub sim: bool,
}

impl ConnArgs {
    fn endpoint(&self) -> Endpoint {
        match (&self.to.port, &self.to.tcp, &self.to.unix) {
            (Some(p), _, _) => Endpoint::Serial {
                path: p.clone(),
                baud: self.baud,
            },
            (_, Some(a), _) => Endpoint::Tcp(a.clone()),
            (_, _, Some(p)) => Endpoint::Unix(p.clone()),
            _ => Endpoint::Sim,
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }

    fn connect(&self) -> Result<(Client, rig::client::DeviceInfo), RigError> {
        let mut c = Client::connect(&self.endpoint(), self.timeout())?;
        let info = c.hello()?;
        Ok((c, info))
    }
}

/// `rig ports`.
#[derive(Args, Debug)]
pub struct PortsArgs {
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rig info`, `rig stats`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Connection.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rig upload`.
#[derive(Args, Debug)]
pub struct UploadArgs {
    /// Connection.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// The blob.
    pub model: PathBuf,
    /// Store it in flash (A/B slots): the board boots it from now on.
    #[arg(long)]
    pub persist: bool,
}

/// `rig stimulus …`.
#[derive(Subcommand, Debug)]
pub enum StimulusCommand {
    /// Set the stimulus map from a TOML file (see docs/rig.md).
    Set(StimulusSetArgs),
}

/// `rig stimulus set`.
#[derive(Args, Debug)]
pub struct StimulusSetArgs {
    /// Connection.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// The map.
    pub file: PathBuf,
}

/// `rig ping`.
#[derive(Args, Debug)]
pub struct PingArgs {
    /// Connection.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Round trips of each kind.
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Skip the lockstep Input → Telemetry measurement (it resets the network state).
    #[arg(long)]
    pub no_lockstep: bool,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rig run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Connection.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Lockstep replay of these inputs (.npz key `x`, float [batch, steps, N_in]).
    #[arg(long, conflicts_with = "rate")]
    pub inputs: Option<PathBuf>,
    /// Timer mode at this rate.
    #[arg(long, value_name = "HZ")]
    pub rate: Option<u32>,
    /// Timer mode: stop after this many seconds (host time).
    #[arg(long, value_name = "S", requires = "rate")]
    pub duration: Option<f64>,
    /// Timer mode: stop once the device reports this tick (device time).
    #[arg(long, value_name = "N", requires = "rate")]
    pub ticks: Option<u32>,
    /// Timer mode: input samples from a text file (one line per tick, N_in numbers).
    #[arg(long, value_name = "FILE", requires = "rate", conflicts_with = "stdin")]
    pub input_file: Option<PathBuf>,
    /// Timer mode: input samples from stdin, each line sent as it arrives.
    #[arg(long, requires = "rate")]
    pub stdin: bool,
    /// Upload this blob first.
    #[arg(long)]
    pub blob: Option<PathBuf>,
    /// Set this stimulus map (TOML) first.
    #[arg(long, value_name = "FILE")]
    pub stimulus: Option<PathBuf>,
    /// State units to stream, e.g. 0,1,5 (at most 16).
    #[arg(long, value_delimiter = ',')]
    pub state_units: Vec<u16>,
    /// Rate units to stream (at most 16).
    #[arg(long, value_delimiter = ',')]
    pub rate_units: Vec<u16>,
    /// Timer mode: telemetry every N steps (lockstep: always 1).
    #[arg(long, default_value_t = 1)]
    pub every: u16,
    /// Record stimulus events (TTL and sync edges).
    #[arg(long)]
    pub events: bool,
    /// Session folder (default: rig-sessions/<UTC time>).
    #[arg(long, value_name = "DIR")]
    pub session: Option<PathBuf>,
    /// Metadata stored in session.json, KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
    /// Round trips measured before the run (into session.json; 0: none).
    #[arg(long, default_value_t = 20)]
    pub ping: usize,
}

/// `rig recover`.
#[derive(Args, Debug)]
pub struct RecoverArgs {
    /// Session folder.
    pub dir: PathBuf,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `rig align`.
#[derive(Args, Debug)]
pub struct AlignArgs {
    /// Session folder.
    pub dir: PathBuf,
    /// External times of the sync pulses' rising edges, seconds, one per line.
    #[arg(long, value_name = "FILE")]
    pub sync_times: PathBuf,
    /// Index of the sync rule in the stimulus map (default: the first sync rule).
    #[arg(long)]
    pub rule: Option<u8>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `neuroloop device-sim`.
#[derive(Args, Debug)]
pub struct DeviceSimArgs {
    /// Where to serve.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log virtual pin and PWM changes here (default: stderr).
    #[arg(long, value_name = "FILE")]
    pub pin_log: Option<PathBuf>,
}

/// Exactly one of `--tcp PORT`, `--pty`.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct ServeArgs {
    /// Serve on this TCP port of 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, value_name = "PORT")]
    pub tcp: Option<u16>,
    /// Serve on a new pseudo-terminal (its path is printed).
    #[arg(long)]
    pub pty: bool,
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
pub fn run(cmd: &RigCommand) -> Result<()> {
    match cmd {
        RigCommand::Ports(a) => {
            let ports = rig::transport::list_ports().context("listing serial ports")?;
            if a.json {
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
        RigCommand::Info(a) => {
            let (_, info) = a.conn.connect()?;
            if a.json {
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
        RigCommand::Stats(a) => {
            let (mut c, _) = a.conn.connect()?;
            let s = c.stats()?;
            if a.json {
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
        RigCommand::Upload(a) => {
            let bytes =
                std::fs::read(&a.model).with_context(|| format!("{}", a.model.display()))?;
            let m = neuroloop_core::Model::from_bytes(&bytes)
                .map_err(|e| anyhow::anyhow!("{}: invalid blob: {e}", a.model.display()))?;
            let name = m.name().to_string();
            let (mut c, _) = a.conn.connect()?;
            let bar = Progress::new(bytes.len() as u64, "upload");
            c.upload(&bytes, a.persist, |sent, _| {
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
        RigCommand::Stimulus(StimulusCommand::Set(a)) => {
            let (mut c, info) = a.conn.connect()?;
            let fracs = rig::stimulus::Fracs {
                output: info.output_frac,
                rate: info.rate_frac,
            };
            let rules = rig::stimulus::load(&a.file, fracs)?;
            c.set_stimulus(&rules)?;
            eprintln!("stimulus map set: {} rule(s)", rules.len());
            Ok(())
        }
        RigCommand::Ping(a) => {
            let (mut c, info) = a.conn.connect()?;
            let lockstep = (!a.no_lockstep).then_some(info.n_in as usize);
            let r = rig::latency::measure(&mut c, a.count.max(1), lockstep)?;
            if a.json {
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
        RigCommand::Run(a) => run_cmd(a),
        RigCommand::Recover(a) => {
            let r = rig::recover::recover(&a.dir)?;
            if a.json {
                return print_json(&r);
            }
            eprintln!(
                "{}: {} frames → {} telemetry rows, {} events{}",
                a.dir.display(),
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
        RigCommand::Align(a) => {
            let dev = rig::align::device_pulses(&a.dir, a.rule)?;
            let ext = rig::align::read_times(&a.sync_times)?;
            let f = rig::align::fit(&dev, &ext).map_err(|e| {
                anyhow::anyhow!("{} vs {}: {e}", a.dir.display(), a.sync_times.display())
            })?;
            let path = a.dir.join("align.json");
            crate::model::file::write_atomic_io(&path, serde_json::to_string_pretty(&f)?.as_bytes())
                .with_context(|| path.display().to_string())?;
            if a.json {
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

fn run_cmd(a: &RunArgs) -> Result<()> {
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
                    .map(|s| Duration::try_from_secs_f64(s).with_context(|| format!("--duration {s}")))
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
        state_units: heapless::Vec::from_slice(&a.state_units)
            .map_err(|_| anyhow::anyhow!("--state-units: {} units, at most 16", a.state_units.len()))?,
        rate_units: heapless::Vec::from_slice(&a.rate_units)
            .map_err(|_| anyhow::anyhow!("--rate-units: {} units, at most 16", a.rate_units.len()))?,
        events: a.events,
    };
    let session_dir = a.session.clone().unwrap_or_else(|| {
        let now = rig::framelog::HostClock::new().now_ns();
        let t = rig::session::utc(now).replace([':', '-'], "");
        PathBuf::from("rig-sessions").join(&t[..15])
    });
    let cfg = RunConfig {
        endpoint: a.conn.endpoint(),
        timeout: a.conn.timeout(),
        session_dir: session_dir.clone(),
        blob: a.blob.clone(),
        stimulus: a.stimulus.clone(),
        streams,
        mode,
        ping_count: a.ping,
        meta,
        command_line: std::env::args().collect(),
    };
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
            bail!("stopped by Ctrl-C; device stopped, session closed in {}", session_dir.display())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "rig run (session so far kept in {})",
            session_dir.display()
        ))),
    }
}

/// Run `neuroloop device-sim` (until killed).
pub fn device_sim(a: &DeviceSimArgs) -> Result<()> {
    let pin_log: rig::sim::PinLog = Some(match &a.pin_log {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("--pin-log {}", p.display()))?,
        ),
        None => Box::new(std::io::stderr()),
    });
    let opts = rig::sim::SimOptions {
        pin_log,
        ..Default::default()
    };
    if let Some(port) = a.serve.tcp {
        let l = std::net::TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("--tcp {port}: cannot listen"))?;
        let addr = l.local_addr()?;
        println!("device-sim listening on tcp {addr}");
        use std::io::Write;
        std::io::stdout().flush()?;
        rig::sim::serve_tcp(l, opts, |peer| eprintln!("device-sim: host connected from {peer}"))?;
    } else {
        rig::sim::serve_pty(opts, |path| {
            println!("device-sim on pty {path}");
            use std::io::Write;
            let _ = std::io::stdout().flush();
        })?;
    }
    Ok(())
}
