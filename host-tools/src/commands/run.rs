//! `neuroloop run`: run any model on recorded inputs ([`crate::run`]) and report.

use crate::interop::psychrnn::ImportOptions;
use crate::run::RunConfig;
use neuroloop_core::Transfer;
use std::path::PathBuf;

/// Typed config of `neuroloop run`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCmd {
    /// Model file (native float model, PsychRNN `.npz` or `.nlb`).
    pub model: PathBuf,
    /// Inputs `.npz` (key `x`).
    pub inputs: PathBuf,
    /// Output `.npz`.
    pub output: PathBuf,
    /// Time step, ms (PsychRNN `.npz` models only; with `tau`).
    pub dt: Option<f32>,
    /// Time constant, ms (PsychRNN `.npz` models only; with `dt`).
    pub tau: Option<f32>,
    /// Transfer function (PsychRNN `.npz` models only).
    pub transfer: Transfer,
    /// Recurrent noise σ (PsychRNN `.npz` models only).
    pub rec_noise: f32,
    /// Noise seed for float models (`None`: noise off).
    pub noise_seed: Option<u64>,
    /// JSON summary on stdout.
    pub json: bool,
}

impl RunCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.dt.is_some() != self.tau.is_some() {
            anyhow::bail!("--dt and --tau go together (they describe a PsychRNN .npz model)");
        }
        Ok(())
    }

    /// The library's run config.
    pub fn config(&self) -> RunConfig {
        let psychrnn = match (self.dt, self.tau) {
            (Some(dt), Some(tau)) => Some(ImportOptions {
                dt,
                tau,
                transfer: self.transfer,
                rec_noise: self.rec_noise,
                name: None,
            }),
            _ => None,
        };
        RunConfig {
            model: self.model.clone(),
            inputs: self.inputs.clone(),
            output: self.output.clone(),
            psychrnn,
            noise_seed: self.noise_seed,
        }
    }
}

/// Run and report.
pub fn run(cmd: &RunCmd) -> anyhow::Result<()> {
    let s = crate::run::run(&cmd.config())?;
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        eprintln!(
            "ran {} trials × {} steps on {} ({}, n_in {}, n_rec {}, n_out {}) → {}",
            s.batch,
            s.steps,
            cmd.model.display(),
            s.kind,
            s.n_in,
            s.n_rec,
            s.n_out,
            cmd.output.display()
        );
    }
    Ok(())
}
