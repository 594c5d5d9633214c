//! `neuroloop train`: config (TOML file, then flags) → a new or resumed [`Trainer`] →
//! the run with a progress bar → model and checkpoint, and a summary.

use crate::progress::Progress;
use crate::task::TASK_NAMES;
use crate::train::checkpoint::{default_path, Checkpoint};
use crate::train::{TrainConfig, TrainError, TrainSummary, Trainer};
use anyhow::Context;
use neuroloop_core::Transfer;
use std::path::{Path, PathBuf};

/// Typed config of `neuroloop train`: the config file and the keys the flags override.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TrainCmd {
    /// Task name (`task.name`).
    pub task: Option<String>,
    /// TOML config.
    pub config: Option<PathBuf>,
    /// `model.n_rec`.
    pub n_rec: Option<usize>,
    /// `train.batch`.
    pub batch: Option<usize>,
    /// `train.trials`.
    pub trials: Option<u64>,
    /// `seed`.
    pub seed: Option<u64>,
    /// `train.learning_rate`.
    pub lr: Option<f64>,
    /// `model.transfer`.
    pub transfer: Option<Transfer>,
    /// `model.dale_ratio`.
    pub dale_ratio: Option<f32>,
    /// `model.rec_noise`.
    pub rec_noise: Option<f32>,
    /// `train.threads`.
    pub threads: Option<usize>,
    /// `train.checkpoint_every`.
    pub checkpoint_every: Option<u64>,
    /// Checkpoint file (default: MODEL.ckpt.json).
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint.
    pub resume: bool,
    /// Output model.
    pub output: PathBuf,
    /// JSON summary on stdout.
    pub json: bool,
}

impl TrainCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// [`Trainer::run`] with the progress bar on stderr (loss, accuracy, trials/s; hidden off a
/// terminal), checkpointing to `ckpt` if given.
pub fn run_with_progress(
    trainer: &mut Trainer,
    ckpt: Option<&Path>,
) -> Result<TrainSummary, TrainError> {
    let total = trainer.total_batches();
    let bar = Progress::new(total, "train");
    let mut last = 0u64;
    let summary = trainer.run(ckpt, &mut |p| {
        if p.batch == total || p.batch >= last + 5 {
            last = p.batch;
            bar.update(
                p.batch,
                format!(
                    "loss {:.5} acc {:.3} {:.0} trials/s",
                    p.loss, p.accuracy, p.trials_per_sec
                ),
            );
        }
    });
    bar.finish();
    summary
}

/// Train and report.
pub fn run(cmd: &TrainCmd) -> anyhow::Result<()> {
    let ckpt_path = cmd
        .checkpoint
        .clone()
        .unwrap_or_else(|| default_path(&cmd.output));
    let from_file = match &cmd.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading config {}", p.display()))?;
            Some(TrainConfig::from_toml(&text, &p.display().to_string())?)
        }
        None => None,
    };
    let ckpt = if cmd.resume {
        Some(
            Checkpoint::load(&ckpt_path)
                .with_context(|| "--resume needs the checkpoint of an earlier run".to_string())?,
        )
    } else {
        None
    };
    let mut cfg = match (&from_file, &ckpt, &cmd.task) {
        (Some(c), _, _) => c.clone(),
        (None, Some(k), _) => k.config.clone(),
        (None, None, Some(name)) => TrainConfig::for_task(name),
        (None, None, None) => anyhow::bail!(
            "give --task NAME or --config FILE (tasks: {})",
            TASK_NAMES.join(", ")
        ),
    };
    if let Some(name) = &cmd.task {
        cfg.task.name = name.clone();
    }
    if let Some(v) = cmd.n_rec {
        cfg.model.n_rec = v;
    }
    if let Some(v) = cmd.batch {
        cfg.train.batch = v;
    }
    if let Some(v) = cmd.trials {
        cfg.train.trials = v;
    }
    if let Some(v) = cmd.seed {
        cfg.seed = v;
    }
    if let Some(v) = cmd.lr {
        cfg.train.learning_rate = v;
    }
    if let Some(v) = cmd.transfer {
        cfg.model.transfer = v.name().to_string();
    }
    if let Some(v) = cmd.dale_ratio {
        cfg.model.dale_ratio = Some(v);
    }
    if let Some(v) = cmd.rec_noise {
        cfg.model.rec_noise = v;
    }
    if let Some(v) = cmd.threads {
        cfg.train.threads = v;
    }
    if let Some(v) = cmd.checkpoint_every {
        cfg.train.checkpoint_every = v;
    }
    let mut trainer = match ckpt {
        Some(k) => {
            let done = k.batches_done;
            let t = Trainer::resume(k, Some(cfg))?;
            eprintln!(
                "resuming {} at batch {done} of {}",
                ckpt_path.display(),
                t.total_batches()
            );
            t
        }
        None => Trainer::new(cfg)?,
    };
    let summary = run_with_progress(&mut trainer, Some(&ckpt_path))?;
    let model = trainer.model();
    model
        .save(&cmd.output)
        .with_context(|| format!("writing {}", cmd.output.display()))?;
    if cmd.json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    eprintln!(
        "trained {}{}: {} batches ({} trials) in {:.2} s, loss {:.6}, last batch accuracy {:.4} ({}); model {}, checkpoint {}",
        model.name,
        if model.name == trainer.task().name() {
            String::new()
        } else {
            format!(" on {}", trainer.task().name())
        },
        summary.batches,
        summary.trials,
        summary.seconds,
        summary.loss,
        summary.accuracy,
        summary.stopped,
        cmd.output.display(),
        ckpt_path.display()
    );
    Ok(())
}
