//! [`TaskSpec`]: a task by name with its options, the `[task]` table of a training config.

use serde::{Deserialize, Serialize};

/// A task by name with its options (the `[task]` table of a training config).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Task name, one of [`super::TASK_NAMES`].
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
    /// A user task file's TOML text (docs/tasks.md); `name` is then the file's `name`.
    /// Kept in the config, checkpoint and model so the task can be rebuilt without the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
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
            file: None,
        }
    }

    /// The spec for a `--task` argument: a built-in name, or a path ending in `.toml`
    /// (read and checked now; its text is kept in [`TaskSpec::file`]).
    pub fn from_arg(arg: &str) -> Result<Self, super::TaskError> {
        if !arg.ends_with(".toml") {
            return Ok(TaskSpec::named(arg));
        }
        let text = std::fs::read_to_string(arg).map_err(|e| super::TaskError::Field {
            field: "--task".into(),
            reason: format!("names {arg:?}, which cannot be read: {e}"),
        })?;
        let f = super::file::parse(&text, arg)?;
        let mut s = TaskSpec::named(&f.name);
        s.file = Some(text);
        Ok(s)
    }
}
