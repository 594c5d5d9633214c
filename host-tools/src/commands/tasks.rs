//! `neuroloop tasks list | show | check | sample`: the task library and task files.

use crate::task::{build, builtin, file, task_trials, TaskSpec, TASK_NAMES};
use anyhow::Context;

/// Typed config of `neuroloop tasks`.
#[derive(Clone, Debug, PartialEq)]
pub enum TasksCmd {
    /// List the built-in tasks.
    List,
    /// Print a built-in task file.
    Show(String),
    /// Check a task file.
    Check(String),
    /// Draw trials.
    Sample {
        /// Name or FILE.toml.
        task: String,
        /// Trials.
        trials: usize,
        /// Seed.
        seed: u64,
        /// Time step, ms.
        dt: f32,
        /// JSON output.
        json: bool,
    },
}

/// Most trials `sample` draws.
const MAX_SAMPLE: usize = 10_000;

impl TasksCmd {
    /// Check the flags.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let TasksCmd::Sample { trials, .. } = self {
            if !(1..=MAX_SAMPLE).contains(trials) {
                anyhow::bail!("--trials is {trials}, must be in 1..={MAX_SAMPLE}");
            }
        }
        Ok(())
    }
}

/// Run it.
pub fn run(cmd: &TasksCmd) -> anyhow::Result<()> {
    match cmd {
        TasksCmd::List => {
            println!(
                "{:<30} {:>4} {:>4} {:>12} {:>14} {:>9}  source",
                "task", "in", "out", "trial ms", "trials (gated)", "accuracy"
            );
            for name in TASK_NAMES {
                let t = build(&TaskSpec::named(name))?;
                let d = t.dims();
                let (trials, acc, src) = match builtin::find(name) {
                    Some(b) => {
                        let f = file::parse(b.text, name)?;
                        let acc = b.measured.map_or("—".into(), |a| format!("{a:.3}"));
                        let trials = match f.gated_trials {
                            Some(g) => format!("{} ({g})", f.trials),
                            None => f.trials.to_string(),
                        };
                        (trials, acc, f.source)
                    }
                    None => (
                        "50000".into(),
                        "—".into(),
                        "PsychRNN 1.0.0 (Rust port)".into(),
                    ),
                };
                let trial = match builtin::find(name) {
                    Some(b) => {
                        let f = file::parse(b.text, name)?;
                        format!("{}", f.t_ms)
                    }
                    None => format!("{}", d.t_ms),
                };
                println!(
                    "{:<30} {:>4} {:>4} {:>12} {:>14} {:>9}  {}",
                    name, d.n_in, d.n_out, trial, trials, acc, src
                );
            }
            Ok(())
        }
        TasksCmd::Show(name) => match builtin::find(name) {
            Some(b) => {
                print!("{}", b.text);
                Ok(())
            }
            None => match builtin::psychrnn_file(name) {
                Some(text) => {
                    print!("{text}");
                    Ok(())
                }
                None => anyhow::bail!(
                    "no built-in task {name:?}{}; tasks: {}",
                    file::suggest(name, TASK_NAMES.iter().copied()),
                    TASK_NAMES.join(", ")
                ),
            },
        },
        TasksCmd::Check(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
            let f = file::parse(&text, path)?;
            let spec = TaskSpec {
                file: Some(text),
                ..TaskSpec::named(&f.name)
            };
            build(&spec)?;
            let epochs: Vec<String> = f
                .epochs
                .iter()
                .map(|e| {
                    let (lo, hi) = e.duration.range();
                    if e.duration == file::Dist::Rest {
                        format!("{} rest", e.name)
                    } else if lo == hi {
                        format!("{} {lo}", e.name)
                    } else {
                        format!("{} {lo}..{hi}", e.name)
                    }
                })
                .collect();
            println!(
                "{path}: ok — task {:?}: {} inputs, {} outputs, trial {} ms; epochs (ms): {}; variables: {}",
                f.name,
                f.n_in,
                f.n_out,
                f.t_ms,
                epochs.join(", "),
                f.var_names.join(", ")
            );
            Ok(())
        }
        TasksCmd::Sample {
            task,
            trials,
            seed,
            dt,
            json,
        } => {
            let mut spec = TaskSpec::from_arg(task)?;
            spec.dt = *dt;
            let t = build(&spec)?;
            let b = task_trials(&*t, *trials, *seed, crate::task::stream::EVAL);
            if *json {
                let (xi, yo) = (b.n_steps * b.n_in, b.n_steps * b.n_out);
                let per: Vec<serde_json::Value> = (0..b.n_trials)
                    .map(|i| {
                        let vars: serde_json::Map<String, serde_json::Value> = b.vars[i]
                            .iter()
                            .map(|(k, v)| (k.clone(), serde_json::json!(v)))
                            .collect();
                        serde_json::json!({
                            "vars": vars,
                            "x": b.x[i * xi..(i + 1) * xi].chunks(b.n_in).collect::<Vec<_>>(),
                            "y": b.y[i * yo..(i + 1) * yo].chunks(b.n_out).collect::<Vec<_>>(),
                            "mask": b.mask[i * yo..(i + 1) * yo].chunks(b.n_out).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                let out = serde_json::json!({
                    "task": t.name(), "dt": dt, "n_steps": b.n_steps, "n_in": b.n_in,
                    "n_out": b.n_out, "seed": seed, "trials": per,
                });
                println!("{out}");
            } else {
                for (i, v) in b.vars.iter().enumerate() {
                    let s: Vec<String> = v.iter().map(|(k, x)| format!("{k}={x}")).collect();
                    println!("trial {i}: {}", s.join(" "));
                }
            }
            Ok(())
        }
    }
}
