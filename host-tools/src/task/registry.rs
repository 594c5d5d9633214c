//! The built-in tasks by name ([`TASK_NAMES`]: the Rust ports, then the task files of
//! [`super::builtin`]) and [`build`], which checks a [`TaskSpec`]'s options and makes the
//! task (a port, a built-in task file, or the user task file the spec carries).

use super::builtin;
use super::delayed::DelayedDiscrimination;
use super::file::{FileError, FileTask};
use super::match_category::MatchToCategory;
use super::perceptual::PerceptualDiscrimination;
use super::spec::TaskSpec;
use super::AnyTask;

/// Names of the built-in tasks, as accepted by [`build`]: the three PsychRNN ports, then
/// [`builtin::BUILTINS`] in order.
pub const TASK_NAMES: [&str; 12] = [
    "perceptual-discrimination",
    "delayed-discrimination",
    "match-to-category",
    "context-dependent-dm",
    "go-no-go",
    "delay-match-sample",
    "delay-comparison",
    "ready-set-go",
    "anti-reach",
    "multi-sensory-integration",
    "interval-discrimination",
    "perceptual-dm-delay-response",
];

/// Most steps a trial may have (`ceil(task.t / task.dt)`): 1000 s at dt = 10 ms.
pub const MAX_STEPS: usize = 100_000;

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
    /// A task file is malformed.
    #[error(transparent)]
    File(#[from] FileError),
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
    let steps = (spec.t as f64 / spec.dt as f64).ceil();
    if steps > MAX_STEPS as f64 {
        return Err(field(
            "t",
            format!(
                "is {} ms = {steps} steps of dt = {} ms, more than the {MAX_STEPS} steps a trial may have",
                spec.t, spec.dt
            ),
        ));
    }
    let text = match (&spec.file, builtin::find(&spec.name)) {
        (Some(t), _) => Some((t.as_str(), format!("task file of {:?}", spec.name))),
        (None, Some(b)) => Some((b.text, format!("builtin:{}", b.name))),
        (None, None) => None,
    };
    if let Some((text, origin)) = text {
        return build_file(spec, text, &origin);
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
                if !(0.0..=1.0).contains(&c) {
                    return Err(field("coherence", format!("is {c}, must be in [0, 1]")));
                }
            }
            if let Some(d) = spec.direction {
                if d > 1 {
                    return Err(field("direction", format!("is {d}, must be 0 or 1")));
                }
            }
            Ok(Box::new(PerceptualDiscrimination::new(spec)))
        }
        "delayed-discrimination" => {
            check_delayed_periods(spec)?;
            Ok(Box::new(DelayedDiscrimination::new(spec)))
        }
        "match-to-category" => {
            let n_in = spec.n_in.unwrap_or(16);
            let n_out = spec.n_out.unwrap_or(2);
            if !(2..=4096).contains(&n_in) {
                return Err(field("n_in", format!("is {n_in}, must be in 2..=4096")));
            }
            if !(1..=4096).contains(&n_out) {
                return Err(field("n_out", format!("is {n_out}, must be in 1..=4096")));
            }
            Ok(Box::new(MatchToCategory::new(spec, n_in, n_out)))
        }
        _ => Err(TaskError::Unknown {
            name: spec.name.clone(),
        }),
    }
}

/// A task file's task: the PsychRNN ports' options do not apply; `task.t` must be left at
/// its default or equal the file's `t` (a file sets its own trial length).
fn build_file(spec: &TaskSpec, text: &str, origin: &str) -> Result<Box<dyn AnyTask>, TaskError> {
    let f = super::file::parse(text, origin)?;
    let mut spec_only = TaskSpec::named(&spec.name);
    spec_only.dt = spec.dt;
    spec_only.tau = spec.tau;
    spec_only.t = spec.t;
    spec_only.file = spec.file.clone();
    if *spec != spec_only {
        return Err(field(
            "name",
            format!(
                "is {:?}, a task file: only task.dt and task.tau apply to it (the options of the PsychRNN ports do not)",
                spec.name
            ),
        ));
    }
    if spec.t != TaskSpec::named("").t && (f64::from(spec.t) - f.t_ms).abs() > 1e-3 {
        return Err(field(
            "t",
            format!(
                "is {} ms; task {:?} sets its own trial length ({} ms, key `t` of its file)",
                spec.t, f.name, f.t_ms
            ),
        ));
    }
    if f.name != spec.name {
        return Err(field(
            "name",
            format!(
                "is {:?}, but the task file is named {:?}",
                spec.name, f.name
            ),
        ));
    }
    let steps = (f.t_ms / f64::from(spec.dt)).ceil();
    if steps > MAX_STEPS as f64 {
        return Err(field(
            "dt",
            format!(
                "is {} ms: task {:?} lasts {} ms = {steps} steps, more than the {MAX_STEPS} steps a trial may have",
                spec.dt, f.name, f.t_ms
            ),
        ));
    }
    Ok(Box::new(FileTask::new(f, spec.dt, spec.tau)))
}

/// delayed-discrimination's periods must fit in the trial: onset, stimulus 1, delay,
/// stimulus 2 and decision, each fixed or drawn up to its maximum (`T/8`, `T/4`, `T/4`,
/// `T/4`, `T/8`, as PsychRNN), end by `task.t`; stimuli and decision last at least `dt`
/// (a shorter one is never on at any step, and a trial without a decision is never scored).
fn check_delayed_periods(spec: &TaskSpec) -> Result<(), TaskError> {
    let t = spec.t;
    let periods = [
        ("onset_time", spec.onset_time, t / 8.0, 0.0),
        ("stim_duration_1", spec.stim_duration_1, t / 4.0, spec.dt),
        ("delay_duration", spec.delay_duration, t / 4.0, 0.0),
        ("stim_duration_2", spec.stim_duration_2, t / 4.0, spec.dt),
        (
            "decision_duration",
            spec.decision_duration,
            t / 8.0,
            spec.dt,
        ),
    ];
    for (name, v, _, min) in periods {
        if let Some(v) = v {
            if v < min {
                return Err(field(
                    name,
                    format!("is {v} ms, must be >= {min} ms (task.dt)"),
                ));
            }
        }
    }
    let end: f32 = periods.iter().map(|(_, v, max, _)| v.unwrap_or(*max)).sum();
    if end > t * (1.0 + 1e-6) {
        let (name, v) = periods
            .iter()
            .filter_map(|(n, v, _, _)| v.map(|v| (*n, v)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or(("t", t));
        return Err(field(
            name,
            format!(
                "is {v} ms: onset + stimulus 1 + delay + stimulus 2 + decision (random periods at their maximum T/8, T/4, T/4, T/4, T/8) end at {end} ms, after the trial (task.t = {t} ms)"
            ),
        ));
    }
    Ok(())
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
    fn delay_longer_than_trial_is_named() {
        let mut s = TaskSpec::named("delayed-discrimination");
        s.delay_duration = Some(5000.0);
        let e = build(&s).err().unwrap().to_string();
        assert!(
            e.contains("task.delay_duration") && e.contains("5000"),
            "{e}"
        );
        s.delay_duration = Some(400.0);
        assert!(build(&s).is_ok());
    }

    #[test]
    fn coherence_out_of_range_is_named() {
        let mut s = TaskSpec::named("perceptual-discrimination");
        s.coherence = Some(5.0);
        let e = build(&s).err().unwrap().to_string();
        assert!(e.contains("task.coherence") && e.contains("is 5"), "{e}");
        s.coherence = Some(1.0);
        assert!(build(&s).is_ok());
    }
}
