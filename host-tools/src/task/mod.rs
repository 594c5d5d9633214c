//! Cognitive tasks: trial parameters → inputs `x[t]`, targets `y[t]`, loss mask `mask[t]`,
//! and an accuracy function, ported from PsychRNN 1.0.0 (`psychrnn/tasks/*.py`).
//!
//! A task draws one trial's parameters ([`Task::sample_params`]), then fills that trial's
//! `steps × n_in` inputs and `steps × n_out` targets and mask ([`Task::fill_trial`]); step
//! `k` is at time `k·dt` ms, as in PsychRNN's `generate_trial`. Batches are batch-major
//! (`trial, step, channel`), PsychRNN's layout. [`AnyTask`] is the object-safe face the
//! trainer and the CLI use; [`build`] makes one from a [`TaskSpec`] (name + options).
//!
//! | name | inputs | outputs | PsychRNN class |
//! |---|---|---|---|
//! | `perceptual-discrimination` | 2 | 2 | `PerceptualDiscrimination` |
//! | `delayed-discrimination` | 2 | 2 | `DelayedDiscrimination` (Romo) |
//! | `match-to-category` | 16 | 2 | `MatchToCategory` |

pub mod delayed;
pub mod match_category;
pub mod perceptual;

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The random generator tasks draw from (fast, seedable, splittable by stream).
pub type TaskRng = ChaCha8Rng;

/// Names of the built-in tasks, as accepted by [`build`].
pub const TASK_NAMES: [&str; 3] = [
    "perceptual-discrimination",
    "delayed-discrimination",
    "match-to-category",
];

/// Task errors; each names the option and the value.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum TaskError {
    /// No task by that name.
    #[error("unknown task {name:?}; valid tasks: {}", TASK_NAMES.join(", "))]
    Unknown {
        /// The name given.
        name: String,
    },
    /// An option has a bad value.
    #[error("task option `{field}` {reason}")]
    Field {
        /// Option name (e.g. `task.dt`).
        field: String,
        /// What is wrong, with the value.
        reason: String,
    },
}

/// Timing shared by every task (PsychRNN `Task.__init__`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TaskDims {
    /// Inputs.
    pub n_in: usize,
    /// Outputs.
    pub n_out: usize,
    /// Time step, ms.
    pub dt: f32,
    /// Network time constant, ms (passed to the model).
    pub tau: f32,
    /// Trial length, ms.
    pub t_ms: f32,
    /// `ceil(T / dt)`.
    pub n_steps: usize,
}

impl TaskDims {
    /// Dims with `n_steps = ceil(T/dt)`.
    pub fn new(n_in: usize, n_out: usize, dt: f32, tau: f32, t_ms: f32) -> Self {
        let n_steps = (t_ms as f64 / dt as f64).ceil() as usize;
        TaskDims {
            n_in,
            n_out,
            dt,
            tau,
            t_ms,
            n_steps,
        }
    }
}

/// A task: PsychRNN's `generate_trial_params` + `trial_function` + `accuracy_function`.
pub trait Task: Send + Sync {
    /// One trial's parameters.
    type Params: Clone + std::fmt::Debug;
    /// Task name (one of [`TASK_NAMES`]).
    fn name(&self) -> &'static str;
    /// Sizes and timing.
    fn dims(&self) -> TaskDims;
    /// Draw one trial's parameters.
    fn sample_params(&self, rng: &mut TaskRng) -> Self::Params;
    /// Fill one trial (`x`: steps × n_in, `y`, `mask`: steps × n_out), drawing input noise
    /// from `rng`. Every element is written.
    fn fill_trial(
        &self,
        p: &Self::Params,
        rng: &mut TaskRng,
        x: &mut [f32],
        y: &mut [f32],
        mask: &mut [f32],
    );
    /// Accuracy over a batch (batch-major arrays); default: PsychRNN's masked-mean argmax.
    fn accuracy(&self, y: &[f32], out: &[f32], mask: &[f32], n_trials: usize) -> f64 {
        let d = self.dims();
        masked_argmax_accuracy(y, out, mask, n_trials, d.n_steps, d.n_out)
    }
}

