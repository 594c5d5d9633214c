//! `neuroloop train`: config (TOML file, then flags) → checks (every key's range, blob
//! limits unless `--float-only`, output and checkpoint paths, memory and time estimate)
//! → a new or resumed [`Trainer`] → the run with progress → model and checkpoint, and a
//! summary. Ctrl-C stops between two batches, saves the checkpoint and prints the
//! command that resumes (exit code 130).

use crate::cost::{bytes, memory_limit};
use crate::outputs::{check_output, check_writable_dir, same_file};
use crate::progress::Progress;
use crate::task::{TaskSpec, TASK_NAMES};
use crate::train::checkpoint::{default_path, resume_diff, Checkpoint};
use crate::train::estimate::{check_deployable, TrainEstimate};
use crate::train::{log_path, LogRow, TrainConfig, TrainError, TrainLog, TrainSummary, Trainer};
use anyhow::Context;
use neuroloop_core::Transfer;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
    /// `model.cell`.
    pub cell: Option<crate::model::Cell>,
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
    /// Overwrite an existing output model or checkpoint.
    pub force: bool,
    /// Allow sizes a blob cannot hold (the model stays float-only).
    pub float_only: bool,
    /// Print the resolved config as TOML on stdout and stop.
    pub print_config: bool,
    /// Output model (required unless `print_config`).
    pub output: Option<PathBuf>,
    /// JSON summary on stdout.
    pub json: bool,
}

impl TrainCmd {
    /// Check the flags before any work starts (the resolved config is checked as the
    /// first step of [`run`], once the config file and checkpoint are read).
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.output.is_none() && !self.print_config {
            anyhow::bail!("give the output model with -o MODEL.json");
        }
        if self.config.is_none() && self.task.is_none() && !self.resume {
            anyhow::bail!(
                "give --task NAME or --config FILE (tasks: {})",
                TASK_NAMES.join(", ")
            );
        }
        Ok(())
    }

    /// The checkpoint path: `--checkpoint`, or MODEL.ckpt.json.
    fn checkpoint_path(&self, output: &Path) -> PathBuf {
        self.checkpoint
            .clone()
            .unwrap_or_else(|| default_path(output))
    }

    /// The config this run uses: the file (with `--task` filling or overriding
    /// `task.name`), else the checkpoint's when resuming, else the task's defaults; then
    /// the flags on top.
    fn resolve(&self, ckpt: Option<&Checkpoint>) -> anyhow::Result<TrainConfig> {
        let spec = self.task.as_deref().map(TaskSpec::from_arg).transpose()?;
        let task = spec.as_ref().map(|s| s.name.as_str());
        // Whether the config file sets `train.trials` (else the task's own length applies)
        // and `init.chrono_tmax` (else the task's `lstm_chrono_tmax` applies).
        let (mut file_trials, mut file_chrono) = (true, true);
        let mut cfg = match (&self.config, ckpt, task) {
            (Some(p), _, task) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading config {}", p.display()))?;
                let table = toml::from_str::<toml::Table>(&text).ok();
                let has = |section: &str, key: &str| {
                    table
                        .as_ref()
                        .and_then(|t| t.get(section)?.as_table()?.get(key))
                        .is_some()
                };
                file_trials = has("train", "trials");
                file_chrono = has("init", "chrono_tmax");
                TrainConfig::from_toml_with_task(&text, &p.display().to_string(), task)?
            }
            (None, Some(k), _) => k.config.clone(),
            (None, None, Some(name)) => {
                // The task file's defaults apply below.
                (file_trials, file_chrono) = (false, false);
                TrainConfig::for_task(name)
            }
            (None, None, None) => anyhow::bail!(
                "give --task NAME or --config FILE (tasks: {})",
                TASK_NAMES.join(", ")
            ),
        };
        if let Some(s) = spec {
            cfg.task.name = s.name;
            cfg.task.file = s.file;
        }
        // `--task` alone, or a config file without `train.trials`, trains for the task's own
        // length (`trials`, or `gated_trials` for a gated cell); --trials overrides.
        if !file_trials && self.trials.is_none() {
            let cell = self.cell.unwrap_or(cfg.model.cell);
            if let Some(n) = crate::task::builtin::default_trials(&cfg.task, cell) {
                cfg.train.trials = n;
            }
        }
        // Likewise the task file's `lstm_chrono_tmax` for the `lstm` cell, unless the config
        // file sets `init.chrono_tmax` (a resumed run keeps its checkpoint's config).
        if !file_chrono {
            let cell = self.cell.unwrap_or(cfg.model.cell);
            if let Some(t) = crate::task::builtin::default_chrono_tmax(&cfg.task, cell) {
                cfg.init.chrono_tmax = t;
            }
        }
        let c = &mut cfg;
        set(&mut c.model.n_rec, self.n_rec);
        set(&mut c.train.batch, self.batch);
        set(&mut c.train.trials, self.trials);
        set(&mut c.seed, self.seed);
        set(&mut c.train.learning_rate, self.lr);
        set(&mut c.model.cell, self.cell);
        set(
            &mut c.model.transfer,
            self.transfer.map(|t| t.name().to_string()),
        );
        set(&mut c.model.dale_ratio, self.dale_ratio.map(Some));
        set(&mut c.model.rec_noise, self.rec_noise);
        set(&mut c.train.threads, self.threads);
        set(&mut c.train.checkpoint_every, self.checkpoint_every);
        Ok(cfg)
    }

    /// Output and checkpoint paths: nothing existing overwritten without `--force` (a
    /// checkpoint of this very config suggests `--resume` instead), the model never the
    /// checkpoint or the config, both folders writable.
    fn check_paths(&self, output: &Path, ckpt: &Path, cfg: &TrainConfig) -> anyhow::Result<()> {
        if same_file(output, ckpt) {
            anyhow::bail!(
                "-o {} and the checkpoint {} are the same file: the checkpoint would overwrite the model; choose another --checkpoint",
                output.display(),
                ckpt.display()
            );
        }
        let inputs: Vec<&Path> = self.config.iter().map(PathBuf::as_path).collect();
        if let Some(conf) = self.config.as_deref().filter(|c| same_file(ckpt, c)) {
            anyhow::bail!(
                "the checkpoint {} is the config file {}: writing it would destroy the config; choose another --checkpoint",
                ckpt.display(),
                conf.display()
            );
        }
        if !self.resume && !self.force && ckpt.exists() {
            anyhow::bail!(existing_checkpoint(ckpt, cfg));
        }
        check_writable_dir(ckpt)?;
        check_output(output, &inputs, self.force)?;
        Ok(())
    }
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

