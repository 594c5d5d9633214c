//! `neuroloop eval` flags → [`EvalCmd`].

use super::values::{CellArg, NoiseArg, TaskArg};
use crate::commands::eval::EvalCmd;
use std::path::PathBuf;

/// `neuroloop eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Model: a neuroloop float model or a fixed-point `.nlb` blob (recognised by
    /// content; a blob runs in the fixed-point core, the code the firmware runs).
    #[arg(long)]
    pub model: PathBuf,
    /// Also run this model on the same trials and print both side by side (typically the
    /// float model a blob was quantized from).
    #[arg(long, value_name = "MODEL")]
    pub compare: Option<PathBuf>,
    /// Task name or task file (default: the task the model was trained on).
    #[arg(long, value_name = "NAME|FILE.toml")]
    pub task: Option<TaskArg>,
    /// Trials to evaluate.
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,
    /// Trial length in ms (default 2000).
    #[arg(long)]
    pub t: Option<f32>,
    /// Seed of the trials.
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// Recurrent noise of the headline accuracy, on both sides of a comparison (a model
    /// with noise also gets the other setting's figure beside it).
    #[arg(long, value_enum, default_value_t = NoiseArg::Off)]
    pub noise: NoiseArg,
    /// The cell the float model must have (the model file records its cell; this only
    /// checks it, e.g. in scripts that evaluate a sweep of cells).
    #[arg(long, value_enum)]
    pub cell: Option<CellArg>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl From<EvalArgs> for EvalCmd {
    fn from(a: EvalArgs) -> Self {
        EvalCmd {
            model: a.model,
            compare: a.compare,
            task: a.task.map(TaskArg::name),
            trials: a.trials,
            t: a.t,
            seed: a.seed,
            noise: a.noise.into(),
            cell: a.cell.map(Into::into),
            json: a.json,
        }
    }
}
