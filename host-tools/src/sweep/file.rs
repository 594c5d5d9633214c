//! The sweep file (TOML): a base training config, the axes whose grid product makes the
//! runs, the seeds, and the optional per-run quantize and eval steps. Every key and its
//! meaning: `docs/sweep.md`.
//!
//! ```toml
//! seeds = 3                                   # seeds 1, 2, 3 (or a list: [1, 7, 9])
//! base = "train.toml"                         # a train config file, or the table below
//! # [base.task]
//! # name = "perceptual-discrimination"
//! [axes]                                      # dotted train config keys
//! "model.n_rec" = [32, 64]                    # a list
//! "train.learning_rate" = { start = 0.001, stop = 0.003, step = 0.001 }   # a range
//! [quantize]
//! weights = ["i8", "i16"]
//! calibration_trials = 64
//! [eval]
//! trials = 1000
//! seed = 1
//! ```
//!
//! Errors name the key and the offending value ([`SweepError`]).

use crate::quantize::WeightFormat;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Most runs one sweep may hold.
pub const MAX_RUNS: usize = 100_000;
/// Most seeds (`seeds = N`).
pub const MAX_SEEDS: u64 = 10_000;
/// Fewest calibration trials (as `neuroloop quantize`).
pub const MIN_CALIBRATION_TRIALS: usize = 8;
/// Most evaluation or calibration trials per run.
pub const MAX_TRIALS: usize = 1_000_000;
/// Top-level keys of a sweep file.
pub const SWEEP_KEYS: [&str; 5] = ["base", "seeds", "axes", "quantize", "eval"];

/// Errors reading a sweep file; each names the file and the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The TOML does not parse.
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Parser message (line and column).
        message: String,
    },
    /// A key has a bad value.
    #[error("{path}: sweep key `{key}` {reason}")]
    Key {
        /// File.
        path: PathBuf,
        /// The key, e.g. `axes."model.n_rec"`.
        key: String,
        /// What is wrong, with the value.
        reason: String,
    },
}

/// One axis: a dotted train config key and its values, in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Axis {
    /// Dotted key, e.g. `model.n_rec`.
    pub key: String,
    /// The values (TOML scalars or arrays).
    pub values: Vec<toml::Value>,
}

/// What each run does after training; part of what makes a run's result current.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Steps {
    /// Weight formats to quantize to (`[quantize] weights`), empty for none.
    pub quantize: Vec<WeightFormat>,
    /// Calibration trials of the task (`[quantize] calibration_trials`, default 64).
    pub calibration_trials: usize,
    /// Evaluation trials (`[eval] trials`), `None` for no evaluation.
    pub eval_trials: Option<usize>,
    /// Seed of the evaluation and calibration trials (`[eval] seed`, default 1): the same
    /// trials for every network of the sweep.
    pub eval_seed: u64,
}

/// A parsed sweep file.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The base train config as a TOML table (from `base = "FILE"` or `[base]`).
    pub base: toml::Table,
    /// Axes, ordered by key.
    pub axes: Vec<Axis>,
    /// Training seeds.
    pub seeds: Vec<u64>,
    /// Quantize and eval after training.
    pub steps: Steps,
}

impl SweepFile {
    /// Read and check a sweep file.
    pub fn load(path: &Path) -> Result<Self, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|source| SweepError::Io {
            path: path.into(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse sweep TOML; `path` names it in errors and anchors a relative `base` file.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SweepError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| SweepError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        let key = |key: &str, reason: String| SweepError::Key {
            path: path.into(),
            key: key.into(),
            reason,
        };
        if let Some(k) = table.keys().find(|k| !SWEEP_KEYS.contains(&k.as_str())) {
            return Err(key(
                k,
                format!("is unknown; valid keys: {}", SWEEP_KEYS.join(", ")),
            ));
        }
        let base = match table.get("base") {
            None => return Err(key("base", "is missing: give a train config file (base = \"train.toml\") or a [base] table with at least [base.task] name".into())),
            Some(toml::Value::String(file)) => {
                let p = path.parent().unwrap_or(Path::new("")).join(file);
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| key("base", format!("is {file:?}: cannot read {}: {e}", p.display())))?;
                toml::from_str(&text).map_err(|e| key("base", format!("is {file:?}: {}: {e}", p.display())))?
            }
            Some(toml::Value::Table(t)) => t.clone(),
            Some(v) => return Err(key("base", format!("is {v}; give a file name or a [base] table"))),
        };
        let base_seed = match base.get("seed") {
            None => 1,
            Some(toml::Value::Integer(s)) if *s >= 0 => *s as u64,
            Some(v) => return Err(key("base.seed", format!("is {v}; must be an integer ≥ 0"))),
        };
        let seeds = match table.get("seeds") {
            None => vec![base_seed],
            Some(toml::Value::Integer(n)) if (1..=MAX_SEEDS as i64).contains(n) => {
                (0..*n as u64).map(|i| base_seed + i).collect()
            }
            Some(toml::Value::Array(a)) if !a.is_empty() => {
                let mut s = Vec::new();
                for v in a {
                    match v {
                        toml::Value::Integer(i) if *i >= 0 && !s.contains(&(*i as u64)) => s.push(*i as u64),
                        _ => return Err(key("seeds", format!("has {v}; seeds must be distinct integers ≥ 0"))),
                    }
                }
                s
            }
            Some(v) => {
                return Err(key(
                    "seeds",
                    format!("is {v}; give a count 1..={MAX_SEEDS} (seeds base.seed, base.seed + 1, …) or a list of seeds"),
                ))
            }
        };
        let axes = match table.get("axes") {
            None => Vec::new(),
            Some(toml::Value::Table(t)) => t
                .iter()
                .map(|(k, v)| parse_axis(k, v).map_err(|r| key(&format!("axes.\"{k}\""), r)))
                .collect::<Result<Vec<_>, _>>()?,
            Some(v) => return Err(key("axes", format!("is {v}; must be a table ([axes])"))),
        };
        let steps = parse_steps(&table).map_err(|(k, r)| key(&k, r))?;
        let runs = axes
            .iter()
            .try_fold(seeds.len(), |n, a| n.checked_mul(a.values.len()))
            .filter(|&n| n <= MAX_RUNS);
        if runs.is_none() {
            return Err(key(
                "axes",
                format!("make more than {MAX_RUNS} runs (seeds × the values of every axis); split the sweep"),
            ));
        }
        Ok(SweepFile {
            path: path.into(),
            base,
            axes,
            seeds,
            steps,
        })
    }

