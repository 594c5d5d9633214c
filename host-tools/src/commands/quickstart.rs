//! `neuroloop quickstart`: the PsychRNN Hello World end to end — train perceptual
//! discrimination (dt 10, τ 100, T 2000, N_rec 50, batch 50, 50 000 trials), quantize it
//! to int16 and int8 with calibration trials from the task, and print float and fixed-point
//! accuracy on the same fresh trials, side by side.

use super::train::run_with_progress;
use crate::compare::compare;
use crate::quantize::{quantize, QuantConfig, WeightFormat};
use crate::task::{build, calibration_inputs, TaskSpec};
use crate::train::{TrainConfig, Trainer};
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
    /// JSON report on stdout.
    pub json: bool,
}

impl QuickstartCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
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
    std::fs::create_dir_all(&cmd.dir).with_context(|| format!("creating {}", cmd.dir.display()))?;
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.seed = cmd.seed;
    cfg.train.trials = cmd.train_trials;
    cfg.train.checkpoint_every = 0;
    eprintln!(
        "1/3 training the PsychRNN Hello World: perceptual discrimination, N_rec {}, batch {}, {} trials",
        cfg.model.n_rec, cfg.train.batch, cfg.train.trials
    );
    let mut trainer = Trainer::new(cfg)?;
    let summary = run_with_progress(&mut trainer, None)?;
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
    eprintln!("2/3 quantizing to int16 and int8 (calibration: 200 task trials)");
    let calib = calibration_inputs(&*task, 200, cmd.seed);
    eprintln!(
        "3/3 accuracy on {} fresh trials (same trials for every format)",
        cmd.trials
    );
    let mut rows = Vec::new();
    for (fmt, name) in [(WeightFormat::I16, "int16"), (WeightFormat::I8, "int8")] {
        let cfg = QuantConfig {
            weights: fmt,
            ..Default::default()
        };
        let q = quantize(&model, &cfg, &calib)
            .map_err(|e| anyhow::anyhow!("quantizing to {name}: {e}"))?;
        let path = cmd.dir.join(format!("hello-world-{name}.nlb"));
        crate::model::file::write_atomic(&path, &q.bytes)?;
        let c = compare(
            Some(&model),
            &q.bytes,
            &*task,
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
    let report = QuickstartReport {
        train_seconds: summary.seconds,
        trained_trials: summary.trials,
        eval_trials: cmd.trials,
        rows,
    };
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
    eprintln!("\nfiles in {}", cmd.dir.display());
    Ok(())
}
