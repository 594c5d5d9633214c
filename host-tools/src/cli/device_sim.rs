//! `neuroloop device-sim` flags → [`DeviceSimCmd`].

use std::path::PathBuf;

use clap::Args;

use crate::commands::device_sim::DeviceSimCmd;

/// `neuroloop device-sim`.
#[derive(Args, Debug)]
pub struct DeviceSimArgs {
    /// Where to serve.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log virtual pin and PWM changes here (default: stderr).
    #[arg(long, value_name = "FILE")]
    pub pin_log: Option<PathBuf>,
    /// Keep the flash model slots in this file (created if missing), so a model uploaded
    /// with `rig upload --persist` boots again after a restart (default: in memory).
    #[arg(long, value_name = "FILE")]
    pub flash: Option<PathBuf>,
    /// Virtual device time, as under QEMU's `-icount`: timer mode runs as fast as this host
    /// allows and is never late (deterministic tests); pin log times stay host times.
    #[arg(long)]
    pub virtual_clock: bool,
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

impl From<DeviceSimArgs> for DeviceSimCmd {
    fn from(a: DeviceSimArgs) -> Self {
        DeviceSimCmd {
            tcp: a.serve.tcp,
            pin_log: a.pin_log,
            flash: a.flash,
            virtual_clock: a.virtual_clock,
        }
    }
}
