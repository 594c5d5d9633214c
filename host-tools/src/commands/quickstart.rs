//! `neuroloop quickstart`: the PsychRNN Hello World end to end — train perceptual
//! discrimination (dt 10, τ 100, T 2000, N_rec 50, batch 50, 50 000 trials), quantize it
//! to int16 and int8 with calibration trials from the task, and print float and fixed-point
//! accuracy on the same fresh trials, side by side.
//!
//! It also writes the training log and three plots (loss, psychometric curve, trials;
//! [`crate::plot`]) beside the model. With `--cell gru|lstm|lstm-psychrnn` the network is
//! that cell, quantized the same way (docs/cells.md).
//!
//! Its folder (`--dir`) is quickstart's own: a second run replaces the seven files it
//! wrote ([`OUTPUT_FILES`], said on stderr before any work) and touches nothing else, so
//! the README's first command works on a fresh clone and when run again.

use super::plot::{PlotCmd, PlotKind};
use super::train::run_with_progress;
use crate::compare::compare;
use crate::model::Cell;
use crate::outputs::check_writable_dir;
use crate::quantize::{quantize, QuantConfig, WeightFormat};
use crate::task::{build, calibration_inputs, TaskSpec};
use crate::train::{TrainConfig, TrainLog, Trainer};
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;

/// Typed config of `neuroloop quickstart`.
#[derive(Clone, Debug, PartialEq)]
pub struct QuickstartCmd {
    /// Folder for the trained model and blobs.
    pub dir: PathBuf,
    /// Evaluation trials.
    pub trials: usize,
    /// Training trials.
    pub train_trials: u64,
    /// Seed.
    pub seed: u64,
    /// Recurrent cell.
    pub cell: Cell,
    /// JSON report on stdout.
    pub json: bool,
}

/// The files quickstart writes in its folder; a second run replaces them (the folder is
/// quickstart's own), nothing else there is touched.
pub const OUTPUT_FILES: [&str; 7] = [
    "hello-world.json",
    "hello-world-int16.nlb",
    "hello-world-int8.nlb",
    "hello-world.log.tsv",
    "hello-world-loss.png",
    "hello-world-psychometric.png",
    "hello-world-trials.png",
];

/// Most evaluation trials.
pub const MAX_EVAL_TRIALS: usize = 100_000;

impl QuickstartCmd {
    /// Check the config before any work starts: the training config, the evaluation
    /// trials, and that the folder is (or can be made) a writable folder.
    pub fn validate(&self) -> anyhow::Result<()> {
        let cfg = self.train_config();
        let min = 2 * cfg.train.batch as u64;
        if self.train_trials < min {
            anyhow::bail!(
                "--train-trials is {}, must be at least 2 batches = {min} trials (batch {})",
                self.train_trials,
                cfg.train.batch
            );
        }
        cfg.validate()?;
        if !(1..=MAX_EVAL_TRIALS).contains(&self.trials) {
            anyhow::bail!(
                "--trials is {}, must be in 1..={MAX_EVAL_TRIALS}",
                self.trials
            );
        }
        if self.dir.exists() && !self.dir.is_dir() {
            anyhow::bail!("--dir {} exists and is not a folder", self.dir.display());
        }
        let probe = if self.dir.is_dir() {
            self.dir.join(OUTPUT_FILES[0])
        } else {
            self.dir.clone()
        };
        check_writable_dir(&probe)?;
        for f in OUTPUT_FILES {
            if self.dir.join(f).is_dir() {
                anyhow::bail!(
                    "{} is a folder; quickstart writes a file there",
                    self.dir.join(f).display()
                );
            }
        }
        Ok(())
    }

    /// The PsychRNN Hello World training config with this run's seed and trials.
    pub fn train_config(&self) -> TrainConfig {
        let mut cfg = TrainConfig::for_task("perceptual-discrimination");
        cfg.seed = self.seed;
        cfg.model.cell = self.cell;
        cfg.train.trials = self.train_trials;
        cfg.train.checkpoint_every = 0;
        cfg
    }
}

/// One row of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// `float32`, `int16`, `int8`.
    pub format: String,
    /// Accuracy on the evaluation trials.
    pub accuracy: f64,
    /// Parameter bytes (fixed-point blobs only).
    pub bytes: Option<usize>,
}

/// Accuracy of float and fixed-point versions on the same trials.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuickstartReport {
    /// Training seconds.
    pub train_seconds: f64,
    /// Trials trained on.
    pub trained_trials: u64,
    /// Evaluation trials.
    pub eval_trials: usize,
    /// Rows.
    pub rows: Vec<Row>,
}

