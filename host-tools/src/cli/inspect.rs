//! `neuroloop inspect` flags → [`InspectCmd`].

use crate::commands::inspect::InspectCmd;
use std::path::PathBuf;

/// `neuroloop inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Blob to inspect.
    pub file: PathBuf,
    /// Machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl From<InspectArgs> for InspectCmd {
    fn from(a: InspectArgs) -> Self {
        InspectCmd {
            file: a.file,
            json: a.json,
        }
    }
}
