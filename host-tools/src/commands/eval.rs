//! `neuroloop eval`: accuracy of a float model ([`crate::eval`]) or a blob, or both on
//! the same trials ([`crate::compare`]); each of `--model` and `--compare` is told apart by
//! content.

use crate::compare::{compare, render};
use crate::eval::evaluate;
use crate::model::{detect_kind, file, FileKind, FloatModel};
use crate::task::{build, TaskSpec};
use anyhow::Context;
use std::path::PathBuf;

/// Typed config of `neuroloop eval`.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalCmd {
    /// Float model or `.nlb` blob.
    pub model: PathBuf,
    /// Another model to run on the same trials (one float model and one blob in all).
    pub compare: Option<PathBuf>,
    /// Task name (default: the model's own).
    pub task: Option<String>,
    /// Trials.
    pub trials: usize,
    /// Trial length, ms (default: the task's).
    pub t: Option<f32>,
    /// Seed of the trials.
    pub seed: u64,
    /// JSON report on stdout.
    pub json: bool,
}

impl EvalCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Evaluate and report.
pub fn run(cmd: &EvalCmd) -> anyhow::Result<()> {
    // Each of --model / --compare is a float model or a blob, told apart by content.
    let mut float: Option<(PathBuf, FloatModel)> = None;
    let mut blob: Option<(PathBuf, Vec<u8>)> = None;
    for p in std::iter::once(&cmd.model).chain(cmd.compare.as_ref()) {
        let bytes = file::read(p)?;
        match detect_kind(&bytes) {
            Some(FileKind::Blob) if blob.is_none() => blob = Some((p.clone(), bytes)),
            Some(FileKind::Native) if float.is_none() => {
                float = Some((p.clone(), file::from_bytes(p, &bytes)?));
            }
            _ if cmd.compare.is_some() => anyhow::bail!(
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
    let name = cmd.task.clone().unwrap_or(trained_on);
    if name.is_empty() {
        anyhow::bail!(
            "{}: the model names no task; pass --task NAME",
            cmd.model.display()
        );
    }
    let mut spec = TaskSpec::named(&name);
    spec.dt = dt;
    spec.tau = tau;
    if let Some(t) = cmd.t {
        spec.t = t;
    }
    let task = build(&spec)?;
    if let Some((p, b)) = &blob {
        let c = compare(
            float.as_ref().map(|f| &f.1),
            b,
            &*task,
            cmd.trials,
            cmd.seed,
        )
        .with_context(|| format!("evaluating {}", p.display()))?;
        if cmd.json {
            println!("{}", serde_json::to_string(&c)?);
        } else {
            eprint!("{}", render(&c, &p.display().to_string()));
        }
        return Ok(());
    }
    let (path, model) = float.expect("a float model when there is no blob");
    let r = evaluate(&model, &*task, cmd.trials, cmd.seed)?;
    if cmd.json {
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
