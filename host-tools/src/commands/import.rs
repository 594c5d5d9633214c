//! `neuroloop import psychrnn|torch WEIGHTS.npz … -o MODEL`: another tool's weights →
//! native float model ([`crate::interop::psychrnn`], [`crate::interop::torch`]).

use crate::interop::psychrnn::{self, ImportOptions};
use crate::interop::torch::{self, TorchOptions};
use std::path::PathBuf;

/// Which format to read, with what the file does not say.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportFormat {
    /// PsychRNN 1.0.0 weights (Basic or LSTM save, told apart by content).
    Psychrnn(ImportOptions),
    /// A PyTorch `nn.GRU`/`nn.LSTM` + `nn.Linear` `state_dict` npz.
    Torch(TorchOptions),
}

/// Typed config of `neuroloop import`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportCmd {
    /// Weights (.npz).
    pub weights: PathBuf,
    /// The format and how to read it (dt, τ, name, …).
    pub format: ImportFormat,
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
    let imported = match &cmd.format {
        ImportFormat::Psychrnn(o) => psychrnn::import(&cmd.weights, o)?,
        ImportFormat::Torch(o) => torch::import(&cmd.weights, o)?,
    };
    imported.model.save(&cmd.output)?;
    let m = &imported.model;
    let cell = if m.cell.is_leaky() {
        format!("leaky, {}, rec_noise {}", m.transfer.name(), m.rec_noise)
    } else {
        m.cell.to_string()
    };
    eprintln!(
        "imported {} → {}: {cell}, n_in {}, n_rec {}, n_out {}, dt {} ms, tau {} ms, task {}",
        cmd.weights.display(),
        cmd.output.display(),
        m.n_in,
        m.n_rec,
        m.n_out,
        m.dt,
        m.tau,
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
