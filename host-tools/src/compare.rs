//! Float against fixed point on the very same task trials: accuracy, output error,
//! state error and saturation counts.
//!
//! Trials are drawn exactly as `neuroloop eval` draws them (stream `EVAL` of
//! [`crate::task::trial_rng`] under the seed, 1 000 trials a batch), so the float accuracy here equals
//! `neuroloop eval --seed S` on the float model. The float side runs the f64 reference
//! ([`Effective::run`](crate::model::Effective::run)), noise off; the fixed side runs the
//! blob in `neuroloop-core` ([`crate::sim`]), the code the firmware runs.

use crate::model::FloatModel;
use crate::task::{check_fit, stream, task_trials, AnyTask, FitError};
use neuroloop_core::Model;
use serde::Serialize;

/// Float vs fixed on one set of trials.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Comparison {
    /// Task name.
    pub task: String,
    /// Trials.
    pub trials: usize,
    /// Trial seed.
    pub seed: u64,
    /// Task accuracy of the float model (if one was given).
    pub float_accuracy: Option<f64>,
    /// Task accuracy of the blob.
    pub fixed_accuracy: f64,
    /// `100 · (float − fixed)` accuracy points.
    pub accuracy_drop_points: Option<f64>,
    /// RMSE between float and fixed outputs over all steps.
    pub output_rmse: Option<f64>,
    /// Range (max − min) of the float outputs.
    pub output_range: Option<f64>,
    /// Largest |float state − fixed state|.
    pub max_state_error: Option<f64>,
    /// Fixed-point state values at the `i16` rails (saturated), over all units and steps.
    pub state_saturations: usize,
    /// Fixed-point outputs at the `i16` rails.
    pub output_saturations: usize,
    /// State values counted (units × steps × trials).
    pub state_values: usize,
}

/// Errors comparing.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The blob does not decode.
    #[error("invalid blob: {0}")]
    Blob(neuroloop_core::Error),
    /// Sizes disagree.
    #[error(transparent)]
    Mismatch(#[from] FitError),
    /// No trials.
    #[error("--trials must be at least 1")]
    NoTrials,
}

/// Run `blob` (and `float`, if given) on `trials` evaluation trials of `task`.
pub fn compare(
    float: Option<&FloatModel>,
    blob: &[u8],
    task: &dyn AnyTask,
    trials: usize,
    seed: u64,
) -> Result<Comparison, CompareError> {
    if trials == 0 {
        return Err(CompareError::NoTrials);
    }
    let model = Model::from_bytes(blob).map_err(CompareError::Blob)?;
    let d = task.dims();
    check_fit("the blob", model.n_in(), model.n_out(), task)?;
    if let Some(f) = float {
        check_fit("the float model", f.n_in, f.n_out, task)?;
    }
    let batch = task_trials(task, trials, seed, stream::EVAL);
    let eff = float.map(|f| f.effective());
    let mut fixed_out = Vec::with_capacity(batch.y.len());
    let mut float_out = Vec::with_capacity(if eff.is_some() { batch.y.len() } else { 0 });
    let (mut sq, mut lo, mut hi, mut max_state) = (0.0f64, f64::MAX, f64::MIN, 0.0f64);
    let (mut state_sat, mut out_sat) = (0usize, 0usize);
    let rail = |v: f64, frac: u8| {
        let q = v * f64::from(1u32 << frac);
        q >= 32767.0 || q <= -32768.0
    };
    for i in 0..trials {
        let x = batch.trial_inputs(i);
        let fx = crate::sim::run_blob(&model, x);
        state_sat += fx
            .states
            .iter()
            .filter(|&&v| rail(v, model.state_frac()))
            .count();
        out_sat += fx
            .outputs
            .iter()
            .filter(|&&v| rail(v, model.output_frac()))
            .count();
        if let Some(e) = &eff {
            let fl = e.run(x, None);
            for (a, b) in fl.outputs.iter().zip(&fx.outputs) {
                sq += (a - b) * (a - b);
                lo = lo.min(*a);
                hi = hi.max(*a);
            }
            for (a, b) in fl.states.iter().zip(&fx.states) {
                max_state = max_state.max((a - b).abs());
            }
            float_out.extend(fl.outputs.iter().map(|&v| v as f32));
        }
        fixed_out.extend(fx.outputs.iter().map(|&v| v as f32));
    }
    let fixed_accuracy = task.accuracy(&batch.y, &fixed_out, &batch.mask, trials);
    let float_accuracy = eff
        .as_ref()
        .map(|_| task.accuracy(&batch.y, &float_out, &batch.mask, trials));
    let has_float = eff.is_some();
    Ok(Comparison {
        task: task.name().into(),
        trials,
        seed,
        float_accuracy,
        fixed_accuracy,
        accuracy_drop_points: float_accuracy.map(|f| 100.0 * (f - fixed_accuracy)),
        output_rmse: has_float.then(|| (sq / fixed_out.len() as f64).sqrt()),
        output_range: has_float.then_some(hi - lo),
        max_state_error: has_float.then_some(max_state),
        state_saturations: state_sat,
        output_saturations: out_sat,
        state_values: trials * d.n_steps * model.n_rec(),
    })
}

/// Human-readable lines for a comparison.
pub fn render(c: &Comparison, label: &str) -> String {
    let pct = |v: f64| format!("{:.2} %", 100.0 * v);
    let mut s = format!(
        "{label}: {} trials of {} (seed {})\n",
        c.trials, c.task, c.seed
    );
    if let Some(f) = c.float_accuracy {
        s += &format!(
            "  accuracy      float {}   fixed {}   drop {:+.2} points\n",
            pct(f),
            pct(c.fixed_accuracy),
            c.accuracy_drop_points.unwrap_or(0.0)
        );
    } else {
        s += &format!("  accuracy      fixed {}\n", pct(c.fixed_accuracy));
    }
    if let (Some(r), Some(range)) = (c.output_rmse, c.output_range) {
        s += &format!(
            "  output RMSE   {r:.3e} ({:.3} % of the float output range {range:.3})\n",
            100.0 * r / range.max(f64::MIN_POSITIVE)
        );
    }
    if let Some(m) = c.max_state_error {
        s += &format!("  state error   max {m:.3e}\n");
    }
    s += &format!(
        "  saturation    {} of {} state values, {} outputs\n",
        c.state_saturations, c.state_values, c.output_saturations
    );
    s
}
