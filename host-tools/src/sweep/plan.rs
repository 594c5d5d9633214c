//! The plan of a sweep: the grid product of its axes and seeds, each point resolved to a
//! training config and given a stable id.
//!
//! Runs are numbered in grid order (the first axis varies slowest, the seed fastest); the
//! number is what a Slurm array task gets. The id is the first 12 hex digits of the SHA-256
//! of the run's resolved training config (canonical JSON, `train.threads` left out because
//! it does not change the result), so adding a value to an axis renumbers runs but never
//! changes an existing run's id, and results are stored by id.
//!
//! A grid point whose config is invalid (a bad value for one key) is still a run: it gets
//! an id from its raw TOML and carries the error, which the runner records as its result.

use super::file::{Steps, SweepError, SweepFile};
use crate::train::estimate::check_deployable;
use crate::train::TrainConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// One run of the grid.
#[derive(Clone, Debug)]
pub struct Run {
    /// Position in grid order (the Slurm array index).
    pub index: usize,
    /// Stable id: hash of the resolved config.
    pub id: String,
    /// The value of each axis, then `seed`.
    pub params: Vec<(String, serde_json::Value)>,
    /// The resolved, checked config, or why this grid point has none.
    pub config: Result<TrainConfig, String>,
}

/// Every run of a sweep file.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The sweep file.
    pub file: SweepFile,
    /// Runs in grid order.
    pub runs: Vec<Run>,
}

/// What `status`, `collect` and resubmission read from an output folder: the plan as it
/// was when the runs were started (`DIR/plan.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    /// The sweep file (absolute).
    pub sweep_file: PathBuf,
    /// Hash of every run id in order: changes when the sweep file's grid changes.
    pub fingerprint: String,
    /// Axis keys, then `seed`.
    pub columns: Vec<String>,
    /// Quantize and eval steps.
    pub steps: Steps,
    /// Runs.
    pub runs: Vec<RunRecord>,
}

/// One run in [`PlanRecord`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Grid index.
    pub index: usize,
    /// Run id.
    pub id: String,
    /// Axis values and seed, in [`PlanRecord::columns`] order.
    pub params: Vec<serde_json::Value>,
    /// Training batches the run does (0 for an invalid config).
    pub batches: u64,
    /// Why the config is invalid, if it is.
    pub invalid: Option<String>,
}

impl Plan {
    /// The grid of `file`. Fails (naming the key) when the base config is invalid or an
    /// axis names a key that no training config has; a bad value at one grid point only
    /// marks that run invalid.
    pub fn new(file: &SweepFile) -> Result<Self, SweepError> {
        let key = |key: &str, reason: String| SweepError::Key {
            path: file.path.clone(),
            key: key.into(),
            reason,
        };
        let base: TrainConfig =
            toml::Value::Table(file.base.clone())
                .try_into()
                .map_err(|e: toml::de::Error| {
                    key(
                        "base",
                        format!("is not a valid train config: {}", e.message()),
                    )
                })?;
        let known = serde_json::to_value(&base).unwrap_or_default();
        for a in &file.axes {
            if !key_known(&known, &a.key) {
                return Err(key(
                    &format!("axes.\"{}\"", a.key),
                    "is not a train config key (every key: docs/config.md)".into(),
                ));
            }
        }
        let dims: Vec<usize> = file.axes.iter().map(|a| a.values.len()).collect();
        let mut runs = Vec::with_capacity(file.run_count());
        for index in 0..file.run_count() {
            let mut rest = index / file.seeds.len();
            let mut pick = vec![0; dims.len()];
            for (slot, &n) in pick.iter_mut().zip(&dims).rev() {
                *slot = rest % n;
                rest /= n;
            }
            let seed = file.seeds[index % file.seeds.len()];
            let mut table = file.base.clone();
            let mut params = Vec::new();
            let mut bad = None;
            for (a, &i) in file.axes.iter().zip(&pick) {
                let v = &a.values[i];
                params.push((a.key.clone(), serde_json::to_value(v).unwrap_or_default()));
                if let Err(e) = set_dotted(&mut table, &a.key, v.clone()) {
                    bad.get_or_insert(e);
                }
            }
            table.insert("seed".into(), toml::Value::Integer(seed as i64));
            params.push(("seed".into(), seed.into()));
            let config = match bad {
                Some(e) => Err(e),
                None => resolve(&table, !file.steps.quantize.is_empty()),
            };
            let id = match &config {
                Ok(c) => hash_id(&serde_json::to_value(hashed(c)).unwrap_or_default()),
                Err(_) => hash_id(&serde_json::to_value(&table).unwrap_or_default()),
            };
            runs.push(Run {
                index,
                id,
                params,
                config,
            });
        }
        Ok(Plan {
            file: file.clone(),
            runs,
        })
    }

    /// Hash of every run id in order.
    pub fn fingerprint(&self) -> String {
        let ids: Vec<&str> = self.runs.iter().map(|r| r.id.as_str()).collect();
        hash_id(&serde_json::Value::from(ids))
    }