/// Object-safe view of a [`Task`].
pub trait AnyTask: Send + Sync {
    /// Task name.
    fn name(&self) -> &'static str;
    /// Sizes and timing.
    fn dims(&self) -> TaskDims;
    /// Draw parameters and fill one trial.
    fn trial(&self, rng: &mut TaskRng, x: &mut [f32], y: &mut [f32], mask: &mut [f32]);
    /// Accuracy over a batch (batch-major arrays).
    fn accuracy(&self, y: &[f32], out: &[f32], mask: &[f32], n_trials: usize) -> f64;
}

impl<T: Task> AnyTask for T {
    fn name(&self) -> &'static str {
        Task::name(self)
    }
    fn dims(&self) -> TaskDims {
        Task::dims(self)
    }
    fn trial(&self, rng: &mut TaskRng, x: &mut [f32], y: &mut [f32], mask: &mut [f32]) {
        let p = self.sample_params(rng);
        self.fill_trial(&p, rng, x, y, mask);
    }
    fn accuracy(&self, y: &[f32], out: &[f32], mask: &[f32], n_trials: usize) -> f64 {
        Task::accuracy(self, y, out, mask, n_trials)
    }
}

/// PsychRNN's accuracy: per trial, the channel with the larger time-mean of `out·mask` is
/// the choice, the one with the larger mean of `y·mask` the truth (ties → first channel,
/// like `np.argmax`); returns the fraction of trials where they agree.
pub fn masked_argmax_accuracy(
    y: &[f32],
    out: &[f32],
    mask: &[f32],
    n_trials: usize,
    n_steps: usize,
    n_out: usize,
) -> f64 {
    if n_trials == 0 {
        return 0.0;
    }
    let mut correct = 0usize;
    let mut sy = vec![0.0f64; n_out];
    let mut so = vec![0.0f64; n_out];
    for b in 0..n_trials {
        sy.iter_mut().for_each(|v| *v = 0.0);
        so.iter_mut().for_each(|v| *v = 0.0);
        for t in 0..n_steps {
            let base = (b * n_steps + t) * n_out;
            for o in 0..n_out {
                let m = mask[base + o] as f64;
                sy[o] += y[base + o] as f64 * m;
                so[o] += out[base + o] as f64 * m;
            }
        }
        if argmax(&sy) == argmax(&so) {
            correct += 1;
        }
    }
    correct as f64 / n_trials as f64
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        // np.argmax: first maximum; NaN wins (numpy treats NaN as max).
        if x > v[best] || (x.is_nan() && !v[best].is_nan()) {
            best = i;
        }
    }
    best
}

/// A batch of trials, batch-major: `x[(trial·steps + step)·n_in + i]`, likewise `y`, `mask`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// Trials.
    pub n_trials: usize,
    /// Steps per trial.
    pub n_steps: usize,
    /// Inputs per step.
    pub n_in: usize,
    /// Outputs per step.
    pub n_out: usize,
    /// Inputs.
    pub x: Vec<f32>,
    /// Targets.
    pub y: Vec<f32>,
    /// Loss mask.
    pub mask: Vec<f32>,
}

impl Batch {
    /// A zeroed batch of `n_trials` trials of the given dims.
    pub fn new(d: TaskDims, n_trials: usize) -> Self {
        Batch {
            n_trials,
            n_steps: d.n_steps,
            n_in: d.n_in,
            n_out: d.n_out,
            x: vec![0.0; n_trials * d.n_steps * d.n_in],
            y: vec![0.0; n_trials * d.n_steps * d.n_out],
            mask: vec![0.0; n_trials * d.n_steps * d.n_out],
        }
    }

