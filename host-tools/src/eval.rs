//! Evaluation of a float model on fresh trials of a task: PsychRNN accuracy and loss.
//!
//! Trials come from the `EVAL` stream of [`crate::task::trial_rng`] under the given seed,
//! so two models evaluated with the same seed see the very same trials. The forward pass is
//! the trainer's batched f32 one (equal to `Effective::run` to ~1e-6; a test pins this in
//! f64 to 1e-9), split over all cores.

use crate::model::FloatModel;
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
}

/// Evaluate `model` on `trials` fresh trials (seed `seed`).
pub fn evaluate(
    model: &FloatModel,
    task: &dyn AnyTask,
    trials: usize,
    seed: u64,
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
        correct += task.accuracy(&batch.y, &out, &batch.mask, n) * n as f64;
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
    })
}