/// Why an existing checkpoint stops a new run, and what to type instead.
fn existing_checkpoint(ckpt: &Path, cfg: &TrainConfig) -> String {
    let p = ckpt.display();
    match Checkpoint::load(ckpt) {
        Ok(k) if resume_diff(&k.config, cfg).is_none() => {
            let total = k.config.train.trials.div_ceil(k.config.train.batch as u64).saturating_sub(1);
            if k.finished && k.batches_done >= cfg.train.trials.div_ceil(cfg.train.batch as u64).saturating_sub(1) {
                format!(
                    "checkpoint {p} is from a finished run of this config ({} batches); to train longer raise --trials and run: {} (with --force to replace the model); to start over pass --force (overwrites it)",
                    k.batches_done,
                    resume_command()
                )
            } else {
                format!(
                    "checkpoint {p} holds {} of {total} batches of this config; to continue it run: {} ; to start over pass --force (overwrites it)",
                    k.batches_done,
                    resume_command()
                )
            }
        }
        Ok(k) => {
            let (key, a, b) = resume_diff(&k.config, cfg).unwrap_or_default();
            format!("checkpoint {p} already exists, from another config (`{key}` is {a} there, {b} now); pass --force to overwrite it, or choose another --checkpoint")
        }
        Err(_) => format!(
            "checkpoint {p} already exists and is not a neuroloop checkpoint; pass --force to overwrite it, or choose another --checkpoint"
        ),
    }
}

/// This process's command line with `--resume` added: what to type to continue.
pub fn resume_command() -> String {
    let mut args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--resume") {
        args.push("--resume".into());
    }
    // Arguments are C strings: they never hold a NUL byte, the one thing shlex refuses.
    shlex::try_join(args.iter().map(String::as_str)).unwrap_or_else(|_| args.join(" "))
}