    /// The record written to `DIR/plan.json`.
    pub fn record(&self) -> PlanRecord {
        let mut columns: Vec<String> = self.file.axes.iter().map(|a| a.key.clone()).collect();
        columns.push("seed".into());
        PlanRecord {
            sweep_file: std::path::absolute(&self.file.path)
                .unwrap_or_else(|_| self.file.path.clone()),
            fingerprint: self.fingerprint(),
            columns,
            steps: self.file.steps.clone(),
            runs: self
                .runs
                .iter()
                .map(|r| RunRecord {
                    index: r.index,
                    id: r.id.clone(),
                    params: r.params.iter().map(|(_, v)| v.clone()).collect(),
                    batches: r.config.as_ref().map(batches).unwrap_or(0),
                    invalid: r.config.as_ref().err().cloned(),
                })
                .collect(),
        }
    }
}

/// Batches a run of `cfg` does at most (PsychRNN: while `k·batch < trials`).
pub fn batches(cfg: &TrainConfig) -> u64 {
    cfg.train
        .trials
        .div_ceil(cfg.train.batch.max(1) as u64)
        .saturating_sub(1)
}

/// The config as hashed for the id: `train.threads` does not change a result.
fn hashed(c: &TrainConfig) -> TrainConfig {
    let mut c = c.clone();
    c.train.threads = 0;
    c
}

/// 12 hex digits of the SHA-256 of the canonical JSON of `v` (object keys sorted).
fn hash_id(v: &serde_json::Value) -> String {
    let digest = Sha256::digest(canonical(v).as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON text with object keys sorted, whatever map order serde_json was built with.
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::from(k.as_str()),
                        canonical(&m[*k])
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// The train config of one grid point, checked: every key's range (as `train`), and the
/// blob limits when the sweep quantizes.
fn resolve(table: &toml::Table, quantize: bool) -> Result<TrainConfig, String> {
    let cfg: TrainConfig = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    cfg.validate().map_err(|e| e.to_string())?;
    if quantize {
        check_deployable(&cfg).map_err(|e| e.to_string())?;
    }
    Ok(cfg)
}

/// Whether `dotted` names a key of the config `json` (a field, possibly unset, or an
/// entry of a map field such as `train.trainable.W_rec`).
fn key_known(json: &serde_json::Value, dotted: &str) -> bool {
    let mut cur = json;
    for part in dotted.split('.') {
        match cur {
            serde_json::Value::Object(m) => match m.get(part) {
                Some(next) => cur = next,
                None => return m.is_empty(),
            },
            _ => return false,
        }
    }
    true
}

/// Set `dotted` in `table` to `v`, creating tables on the way.
fn set_dotted(table: &mut toml::Table, dotted: &str, v: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = dotted.split('.').collect();
    let mut cur = table;
    for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            other => {
                return Err(format!(
                    "config key `{}` is {other} in the base config, not a table, so `{dotted}` cannot be set",
                    parts[..=i].join(".")
                ))
            }
        };
    }
    cur.insert(parts[parts.len() - 1].to_string(), v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(text: &str) -> Result<Plan, String> {
        let f = SweepFile::parse(text, Path::new("s.toml")).map_err(|e| e.to_string())?;
        Plan::new(&f).map_err(|e| e.to_string())
    }
    const BASE: &str =
        "[base.task]\nname = \"perceptual-discrimination\"\n[base.train]\ntrials = 200\n";

    #[test]
    fn ids_are_stable_when_an_axis_value_is_added() {
        let a = plan(&format!(
            "seeds = 2\n{BASE}[axes]\n\"model.n_rec\" = [8, 16]\n"
        ))
        .unwrap();
        let b = plan(&format!(
            "seeds = 2\n{BASE}[axes]\n\"model.n_rec\" = [8, 12, 16]\n"
        ))
        .unwrap();
        assert_eq!(a.runs.len(), 4);
        assert_eq!(b.runs.len(), 6);
        let ids_b: Vec<&str> = b.runs.iter().map(|r| r.id.as_str()).collect();
        for r in &a.runs {
            assert!(ids_b.contains(&r.id.as_str()), "{} lost", r.id);
        }
        let mut all = ids_b.clone();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 6, "ids are distinct");
        // grid order: first axis slowest, seed fastest
        assert_eq!(b.runs[3].params[0].1, serde_json::json!(12));
        assert_eq!(b.runs[3].params[1].1, serde_json::json!(2));
        assert_eq!(b.runs[3].config.as_ref().unwrap().model.n_rec, 12);
        assert_eq!(b.runs[3].config.as_ref().unwrap().seed, 2);
    }

    #[test]
    fn a_bad_value_marks_one_run_and_an_unknown_key_fails_the_plan() {
        let p = plan(&format!("{BASE}[axes]\n\"model.n_rec\" = [8, 0]\n")).unwrap();
        assert!(p.runs[0].config.is_ok());
        let e = p.runs[1].config.as_ref().unwrap_err();
        assert!(e.contains("model.n_rec"), "{e}");
        let e = plan(&format!("{BASE}[axes]\n\"model.n_recc\" = [8]\n")).unwrap_err();
        assert!(
            e.contains("axes.\"model.n_recc\"") && e.contains("not a train config key"),
            "{e}"
        );
        let e = plan("[base.task]\nname = \"perceptual-discrimination\"\nbogus = 1\n").unwrap_err();
        assert!(e.contains("`base`") && e.contains("bogus"), "{e}");
        // unset optional keys are known
        plan(&format!("{BASE}[axes]\n\"model.dale_ratio\" = [0.8]\n")).unwrap();
    }
}
