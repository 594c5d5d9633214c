//! `neuroloop export psychrnn MODEL -o WEIGHTS.npz`: native float model → PsychRNN 1.0.0
//! weights ([`crate::interop::psychrnn`]).

use anyhow::Context;
use std::path::PathBuf;

/// Typed config of `neuroloop export psychrnn`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportCmd {
    /// Native float model.
    pub model: PathBuf,
    /// Output PsychRNN weights (.npz).
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
    m.require_leaky("export psychrnn")
        .with_context(|| cmd.model.display().to_string())?;
    crate::interop::psychrnn::export_to(&m, &cmd.output).with_context(|| {
        format!(
            "exporting {} to {}",
            cmd.model.display(),
            cmd.output.display()
        )
    })?;
    eprintln!(
        "exported {} → {} (PsychRNN 1.0.0 layout; dt {} ms and tau {} ms are not stored in the file)",
        cmd.model.display(),
        cmd.output.display(),
        m.dt,
        m.tau
    );
    Ok(())
}
