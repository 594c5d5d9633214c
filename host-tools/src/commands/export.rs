//! `neuroloop export psychrnn|torch MODEL -o WEIGHTS.npz`: native float model → PsychRNN
//! 1.0.0 weights ([`crate::interop::psychrnn`]) or a PyTorch `state_dict` npz
//! ([`crate::interop::torch`]).

use crate::interop::torch::ExportPrefixes;
use anyhow::Context;
use std::path::PathBuf;

/// Which format to write.
#[derive(Clone, Debug, PartialEq)]
pub enum ExportFormat {
    /// PsychRNN 1.0.0: a Basic save (leaky cell) or an LSTM save (`lstm-psychrnn`).
    Psychrnn,
    /// PyTorch `nn.GRU`/`nn.LSTM` + `nn.Linear` `state_dict` (gru, lstm), with key prefixes.
    Torch(ExportPrefixes),
}

/// Typed config of `neuroloop export`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportCmd {
    /// Native float model.
    pub model: PathBuf,
    /// The format.
    pub format: ExportFormat,
    /// Output weights (.npz).
    pub output: PathBuf,
    /// Overwrite an existing output.
    pub force: bool,
}

impl ExportCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::outputs::check_output(&self.output, &[&self.model], self.force)?;
        Ok(())
    }
}

/// Export and report.
pub fn run(cmd: &ExportCmd) -> anyhow::Result<()> {
    let m = crate::model::load(&cmd.model)?;
    let context = || {
        format!(
            "exporting {} to {}",
            cmd.model.display(),
            cmd.output.display()
        )
    };
    let layout = match &cmd.format {
        ExportFormat::Psychrnn => {
            crate::interop::psychrnn::export_to(&m, &cmd.output).with_context(context)?;
            if m.cell.is_leaky() {
                "PsychRNN 1.0.0 Basic layout".to_string()
            } else {
                "PsychRNN 1.0.0 LSTM layout, loads in LSTMSimulator".to_string()
            }
        }
        ExportFormat::Torch(p) => {
            crate::interop::torch::export_to(&m, p, &cmd.output).with_context(context)?;
            format!(
                "PyTorch state_dict: {}weight_ih_l0 … and {}weight, {}",
                p.rnn,
                p.readout,
                if m.init_state.iter().any(|x| x.to_bits() != 0) {
                    "plus h0/c0 (pop them before load_state_dict, pass them as hx)"
                } else {
                    "zero initial state (no h0/c0)"
                }
            )
        }
    };
    eprintln!(
        "exported {} ({}) → {} ({layout}; dt {} ms and tau {} ms are not stored in the file)",
        cmd.model.display(),
        m.cell,
        cmd.output.display(),
        m.dt,
        m.tau
    );
    Ok(())
}
