//! `neuroloop quickstart` flags → [`QuickstartCmd`].

use super::values::CellArg;
use crate::commands::quickstart::QuickstartCmd;
use std::path::PathBuf;

/// `neuroloop quickstart`.
#[derive(clap::Args, Debug)]
pub struct QuickstartArgs {
    /// Folder for the trained model, blobs, training log and plots (quickstart's own: a
    /// second run replaces its hello-world* files there, nothing else).
    #[arg(long, default_value = "neuroloop-quickstart")]
    pub dir: PathBuf,
    /// Evaluation trials.
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,
    /// Training trials (PsychRNN Hello World: 50000).
    #[arg(long, default_value_t = 50_000)]
    pub train_trials: u64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Recurrent cell (a GRU or LSTM is quantized to int16 and int8 like the leaky cell).
    #[arg(long, value_enum, default_value_t = CellArg::Leaky)]
    pub cell: CellArg,
    /// Print the comparison as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl From<QuickstartArgs> for QuickstartCmd {
    fn from(a: QuickstartArgs) -> Self {
        QuickstartCmd {
            dir: a.dir,
            trials: a.trials,
            train_trials: a.train_trials,
            seed: a.seed,
            cell: a.cell.into(),
            json: a.json,
        }
    }
}
