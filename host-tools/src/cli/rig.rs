//! `neuroloop rig …` flags → [`RigCmd`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::commands::rig::{Conn, RigCmd, RigRunCmd};
use crate::rig::Endpoint;

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

impl From<ConnArgs> for Conn {
    fn from(a: ConnArgs) -> Self {
        let endpoint = match (a.to.port, a.to.tcp, a.to.unix) {
            (Some(path), _, _) => Endpoint::Serial { path, baud: a.baud },
            (_, Some(addr), _) => Endpoint::Tcp(addr),
            (_, _, Some(p)) => Endpoint::Unix(p),
            _ => Endpoint::Sim,
        };
        Conn {
            endpoint,
            timeout: Duration::from_millis(a.timeout_ms.max(1)),
        }
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
    /// Change the stimulus map mid-run: lines `[@MS] stimulus FILE.toml|clear` from this
    /// file, or from stdin with `-` (MS: device time since the start; none: at once).
    #[arg(long, value_name = "FILE")]
    pub control: Option<PathBuf>,
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

impl From<RigCommand> for RigCmd {
    fn from(c: RigCommand) -> Self {
        match c {
            RigCommand::Ports(a) => RigCmd::Ports { json: a.json },
            RigCommand::Info(a) => RigCmd::Info {
                conn: a.conn.into(),
                json: a.json,
            },
            RigCommand::Stats(a) => RigCmd::Stats {
                conn: a.conn.into(),
                json: a.json,
            },
            RigCommand::Upload(a) => RigCmd::Upload {
                conn: a.conn.into(),
                model: a.model,
                persist: a.persist,
            },
            RigCommand::Stimulus(StimulusCommand::Set(a)) => RigCmd::StimulusSet {
                conn: a.conn.into(),
                file: a.file,
            },
            RigCommand::Ping(a) => RigCmd::Ping {
                conn: a.conn.into(),
                count: a.count,
                lockstep: !a.no_lockstep,
                json: a.json,
            },
            RigCommand::Run(a) => {
                let a = *a;
                RigCmd::Run(Box::new(RigRunCmd {
                    conn: a.conn.into(),
                    inputs: a.inputs,
                    rate: a.rate,
                    duration: a.duration,
                    ticks: a.ticks,
                    input_file: a.input_file,
                    stdin: a.stdin,
                    blob: a.blob,
                    stimulus: a.stimulus,
                    state_units: a.state_units,
                    rate_units: a.rate_units,
                    every: a.every,
                    events: a.events,
                    session: a.session,
                    meta: a.meta,
                    ping: a.ping,
                    control: a.control,
                }))
            }
            RigCommand::Recover(a) => RigCmd::Recover {
                dir: a.dir,
                json: a.json,
            },
            RigCommand::Align(a) => RigCmd::Align {
                dir: a.dir,
                sync_times: a.sync_times,
                rule: a.rule,
                json: a.json,
            },
        }
    }
}
