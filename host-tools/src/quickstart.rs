//! `neuroloop quickstart`: the PsychRNN Hello World end to end — train perceptual
//! discrimination (dt 10, τ 100, T 2000, N_rec 50, batch 50, 50 000 trials), quantize it
//! to int16 and int8 with calibration trials from the task, and print float and fixed-point
//! accuracy on the same fresh trials, side by side.

use crate::eval::sample_trials;
use crate::model::FloatModel;
use crate::quantize::{quantize, QuantConfig, WeightFormat};
use crate::task::{build, AnyTask, TaskSpec};
use crate::train::config::TrainConfig;
use crate::train::{stream, Trainer};
use anyhow::Context;
use serde::Serialize;

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

/// Accuracy of a fixed-point blob on a batch, via the host simulator of the core.
pub fn blob_accuracy(
    bytes: &[u8],
    task: &dyn AnyTask,
    batch: &crate::task::Batch,
) -> anyhow::Result<f64> {
    let m = neuroloop_core::Model::from_bytes(bytes).map_err(|e| anyhow::anyhow!("blob: {e:?}"))?;
    let n = batch.n_trials;
    let mut out = vec![0.0f32; batch.y.len()];
    let per = batch.n_steps * batch.n_out;
    for b in 0..n {
        let tr = crate::sim::run_blob(&m, batch.trial_inputs(b));
        for (o, v) in out[b * per..(b + 1) * per].iter_mut().zip(&tr.outputs) {
            *o = *v as f32;
        }
    }
    Ok(task.accuracy(&batch.y, &out, &batch.mask, n))
}

/// Accuracy of the float model (f64 reference `Effective::run`) on a batch.
pub fn float_accuracy(model: &FloatModel, task: &dyn AnyTask, batch: &crate::task::Batch) -> f64 {
    let eff = model.effective();
    let per = batch.n_steps * batch.n_out;
    let mut out = vec![0.0f32; batch.y.len()];
    for b in 0..batch.n_trials {
        let tr = eff.run(batch.trial_inputs(b), None);
        for (o, v) in out[b * per..(b + 1) * per].iter_mut().zip(&tr.outputs) {
            *o = *v as f32;
        }
    }
    task.accuracy(&batch.y, &out, &batch.mask, batch.n_trials)
}

/// `neuroloop quickstart`.
pub fn run_cli(a: &crate::cli::QuickstartArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.seed = a.seed;
    cfg.train.trials = a.train_trials;
    cfg.train.checkpoint_every = 0;
    eprintln!(
        "1/3 training the PsychRNN Hello World: perceptual discrimination, N_rec {}, batch {}, {} trials",
        cfg.model.n_rec, cfg.train.batch, cfg.train.trials
    );
    let mut trainer = Trainer::new(cfg)?;
    let total = trainer.total_batches();
    let bar = crate::progress::Progress::new(total, "train");
    let summary = trainer.run(None, &mut |p| {
        if p.batch % 5 == 0 || p.batch == total {
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
    let summary = summary?;
    let model = trainer.model();
    let model_path = a.dir.join("hello-world.json");
    model.save(&model_path)?;
    eprintln!(
        "   {} trials in {:.1} s → {}",
        summary.trials,
        summary.seconds,
        model_path.display()
    );

    let task = build(&TaskSpec::named("perceptual-discrimination"))?;
    eprintln!("2/3 quantizing to int16 and int8 (calibration: 200 task trials)");
    let calib_batch = sample_trials(&*task, 200, a.seed, stream::CALIB);
    let calib: Vec<Vec<f32>> = (0..calib_batch.n_trials)
        .map(|b| calib_batch.trial_inputs(b).to_vec())
        .collect();
    let eval_batch = sample_trials(&*task, a.trials, a.seed, stream::EVAL);
    eprintln!(
        "3/3 accuracy on {} fresh trials (same trials for every format)",
        a.trials
    );
    let mut rows = vec![Row {
        format: "float32".into(),
        accuracy: float_accuracy(&model, &*task, &eval_batch),
        bytes: None,
    }];
    for (fmt, name) in [(WeightFormat::I16, "int16"), (WeightFormat::I8, "int8")] {
        let q = quantize(
            &model,
            &QuantConfig {
                weights: fmt,
                ..Default::default()
            },
            &calib,
        )
        .map_err(|e| anyhow::anyhow!("quantizing to {name}: {e}"))?;
        let path = a.dir.join(format!("hello-world-{name}.nlb"));
        crate::train::checkpoint::write_atomic(&path, &q.bytes)?;
        rows.push(Row {
            format: name.into(),
            accuracy: blob_accuracy(&q.bytes, &*task, &eval_batch)?,
            bytes: Some(q.bytes.len()),
        });
    }
    let report = QuickstartReport {
        train_seconds: summary.seconds,
        trained_trials: summary.trials,
        eval_trials: a.trials,
        rows,
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    eprintln!("\n  format    accuracy   blob bytes");
    for r in &report.rows {
        eprintln!(
            "  {:<8}  {:>8.4}   {}",
            r.format,
            r.accuracy,
            r.bytes.map(|b| b.to_string()).unwrap_or_else(|| "-".into())
        );
    }
    eprintln!("\nfiles in {}", a.dir.display());
    Ok(())
}
