//! `neuroloop quantize`: pick the calibration trials (the model's task, a named task, or
//! random task-like inputs), quantize ([`crate::quantize`]), check float against fixed on
//! held-out trials ([`crate::compare`]), write the blob and report.

use crate::compare::{compare, render, Comparison};
use crate::quantize::{default_calibration, quantize, QuantConfig, QuantReport, WeightFormat};
use crate::task::{build, calibration_inputs, check_fit, TaskSpec, TASK_NAMES};
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;

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
    /// Held-out trials for the float vs fixed report (0 = none).
    pub eval_trials: usize,
    /// Fold the mean weight-rounding error into the biases.
    pub bias_correction: bool,
    /// Steps per random calibration trial (no task).
    pub steps: usize,
    /// Seed of the calibration inputs (held-out trials: seed + 1).
    pub seed: u64,
    /// JSON report on stdout.
    pub json: bool,
}

impl QuantizeCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The report `neuroloop quantize` prints with `--json`.
#[derive(Serialize, Debug)]
pub struct QuantizeJson {
    /// Output file.
    pub output: String,
    /// Formats chosen.
    pub quantization: QuantReport,
    /// Float vs fixed on held-out task trials (if a task was available).
    pub comparison: Option<Comparison>,
}

/// Quantize and report.
pub fn run(cmd: &QuantizeCmd) -> anyhow::Result<()> {
    let model = crate::model::load(&cmd.model)?;
    let weights = cmd.weights;
    let task_name = cmd.calibrate_task.clone().or_else(|| {
        TASK_NAMES
            .contains(&model.task.as_str())
            .then(|| model.task.clone())
    });
    let task = match &task_name {
        Some(name) => {
            let mut spec = TaskSpec::named(name);
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
    let n = cmd.trials.max(1);
    let trials = match &task {
        Some(t) => calibration_inputs(t.as_ref(), n, cmd.seed),
        None => default_calibration(model.n_in, n, cmd.steps.max(1), cmd.seed),
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
    let comparison = match (&task, cmd.eval_trials) {
        (Some(t), k) if k > 0 => Some(compare(
            Some(&model),
            &q.bytes,
            t.as_ref(),
            k,
            cmd.seed.wrapping_add(1),
        )?),
        _ => None,
    };
    crate::model::file::write_atomic(&cmd.output, &q.bytes)?;
    let r = &q.report;
    if cmd.json {
        let rep = QuantizeJson {
            output: cmd.output.display().to_string(),
            quantization: r.clone(),
            comparison,
        };
        println!("{}", serde_json::to_string_pretty(&rep)?);
        return Ok(());
    }
    eprintln!(
        "wrote {} ({} bytes, {} weights, calibrated on {n} trials of {source})",
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
        eprint!("{}", render(c, "held-out check"));
    }
    Ok(())
}