/// Train, quantize, compare and report.
pub fn run(cmd: &QuickstartCmd) -> anyhow::Result<()> {
    let previous: Vec<&str> = OUTPUT_FILES
        .into_iter()
        .filter(|f| cmd.dir.join(f).exists())
        .collect();
    if !previous.is_empty() {
        eprintln!(
            "replacing the previous quickstart outputs in {}: {}",
            cmd.dir.display(),
            previous.join(", ")
        );
    }
    std::fs::create_dir_all(&cmd.dir).with_context(|| format!("creating {}", cmd.dir.display()))?;
    let cfg = cmd.train_config();
    eprintln!(
        "1/3 training the PsychRNN Hello World: perceptual discrimination, {} cell, N_rec {}, batch {}, {} trials",
        cfg.model.cell, cfg.model.n_rec, cfg.train.batch, cfg.train.trials
    );
    let mut trainer = Trainer::new(cfg)?;
    let mut log = TrainLog::create(&cmd.dir.join("hello-world.log.tsv"))?;
    let summary = run_with_progress(&mut trainer, None, Some(&mut log))?;
    let model = trainer.model();
    let model_path = cmd.dir.join("hello-world.json");
    model.save(&model_path)?;
    eprintln!(
        "   {} trials in {:.1} s → {}",
        summary.trials,
        summary.seconds,
        model_path.display()
    );

    let task = build(&TaskSpec::named("perceptual-discrimination"))?;
    let mut rows = Vec::new();
    quantized_rows(cmd, &model, &*task, &mut rows)?;
    let report = QuickstartReport {
        train_seconds: summary.seconds,
        trained_trials: summary.trials,
        eval_trials: cmd.trials,
        rows,
    };
    finish(cmd, &report, &log, &model_path)
}

/// Quantize the model to int16 and int8 and fill the comparison rows.
fn quantized_rows(
    cmd: &QuickstartCmd,
    model: &crate::model::FloatModel,
    task: &dyn crate::task::AnyTask,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    eprintln!("2/3 quantizing to int16 and int8 (calibration: 200 task trials)");
    let calib = calibration_inputs(task, 200, cmd.seed);
    eprintln!(
        "3/3 accuracy on {} fresh trials (same trials for every format)",
        cmd.trials
    );
    for (fmt, name) in [(WeightFormat::I16, "int16"), (WeightFormat::I8, "int8")] {
        let cfg = QuantConfig {
            weights: fmt,
            ..Default::default()
        };
        let q = quantize(model, &cfg, &calib)
            .map_err(|e| anyhow::anyhow!("quantizing to {name}: {e}"))?;
        let path = cmd.dir.join(format!("hello-world-{name}.nlb"));
        crate::model::file::write_atomic(&path, &q.bytes)?;
        let c = compare(
            Some(model),
            &q.bytes,
            task,
            cmd.trials,
            cmd.seed,
            crate::noise::Noise::Off,
        )?;
        if rows.is_empty() {
            rows.push(Row {
                format: "float32".into(),
                accuracy: c.float_accuracy.unwrap_or(f64::NAN),
                bytes: None,
            });
        }
        rows.push(Row {
            format: name.into(),
            accuracy: c.fixed_accuracy,
            bytes: Some(q.bytes.len()),
        });
    }
    Ok(())
}

/// Print the table, draw the plots.
fn finish(
    cmd: &QuickstartCmd,
    report: &QuickstartReport,
    log: &TrainLog,
    model_path: &std::path::Path,
) -> anyhow::Result<()> {
    if cmd.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    eprintln!("\n  format    accuracy   blob bytes");
    for r in &report.rows {
        eprintln!(
            "  {:<8}  {:>8}   {}",
            r.format,
            super::report::accuracy(r.accuracy),
            r.bytes.map(|b| b.to_string()).unwrap_or_else(|| "-".into())
        );
    }
    eprintln!();
    let plots = [
        (
            PlotKind::Loss {
                log: log.path().to_path_buf(),
            },
            "hello-world-loss.png",
        ),
        (
            PlotKind::Psychometric {
                x: None,
                channel: 1,
                lapses: false,
            },
            "hello-world-psychometric.png",
        ),
        (PlotKind::Trials { by: None }, "hello-world-trials.png"),
    ];
    for (kind, file) in plots {
        super::plot::run(&PlotCmd {
            model: Some(model_path.to_path_buf()),
            task: None,
            trials: None,
            seed: cmd.seed,
            output: cmd.dir.join(file),
            force: true,
            json: false,
            kind,
        })?;
    }
    eprintln!("\nfiles in {}", cmd.dir.display());
    Ok(())
}
