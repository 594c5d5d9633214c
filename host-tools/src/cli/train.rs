//! `neuroloop train` flags → [`TrainCmd`].

use super::values::{CellArg, TaskArg, TransferArg};
use crate::commands::train::TrainCmd;
use std::path::PathBuf;

/// `neuroloop train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Task name or task file (FILE.toml, docs/tasks.md); overrides `task.name` of the
    /// config (or fills it in).
    #[arg(long, value_name = "NAME|FILE.toml")]
    pub task: Option<TaskArg>,
    /// TOML config (every key: docs/config.md); flags override its keys.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Recurrent units (`model.n_rec`, default 50).
    #[arg(long)]
    pub n_rec: Option<usize>,
    /// Trials per batch (`train.batch`, default 50).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Trials to train on (`train.trials`, default 50000).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Seed (`seed`, default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Adam learning rate (`train.learning_rate`, default 0.001).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Recurrent cell (`model.cell`, default leaky; docs/cells.md).
    #[arg(long, value_enum)]
    pub cell: Option<CellArg>,
    /// Transfer function (`model.transfer`).
    #[arg(long, value_enum)]
    pub transfer: Option<TransferArg>,
    /// Dale's law excitatory fraction (`model.dale_ratio`).
    #[arg(long)]
    pub dale_ratio: Option<f32>,
    /// Recurrent noise (`model.rec_noise`).
    #[arg(long)]
    pub rec_noise: Option<f32>,
    /// Worker threads (`train.threads`, 0 = all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Batches between checkpoints (`train.checkpoint_every`, default 100).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Checkpoint file (default: MODEL.ckpt.json).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint (after a crash, a kill or to train longer).
    #[arg(long)]
    pub resume: bool,
    /// Overwrite an existing output model or checkpoint (without it, they are never
    /// overwritten; a checkpoint of the same config suggests --resume).
    #[arg(long)]
    pub force: bool,
    /// Train sizes a blob cannot hold (n_rec > 1024, n_in or n_out > 256): the model
    /// stays float-only and `neuroloop quantize` refuses it.
    #[arg(long)]
    pub float_only: bool,
    /// Print the resolved config (file, then flags, then defaults) as TOML on stdout and
    /// exit without training.
    #[arg(long)]
    pub print_config: bool,
    /// Output model (native JSON float model).
    #[arg(short, long, required_unless_present = "print_config")]
    pub output: Option<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl From<TrainArgs> for TrainCmd {
    fn from(a: TrainArgs) -> Self {
        TrainCmd {
            task: a.task.map(TaskArg::name),
            config: a.config,
            n_rec: a.n_rec,
            batch: a.batch,
            trials: a.trials,
            seed: a.seed,
            lr: a.lr,
            cell: a.cell.map(Into::into),
            transfer: a.transfer.map(Into::into),
            dale_ratio: a.dale_ratio,
            rec_noise: a.rec_noise,
            threads: a.threads,
            checkpoint_every: a.checkpoint_every,
            checkpoint: a.checkpoint,
            resume: a.resume,
            force: a.force,
            float_only: a.float_only,
            print_config: a.print_config,
            output: a.output,
            json: a.json,
        }
    }
}
