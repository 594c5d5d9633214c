//! Declarative task files (TOML; schema in docs/tasks.md): a task's trial variables,
//! epochs, input and target signals, mask and accuracy rule, read into a [`TaskFile`]
//! ([`parse`]) that [`FileTask`] runs as a [`super::Task`].
//!
//! The reader walks `toml_edit`'s document by hand instead of deriving `serde` structs so
//! that every error, including a bad value found after parsing (a negative duration, a
//! channel out of range, epochs longer than the trial), names the file, the line, the key
//! and the value, and suggests the nearest valid key ([`FileError`]).

pub mod expr;
mod interp;
mod parse;
mod reader;
mod rule;

pub use expr::Expr;
pub use interp::FileTask;
pub use parse::parse;

/// A task-file error: file, line (1-based, when known), key path and what is wrong.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{file}:{}: `{key}` {message}", line.map_or("?".to_string(), |l| l.to_string()))]
pub struct FileError {
    /// File name as given (or `builtin:NAME`).
    pub file: String,
    /// Line of the offending key or value.
    pub line: Option<usize>,
    /// Key path, e.g. `epoch[2].duration`.
    pub key: String,
    /// What is wrong, with the value and, for an unknown key, the nearest valid one.
    pub message: String,
}

/// `; did you mean "x"?` for the candidate nearest to `word` (Levenshtein ≤ 3), else "".
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    candidates
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 3.min(c.len().max(1)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean {c:?}?)"))
        .unwrap_or_default()
}

/// A distribution a trial variable or an epoch duration is drawn from.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// A fixed value.
    Const(f64),
    /// One of a set, uniformly.
    Choice(Vec<f64>),
    /// Uniform on `[lo, hi)`.
    Uniform(f64, f64),
    /// Uniform on `[lo, hi)` in single precision: `f32(lo + f32((hi − lo)·u))` with `u` a
    /// single-precision unit draw (`f32 = true`; the PsychRNN ports' draws).
    UniformF32(f64, f64),
    /// An integer `0..n`, uniformly.
    Categories(usize),
    /// Exponential with `mean`, shifted to start at `min` and redrawn above `max`
    /// (NeuroGym's `truncated_exponential`: `min + Exp(mean)`, clipped at `max`).
    Exponential {
        /// Mean of the exponential part.
        mean: f64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// A value computed from earlier variables, clamped to `[lo, hi]`.
    Expr(Expr, f64, f64),
    /// Only as the last epoch's duration (`"rest"`): until the end of the trial.
    Rest,
}

impl Dist {
    /// Smallest and largest value it can take.
    pub fn range(&self) -> (f64, f64) {
        match self {
            Dist::Const(v) => (*v, *v),
            Dist::Choice(c) => c
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                }),
            Dist::Uniform(a, b) | Dist::UniformF32(a, b) => (*a, *b),
            Dist::Categories(n) => (0.0, n.saturating_sub(1) as f64),
            Dist::Exponential { min, max, .. } => (*min, *max),
            Dist::Expr(_, lo, hi) => (*lo, *hi),
            Dist::Rest => (0.0, 0.0),
        }
    }
}

/// One `[vars]` entry: one variable, or a pair of them drawn together.
#[derive(Clone, Debug, PartialEq)]
pub enum VarDef {
    /// One variable from a distribution (slot index).
    One(usize, Dist),
    /// Two variables from a list of pairs (slot indices), optionally in random order.
    Pairs {
        /// Slot of the first.
        a: usize,
        /// Slot of the second.
        b: usize,
        /// The pairs.
        pairs: Vec<(f64, f64)>,
        /// Swap the two with probability ½.
        shuffle: bool,
    },
}

/// Where a signal goes: one channel, or a ring of channels coding an angle.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// `value` on `channel`.
    Channel {
        /// Channel index.
        channel: usize,
        /// Value (expression of the trial's variables).
        value: Expr,
    },
    /// A bump over channels `first..first+count` with preferred angles `2π·i/count`
    /// (or `2π·i/(count−1)`, `linspace`), centred on `angle`, times `scale`.
    Ring {
        /// First channel.
        first: usize,
        /// Channels in the ring.
        count: usize,
        /// Angle, rad.
        angle: Expr,
        /// Height.
        scale: Expr,
        /// Profile over the ring.
        shape: Shape,
        /// Preferred angles `linspace(0, 2π, count)` as PsychRNN's `MatchToCategory` (the
        /// first and last channel both at 0 ≡ 2π), the difference wrapped once into
        /// [−π, π] as PsychRNN does; else `2π·i/count`, wrapped exactly.
        linspace: bool,
    },
}