    /// Number of runs: seeds × the values of every axis.
    pub fn run_count(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product::<usize>() * self.seeds.len()
    }
}

/// An axis from its key and value: a list, or a range table `{ start, stop, step }`
/// (both ends included when the steps land on `stop`).
fn parse_axis(k: &str, v: &toml::Value) -> Result<Axis, String> {
    if k == "seed" {
        return Err("sweeps the seed; use the top-level `seeds` key instead".into());
    }
    if k == "train.threads" {
        return Err(
            "is set by the runner (`sweep run -j`, Slurm's --cpus-per-task); remove it".into(),
        );
    }
    if k.is_empty() || k.split('.').any(str::is_empty) {
        return Err("is not a dotted train config key such as model.n_rec".into());
    }
    let values = match v {
        toml::Value::Array(a) if !a.is_empty() => a.clone(),
        toml::Value::Array(_) => return Err("is an empty list; give at least one value".into()),
        toml::Value::Table(t) => range(t)?,
        other => {
            return Err(format!(
                "is {other}; give a list of values or a range {{ start = A, stop = B, step = S }}"
            ))
        }
    };
    for (i, a) in values.iter().enumerate() {
        if values[..i].contains(a) {
            return Err(format!("has the value {a} twice"));
        }
    }
    Ok(Axis {
        key: k.into(),
        values,
    })
}

/// The values of a range table `{ start, stop, step }`: integers if all three are.
fn range(t: &toml::Table) -> Result<Vec<toml::Value>, String> {
    if let Some(k) = t
        .keys()
        .find(|k| !["start", "stop", "step"].contains(&k.as_str()))
    {
        return Err(format!(
            "range has the unknown key `{k}`; a range is {{ start = A, stop = B, step = S }}"
        ));
    }
    let get = |name: &str| match t.get(name) {
        Some(toml::Value::Integer(i)) => Ok((*i as f64, true)),
        Some(toml::Value::Float(f)) if f.is_finite() => Ok((*f, false)),
        Some(v) => Err(format!("range `{name}` is {v}; must be a number")),
        None => Err(format!(
            "range needs `{name}` ({{ start = A, stop = B, step = S }})"
        )),
    };
    let ((a, ai), (b, bi), (s, si)) = (get("start")?, get("stop")?, get("step")?);
    if s <= 0.0 {
        return Err(format!("range `step` is {s}; must be > 0"));
    }
    if b < a {
        return Err(format!("range `stop` {b} is below `start` {a}"));
    }
    let n = ((b - a) / s + 1e-9).floor() as usize + 1;
    if n > MAX_RUNS {
        return Err(format!("range has {n} values, more than {MAX_RUNS}"));
    }
    Ok((0..n)
        .map(|i| {
            if ai && bi && si {
                toml::Value::Integer((a + i as f64 * s) as i64)
            } else {
                // 12 significant digits: 0.1 + 2·0.1 is 0.3, not 0.30000000000000004.
                let v: f64 = format!("{:.11e}", a + i as f64 * s).parse().unwrap_or(0.0);
                toml::Value::Float(v)
            }
        })
        .collect())
}

