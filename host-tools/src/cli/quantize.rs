//! `neuroloop quantize` flags → [`QuantizeCmd`].

use super::values::{TaskArg, WeightArg};
use crate::commands::quantize::QuantizeCmd;
use std::path::PathBuf;

/// `neuroloop quantize`.
#[derive(clap::Args, Debug)]
pub struct QuantizeArgs {
    /// Float model to quantize (a neuroloop float model, recognised by content; import
    /// PsychRNN weights first with `neuroloop import psychrnn`).
    pub model: PathBuf,
    /// Weight format.
    #[arg(long, value_enum, default_value_t = WeightArg::I16)]
    pub weights: WeightArg,
    /// Output blob.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Calibrate on trials of this task (default: the task the model was trained on;
    /// random task-like inputs if it has none). Also measures float vs fixed accuracy.
    #[arg(long, value_enum, value_name = "NAME")]
    pub calibrate_task: Option<TaskArg>,
    /// Calibration trials.
    #[arg(long, default_value_t = 64)]
    pub trials: usize,
    /// Held-out trials for the float vs fixed report (0 = no report).
    #[arg(long, default_value_t = 1000)]
    pub eval_trials: usize,
    /// Do not fold the mean weight-rounding error into the biases.
    #[arg(long)]
    pub no_bias_correction: bool,
    /// Time steps per calibration trial (random inputs only; a task sets its own).
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Seed for calibration inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl From<QuantizeArgs> for QuantizeCmd {
    fn from(a: QuantizeArgs) -> Self {
        QuantizeCmd {
            model: a.model,
            weights: a.weights.into(),
            output: a.output,
            calibrate_task: a.calibrate_task.map(TaskArg::name),
            trials: a.trials,
            eval_trials: a.eval_trials,
            bias_correction: !a.no_bias_correction,
            steps: a.steps,
            seed: a.seed,
            json: a.json,
        }
    }
}
