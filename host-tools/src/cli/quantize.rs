//! `neuroloop quantize` flags → [`QuantizeCmd`].

use super::values::{NoiseArg, TaskArg, WeightArg};
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
    #[arg(long, value_name = "NAME|FILE.toml")]
    pub calibrate_task: Option<TaskArg>,
    /// Calibration trials (at least 8).
    #[arg(long, default_value_t = 64)]
    pub trials: usize,
    /// Held-out trials for the float vs fixed check (0 = no check, stated in the report).
    #[arg(long, default_value_t = 1000)]
    pub eval_trials: usize,
    /// Largest accepted accuracy drop of the held-out check, in points (100 × fraction);
    /// a larger drop writes nothing and exits non-zero, unless --allow-drop.
    #[arg(long, default_value_t = 2.0, value_name = "POINTS")]
    pub max_drop: f64,
    /// Write the blob even when the held-out check drops more than --max-drop.
    #[arg(long)]
    pub allow_drop: bool,
    /// Recurrent noise of the held-out check's headline accuracy (same on both sides;
    /// the output error is always measured noise-off).
    #[arg(long, value_enum, default_value_t = NoiseArg::Off)]
    pub noise: NoiseArg,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
    /// Do not fold the mean weight-rounding error into the biases.
    #[arg(long)]
    pub no_bias_correction: bool,
    /// Time steps per calibration trial (random inputs only, at least 20; default 200; a
    /// task sets its own).
    #[arg(long)]
    pub steps: Option<usize>,
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
            max_drop: a.max_drop,
            allow_drop: a.allow_drop,
            noise: a.noise.into(),
            force: a.force,
            bias_correction: !a.no_bias_correction,
            steps: a.steps,
            seed: a.seed,
            json: a.json,
        }
    }
}
