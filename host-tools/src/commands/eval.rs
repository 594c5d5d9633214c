//! `neuroloop eval`: accuracy of a float model ([`crate::eval`]) or a blob, or both on
//! the same trials ([`crate::compare`]); each of `--model` and `--compare` is told apart by
//! content. Recurrent noise is stated in every report ([`crate::noise`]): the headline
//! accuracy uses `--noise` (default off), and a model with noise gets the other setting's
//! figure beside it.

use super::report;
use crate::compare::{compare, estimate as compare_estimate};
use crate::eval::{estimate, evaluate, EvalReport};
use crate::model::{detect_kind, file, FileKind, FloatModel};
use crate::noise::{float_has_noise, Noise};
use crate::task::{build, TaskSpec};
use anyhow::Context;
use serde::Serialize;
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
    /// Recurrent noise of the headline accuracy.
    pub noise: Noise,
    /// The cell the float model must have (`None`: any).
    pub cell: Option<crate::model::Cell>,
    /// JSON report on stdout.
    pub json: bool,
}

/// `--json` report of a float model's evaluation.
#[derive(Serialize, Debug)]
pub struct EvalJson {
    /// The evaluation at `--noise`.
    #[serde(flatten)]
    pub report: EvalReport,
    /// The same trials with the other noise setting (models with recurrent noise only).
    pub other_noise: Option<EvalReport>,
}

impl EvalCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.trials == 0 {
            anyhow::bail!("--trials is 0; evaluate at least 1 trial");
        }
        if let Some(t) = self.t {
            if !(t.is_finite() && t > 0.0) {
                anyhow::bail!("--t is {t}; the trial length must be a positive number of ms");
            }
        }
        Ok(())
    }
}

/// Print a size warning or refuse an absurd size (before any trial runs).
fn check_cost(e: crate::cost::Estimate, cmd: &EvalCmd, steps: usize) -> anyhow::Result<()> {
    let what = format!(
        "eval --trials {} of {steps} steps{}",
        cmd.trials,
        cmd.t.map(|t| format!(" (--t {t})")).unwrap_or_default()
    );
    if let Some(w) = e.check(&what, "use fewer --trials or a shorter --t")? {
        eprintln!("{w}");
    }
    Ok(())
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
    if let Some(want) = cmd.cell {
        let (p, have) = match (&float, &blob) {
            (Some((p, m)), _) => (p, m.cell),
            (None, Some((p, b))) => (
                p,
                neuroloop_core::Model::from_bytes(b)
                    .map(|m| crate::compare::blob_cell(&m))
                    .unwrap_or_default(),
            ),
            (None, None) => unreachable!("--model is one of the two"),
        };
        if have != want {
            anyhow::bail!("{}: is a {have} model, --cell asks for {want}", p.display());
        }
    }
    let blob_model = match &blob {
        Some((p, b)) => Some(
            neuroloop_core::Model::from_bytes(b)
                .map_err(|e| anyhow::anyhow!("{}: invalid blob: {e}", p.display()))?,
        ),
        None => None,
    };
    let (dt, tau, trained_on, task_file) = match (&float, &blob_model) {
        (Some((_, m)), _) => (m.dt, m.tau, m.task.clone(), m.task_file.clone()),
        (None, Some(b)) => (
            b.body().meta.dt,
            b.body().meta.tau,
            b.task().to_string(),
            None,
        ),
        (None, None) => unreachable!("--model is one of the two"),
    };
    let name = cmd.task.clone().unwrap_or(trained_on);
    if name.is_empty() {
        anyhow::bail!(
            "{}: the model names no task; pass --task NAME",
            cmd.model.display()
        );
    }
    let mut spec = match &cmd.task {
        Some(arg) => TaskSpec::from_arg(arg)?,
        None => TaskSpec {
            file: task_file,
            ..TaskSpec::named(&name)
        },
    };
    spec.dt = dt;
    spec.tau = tau;
    if let Some(t) = cmd.t {
        spec.t = t;
    }
    let task = build(&spec)?;
    let steps = task.dims().n_steps;
    if let (Some((p, b)), Some(bm)) = (&blob, &blob_model) {
        let has_noise = crate::noise::blob_has_noise(b)
            || float.as_ref().is_some_and(|f| float_has_noise(&f.1));
        check_cost(
            compare_estimate(&*task, bm.n_rec(), cmd.trials, has_noise),
            cmd,
            steps,
        )?;
        let label = match &float {
            Some((fp, _)) => format!("{} vs {}", p.display(), fp.display()),
            None => p.display().to_string(),
        };
        let c = compare(
            float.as_ref().map(|f| &f.1),
            b,
            &*task,
            cmd.trials,
            cmd.seed,
            cmd.noise,
        )
        .with_context(|| label.clone())?;
        if cmd.json {
            println!("{}", serde_json::to_string(&c)?);
        } else {
            eprint!("{}", report::comparison(&c, &label));
        }
        return Ok(());
    }
    let (path, model) = float.expect("a float model when there is no blob");
    let k = if float_has_noise(&model) { 2 } else { 1 };
    let mut e = estimate(&model, &*task, cmd.trials);
    e.seconds *= k as f64;
    check_cost(e, cmd, steps)?;
    let ctx = || path.display().to_string();
    let r = evaluate(&model, &*task, cmd.trials, cmd.seed, cmd.noise).with_context(ctx)?;
    let other = if float_has_noise(&model) {
        Some(evaluate(&model, &*task, cmd.trials, cmd.seed, cmd.noise.other()).with_context(ctx)?)
    } else {
        None
    };
    if cmd.json {
        let j = EvalJson {
            report: r,
            other_noise: other,
        };
        println!("{}", serde_json::to_string(&j)?);
    } else {
        let beside = other
            .map(|o| {
                format!(
                    "; with noise {}: accuracy {}, loss {:.6}",
                    o.noise.name(),
                    report::accuracy(o.accuracy),
                    o.loss
                )
            })
            .unwrap_or_default();
        eprintln!(
            "{}: task {}, {} trials (seed {}), recurrent noise {}: accuracy {}, loss {:.6}{beside}",
            path.display(),
            r.task,
            r.trials,
            r.seed,
            r.noise.name(),
            report::accuracy(r.accuracy),
            r.loss
        );
    }
    Ok(())
}
