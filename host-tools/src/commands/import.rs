//! `neuroloop import psychrnn WEIGHTS.npz --dt MS --tau MS -o MODEL`: PsychRNN weights →
//! native float model ([`crate::interop::psychrnn`]).

use crate::interop::psychrnn::{self, ImportOptions};
use std::path::PathBuf;

/// Typed config of `neuroloop import psychrnn`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportCmd {
    /// PsychRNN weights (.npz).
    pub weights: PathBuf,
    /// How to read them (dt, τ, transfer function, noise, name).
    pub options: ImportOptions,
    /// Output native float model.
    pub output: PathBuf,
    /// Overwrite an existing output.
    pub force: bool,
}

impl ImportCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::outputs::check_output(&self.output, &[&self.weights], self.force)?;
        Ok(())
    }
}

/// Import and report.
pub fn run(cmd: &ImportCmd) -> anyhow::Result<()> {
    let imported = psychrnn::import(&cmd.weights, &cmd.options)?;
    imported.model.save(&cmd.output)?;
    let m = &imported.model;
    eprintln!(
        "imported {} → {}: n_in {}, n_rec {}, n_out {}, dt {} ms, tau {} ms, {}, rec_noise {}, task {}",
        cmd.weights.display(),
        cmd.output.display(),
        m.n_in,
        m.n_rec,
        m.n_out,
        m.dt,
        m.tau,
        m.transfer.name(),
        m.rec_noise,
        if m.task.is_empty() {
            "none (pass --task NAME to record it)"
        } else {
            &m.task
        }
    );
    for n in &imported.notes {
        eprintln!("  note: {n}");
    }
    Ok(())
}
