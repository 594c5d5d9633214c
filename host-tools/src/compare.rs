//! Float against fixed point on the very same task trials: accuracy, output error,
//! state error and saturation counts, with the recurrent-noise setting stated.
//!
//! Trials are drawn exactly as `neuroloop eval` draws them (stream `EVAL` of
//! [`crate::task::trial_rng`] under the seed, 1 000 trials a batch), and generated one
//! batch at a time, so memory does not grow with `--trials`. The float side runs the f64
//! reference ([`Effective::run`](crate::model::Effective::run)); the fixed side runs the
//! blob in `neuroloop-core` ([`crate::sim`]), the code the firmware runs.
//!
//! Noise ([`crate::noise`]): the same setting on both sides. The headline accuracy uses the
//! requested setting; when either model has recurrent noise the other setting's accuracy
//! is reported beside it. Output RMSE, state error and saturation counts are always
//! measured noise-off: they describe quantization, not noise. Models of different shape or
//! kind (sizes, transfer function, dt, τ) are refused before any trial runs.

use crate::cost::{product, Estimate, MACS_PER_SECOND};
use crate::model::{Cell, FloatModel};
use crate::noise::{blob_has_noise, blob_with, float_has_noise, float_with, Noise};
use crate::sim::{run_blob, Saturation};
use crate::task::{check_fit, stream, trial_rng, AnyTask, Batch, FitError};
use neuroloop_core::{CellKind, Model};
use serde::Serialize;

/// Trials generated and run per batch.
const CHUNK: usize = 1000;

/// Accuracy of both sides under one noise setting.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NoisyAccuracy {
    /// The setting.
    pub noise: Noise,
    /// Float model's accuracy (if one was given).
    pub float_accuracy: Option<f64>,
    /// Blob's accuracy.
    pub fixed_accuracy: f64,
}

/// Float vs fixed on one set of trials.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Comparison {
    /// Task name.
    pub task: String,
    /// Trials.
    pub trials: usize,
    /// Trial seed.
    pub seed: u64,
    /// Recurrent noise of the headline accuracies (same on both sides).
    pub noise: Noise,
    /// Task accuracy of the float model (if one was given).
    pub float_accuracy: Option<f64>,
    /// Task accuracy of the blob.
    pub fixed_accuracy: f64,
    /// `100 · (float − fixed)` accuracy points.
    pub accuracy_drop_points: Option<f64>,
    /// The accuracies with the other noise setting, when either model has noise.
    pub other_noise: Option<NoisyAccuracy>,
    /// RMSE between float and fixed outputs over all steps (noise off).
    pub output_rmse: Option<f64>,
    /// Range (max − min) of the float outputs (noise off).
    pub output_range: Option<f64>,
    /// Largest |float state − fixed state| (noise off).
    pub max_state_error: Option<f64>,
    /// Input values clipped when quantized (noise off run).
    pub input_saturations: usize,
    /// Fixed-point state values at the `i16` rails (saturated), over all units and steps.
    pub state_saturations: usize,
    /// Fixed-point outputs at the `i16` rails.
    pub output_saturations: usize,
    /// State values counted (units × steps × trials).
    pub state_values: usize,
}

/// Errors comparing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// The blob does not decode.
    #[error("invalid blob: {0}")]
    Blob(neuroloop_core::Error),
    /// Sizes disagree with the task.
    #[error(transparent)]
    Mismatch(#[from] FitError),
    /// The float model and the blob are not the same kind of network.
    #[error("the float model and the blob differ in {what}: float {float}, blob {blob}; compare a blob only with the float model it was quantized from")]
    Different {
        /// What differs (`n_rec`, `transfer`, ...).
        what: &'static str,
        /// The float model's value.
        float: String,
        /// The blob's value.
        blob: String,
    },
    /// The float model's outputs are not finite.
    #[error("the float model's output is {value} at trial {trial}, step {step} (noise {noise}): the model diverges")]
    NotFinite {
        /// Trial index.
        trial: usize,
        /// Step.
        step: usize,
        /// The value.
        value: f64,
        /// Noise setting of the run.
        noise: &'static str,
    },
    /// No trials.
    #[error("--trials must be at least 1")]
    NoTrials,
}

