//! `neuroloop device-sim`: the firmware on this host behind the wire protocol
//! ([`crate::rig::sim`]), until killed.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::rig;

/// Typed config of `neuroloop device-sim`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSimCmd {
    /// Serve on this TCP port of 127.0.0.1 (`None`: on a pty).
    pub tcp: Option<u16>,
    /// Pin log file (`None`: stderr).
    pub pin_log: Option<PathBuf>,
    /// File behind the flash slots (`None`: in memory).
    pub flash: Option<PathBuf>,
    /// Virtual device time ([`rig::sim::SimOptions::virtual_clock`]).
    pub virtual_clock: bool,
}

impl DeviceSimCmd {
    /// Nothing to check before serving.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Run `neuroloop device-sim` (until killed).
pub fn run(a: &DeviceSimCmd) -> Result<()> {
    let pin_log: rig::sim::PinLog = Some(match &a.pin_log {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("--pin-log {}", p.display()))?,
        ),
        None => Box::new(std::io::stderr()),
    });
    let opts = rig::sim::SimOptions {
        pin_log,
        flash: a.flash.clone(),
        virtual_clock: a.virtual_clock,
        ..Default::default()
    };
    // Open (or create) the flash file here, so that a bad one is an error before serving.
    rig::sim::open_flash(&opts).map_err(anyhow::Error::msg)?;
    if let Some(port) = a.tcp {
        let l = std::net::TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("--tcp {port}: cannot listen"))?;
        let addr = l.local_addr()?;
        println!("device-sim listening on tcp {addr}");
        use std::io::Write;
        std::io::stdout().flush()?;
        rig::sim::serve_tcp(l, opts, |peer| {
            eprintln!("device-sim: host connected from {peer}")
        })?;
    } else {
        rig::sim::serve_pty(opts, |path| {
            println!("device-sim on pty {path}");
            use std::io::Write;
            let _ = std::io::stdout().flush();
        })?;
    }
    Ok(())
}
