//! `docs/config.md` against the config types: every key of a fully populated config is
//! documented, every documented default is the code's, and every numeric range in the doc
//! is the one `TrainConfig::validate` enforces (a value just outside is refused, naming
//! the key; the bound itself is not refused for that key).
//!
//! The config below is a struct literal, so adding a field to any config struct breaks
//! this file until the field is added here (and then, to pass, to the doc).

use neuroloop::model::init::{GatedBias, InitConfig, RandInit, RecInit};
use neuroloop::task::TaskSpec;
use neuroloop::train::config::{CurriculumConfig, ModelConfig, TrainConfig, TrainParams};
use neuroloop::train::LossKind;
use std::collections::BTreeMap;

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/config.md")).unwrap()
}

fn full_task() -> TaskSpec {
    TaskSpec {
        name: "delayed-discrimination".into(),
        dt: 10.0,
        tau: 100.0,
        t: 2000.0,
        coherence: Some(0.5),
        direction: Some(1),
        onset_time: Some(100.0),
        stim_duration_1: Some(100.0),
        delay_duration: Some(100.0),
        stim_duration_2: Some(100.0),
        decision_duration: Some(100.0),
        n_in: Some(16),
        n_out: Some(2),
        file: Some("name = \"x\"".into()),
    }
}

fn full_config() -> TrainConfig {
    TrainConfig {
        seed: 3,
        task: full_task(),
        model: ModelConfig {
            name: Some("m".into()),
            n_rec: 4,
            cell: neuroloop::model::Cell::Gru,
            transfer: "tanh".into(),
            rec_noise: 0.1,
            dale_ratio: Some(0.8),
            autapses: false,
            input_connectivity: Some(vec![vec![1.0; 2]; 4]),
            rec_connectivity: Some(vec![vec![1.0; 4]; 4]),
            output_connectivity: Some(vec![vec![1.0; 4]; 2]),
        },
        init: InitConfig {
            initializer: RecInit::AlphaIdentity,
            spec_rad: 1.2,
            identity_alpha: 0.5,
            which_rand_init: RandInit::ConstUnif,
            which_rand_w_rec_init: Some(RandInit::GlorotUnif),
            init_minval: -0.2,
            init_maxval: 0.2,
            gated_bias: GatedBias::Pytorch,
            chrono_tmax: 5.0,
        },
        train: TrainParams {
            batch: 8,
            trials: 100,
            learning_rate: 0.01,
            beta1: 0.8,
            beta2: 0.99,
            epsilon: 1e-7,
            clip_grads: false,
            loss: LossKind::BinaryCrossEntropy,
            l1_in: 0.1,
            l1_rec: 0.1,
            l1_out: 0.1,
            l2_in: 0.1,
            l2_rec: 0.1,
            l2_out: 0.1,
            l2_firing_rate: 0.1,
            trainable: BTreeMap::from([("W_in".to_string(), false)]),
            fixed_weights: BTreeMap::from([("W_out".to_string(), vec![vec![0.0; 4]; 2])]),
            performance_cutoff: Some(0.9),
            metric_epoch: 5,
            checkpoint_every: 7,
            threads: 1,
        },
        curriculum: Some(CurriculumConfig {
            stages: vec![full_task()],
            thresholds: Some(vec![0.8]),
        }),
    }
}