/// The float-model cell a blob runs: its cell kind, and for the LSTM its output
/// nonlinearity (transfer sigmoid = PsychRNN's variant).
pub fn blob_cell(blob: &Model<'_>) -> Cell {
    match blob.cell() {
        CellKind::Leaky => Cell::Leaky,
        CellKind::Gru => Cell::Gru,
        CellKind::Lstm if blob.transfer() == neuroloop_core::Transfer::Sigmoid => {
            Cell::LstmPsychrnn
        }
        CellKind::Lstm => Cell::Lstm,
    }
}

/// Refuse a float model and a blob of different shape or kind, naming both values.
pub fn check_same_kind(float: &FloatModel, blob: &Model<'_>) -> Result<(), CompareError> {
    let meta = &blob.body().meta;
    let pairs: [(&'static str, String, String); 7] = [
        (
            "cell",
            float.cell.name().into(),
            blob_cell(blob).name().into(),
        ),
        ("n_in", float.n_in.to_string(), blob.n_in().to_string()),
        ("n_rec", float.n_rec.to_string(), blob.n_rec().to_string()),
        ("n_out", float.n_out.to_string(), blob.n_out().to_string()),
        // A gated cell has its own σ/tanh: the blob's transfer byte is its LSTM variant,
        // which `cell` above already compares.
        (
            "transfer",
            if float.cell.is_leaky() {
                float.transfer.name()
            } else {
                "-"
            }
            .into(),
            if blob.cell() == CellKind::Leaky {
                blob.transfer().name()
            } else {
                "-"
            }
            .into(),
        ),
        ("dt", format!("{} ms", float.dt), format!("{} ms", meta.dt)),
        (
            "tau",
            format!("{} ms", float.tau),
            format!("{} ms", meta.tau),
        ),
    ];
    for (what, float, blob) in pairs {
        if float != blob {
            return Err(CompareError::Different { what, float, blob });
        }
    }
    Ok(())
}

/// Memory and time of [`compare`] (both noise settings when a model has noise).
pub fn estimate(task: &dyn AnyTask, n_rec: usize, trials: usize, has_noise: bool) -> Estimate {
    let d = task.dims();
    let chunk = trials.min(CHUNK);
    let batch = product(&[chunk, d.n_steps, d.n_in + 4 * d.n_out, 4]);
    let traces = product(&[d.n_steps, n_rec + d.n_out, 8, 4]);
    let macs = product(&[
        trials,
        d.n_steps,
        n_rec * (n_rec + d.n_in + d.n_out),
        2 * (1 + usize::from(has_noise)),
    ]);
    Estimate {
        bytes: batch.saturating_add(traces),
        seconds: macs as f64 / MACS_PER_SECOND,
    }
}

/// One pass over the trials under one noise setting.
#[derive(Default)]
struct Pass {
    float_correct: f64,
    fixed_correct: f64,
    sq: f64,
    outputs: usize,
    lo: f64,
    hi: f64,
    max_state: f64,
    sat: Saturation,
}

fn pass(
    float: Option<&FloatModel>,
    blob: &Model<'_>,
    task: &dyn AnyTask,
    trials: usize,
    seed: u64,
    noise: Noise,
) -> Result<Pass, CompareError> {
    use rand::SeedableRng;
    let d = task.dims();
    let eff = float.map(|f| float_with(f, noise).effective());
    let mut p = Pass {
        lo: f64::MAX,
        hi: f64::MIN,
        ..Pass::default()
    };
    let (xi, yo) = (d.n_steps * d.n_in, d.n_steps * d.n_out);
    let mut done = 0;
    for k in 0..trials.div_ceil(CHUNK) {
        let n = CHUNK.min(trials - done);
        let mut batch = Batch::new(d, n);
        for j in 0..n {
            let mut rng = trial_rng(seed, stream::EVAL, k as u64, j as u64);
            batch.vars[j] = task.trial(
                &mut rng,
                &mut batch.x[j * xi..(j + 1) * xi],
                &mut batch.y[j * yo..(j + 1) * yo],
                &mut batch.mask[j * yo..(j + 1) * yo],
            );
        }
        let mut fixed_out = Vec::with_capacity(batch.y.len());
        let mut float_out = Vec::with_capacity(if eff.is_some() { batch.y.len() } else { 0 });
        for j in 0..n {
            let x = batch.trial_inputs(j);
            let fx = run_blob(blob, x);
            p.sat.add(Saturation::of_trial(blob, x, &fx));
            if let Some(e) = &eff {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ ((done + j) as u64) << 20);
                let fl = e.run(
                    x,
                    noise.is_on().then_some(&mut rng as &mut dyn rand::RngCore),
                );
                if let Some(i) = fl.outputs.iter().position(|v| !v.is_finite()) {
                    return Err(CompareError::NotFinite {
                        trial: done + j,
                        step: i / d.n_out.max(1),
                        value: fl.outputs[i],
                        noise: noise.name(),
                    });
                }
                for (a, b) in fl.outputs.iter().zip(&fx.outputs) {
                    p.sq += (a - b) * (a - b);
                    p.lo = p.lo.min(*a);
                    p.hi = p.hi.max(*a);
                }
                p.outputs += fl.outputs.len();
                for (a, b) in fl.states.iter().zip(&fx.states) {
                    p.max_state = p.max_state.max((a - b).abs());
                }
                float_out.extend(fl.outputs.iter().map(|&v| v as f32));
            }
            fixed_out.extend(fx.outputs.iter().map(|&v| v as f32));
        }
        p.fixed_correct += task.accuracy(&batch, &fixed_out) * n as f64;
        if eff.is_some() {
            p.float_correct += task.accuracy(&batch, &float_out) * n as f64;
        }
        done += n;
    }
    Ok(p)
}

