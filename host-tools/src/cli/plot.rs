//! `neuroloop plot KIND` flags → [`PlotCmd`].

use super::values::TaskArg;
use crate::commands::plot::{PlotCmd, PlotKind};
use std::path::PathBuf;

/// Options every model plot shares.
#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    /// Model: a neuroloop float model or a fixed-point `.nlb` blob (recognised by content).
    #[arg(long)]
    pub model: PathBuf,
    /// Task name (default: the task the model was trained on).
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Trials to run (default: 1000 for psychometric, 50 for compare, 200 otherwise).
    #[arg(long)]
    pub trials: Option<usize>,
    /// Seed of the trials.
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// Output options.
    #[command(flatten)]
    pub out: OutArgs,
}

/// The output file.
#[derive(clap::Args, Debug)]
pub struct OutArgs {
    /// Output image: `.png` or `.svg` (the format follows the extension).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Overwrite an existing output.
    #[arg(long)]
    pub force: bool,
    /// Also print what was plotted (fit parameters, differences) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `neuroloop plot KIND`.
#[derive(clap::Subcommand, Debug)]
pub enum PlotCommand {
    /// Loss and accuracy over training, from the training log (MODEL.json.log.tsv, written
    /// beside the checkpoint) or the folder holding it.
    Loss {
        /// The log, or the folder with exactly one `*.log.tsv`.
        log: PathBuf,
        /// Output options.
        #[command(flatten)]
        out: OutArgs,
    },
    /// Fraction of trials choosing an output channel against a trial variable, binned,
    /// with a maximum-likelihood logistic fit (bias, slope; `--lapses` adds lapse rates).
    Psychometric {
        /// Model options.
        #[command(flatten)]
        model: ModelArgs,
        /// Trial variable on the x axis (default: the one that predicts the choice best,
        /// e.g. signed_coherence or f2_minus_f1).
        #[arg(long, value_name = "VAR")]
        x: Option<String>,
        /// Output channel whose choice is counted.
        #[arg(long, default_value_t = 1)]
        channel: usize,
        /// Also fit lapse rates (4 parameters instead of 2).
        #[arg(long)]
        lapses: bool,
    },
    /// Outputs against targets with the unscored time (mask 0) shaded, one panel per
    /// condition.
    Trials {
        /// Model options.
        #[command(flatten)]
        model: ModelArgs,
        /// Condition variable (default: the variable with the most values, up to 8).
        #[arg(long, value_name = "VAR")]
        by: Option<String>,
    },
    /// State trajectories in the first two principal components, coloured by condition.
    Pca {
        /// Model options.
        #[command(flatten)]
        model: ModelArgs,
        /// Condition variable (default: the variable with the most values, up to 8).
        #[arg(long, value_name = "VAR")]
        by: Option<String>,
    },
    /// A model's outputs overlaid on another run of the same inputs: another model (e.g.
    /// the float model a blob came from) on task trials, a `neuroloop run` output .npz or
    /// a rig session folder (both with --inputs).
    Compare {
        /// Model options.
        #[command(flatten)]
        model: ModelArgs,
        /// Model, `run` output (.npz with `outputs`) or rig session folder (telemetry.npz).
        #[arg(long, value_name = "MODEL|RUN.npz|SESSION_DIR")]
        against: PathBuf,
        /// The inputs .npz (key `x`) a `run` output or rig session was made from.
        #[arg(long, value_name = "X.npz")]
        inputs: Option<PathBuf>,
    },
}

impl From<PlotCommand> for PlotCmd {
    fn from(c: PlotCommand) -> Self {
        let with_model = |m: ModelArgs, kind: PlotKind| PlotCmd {
            kind,
            model: Some(m.model),
            task: m.task.map(TaskArg::name),
            trials: m.trials,
            seed: m.seed,
            output: m.out.output,
            force: m.out.force,
            json: m.out.json,
        };
        match c {
            PlotCommand::Loss { log, out } => PlotCmd {
                kind: PlotKind::Loss { log },
                model: None,
                task: None,
                trials: None,
                seed: 0,
                output: out.output,
                force: out.force,
                json: out.json,
            },
            PlotCommand::Psychometric {
                model,
                x,
                channel,
                lapses,
            } => with_model(model, PlotKind::Psychometric { x, channel, lapses }),
            PlotCommand::Trials { model, by } => with_model(model, PlotKind::Trials { by }),
            PlotCommand::Pca { model, by } => with_model(model, PlotKind::Pca { by }),
            PlotCommand::Compare {
                model,
                against,
                inputs,
            } => with_model(model, PlotKind::Compare { against, inputs }),
        }
    }
}