/// [`Trainer::run`] with progress on stderr (a bar on a terminal; plain lines with loss,
/// accuracy, trials/s and ETA otherwise), checkpointing to `ckpt` if given.
pub fn run_with_progress(
    trainer: &mut Trainer,
    ckpt: Option<&Path>,
    mut log: Option<&mut TrainLog>,
) -> Result<TrainSummary, TrainError> {
    let total = trainer.total_batches();
    let bar = Progress::new(total, "train batches");
    let mut last = 0u64;
    let batch = trainer.config.train.batch as u64;
    let start = std::time::Instant::now();
    let mut log_failed = false;
    let summary = trainer.run(ckpt, &mut |p| {
        if let (Some(l), false) = (log.as_deref_mut(), log_failed) {
            let row = LogRow {
                batch: p.batch,
                trials: p.batch * batch,
                loss: p.loss,
                accuracy: p.accuracy,
                seconds: start.elapsed().as_secs_f64(),
            };
            // A full disk must not cost the training run: warn once, train on.
            if let Err(e) = l.append(row) {
                log_failed = true;
                eprintln!("warning: training log not written any more: {e}");
            }
        }
        if p.batch == total || p.batch >= last + 5 {
            last = p.batch;
            bar.update(
                p.batch,
                format!(
                    "{} trials, loss {:.5} acc {:.4}, {:.0} trials/s",
                    p.batch * batch,
                    p.loss,
                    p.accuracy,
                    p.trials_per_sec
                ),
            );
        }
    });
    bar.finish();
    summary
}

/// Warn about a large run, refuse one the machine cannot hold (`what` names the run,
/// `reduce` the settings that size it).
pub fn check_estimate(e: &TrainEstimate, what: &str, reduce: &str) -> anyhow::Result<()> {
    let (limit, why) = memory_limit();
    if e.memory_bytes > limit {
        anyhow::bail!(
            "{what} would need ~{} of memory, more than the limit of {} ({why}); reduce {reduce}",
            bytes(e.memory_bytes),
            bytes(limit)
        );
    }
    if e.is_large() {
        eprintln!("warning: large run: {}", e.describe());
    }
    Ok(())
}

/// Train and report.
pub fn run(cmd: &TrainCmd) -> anyhow::Result<()> {
    let output = cmd.output.clone().unwrap_or_default();
    let ckpt_path = cmd.checkpoint_path(&output);
    let ckpt = if cmd.resume {
        Some(Checkpoint::load(&ckpt_path).with_context(|| {
            format!(
                "--resume needs the checkpoint of an earlier run ({})",
                ckpt_path.display()
            )
        })?)
    } else {
        None
    };
    let cfg = cmd.resolve(ckpt.as_ref())?;
    if cmd.print_config {
        print!("{}", cfg.to_toml());
        return Ok(());
    }
    cfg.validate()?;
    if !cmd.float_only {
        check_deployable(&cfg)?;
    }
    cmd.check_paths(&output, &ckpt_path, &cfg)?;
    check_estimate(
        &TrainEstimate::of(&cfg)?,
        "this training run",
        "model.n_rec (--n-rec), train.batch (--batch) or the trial length (task.t / task.dt)",
    )?;
    let log_file = log_path(&ckpt_path);
    let mut log = match &ckpt {
        Some(k) => TrainLog::resume(&log_file, k.batches_done),
        None => TrainLog::create(&log_file),
    }?;
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
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // A second Ctrl-C while the checkpoint is written is ignored; SIGKILL still works and
    // the checkpoint write is atomic.
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    trainer.set_stop_flag(stop);
    let summary = match run_with_progress(&mut trainer, Some(&ckpt_path), Some(&mut log)) {
        Err(e @ TrainError::Interrupted { .. }) => {
            eprintln!("stopped by Ctrl-C; to continue run: {}", resume_command());
            return Err(e.into());
        }
        r => r?,
    };
    let model = trainer.model();
    model
        .save(&output)
        .with_context(|| format!("writing {}", output.display()))?;
    if cmd.json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    eprintln!(
        "trained {}{}: {} batches ({} trials) in {:.2} s, loss {:.6}, last batch accuracy {:.4} ({}); model {}, checkpoint {}, log {}",
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
        output.display(),
        ckpt_path.display(),
        log.path().display()
    );
    Ok(())
}
