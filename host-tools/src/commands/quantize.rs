//! `neuroloop quantize`: pick the calibration trials (the model's task, a named task, or
//! random task-like inputs), quantize ([`crate::quantize`]), check float against fixed on
//! held-out trials ([`crate::compare`]), write the blob and report.
//!
//! The blob is written only when the held-out check passes: an accuracy drop larger than
//! `--max-drop` points writes nothing and exits non-zero, unless `--allow-drop`. A
//! quantization without a check (no task, or `--eval-trials 0`) says so.

use super::report;
use crate::compare::{compare, estimate as compare_estimate, Comparison};
use crate::noise::{float_has_noise, Noise};
use crate::outputs::check_output;
use crate::quantize::{
    default_calibration, estimate_calibration, quantize, QuantConfig, QuantReport, WeightFormat,
};
use crate::task::{build, calibration_inputs, check_fit, TaskSpec, TASK_NAMES};
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;

/// Fewest calibration trials accepted (ranges from fewer trials miss the model's range).
pub const MIN_TRIALS: usize = 8;
/// Fewest steps per random calibration trial accepted.
pub const MIN_STEPS: usize = 20;
/// Steps per random calibration trial when `--steps` is not given.
pub const DEFAULT_STEPS: usize = 200;

/// Typed config of `neuroloop quantize`.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizeCmd {
    /// Float model to quantize.
    pub model: PathBuf,
    /// Weight format.
    pub weights: WeightFormat,
    /// Output blob.
    pub output: PathBuf,
    /// Calibration task (default: the model's own task, if it names a known one).
    pub calibrate_task: Option<String>,
    /// Calibration trials.
    pub trials: usize,
    /// Held-out trials for the float vs fixed check (0 = none).
    pub eval_trials: usize,
    /// Largest accepted drop of the held-out check, accuracy points.
    pub max_drop: f64,
    /// Write the blob even when the check drops more than `max_drop`.
    pub allow_drop: bool,
    /// Recurrent noise of the check's headline accuracy.
    pub noise: Noise,
    /// Overwrite an existing output.
    pub force: bool,
    /// Fold the mean weight-rounding error into the biases.
    pub bias_correction: bool,
    /// Steps per random calibration trial (no task); `None`: [`DEFAULT_STEPS`].
    pub steps: Option<usize>,
    /// Seed of the calibration inputs (held-out trials: seed + 1).
    pub seed: u64,
    /// JSON report on stdout.
    pub json: bool,
}

impl QuantizeCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_output(&self.output, &[&self.model], self.force)?;
        if self.trials < MIN_TRIALS {
            anyhow::bail!(
                "--trials is {}; calibrate on at least {MIN_TRIALS} trials (default 64)",
                self.trials
            );
        }
        if let Some(s) = self.steps {
            if s < MIN_STEPS {
                anyhow::bail!(
                    "--steps is {s}; random calibration trials need at least {MIN_STEPS} steps (default {DEFAULT_STEPS})"
                );
            }
        }
        if !(self.max_drop.is_finite() && self.max_drop >= 0.0) {
            anyhow::bail!(
                "--max-drop is {}; it must be a finite number of accuracy points ≥ 0",
                self.max_drop
            );
        }
        Ok(())
    }
}

/// The report `neuroloop quantize` prints with `--json`.
#[derive(Serialize, Debug)]
pub struct QuantizeJson {
    /// Output file (`null` when nothing was written).
    pub output: Option<String>,
    /// Formats chosen.
    pub quantization: QuantReport,
    /// Float vs fixed on held-out task trials (if a task was available).
    pub comparison: Option<Comparison>,
    /// Why there is no comparison, if there is none.
    pub no_check: Option<String>,
}

/// Print a size warning or refuse an absurd size (before the work it estimates).
fn check_cost(e: crate::cost::Estimate, what: &str, hint: &str) -> anyhow::Result<()> {
    if let Some(w) = e.check(what, hint)? {
        eprintln!("{w}");
    }
    Ok(())
}

