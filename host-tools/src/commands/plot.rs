//! `neuroloop plot KIND`: the pictures a lab reads ([`crate::plot`]), PNG or SVG by the
//! output's extension. `loss` reads a training log; `psychometric`, `trials` and `pca` run
//! a model (float or blob) on fresh trials of its task (noise off); `compare` runs a model
//! and overlays another run of the same inputs: a second model on task trials, a `neuroloop
//! run` output or a rig session, both with the inputs file they were run on.

use crate::interop::npy::Data;
use crate::interop::npz;
use crate::model::Trace;
use crate::noise::Noise;
use crate::outputs::check_output;
use crate::plot::compare::{ComparePlot, Outputs};
use crate::plot::loss::LossPlot;
use crate::plot::pca::PcaPlot;
use crate::plot::psychometric::Psychometric;
use crate::plot::rollout::rollout;
use crate::plot::trials::TrialsPlot;
use crate::plot::{save, Format};
use crate::run::{load_inputs, Runner};
use crate::task::{build, check_fit, AnyTask, TaskSpec};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Which plot, with its own options.
#[derive(Clone, Debug, PartialEq)]
pub enum PlotKind {
    /// Loss and accuracy over training, from a log or a folder holding one.
    Loss {
        /// `MODEL.log.tsv` or the folder it is in.
        log: PathBuf,
    },
    /// Fraction choosing `channel` against a variable, with a logistic fit.
    Psychometric {
        /// Variable on the x axis (default: [`crate::plot::rollout::Rollout::default_x`]).
        x: Option<String>,
        /// Output channel whose choice is counted.
        channel: usize,
        /// Fit lapse rates too (4 parameters instead of 2).
        lapses: bool,
    },
    /// Outputs against targets, one panel per condition.
    Trials {
        /// Condition variable (default: [`crate::plot::rollout::Rollout::default_by`]).
        by: Option<String>,
    },
    /// State trajectories in the first two principal components.
    Pca {
        /// Condition variable (default: [`crate::plot::rollout::Rollout::default_by`]).
        by: Option<String>,
    },
    /// `--model` against another run of the same inputs.
    Compare {
        /// A model (float or blob), a `neuroloop run` output `.npz` or a rig session folder.
        against: PathBuf,
        /// The inputs `.npz` the `run` output or rig session was made from.
        inputs: Option<PathBuf>,
    },
}

impl PlotKind {
    /// The kind's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            PlotKind::Loss { .. } => "loss",
            PlotKind::Psychometric { .. } => "psychometric",
            PlotKind::Trials { .. } => "trials",
            PlotKind::Pca { .. } => "pca",
            PlotKind::Compare { .. } => "compare",
        }
    }

    /// Trials run when `--trials` is not given.
    pub fn default_trials(&self) -> usize {
        match self {
            PlotKind::Psychometric { .. } => 1000,
            PlotKind::Compare { .. } => 50,
            _ => 200,
        }
    }
}

/// Typed config of `neuroloop plot`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotCmd {
    /// The plot.
    pub kind: PlotKind,
    /// The model (every kind but `loss`).
    pub model: Option<PathBuf>,
    /// Task name (default: the model's own).
    pub task: Option<String>,
    /// Trials (default: the kind's [`PlotKind::default_trials`]).
    pub trials: Option<usize>,
    /// Seed of the trials.
    pub seed: u64,
    /// Output `.png` or `.svg`.
    pub output: PathBuf,
    /// Overwrite an existing output.
    pub force: bool,
    /// Print the plotted figures (fit, difference) as JSON on stdout.
    pub json: bool,
}

/// Most trials a plot runs.
pub const MAX_TRIALS: usize = 20_000;

impl PlotCmd {
    /// Check the config before any work: the output's format and path, the trials, the
    /// model and the files the kind reads.
    pub fn validate(&self) -> anyhow::Result<()> {
        Format::of(&self.output)?;
        let mut inputs: Vec<&Path> = Vec::new();
        match &self.kind {
            PlotKind::Loss { log } => {
                if !log.exists() {
                    anyhow::bail!(
                        "{} does not exist (give a training log or its folder)",
                        log.display()
                    );
                }
                inputs.push(log);
            }
            kind => {
                let model = self
                    .model
                    .as_deref()
                    .ok_or_else(|| anyhow::anyhow!("plot {} needs --model MODEL", kind.name()))?;
                inputs.push(model);
            }
        }
        if let PlotKind::Compare { against, inputs: x } = &self.kind {
            inputs.push(against);
            if let Some(x) = x {
                inputs.push(x);
            }
        }
        if let PlotKind::Psychometric { channel, .. } = &self.kind {
            if *channel > 255 {
                anyhow::bail!("--channel is {channel}; it must be an output channel index");
            }
        }
        let trials = self.trials.unwrap_or(self.kind.default_trials());
        if !(1..=MAX_TRIALS).contains(&trials) {
            anyhow::bail!("--trials is {trials}, must be in 1..={MAX_TRIALS}");
        }
        if matches!(self.kind, PlotKind::Psychometric { .. }) && trials < 20 {
            anyhow::bail!("--trials is {trials}; a psychometric fit needs at least 20 trials");
        }
        check_output(&self.output, &inputs, self.force)?;
        Ok(())
    }

