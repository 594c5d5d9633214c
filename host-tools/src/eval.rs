//! Evaluation of a float model on fresh trials of a task: PsychRNN accuracy and loss.
//!
//! Trials come from the `EVAL` stream of [`crate::task::trial_rng`] under the given seed,
//! so two models evaluated with the same seed see the very same trials. The forward pass is
//! the trainer's batched f32 one (equal to `Effective::run` to ~1e-6; a test pins this in
//! f64 to 1e-9), split over all cores. Recurrent noise is on or off as the caller says
//! ([`Noise`]); a non-finite output is an error naming the trial and step.

use crate::cost::{product, Estimate, MACS_PER_SECOND};
use crate::model::FloatModel;
use crate::noise::{float_with, Noise};
use crate::task::{check_fit, stream, AnyTask, Batch, FitError};
use crate::train::net::{Eff, Net};
use crate::train::objective::{LossKind, Objective};
use crate::train::parallel::{chunk_sizes, run_chunks, thread_count};
use crate::train::workspace::Workspace;
use serde::Serialize;

/// Evaluation errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// Model and task do not fit together.
    #[error(transparent)]
    Mismatch(#[from] FitError),
    /// The model is invalid.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// The model's output is NaN or infinite.
    #[error("the model's output is {value} at trial {trial}, step {step} (noise {noise}): the model diverges")]
    NotFinite {
        /// Trial index.
        trial: usize,
        /// Step.
        step: usize,
        /// The value.
        value: f32,
        /// Noise setting.
        noise: &'static str,
    },
    /// Zero trials asked.
    #[error("--trials must be at least 1")]
    NoTrials,
}

/// Result of an evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    /// Task name.
    pub task: String,
    /// Trials evaluated.
    pub trials: usize,
    /// PsychRNN accuracy.
    pub accuracy: f64,
    /// Masked MSE (PsychRNN's default loss), averaged over trials.
    pub loss: f64,
    /// Seed of the trials.
    pub seed: u64,
    /// Recurrent noise of this evaluation.
    pub noise: Noise,
}

/// Memory and time of [`evaluate`] on `trials` trials of `task` (all cores assumed busy
/// with one trial each; rough).
pub fn estimate(model: &FloatModel, task: &dyn AnyTask, trials: usize) -> Estimate {
    let d = task.dims();
    let chunk = trials.min(1000);
    let per_step = 6 * model.n_rec + d.n_in + 4 * d.n_out;
    let threads = thread_count(0).max(1) as f64;
    let macs = product(&[
        trials,
        d.n_steps,
        model.n_rec * (model.n_rec + d.n_in + d.n_out),
    ]);
    Estimate {
        bytes: product(&[chunk, d.n_steps, per_step, 4]),
        seconds: macs as f64 / MACS_PER_SECOND / threads,
    }
}

/// Evaluate `model` on `trials` fresh trials (seed `seed`), recurrent noise as `noise` says.
pub fn evaluate(
    model: &FloatModel,
    task: &dyn AnyTask,
    trials: usize,
    seed: u64,
    noise: Noise,
) -> Result<EvalReport, EvalError> {
    if trials == 0 {
        return Err(EvalError::NoTrials);
    }
    model.validate()?;
    check_fit(
        &format!("model {:?}", model.name),
        model.n_in,
        model.n_out,
        task,
    )?;
    let model = &float_with(model, noise);
    let net: Net<f32> = Net::from_model(model);
    let mut eff = Eff::default();
    net.effective(&mut eff);
    let obj = Objective {
        loss: LossKind::MeanSquaredError,
        ..Objective::default()
    };
    let per = trials.min(1000);
    let threads = thread_count(0);
    let d = task.dims();
    let (mut correct, mut loss_sum, mut done, mut k) = (0.0, 0.0, 0usize, 0u64);
    while done < trials {
        let n = per.min(trials - done);
        let mut workers: Vec<Workspace<f32>> = chunk_sizes(n, threads)
            .into_iter()
            .map(|bc| Workspace::new(&net, bc, d.n_steps))
            .collect();
        let mut batch = Batch::new(d, n);
        let mut out = vec![0.0; batch.y.len()];
        let l = run_chunks(
            &mut workers,
            &net,
            &eff,
            &obj,
            task,
            &mut batch,
            &mut out,
            seed,
            stream::EVAL,
            k,
            false,
        );
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            let per_trial = d.n_steps * d.n_out;
            return Err(EvalError::NotFinite {
                trial: done + i / per_trial,
                step: i % per_trial / d.n_out.max(1),
                value: out[i],
                noise: noise.name(),
            });
        }
        correct += task.accuracy(&batch, &out) * n as f64;
        loss_sum += l * n as f64;
        done += n;
        k += 1;
    }
    Ok(EvalReport {
        task: task.name().into(),
        trials,
        accuracy: correct / trials as f64,
        loss: loss_sum / trials as f64,
        seed,
        noise,
    })
}
