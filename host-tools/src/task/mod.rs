//! Cognitive tasks: trial parameters → inputs `x[t]`, targets `y[t]`, loss mask `mask[t]`,
//! and an accuracy function, ported from PsychRNN 1.0.0 (`psychrnn/tasks/*.py`).
//!
//! A task draws one trial's parameters ([`Task::sample_params`]), then fills that trial's
//! `steps × n_in` inputs and `steps × n_out` targets and mask ([`Task::fill_trial`]); step
//! `k` is at time `k·dt` ms, as in PsychRNN's `generate_trial`. Batches are batch-major
//! (`trial, step, channel`), PsychRNN's layout. [`AnyTask`] is the object-safe face the
//! trainer and the CLI use; [`build`] makes one from a [`TaskSpec`] (name + options).
//! Trials are drawn from reproducible streams ([`trials`]); [`check_fit`] tells whether a
//! model's sizes fit a task.
//!
//! | name | inputs | outputs | PsychRNN class |
//! |---|---|---|---|
//! | `perceptual-discrimination` | 2 | 2 | `PerceptualDiscrimination` |
//! | `delayed-discrimination` | 2 | 2 | `DelayedDiscrimination` (Romo) |
//! | `match-to-category` | 16 | 2 | `MatchToCategory` |

pub mod builtin;
pub mod delayed;
pub mod file;
pub mod fit;
pub mod match_category;
pub mod perceptual;
pub mod registry;
pub mod spec;
pub mod trials;

pub use fit::{check_fit, FitError};
pub use registry::{build, TaskError, MAX_STEPS, TASK_NAMES};
pub use spec::TaskSpec;

pub use trials::{calibration_inputs, stream, task_trials, trial_rng};

use rand_chacha::ChaCha8Rng;

/// The random generator tasks draw from (fast, seedable, splittable by stream).
pub type TaskRng = ChaCha8Rng;

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

/// One trial's condition variables by name, in a fixed order per task (e.g.
/// `[("coherence", 0.3), ("direction", 1.0)]`): what plots colour and sort trials by, and
/// what a psychometric curve puts on its axes.
pub type TrialVars = Vec<(String, f64)>;

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
    /// One trial's condition variables (see [`TrialVars`]), from its parameters.
    fn vars(&self, p: &Self::Params) -> TrialVars;
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
    /// Accuracy of outputs `out` (batch-major, like `batch.y`) on `batch`; default:
    /// PsychRNN's masked-mean argmax.
    fn accuracy(&self, batch: &Batch, out: &[f32]) -> f64 {
        let d = self.dims();
        masked_argmax_accuracy(
            &batch.y,
            out,
            &batch.mask,
            batch.n_trials,
            d.n_steps,
            d.n_out,
        )
    }
}

/// Object-safe view of a [`Task`].
pub trait AnyTask: Send + Sync {
    /// Task name.
    fn name(&self) -> &'static str;
    /// Sizes and timing.
    fn dims(&self) -> TaskDims;
    /// Draw parameters and fill one trial; returns its condition variables.
    fn trial(&self, rng: &mut TaskRng, x: &mut [f32], y: &mut [f32], mask: &mut [f32])
        -> TrialVars;
    /// Accuracy of outputs `out` (batch-major, like `batch.y`) on `batch`.
    fn accuracy(&self, batch: &Batch, out: &[f32]) -> f64;
}

impl<T: Task> AnyTask for T {
    fn name(&self) -> &'static str {
        Task::name(self)
    }
    fn dims(&self) -> TaskDims {
        Task::dims(self)
    }
    fn trial(
        &self,
        rng: &mut TaskRng,
        x: &mut [f32],
        y: &mut [f32],
        mask: &mut [f32],
    ) -> TrialVars {
        let p = self.sample_params(rng);
        self.fill_trial(&p, rng, x, y, mask);
        self.vars(&p)
    }
    fn accuracy(&self, batch: &Batch, out: &[f32]) -> f64 {
        Task::accuracy(self, batch, out)
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
    /// Each trial's condition variables ([`TrialVars`]).
    pub vars: Vec<TrialVars>,
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
            vars: vec![Vec::new(); n_trials],
        }
    }

    /// Fill every trial from `task` (dims must match those given to [`Batch::new`]).
    pub fn generate(&mut self, task: &dyn AnyTask, rng: &mut TaskRng) {
        let (xi, yo) = (self.n_steps * self.n_in, self.n_steps * self.n_out);
        for b in 0..self.n_trials {
            self.vars[b] = task.trial(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_argmax_first_on_tie() {
        // one trial, 1 step, 2 outputs: truth 0 (tie → 0), output prefers 1.
        let y = [0.5, 0.5];
        let m = [1.0, 1.0];
        assert_eq!(masked_argmax_accuracy(&y, &[0.0, 1.0], &m, 1, 1, 2), 0.0);
        assert_eq!(masked_argmax_accuracy(&y, &[1.0, 0.0], &m, 1, 1, 2), 1.0);
    }
}