    fn trial_count(&self) -> usize {
        self.trials.unwrap_or(self.kind.default_trials())
    }
}

/// The training log at `path`, or the one `*.log.tsv` in the folder `path`.
pub fn find_log(path: &Path) -> anyhow::Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let mut logs: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading folder {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".log.tsv"))
        .collect();
    logs.sort();
    match logs.len() {
        1 => Ok(logs.remove(0)),
        0 => anyhow::bail!(
            "{}: no training log (*.log.tsv) in this folder; `neuroloop train` writes MODEL.json.log.tsv beside the checkpoint",
            path.display()
        ),
        _ => anyhow::bail!(
            "{}: {} training logs here ({}); give one",
            path.display(),
            logs.len(),
            logs.iter()
                .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A model with the task it runs (its own unless `task` names one); its sizes must fit.
pub fn load_model(model: &Path, task: Option<&str>) -> anyhow::Result<(Runner, Box<dyn AnyTask>)> {
    let (runner, _) = Runner::load(model, None)?;
    let (dt, tau, own) = match &runner {
        Runner::Float(m) => (m.dt, m.tau, m.task.clone()),
        Runner::Blob(b) => {
            let m = neuroloop_core::Model::from_bytes(b)
                .map_err(|e| anyhow::anyhow!("{}: invalid blob: {e}", model.display()))?;
            (m.body().meta.dt, m.body().meta.tau, m.task().to_string())
        }
    };
    let name = task.map(str::to_string).unwrap_or(own);
    if name.is_empty() {
        anyhow::bail!(
            "{}: the model names no task; pass --task NAME",
            model.display()
        );
    }
    let mut spec = TaskSpec::named(&name);
    spec.dt = dt;
    spec.tau = tau;
    let task = build(&spec)?;
    let (n_in, _, n_out) = runner.dims();
    check_fit(&model.display().to_string(), n_in, n_out, &*task)?;
    Ok((runner, task))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .unwrap_or(p.as_os_str())
        .to_string_lossy()
        .into_owned()
}

fn outputs_of(label: String, traces: &[Trace], n_out: usize) -> Outputs {
    Outputs {
        label,
        trials: traces.iter().map(|t| t.outputs.clone()).collect(),
        n_out,
    }
}

/// The other side of a comparison, run on the same inputs as `--model`: another model on
/// the task trials, or a recorded run (`run` output / rig session) with its inputs file.
fn against(
    cmd: &PlotCmd,
    model: &Path,
    against: &Path,
    inputs: Option<&Path>,
) -> anyhow::Result<(Outputs, Outputs, Option<f64>)> {
    let kind_of = |p: &Path| -> anyhow::Result<&'static str> {
        if p.is_dir() {
            return Ok("rig");
        }
        let bytes = crate::model::file::read(p)?;
        Ok(match crate::model::detect_kind(&bytes) {
            Some(crate::model::FileKind::Npz) => "npz",
            _ => "model",
        })
    };
    let (runner, _) = Runner::load(model, None)?;
    let (n_in, _, n_out) = runner.dims();
    let describe = |r: &Runner| match r {
        Runner::Float(_) => "float",
        Runner::Blob(_) => "fixed point",
    };
    let a_label = format!("{} ({})", file_name(model), describe(&runner));
    match kind_of(against)? {
        "model" => {
            let (_, task) = load_model(model, cmd.task.as_deref())?;
            let (b_runner, _) = Runner::load(against, None)?;
            let (b_in, _, b_out) = b_runner.dims();
            check_fit(&against.display().to_string(), b_in, b_out, &*task)?;
            let r = rollout(&runner, &*task, cmd.trial_count(), cmd.seed);
            let (b_traces, _) =
                b_runner.run_batch(&r.batch.x, r.batch.n_trials, Noise::Off, cmd.seed);
            let b_label = format!("{} ({})", file_name(against), describe(&b_runner));
            Ok((
                outputs_of(a_label, &r.traces, n_out),
                outputs_of(b_label, &b_traces, n_out),
                Some(r.dt as f64),
            ))
        }
        kind => {
            let x_path = inputs.ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: comparing with a recorded run needs --inputs X.npz, the inputs it was run on",
                    against.display()
                )
            })?;
            let (batch, steps, x) = load_inputs(x_path, n_in)?;
            let (traces, _) = runner.run_batch(&x, batch, Noise::Off, cmd.seed);
            let (file, key) = if kind == "rig" {
                (
                    against.join(crate::rig::tables::TELEMETRY_NPZ),
                    "outputs_f32",
                )
            } else {
                (against.to_path_buf(), "outputs")
            };
            let bytes = crate::model::file::read(&file)?;
            let mut arrays = npz::read_filtered(&bytes, |k| k == key)
                .with_context(|| format!("reading {}", file.display()))?;
            let arr = arrays
                .remove(key)
                .ok_or_else(|| anyhow::anyhow!("{}: no key `{key}`", file.display()))?;
            let values: Vec<f64> = match arr.data {
                Data::F32(v) => v.into_iter().map(f64::from).collect(),
                Data::F64(v) => v,
                d => anyhow::bail!(
                    "{}: `{key}` has dtype {}, expected float",
                    file.display(),
                    d.type_name()
                ),
            };
            let per = steps * n_out;
            if values.len() != batch * per {
                anyhow::bail!(
                    "{}: `{key}` holds {} values (shape {:?}) but {} trials × {steps} steps × {n_out} outputs of {} are {}",
                    file.display(),
                    values.len(),
                    arr.shape,
                    batch,
                    x_path.display(),
                    batch * per
                );
            }
            let b = Outputs {
                label: format!(
                    "{} ({})",
                    file_name(against),
                    if kind == "rig" {
                        "rig recording"
                    } else {
                        "run output"
                    }
                ),
                trials: values.chunks_exact(per).map(<[f64]>::to_vec).collect(),
                n_out,
            };
            Ok((outputs_of(a_label, &traces, n_out), b, None))
        }
    }
}

