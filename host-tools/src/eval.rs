//! Evaluation of a float model on fresh trials of a task: PsychRNN accuracy and loss.
//!
//! Trials come from the `EVAL` stream of [`crate::train::trial_rng`] under the given seed,
//! so two models evaluated with the same seed see the very same trials. The forward pass is
//! the trainer's batched f32 one (equal to `Effective::run` to ~1e-6; a test pins this in
//! f64 to 1e-9), split over all cores.

use crate::model::FloatModel;
use crate::task::{AnyTask, Batch};
use crate::train::net::{Eff, LossKind, Net, Objective, Workspace};
use crate::train::{chunk_sizes, run_chunks, stream, thread_count};
use serde::Serialize;

/// Evaluation errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// Model and task do not fit together.
    #[error(
        "model {model:?} has {m_in} inputs and {m_out} outputs, task {task} has {t_in} and {t_out}"
    )]
    Mismatch {
        /// Model name.
        model: String,
        /// Task name.
        task: String,
        /// Model inputs.
        m_in: usize,
        /// Model outputs.
        m_out: usize,
        /// Task inputs.
        t_in: usize,
        /// Task outputs.
        t_out: usize,
    },
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

/// Check that `model` fits `task`.
pub fn check_fit(model: &FloatModel, task: &dyn AnyTask) -> Result<(), EvalError> {
    model.validate()?;
    let d = task.dims();
    if d.n_in != model.n_in || d.n_out != model.n_out {
        return Err(EvalError::Mismatch {
            model: model.name.clone(),
            task: task.name().into(),
            m_in: model.n_in,
            m_out: model.n_out,
            t_in: d.n_in,
            t_out: d.n_out,
        });
    }
    Ok(())
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
    check_fit(model, task)?;
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

/// `neuroloop eval`.
pub fn run_cli(a: &crate::cli::EvalArgs) -> anyhow::Result<()> {
    use crate::model::{detect_kind, file, FileKind};
    use anyhow::Context;
    // Each of --model / --compare is a float model or a blob, told apart by content.
    let mut float: Option<(std::path::PathBuf, FloatModel)> = None;
    let mut blob: Option<(std::path::PathBuf, Vec<u8>)> = None;
    for p in std::iter::once(&a.model).chain(a.compare.as_ref()) {
        let bytes = file::read(p)?;
        match detect_kind(&bytes) {
            Some(FileKind::Blob) if blob.is_none() => blob = Some((p.clone(), bytes)),
            Some(FileKind::Native) if float.is_none() => {
                float = Some((p.clone(), file::from_bytes(p, &bytes)?));
            }
            _ if a.compare.is_some() => anyhow::bail!(
                "{}: --model and --compare must be one float model and one .nlb blob",
                p.display()
            ),
            _ => {
                file::from_bytes(p, &bytes)?;
            }
        }
    }
    let blob_model = match &blob {
        Some((p, b)) => Some(
            neuroloop_core::Model::from_bytes(b)
                .map_err(|e| anyhow::anyhow!("{}: invalid blob: {e}", p.display()))?,
        ),
        None => None,
    };
    let (dt, tau, trained_on) = match (&float, &blob_model) {
        (Some((_, m)), _) => (m.dt, m.tau, m.task.clone()),
        (None, Some(b)) => (b.body().meta.dt, b.body().meta.tau, b.task().to_string()),
        (None, None) => unreachable!("--model is one of the two"),
    };
    let name = a.task.clone().unwrap_or(trained_on);
    if name.is_empty() {
        anyhow::bail!(
            "{}: the model names no task; pass --task NAME",
            a.model.display()
        );
    }
    let mut spec = crate::task::TaskSpec::named(&name);
    spec.dt = dt;
    spec.tau = tau;
    if let Some(t) = a.t {
        spec.t = t;
    }
    let task = crate::task::build(&spec)?;
    if let Some((p, b)) = &blob {
        let c = crate::compare::compare(float.as_ref().map(|f| &f.1), b, &*task, a.trials, a.seed)
            .with_context(|| format!("evaluating {}", p.display()))?;
        if a.json {
            println!("{}", serde_json::to_string(&c)?);
        } else {
            eprint!("{}", crate::compare::render(&c, &p.display().to_string()));
        }
        return Ok(());
    }
    let (path, model) = float.expect("a float model when there is no blob");
    let r = evaluate(&model, &*task, a.trials, a.seed)?;
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        eprintln!(
            "{}: task {}, {} trials (seed {}): accuracy {:.4}, loss {:.6}",
            path.display(),
            r.task,
            r.trials,
            r.seed,
            r.accuracy,
            r.loss
        );
    }
    Ok(())
}