/// Run `blob` (and `float`, if given) on `trials` evaluation trials of `task`, with
/// recurrent noise as `noise` says on both sides (see the module docs).
pub fn compare(
    float: Option<&FloatModel>,
    blob: &[u8],
    task: &dyn AnyTask,
    trials: usize,
    seed: u64,
    noise: Noise,
) -> Result<Comparison, CompareError> {
    if trials == 0 {
        return Err(CompareError::NoTrials);
    }
    let model = Model::from_bytes(blob).map_err(CompareError::Blob)?;
    check_fit("the blob", model.n_in(), model.n_out(), task)?;
    if let Some(f) = float {
        check_same_kind(f, &model)?;
        check_fit("the float model", f.n_in, f.n_out, task)?;
    }
    let has_noise = blob_has_noise(blob) || float.is_some_and(float_has_noise);
    let run = |n: Noise| -> Result<Pass, CompareError> {
        let bytes = blob_with(blob, n).map_err(CompareError::Blob)?;
        let m = Model::from_bytes(&bytes).map_err(CompareError::Blob)?;
        pass(float, &m, task, trials, seed, n)
    };
    let off = run(Noise::Off)?;
    let on = if has_noise {
        Some(run(Noise::On)?)
    } else {
        None
    };
    let acc = |p: &Pass| {
        (
            float.map(|_| p.float_correct / trials as f64),
            p.fixed_correct / trials as f64,
        )
    };
    let (head, other) = match (noise, &on) {
        (Noise::On, Some(on)) => (acc(on), Some((Noise::Off, acc(&off)))),
        (Noise::Off, Some(on)) => (acc(&off), Some((Noise::On, acc(on)))),
        (_, None) => (acc(&off), None),
    };
    let has_float = float.is_some();
    Ok(Comparison {
        task: task.name().into(),
        trials,
        seed,
        noise,
        float_accuracy: head.0,
        fixed_accuracy: head.1,
        accuracy_drop_points: head.0.map(|f| 100.0 * (f - head.1)),
        other_noise: other.map(|(noise, (float_accuracy, fixed_accuracy))| NoisyAccuracy {
            noise,
            float_accuracy,
            fixed_accuracy,
        }),
        output_rmse: has_float.then(|| (off.sq / off.outputs.max(1) as f64).sqrt()),
        output_range: has_float.then_some(off.hi - off.lo),
        max_state_error: has_float.then_some(off.max_state),
        input_saturations: off.sat.inputs,
        state_saturations: off.sat.states,
        output_saturations: off.sat.outputs,
        state_values: trials * task.dims().n_steps * model.n_rec(),
    })
}