/// Quantize and report.
pub fn run(cmd: &QuantizeCmd) -> anyhow::Result<()> {
    let model = crate::model::load(&cmd.model)?;
    let weights = cmd.weights;
    let task_name = cmd.calibrate_task.clone().or_else(|| {
        (TASK_NAMES.contains(&model.task.as_str()) || model.task_file.is_some())
            .then(|| model.task.clone())
    });
    if task_name.is_some() && cmd.steps.is_some() {
        anyhow::bail!(
            "--steps applies only to random calibration inputs; the task {} sets its own trial length",
            task_name.as_deref().unwrap_or_default()
        );
    }
    let task = match &task_name {
        Some(name) => {
            let mut spec = match (&cmd.calibrate_task, &model.task_file) {
                (Some(arg), _) => TaskSpec::from_arg(arg).context("--calibrate-task")?,
                (None, file) => TaskSpec {
                    file: file.clone(),
                    ..TaskSpec::named(name)
                },
            };
            spec.dt = model.dt;
            spec.tau = model.tau;
            let t = build(&spec).context("--calibrate-task")?;
            check_fit(
                &format!("{}: model", cmd.model.display()),
                model.n_in,
                model.n_out,
                &*t,
            )?;
            Some(t)
        }
        None => None,
    };
    let n = cmd.trials;
    let steps = match &task {
        Some(t) => t.dims().n_steps,
        None => cmd.steps.unwrap_or(DEFAULT_STEPS),
    };
    check_cost(
        estimate_calibration(&model, n, steps),
        &format!("quantize --trials {n} of {steps} steps"),
        "use fewer --trials (64 is plenty) or fewer --steps",
    )?;
    if let (Some(t), k) = (&task, cmd.eval_trials) {
        if k > 0 {
            check_cost(
                compare_estimate(&**t, model.n_rec, k, float_has_noise(&model)),
                &format!("quantize --eval-trials {k} of {steps} steps"),
                "use fewer --eval-trials",
            )?;
        }
    }
    let trials = match &task {
        Some(t) => calibration_inputs(t.as_ref(), n, cmd.seed),
        None => default_calibration(model.n_in, n, steps, cmd.seed),
    };
    let source = task_name.as_deref().unwrap_or("random inputs");
    let cfg = QuantConfig {
        weights,
        bias_correction: cmd.bias_correction,
        summary: format!(
            "{} weights, calibrated on {n} trials of {source}",
            weights.name()
        ),
        ..Default::default()
    };
    let q = quantize(&model, &cfg, &trials)
        .with_context(|| format!("quantizing {}", cmd.model.display()))?;
    let (comparison, no_check) = match (&task, cmd.eval_trials) {
        (Some(t), k) if k > 0 => (
            Some(compare(
                Some(&model),
                &q.bytes,
                t.as_ref(),
                k,
                cmd.seed.wrapping_add(1),
                cmd.noise,
            )?),
            None,
        ),
        (Some(_), _) => (None, Some("--eval-trials 0: no held-out check".to_string())),
        (None, _) => (
            None,
            Some(format!(
                "no held-out check: {} names no known task (task {:?}); pass --calibrate-task NAME to check accuracy",
                cmd.model.display(),
                model.task
            )),
        ),
    };
    let drop = comparison.as_ref().and_then(|c| c.accuracy_drop_points);
    let failed = drop.filter(|&d| d > cmd.max_drop);
    let write = failed.is_none() || cmd.allow_drop;
    if write {
        crate::model::file::write_atomic(&cmd.output, &q.bytes)?;
    }
    let r = &q.report;
    if cmd.json {
        let rep = QuantizeJson {
            output: write.then(|| cmd.output.display().to_string()),
            quantization: r.clone(),
            comparison: comparison.clone(),
            no_check: no_check.clone(),
        };
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        let verb = if write { "wrote" } else { "did not write" };
        eprintln!(
            "{verb} {} ({} bytes, {} weights, calibrated on {n} trials of {source})",
            cmd.output.display(),
            r.blob_bytes,
            r.weights.name()
        );
        eprintln!(
            "  formats       state Q{}.{}, input Q{}.{}, output Q{}.{}, alpha {}/32768",
            15 - r.state_frac,
            r.state_frac,
            15 - r.input_frac,
            r.input_frac,
            15 - r.output_frac,
            r.output_frac,
            r.alpha_q15
        );
        eprintln!(
            "  ranges        |state| {:.3}, |input| {:.3}, |output| {:.3}; {} saturated weights, max weight error {:.2e}",
            r.ranges.state, r.ranges.input, r.ranges.output, r.saturated_weights, r.max_weight_error
        );
        if let Some(c) = &comparison {
            eprint!("{}", report::comparison(c, "held-out check"));
        }
        if let Some(why) = &no_check {
            eprintln!("  {why}");
        }
    }
    if let (Some(d), false) = (failed, cmd.allow_drop) {
        anyhow::bail!(
            "held-out check: accuracy drops {d:.2} points (more than --max-drop {}); nothing written to {} (pass --allow-drop to write it anyway)",
            cmd.max_drop,
            cmd.output.display()
        );
    }
    if let Some(d) = failed {
        eprintln!(
            "warning: accuracy drops {d:.2} points (more than --max-drop {}); written because of --allow-drop",
            cmd.max_drop
        );
    }
    Ok(())
}
