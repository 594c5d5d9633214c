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
    /// then `neuroloop eval --trials 1000`), or `None` if not measured yet.
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
    task!("context-dependent-dm", Some(0.636)),
    task!("go-no-go", Some(1.000)),
    task!("delay-match-sample", Some(0.493)),
    task!("delay-comparison", Some(1.000)),
    task!("ready-set-go", Some(1.000)),
    task!("anti-reach", Some(0.449)),
    task!("multi-sensory-integration", Some(1.000)),
    task!("interval-discrimination", Some(0.643)),
    task!("perceptual-dm-delay-response", Some(0.493)),
];

/// The built-in task file called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The default training trial count (`trials`) of a task file or built-in task file.
pub fn default_trials(spec: &super::TaskSpec) -> Option<u64> {
    let text = spec
        .file
        .as_deref()
        .or_else(|| find(&spec.name).map(|b| b.text))?;
    super::file::parse(text, &spec.name).ok().map(|f| f.trials)
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
    }
}
