//! `neuroloop inspect`: describe a blob ([`crate::inspect`]); exits with an error if the
//! blob is invalid.

use crate::inspect::{describe, render};
use std::path::PathBuf;

/// Typed config of `neuroloop inspect`.
#[derive(Clone, Debug, PartialEq)]
pub struct InspectCmd {
    /// Blob to inspect.
    pub file: PathBuf,
    /// JSON on stdout.
    pub json: bool,
}

impl InspectCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Describe the blob and report.
pub fn run(cmd: &InspectCmd) -> anyhow::Result<()> {
    let bytes = crate::model::file::read(&cmd.file)?;
    let info = describe(&bytes);
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        print!("{}", render(&cmd.file, &info));
    }
    if let Some(e) = &info.error {
        anyhow::bail!("{}: invalid blob: {e}", cmd.file.display());
    }
    Ok(())
}