    /// Fill every trial from `task` (dims must match those given to [`Batch::new`]).
    pub fn generate(&mut self, task: &dyn AnyTask, rng: &mut TaskRng) {
        let (xi, yo) = (self.n_steps * self.n_in, self.n_steps * self.n_out);
        for b in 0..self.n_trials {
            task.trial(
                rng,
                &mut self.x[b * xi..(b + 1) * xi],
                &mut self.y[b * yo..(b + 1) * yo],
                &mut self.mask[b * yo..(b + 1) * yo],
            );
        }
    }

    /// Make and fill a batch.
    pub fn sample(task: &dyn AnyTask, n_trials: usize, rng: &mut TaskRng) -> Self {
        let mut b = Batch::new(task.dims(), n_trials);
        b.generate(task, rng);
        b
    }

    /// Inputs of trial `b` (steps × n_in).
    pub fn trial_inputs(&self, b: usize) -> &[f32] {
        let xi = self.n_steps * self.n_in;
        &self.x[b * xi..(b + 1) * xi]
    }
}

/// A task by name with its options (the `[task]` table of a training config).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Task name, one of [`TASK_NAMES`].
    pub name: String,
    /// Time step, ms (PsychRNN Hello World: 10).
    #[serde(default = "d_dt")]
    pub dt: f32,
    /// Time constant, ms (100).
    #[serde(default = "d_tau")]
    pub tau: f32,
    /// Trial length, ms (2000).
    #[serde(default = "d_t")]
    pub t: f32,
    /// perceptual-discrimination: fixed coherence (default: drawn from 0.1, 0.3, 0.5, 0.7).
    #[serde(default)]
    pub coherence: Option<f32>,
    /// perceptual-discrimination: fixed direction 0/1 (default: random).
    #[serde(default)]
    pub direction: Option<u8>,
    /// delayed-discrimination: fixed timings in ms (default: random as PsychRNN).
    #[serde(default)]
    pub onset_time: Option<f32>,
    /// delayed-discrimination: first stimulus duration, ms.
    #[serde(default)]
    pub stim_duration_1: Option<f32>,
    /// delayed-discrimination: delay duration, ms.
    #[serde(default)]
    pub delay_duration: Option<f32>,
    /// delayed-discrimination: second stimulus duration, ms.
    #[serde(default)]
    pub stim_duration_2: Option<f32>,
    /// delayed-discrimination: decision period, ms.
    #[serde(default)]
    pub decision_duration: Option<f32>,
    /// match-to-category: input channels (16).
    #[serde(default)]
    pub n_in: Option<usize>,
    /// match-to-category: categories / outputs (2).
    #[serde(default)]
    pub n_out: Option<usize>,
}

fn d_dt() -> f32 {
    10.0
}
fn d_tau() -> f32 {
    100.0
}
fn d_t() -> f32 {
    2000.0
}

impl TaskSpec {
    /// Defaults for a named task (dt 10, τ 100, T 2000, no fixed options).
    pub fn named(name: &str) -> Self {
        TaskSpec {
            name: name.into(),
            dt: d_dt(),
            tau: d_tau(),
            t: d_t(),
            coherence: None,
            direction: None,
            onset_time: None,
            stim_duration_1: None,
            delay_duration: None,
            stim_duration_2: None,
            decision_duration: None,
            n_in: None,
            n_out: None,
        }
    }
}

fn field(field: &str, reason: String) -> TaskError {
    TaskError::Field {
        field: format!("task.{field}"),
        reason,
    }
}

