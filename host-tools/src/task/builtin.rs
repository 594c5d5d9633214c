//! The built-in task files (host-tools/tasks/*.toml, compiled into the binary), with the
//! accuracy each reached when trained at default settings (docs/tasks.md says how).

/// A built-in task file.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// Task name (the file's `name`).
    pub name: &'static str,
    /// The file's text.
    pub text: &'static str,
    /// Test accuracy of a model trained at default settings (`neuroloop train --task NAME`,
    /// then `neuroloop eval --trials 1000`; by the file's accuracy rule, on the trials its
    /// `only` selects), or `None` if not measured yet. docs/tasks.md has the table.
    pub measured: Option<f64>,
}

macro_rules! task {
    ($name:literal, $acc:expr) => {
        Builtin {
            name: $name,
            text: include_str!(concat!("../../tasks/", $name, ".toml")),
            measured: $acc,
        }
    };
}

/// Every built-in task file, in [`super::TASK_NAMES`] order.
pub const BUILTINS: [Builtin; 9] = [
    task!("context-dependent-dm", Some(0.988)),
    task!("go-no-go", Some(1.000)),
    task!("delay-match-sample", Some(1.000)),
    task!("delay-comparison", Some(1.000)),
    task!("ready-set-go", Some(1.000)),
    task!("anti-reach", Some(1.000)),
    task!("multi-sensory-integration", Some(1.000)),
    task!("interval-discrimination", Some(0.964)),
    task!("perceptual-dm-delay-response", Some(1.000)),
];

/// The three PsychRNN tasks written as task files (name, text). The Rust ports still build
/// these names (their options — `task.t` scaling every period, fixed coherence or periods,
/// `n_in`/`n_out` — have no task-file form yet); tests/task_psychrnn_files.rs proves each
/// file gives its port's trials bit for bit. `neuroloop tasks show NAME` prints them.
pub const PSYCHRNN_FILES: [(&str, &str); 3] = [
    (
        "perceptual-discrimination",
        include_str!("../../tasks/perceptual-discrimination.toml"),
    ),
    (
        "delayed-discrimination",
        include_str!("../../tasks/delayed-discrimination.toml"),
    ),
    (
        "match-to-category",
        include_str!("../../tasks/match-to-category.toml"),
    ),
];

/// The task-file form of a PsychRNN port ([`PSYCHRNN_FILES`]).
pub fn psychrnn_file(name: &str) -> Option<&'static str> {
    PSYCHRNN_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// The built-in task file called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The parsed task file (a user file or a built-in one) `spec` names, if any.
fn task_file(spec: &super::TaskSpec) -> Option<super::file::TaskFile> {
    let text = spec
        .file
        .as_deref()
        .or_else(|| find(&spec.name).map(|b| b.text))?;
    super::file::parse(text, &spec.name).ok()
}

/// The default training trial count of a task file or built-in task file for `cell`:
/// `gated_trials` for a gated cell where the file sets it, else `trials`.
pub fn default_trials(spec: &super::TaskSpec, cell: crate::model::Cell) -> Option<u64> {
    let f = task_file(spec)?;
    Some(match f.gated_trials {
        Some(n) if !cell.is_leaky() => n,
        _ => f.trials,
    })
}

/// The default `init.chrono_tmax` of a task file or built-in task file for `cell`: its
/// `lstm_chrono_tmax` for the `lstm` cell where the file sets one.
pub fn default_chrono_tmax(spec: &super::TaskSpec, cell: crate::model::Cell) -> Option<f64> {
    (cell == crate::model::Cell::Lstm)
        .then(|| task_file(spec)?.lstm_chrono_tmax)
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_is_listed() {
        for b in BUILTINS {
            let f = crate::task::file::parse(b.text, b.name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(f.name, b.name);
            assert!(crate::task::TASK_NAMES.contains(&b.name));
            assert!(!f.source.is_empty(), "{} cites no source", b.name);
        }
        for (name, text) in PSYCHRNN_FILES {
            let f = crate::task::file::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(f.name, name);
            assert!(crate::task::TASK_NAMES[..3].contains(&name));
        }
    }
}