/// Draw the plot and report.
pub fn run(cmd: &PlotCmd) -> anyhow::Result<()> {
    let out = &cmd.output;
    let json: serde_json::Value = match &cmd.kind {
        PlotKind::Loss { log } => {
            let log = find_log(log)?;
            let rows = crate::train::log::read(&log)?;
            let last = rows.last().copied();
            save(
                &LossPlot::new(rows, format!("training: {}", file_name(&log)))?,
                out,
            )?;
            if let Some(l) = last {
                eprintln!(
                    "{}: {} batches ({} trials) from {}, last loss {:.6}, accuracy {}",
                    out.display(),
                    l.batch,
                    l.trials,
                    log.display(),
                    l.loss,
                    super::report::accuracy(l.accuracy)
                );
            }
            serde_json::json!({ "log": log, "rows": last.map(|l| l.batch) })
        }
        PlotKind::Compare { against: b, inputs } => {
            let model = cmd.model.as_deref().unwrap_or(Path::new(""));
            let (a, b, dt) = against(cmd, model, b, inputs.as_deref())?;
            let p = ComparePlot::new(a, b, dt, "A vs B")?;
            save(&p, out)?;
            eprintln!(
                "{}: {} trials; RMSE {:.4e}, max |A−B| {:.4e} (B's output range {:.4})",
                out.display(),
                p.a.trials.len(),
                p.diff.rmse,
                p.diff.max_abs,
                p.diff.range
            );
            serde_json::to_value(p.diff)?
        }
        kind => {
            let model = cmd.model.as_deref().unwrap_or(Path::new(""));
            let (runner, task) = load_model(model, cmd.task.as_deref())?;
            let r = rollout(&runner, &*task, cmd.trial_count(), cmd.seed);
            let name = format!("{} on {}", file_name(model), r.task);
            match kind {
                PlotKind::Psychometric { x, channel, lapses } => {
                    if *channel >= r.batch.n_out {
                        anyhow::bail!(
                            "--channel is {channel}; the model has {} outputs (0..{})",
                            r.batch.n_out,
                            r.batch.n_out
                        );
                    }
                    let x_name = match x {
                        Some(x) => x.clone(),
                        None => r.default_x(*channel)?,
                    };
                    let xs = r.var(&x_name)?;
                    let chose: Vec<bool> = r.choices().iter().map(|&c| c == *channel).collect();
                    let p = Psychometric::new(&x_name, &xs, &chose, *channel, *lapses, name)?;
                    save(&p, out)?;
                    eprintln!(
                        "{}: P(choose output {channel}) against {x_name}, {} trials in {} bins; fit: {}",
                        out.display(),
                        p.trials,
                        p.bins.len(),
                        p.fit.describe()
                    );
                    serde_json::to_value(&p)?
                }
                PlotKind::Trials { by } | PlotKind::Pca { by } => {
                    let by = match by {
                        Some(b) => b.clone(),
                        None => r.default_by()?,
                    };
                    let panels = if matches!(kind, PlotKind::Trials { .. }) {
                        let p = TrialsPlot::new(&r, &by, name)?;
                        save(&p, out)?;
                        p.panels.len()
                    } else {
                        let p = PcaPlot::new(&r, &by, name)?;
                        save(&p, out)?;
                        eprintln!(
                            "   PC1 and PC2 explain {:.1} % and {:.1} % of the state variance",
                            100.0 * p.explained[0],
                            100.0 * p.explained[1]
                        );
                        p.groups.len()
                    };
                    eprintln!(
                        "{}: {} conditions of {by} ({} trials run)",
                        out.display(),
                        panels,
                        r.batch.n_trials
                    );
                    serde_json::json!({ "by": by, "conditions": panels })
                }
                _ => unreachable!("handled above"),
            }
        }
    };
    if cmd.json {
        println!("{json}");
    }
    Ok(())
}