/// Build a task from its spec, checking every option.
pub fn build(spec: &TaskSpec) -> Result<Box<dyn AnyTask>, TaskError> {
    if !(spec.dt.is_finite() && spec.dt > 0.0) {
        return Err(field("dt", format!("is {}, must be > 0", spec.dt)));
    }
    if !(spec.tau.is_finite() && spec.tau >= spec.dt) {
        return Err(field(
            "tau",
            format!("is {}, must be >= dt = {}", spec.tau, spec.dt),
        ));
    }
    if !(spec.t.is_finite() && spec.t >= spec.dt) {
        return Err(field(
            "t",
            format!("is {}, must be >= dt = {}", spec.t, spec.dt),
        ));
    }
    if spec.t / spec.dt > 1.0e6 {
        return Err(field(
            "t",
            format!("is {} ms = {} steps, too many", spec.t, spec.t / spec.dt),
        ));
    }
    let only = |ok: bool, name: &str| -> Result<(), TaskError> {
        if ok {
            Ok(())
        } else {
            Err(field(
                name,
                format!("does not apply to task {:?}", spec.name),
            ))
        }
    };
    let name = spec.name.as_str();
    let pd = name == "perceptual-discrimination";
    let dd = name == "delayed-discrimination";
    let mc = name == "match-to-category";
    only(pd || spec.coherence.is_none(), "coherence")?;
    only(pd || spec.direction.is_none(), "direction")?;
    for (v, n) in [
        (spec.onset_time, "onset_time"),
        (spec.stim_duration_1, "stim_duration_1"),
        (spec.delay_duration, "delay_duration"),
        (spec.stim_duration_2, "stim_duration_2"),
        (spec.decision_duration, "decision_duration"),
    ] {
        only(dd || v.is_none(), n)?;
        if let Some(v) = v {
            if !(v.is_finite() && v >= 0.0) {
                return Err(field(n, format!("is {v}, must be >= 0")));
            }
        }
    }
    only(mc || spec.n_in.is_none(), "n_in")?;
    only(mc || spec.n_out.is_none(), "n_out")?;
    match name {
        "perceptual-discrimination" => {
            if let Some(c) = spec.coherence {
                if !c.is_finite() {
                    return Err(field("coherence", format!("is {c}")));
                }
            }
            if let Some(d) = spec.direction {
                if d > 1 {
                    return Err(field("direction", format!("is {d}, must be 0 or 1")));
                }
            }
            Ok(Box::new(perceptual::PerceptualDiscrimination::new(spec)))
        }
        "delayed-discrimination" => Ok(Box::new(delayed::DelayedDiscrimination::new(spec))),
        "match-to-category" => {
            let n_in = spec.n_in.unwrap_or(16);
            let n_out = spec.n_out.unwrap_or(2);
            if !(2..=4096).contains(&n_in) {
                return Err(field("n_in", format!("is {n_in}, must be in 2..=4096")));
            }
            if !(1..=4096).contains(&n_out) {
                return Err(field("n_out", format!("is {n_out}, must be in 1..=4096")));
            }
            Ok(Box::new(match_category::MatchToCategory::new(
                spec, n_in, n_out,
            )))
        }
        _ => Err(TaskError::Unknown {
            name: spec.name.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_unknown_lists_names() {
        let e = build(&TaskSpec::named("nope")).err().unwrap().to_string();
        for n in TASK_NAMES {
            assert!(e.contains(n), "{e}");
        }
    }

    #[test]
    fn build_rejects_foreign_option() {
        let mut s = TaskSpec::named("match-to-category");
        s.coherence = Some(0.2);
        let e = build(&s).err().unwrap().to_string();
        assert!(e.contains("task.coherence"), "{e}");
    }

    #[test]
    fn accuracy_argmax_first_on_tie() {
        // one trial, 1 step, 2 outputs: truth 0 (tie → 0), output prefers 1.
        let y = [0.5, 0.5];
        let m = [1.0, 1.0];
        assert_eq!(masked_argmax_accuracy(&y, &[0.0, 1.0], &m, 1, 1, 2), 0.0);
        assert_eq!(masked_argmax_accuracy(&y, &[1.0, 0.0], &m, 1, 1, 2), 1.0);
    }
}