/// Dotted keys of a TOML value; tables with free keys (`train.trainable`,
/// `train.fixed_weights`) and arrays are leaves.
fn keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t)
            if !prefix.ends_with("trainable") && !prefix.ends_with("fixed_weights") =>
        {
            for (k, v) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                keys(&p, v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

/// The doc's table rows: key → (type, range, default).
fn rows() -> BTreeMap<String, (String, String, String)> {
    let mut m = BTreeMap::new();
    for line in doc().lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 6 || !cells[1].starts_with('`') {
            continue;
        }
        let key = cells[1].trim_matches('`').to_string();
        m.insert(key, (cells[2].into(), cells[3].into(), cells[4].into()));
    }
    m
}

#[test]
fn every_key_is_documented() {
    let v = toml::Value::try_from(full_config()).unwrap();
    let mut all = Vec::new();
    keys("", &v, &mut all);
    assert!(all.len() >= 50, "{all:?}");
    let rows = rows();
    let missing: Vec<&String> = all.iter().filter(|k| !rows.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "keys missing from docs/config.md: {missing:?}"
    );
    let stale: Vec<&String> = rows.keys().filter(|k| !all.contains(k)).collect();
    assert!(
        stale.is_empty(),
        "docs/config.md documents keys the config lacks: {stale:?}"
    );
}

#[test]
fn documented_defaults_are_the_codes() {
    let v = toml::Value::try_from(TrainConfig::for_task("perceptual-discrimination")).unwrap();
    let mut all = Vec::new();
    keys("", &v, &mut all);
    let rows = rows();
    let mut checked = 0;
    for k in all.iter().filter(|k| k.as_str() != "task.name") {
        let (_, _, default) = &rows[k];
        let code = k.split('.').try_fold(&v, |v, part| v.get(part)).unwrap();
        let lit = default
            .split('`')
            .nth(1)
            .unwrap_or_else(|| panic!("{k}: default {default:?} has no `value`"));
        let doc: toml::Table = toml::from_str(&format!("v = {lit}")).unwrap();
        assert_eq!(&doc["v"], code, "{k}: doc default {lit}");
        checked += 1;
    }
    assert!(checked >= 30, "{checked}");
}

/// A numeric range of the doc: (lo, lo inclusive, hi, hi inclusive).
fn parse_range(r: &str) -> Option<(f64, bool, f64, bool)> {
    let num = |s: &str| s.trim().parse::<f64>().ok();
    if let Some(x) = r.strip_prefix("≥ ") {
        return Some((num(x)?, true, f64::INFINITY, false));
    }
    if let Some(x) = r.strip_prefix("> ") {
        return Some((num(x)?, false, f64::INFINITY, false));
    }
    if let Some((a, b)) = r.split_once(" ..= ") {
        return Some((num(a)?, true, num(b)?, true));
    }
    let (open, close) = (r.chars().next()?, r.chars().last()?);
    let (a, b) = r.get(1..r.len() - 1)?.split_once(", ")?;
    Some((num(a)?, open == '[', num(b)?, close == ']'))
}

/// validate() on the default config of a task that has `key`, with `key` set to `x`.
fn check(key: &str, integer: bool, x: f64) -> Result<(), String> {
    let task = match key {
        "task.onset_time"
        | "task.stim_duration_1"
        | "task.delay_duration"
        | "task.stim_duration_2"
        | "task.decision_duration" => "delayed-discrimination",
        "task.n_in" | "task.n_out" => "match-to-category",
        _ => "perceptual-discrimination",
    };
    let mut v = toml::Value::try_from(TrainConfig::for_task(task)).unwrap();
    let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let t = if table.is_empty() {
        &mut v
    } else {
        v.get_mut(table).unwrap()
    };
    let value = if integer {
        toml::Value::Integer(x as i64)
    } else {
        toml::Value::Float(x)
    };
    t.as_table_mut().unwrap().insert(leaf.into(), value);
    let cfg: TrainConfig = v.try_into().map_err(|e: toml::de::Error| e.to_string())?;
    cfg.validate().map_err(|e| e.to_string())
}

#[test]
fn documented_ranges_are_the_ones_validated() {
    let mut tested = 0;
    for (key, (ty, range, _)) in rows() {
        if key.starts_with("curriculum.") {
            continue; // arrays; thresholds are checked in train::validate's tests
        }
        let Some((lo, lo_in, hi, hi_in)) = parse_range(&range) else {
            continue;
        };
        let integer = ty.starts_with("integer");
        let step = if integer { 1.0 } else { 1e-3 };
        let below = if lo_in { lo - step } else { lo };
        let above = if hi_in { hi + step } else { hi };
        for x in [below, above] {
            if !x.is_finite() || (integer && x < 0.0) {
                continue; // unsigned integers cannot go below 0
            }
            let e = check(&key, integer, x)
                .expect_err(&format!("{key} = {x} accepted, doc says {range}"));
            assert!(
                e.contains(&key),
                "{key} = {x}: error does not name the key: {e}"
            );
            tested += 1;
        }
        for x in [lo, hi] {
            if (x == lo && lo_in) || (x == hi && hi_in) {
                if let Err(e) = check(&key, integer, x) {
                    assert!(
                        !e.contains(&format!("`{key}`")),
                        "{key} = {x} is in the documented range {range} but refused: {e}"
                    );
                }
            }
        }
    }
    assert!(tested >= 20, "only {tested} range bounds tested");
}

#[test]
fn nan_is_refused_naming_the_key_for_every_float_key() {
    let mut tested = 0;
    for (key, (ty, _, _)) in rows() {
        if !ty.starts_with("float") || key.starts_with("curriculum.") {
            continue;
        }
        let e = check(&key, false, f64::NAN).expect_err(&format!("{key} = nan accepted"));
        assert!(
            e.contains(&format!("`{key}`")) && e.contains("NaN"),
            "{key} = nan: {e}"
        );
        tested += 1;
    }
    assert!(tested >= 25, "{tested}");
}