/// `[quantize]` and `[eval]`, as (key, reason) on error.
fn parse_steps(table: &toml::Table) -> Result<Steps, (String, String)> {
    let mut steps = Steps {
        calibration_trials: 64,
        eval_seed: 1,
        ..Steps::default()
    };
    let sub = |name: &str, allowed: &[&str]| -> Result<Option<toml::Table>, (String, String)> {
        match table.get(name) {
            None => Ok(None),
            Some(toml::Value::Table(t)) => {
                if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
                    return Err((
                        format!("{name}.{k}"),
                        format!("is unknown; valid: {}", allowed.join(", ")),
                    ));
                }
                Ok(Some(t.clone()))
            }
            Some(v) => Err((name.into(), format!("is {v}; must be a table ([{name}])"))),
        }
    };
    let count = |key: &str, v: &toml::Value, min: usize| match v {
        toml::Value::Integer(i) if (min as i64..=MAX_TRIALS as i64).contains(i) => Ok(*i as usize),
        v => Err((
            key.to_string(),
            format!("is {v}; must be an integer in {min}..={MAX_TRIALS}"),
        )),
    };
    if let Some(q) = sub("quantize", &["weights", "calibration_trials"])? {
        let one = |v: &toml::Value| match v.as_str() {
            Some("i8") => Ok(WeightFormat::I8),
            Some("i16") => Ok(WeightFormat::I16),
            _ => Err((
                "quantize.weights".to_string(),
                format!("has {v}; valid: \"i8\", \"i16\""),
            )),
        };
        steps.quantize = match q.get("weights") {
            Some(toml::Value::Array(a)) if !a.is_empty() => {
                a.iter().map(one).collect::<Result<_, _>>()?
            }
            Some(v @ toml::Value::String(_)) => vec![one(v)?],
            Some(v) => {
                return Err((
                    "quantize.weights".into(),
                    format!("is {v}; give \"i8\", \"i16\" or a list of them"),
                ))
            }
            None => {
                return Err((
                    "quantize.weights".into(),
                    "is missing; give \"i8\", \"i16\" or a list of them".into(),
                ))
            }
        };
        steps.quantize.dedup();
        if let Some(v) = q.get("calibration_trials") {
            steps.calibration_trials =
                count("quantize.calibration_trials", v, MIN_CALIBRATION_TRIALS)?;
        }
    }
    if let Some(e) = sub("eval", &["trials", "seed"])? {
        match e.get("trials") {
            Some(v) => steps.eval_trials = Some(count("eval.trials", v, 1)?),
            None => {
                return Err((
                    "eval.trials".into(),
                    "is missing; give the number of evaluation trials".into(),
                ))
            }
        }
        match e.get("seed") {
            None => {}
            Some(toml::Value::Integer(s)) if *s >= 0 => steps.eval_seed = *s as u64,
            Some(v) => {
                return Err((
                    "eval.seed".into(),
                    format!("is {v}; must be an integer ≥ 0"),
                ))
            }
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SweepFile, String> {
        SweepFile::parse(text, Path::new("s.toml")).map_err(|e| e.to_string())
    }
    const BASE: &str = "[base.task]\nname = \"perceptual-discrimination\"\n";

    #[test]
    fn grid_seeds_and_ranges() {
        let s = parse(&format!(
            "seeds = 3\n{BASE}[axes]\n\"model.n_rec\" = {{ start = 8, stop = 16, step = 4 }}\n\"train.learning_rate\" = {{ start = 0.1, stop = 0.3, step = 0.1 }}\n"
        ))
        .unwrap();
        assert_eq!(s.seeds, vec![1, 2, 3]);
        assert_eq!(s.axes[0].key, "model.n_rec");
        assert_eq!(
            s.axes[0].values,
            vec![
                toml::Value::Integer(8),
                toml::Value::Integer(12),
                toml::Value::Integer(16)
            ]
        );
        assert_eq!(
            s.axes[1].values,
            vec![
                toml::Value::Float(0.1),
                toml::Value::Float(0.2),
                toml::Value::Float(0.3)
            ]
        );
        assert_eq!(s.run_count(), 27);
    }

    #[test]
    fn errors_name_the_key_and_value() {
        let cases = [
            ("seeds = 0\n", "`seeds` is 0"),
            ("sedes = 2\n", "`sedes` is unknown"),
            (
                "[axes]\n\"model.n_rec\" = []\n",
                "`axes.\"model.n_rec\"` is an empty list",
            ),
            (
                "[axes]\n\"model.n_rec\" = { start = 8, stop = 4, step = 1 }\n",
                "`stop` 4 is below `start` 8",
            ),
            (
                "[axes]\n\"model.n_rec\" = { start = 8, stop = 9, step = 0 }\n",
                "`step` is 0",
            ),
            ("[axes]\nseed = [1, 2]\n", "use the top-level `seeds`"),
            (
                "[quantize]\nweights = [\"i4\"]\n",
                "`quantize.weights` has \"i4\"",
            ),
            ("[eval]\ntrials = 0\n", "`eval.trials` is 0"),
            ("[eval]\ntrails = 10\n", "`eval.trails` is unknown"),
        ];
        for (text, want) in cases {
            let e = parse(&format!("{text}{BASE}")).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let e = parse("seeds = 2\n").unwrap_err();
        assert!(e.contains("`base` is missing"), "{e}");
    }
}
