//! `neuroloop inspect`: describe a blob ([`crate::inspect`]), or a float model as such;
//! exits with an error if the blob is invalid. Human output on stderr, `--json` on stdout.

use crate::inspect::{describe, describe_float, render, render_float};
use crate::model::{detect_kind, file, FileKind};
use std::path::PathBuf;

/// Typed config of `neuroloop inspect`.
#[derive(Clone, Debug, PartialEq)]
pub struct InspectCmd {
    /// Blob or float model to inspect.
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

/// Describe the file and report.
pub fn run(cmd: &InspectCmd) -> anyhow::Result<()> {
    let bytes = file::read(&cmd.file)?;
    match detect_kind(&bytes) {
        Some(FileKind::Native) => {
            let info = describe_float(&file::from_bytes(&cmd.file, &bytes)?);
            if cmd.json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                eprint!("{}", render_float(&cmd.file, &info));
            }
            return Ok(());
        }
        Some(FileKind::Npz) => anyhow::bail!(
            "{}: is a {}; inspect reads .nlb blobs and neuroloop float models (import it first: neuroloop import psychrnn FILE --dt MS --tau MS -o MODEL.json)",
            cmd.file.display(),
            FileKind::Npz.name()
        ),
        _ => {}
    }
    let info = describe(&bytes);
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        eprint!("{}", render(&cmd.file, &info));
    }
    if let Some(e) = &info.error {
        anyhow::bail!("{}: invalid blob: {e}", cmd.file.display());
    }
    Ok(())
}