/// A ring signal's profile over the wrapped difference `d = θᵢ − angle`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// `cos d` (NeuroGym's ring inputs).
    Cosine,
    /// `exp(−d²/2σ²)` with width σ rad.
    Gaussian(f64),
    /// The normal density `exp(−d²/2σ²) / (σ·√(2π))` (PsychRNN's `_gaussian_input`).
    Normal(f64),
    /// 1 on the channel nearest `angle`, 0 elsewhere (a one-hot choice on a ring).
    OneHot,
}

/// One epoch: a duration, the inputs and targets during it, and the mask.
#[derive(Clone, Debug, PartialEq)]
pub struct Epoch {
    /// Name (unique).
    pub name: String,
    /// Duration, ms (rounded to dt when drawn).
    pub duration: Dist,
    /// Inputs (summed; channels not named are 0, plus noise).
    pub inputs: Vec<Signal>,
    /// Targets (channels not named are 0).
    pub targets: Vec<Signal>,
    /// Loss mask on every output during the epoch.
    pub mask: f64,
    /// With `timing = "exact"`: the epoch starts strictly after its start time (the
    /// step at exactly that time belongs to the epoch before).
    pub open_start: bool,
}

/// How epoch durations become steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Durations are rounded to dt; epoch `i` covers steps `round(start/dt)..round(end/dt)`.
    Rounded,
    /// Durations are kept as drawn; epoch starts are their running sums in single
    /// precision, and step `k` (at `f32(k·dt)`) is in the epoch when its time is ≥ the
    /// start (> with `open_start`) and < the next epoch's start — the PsychRNN ports'
    /// semantics.
    Exact,
}

/// How a trial is scored, in the window of one epoch.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// PsychRNN's `accuracy_function`: over the whole trial, the output with the largest
    /// mean of `output·mask` must be the one with the largest mean of `target·mask`
    /// ([`crate::task::masked_argmax_accuracy`]).
    MaskedArgmax,
    /// The output among `channels` with the largest mean in the window must be `expect`.
    Argmax {
        /// Candidate outputs.
        channels: Vec<usize>,
        /// Correct output channel.
        expect: Expr,
    },
    /// The mean of output `channel` in the window is above `level` iff `expect` > 0.
    Sign {
        /// Output channel.
        channel: usize,
        /// Level.
        level: f64,
        /// > 0: should be above.
        expect: Expr,
    },
    /// Output `channel` first reaches `level` at `expect` ms after the window starts,
    /// within `tolerance·expect + slack` ms.
    Threshold {
        /// Output channel.
        channel: usize,
        /// Level.
        level: f64,
        /// Correct crossing time, ms after the window start.
        expect: Expr,
        /// Relative tolerance.
        tolerance: f64,
        /// Absolute tolerance, ms.
        slack: f64,
    },
}

/// A parsed and checked task file.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskFile {
    /// Task name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Where the task and its timings come from.
    pub source: String,
    /// Inputs.
    pub n_in: usize,
    /// Outputs.
    pub n_out: usize,
    /// Trial length, ms (default: the epochs' longest total).
    pub t_ms: f64,
    /// Input noise σ (per step `σ·√(2·dt/τ)·N(0,1)` on every input).
    pub noise: f64,
    /// Instead of `noise`: the per-step noise amplitude `a`, an expression of `dt` and
    /// `tau`; each input gets `f32(a)·f32(N(0,1))` in single precision (PsychRNN's ports).
    pub noise_amp: Option<Expr>,
    /// How epoch durations become steps.
    pub timing: Timing,
    /// Default number of training trials.
    pub trials: u64,
    /// Default number of training trials for the gated cells (`gru`, `lstm`,
    /// `lstm-psychrnn`), where they need more than `trials`.
    pub gated_trials: Option<u64>,
    /// Default `init.chrono_tmax` for the `lstm` cell (its initial time constants spread
    /// up to this many τ), where the task needs memory longer than τ from the start.
    pub lstm_chrono_tmax: Option<f64>,
    /// Variable names by slot (vars, then each epoch's duration as `<epoch>_ms`).
    pub var_names: Vec<String>,
    /// Variable definitions in file order.
    pub vars: Vec<VarDef>,
    /// Epochs in order.
    pub epochs: Vec<Epoch>,
    /// First and last epoch of the scored window.
    pub accuracy_epochs: (usize, usize),
    /// The scoring rule.
    pub rule: Rule,
    /// Only trials where this is non-zero are scored (`[accuracy] only`, e.g. trials
    /// that have a right answer); `None`: every trial.
    pub only: Option<Expr>,
    /// The file's text.
    pub text: String,
}
