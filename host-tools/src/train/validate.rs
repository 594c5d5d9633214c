//! [`TrainConfig::validate`]: every key of a training config range-checked before any
//! work starts, each error naming the key, the value and the allowed range. The ranges
//! here are the ones `docs/config.md` lists (a test checks the two agree).

use super::config::{ConfigError, TrainConfig};
use super::net::TENSOR_NAMES;
use crate::task::build;

/// Most trials per batch.
pub const MAX_BATCH: usize = 1_000_000;
/// Most recurrent units (float training; deployable blobs hold fewer, see
/// [`super::estimate::check_deployable`]).
pub const MAX_N_REC: usize = 16_384;
/// Most worker threads.
pub const MAX_THREADS: usize = 1024;

fn bad(key: &str, reason: String) -> Result<(), ConfigError> {
    Err(ConfigError::Field {
        key: key.into(),
        reason,
    })
}

fn at_least_zero(key: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        bad(key, format!("is {v}, must be a number >= 0"))
    }
}

fn fraction(key: &str, v: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        bad(key, format!("is {v}, must be in [0, 1]"))
    }
}

impl TrainConfig {
    /// A gated cell takes no recurrent noise and no biological constraints
    /// ([`crate::model::cell`]); the error names the key that asks for one.
    fn validate_cell(&self) -> Result<(), ConfigError> {
        let m = &self.model;
        let cell = m.cell;
        if cell.is_leaky() {
            return Ok(());
        }
        let refuse = |key: &str, value: String, feature: &str| {
            bad(
                key,
                format!(
                    "is {value}, but model.cell = \"{cell}\" has no {feature} (only the leaky cell has)"
                ),
            )
        };
        if m.rec_noise != 0.0 {
            return refuse(
                "model.rec_noise",
                m.rec_noise.to_string(),
                "recurrent noise",
            );
        }
        if let Some(r) = m.dale_ratio {
            return refuse("model.dale_ratio", r.to_string(), "Dale's law");
        }
        for (key, set) in [
            ("model.input_connectivity", m.input_connectivity.is_some()),
            ("model.rec_connectivity", m.rec_connectivity.is_some()),
            ("model.output_connectivity", m.output_connectivity.is_some()),
        ] {
            if set {
                return refuse(key, "set".into(), "connectivity masks");
            }
        }
        if !m.autapses {
            return refuse("model.autapses", "false".into(), "autapse constraint");
        }
        Ok(())
    }

    /// Check every key's range and the relations between keys (trials ≥ 2 batches,
    /// `init_minval ≤ init_maxval`, task periods within the trial, …). Matrix shapes
    /// (connectivity, fixed weights) are checked when the model is built.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let t = &self.train;
        if !(1..=MAX_BATCH).contains(&t.batch) {
            return bad(
                "train.batch",
                format!("is {}, must be in 1..={MAX_BATCH}", t.batch),
            );
        }
        let min_trials = 2 * t.batch as u64;
        if t.trials < min_trials {
            return bad(
                "train.trials",
                format!(
                    "(--trials) is {}, must be at least 2 batches = 2 × train.batch = {min_trials}: training runs while k·batch < trials (PsychRNN), so fewer trials train nothing",
                    t.trials
                ),
            );
        }
        let m = &self.model;
        if !(1..=MAX_N_REC).contains(&m.n_rec) {
            return bad(
                "model.n_rec",
                format!("is {}, must be in 1..={MAX_N_REC}", m.n_rec),
            );
        }
        if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
            return bad(
                "train.learning_rate",
                format!("is {}, must be > 0", t.learning_rate),
            );
        }
        for (k, v) in [("train.beta1", t.beta1), ("train.beta2", t.beta2)] {
            if !(0.0..1.0).contains(&v) {
                return bad(k, format!("is {v}, must be in [0, 1)"));
            }
        }
        if !(t.epsilon.is_finite() && t.epsilon > 0.0) {
            return bad("train.epsilon", format!("is {}, must be > 0", t.epsilon));
        }
        for (k, v) in [
            ("train.l1_in", t.l1_in),
            ("train.l1_rec", t.l1_rec),
            ("train.l1_out", t.l1_out),
            ("train.l2_in", t.l2_in),
            ("train.l2_rec", t.l2_rec),
            ("train.l2_out", t.l2_out),
            ("train.l2_firing_rate", t.l2_firing_rate),
        ] {
            at_least_zero(k, v)?;
        }
        if t.metric_epoch == 0 {
            return bad("train.metric_epoch", "is 0, must be >= 1".into());
        }
        if let Some(c) = t.performance_cutoff {
            fraction("train.performance_cutoff", c)?;
        }
        if t.threads > MAX_THREADS {
            return bad(
                "train.threads",
                format!(
                    "is {}, must be in 0..={MAX_THREADS} (0 = all cores)",
                    t.threads
                ),
            );
        }
        for name in t.trainable.keys().chain(t.fixed_weights.keys()) {
            if !TENSOR_NAMES.contains(&name.as_str()) {
                return bad(
                    "train.trainable / train.fixed_weights",
                    format!(
                        "names unknown tensor {name:?}; valid: {}",
                        TENSOR_NAMES.join(", ")
                    ),
                );
            }
        }
        at_least_zero("model.rec_noise", m.rec_noise as f64)?;
        if let Some(r) = m.dale_ratio {
            if !(r > 0.0 && r <= 1.0) {
                return bad("model.dale_ratio", format!("is {r}, must be in (0, 1]"));
            }
        }
        self.validate_cell()?;
        self.validate_init()?;
        self.transfer()?;
        match &self.curriculum {
            None => {
                build(&self.task)?;
            }
            Some(c) => {
                if c.stages.is_empty() {
                    return bad(
                        "curriculum.stages",
                        "is empty, needs at least 1 task".into(),
                    );
                }
                for (k, s) in c.stages.iter().enumerate() {
                    build(s).map_err(|e| ConfigError::Field {
                        key: format!("curriculum.stages[{k}]"),
                        reason: e.to_string(),
                    })?;
                }
                if let Some(th) = &c.thresholds {
                    if th.len() != c.stages.len() {
                        return bad(
                            "curriculum.thresholds",
                            format!("has {} values for {} stages", th.len(), c.stages.len()),
                        );
                    }
                    for (k, &v) in th.iter().enumerate() {
                        fraction(&format!("curriculum.thresholds[{k}]"), v)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_init(&self) -> Result<(), ConfigError> {
        let i = &self.init;
        if !(i.spec_rad.is_finite() && i.spec_rad > 0.0) {
            return bad("init.spec_rad", format!("is {}, must be > 0", i.spec_rad));
        }
        if !(i.chrono_tmax.is_finite() && i.chrono_tmax >= 0.0) {
            return bad(
                "init.chrono_tmax",
                format!("is {}, must be >= 0", i.chrono_tmax),
            );
        }
        for (k, v) in [
            ("init.identity_alpha", i.identity_alpha),
            ("init.init_minval", i.init_minval),
            ("init.init_maxval", i.init_maxval),
        ] {
            if !v.is_finite() {
                return bad(k, format!("is {v}, must be a finite number"));
            }
        }
        if i.init_minval > i.init_maxval {
            return bad(
                "init.init_minval",
                format!(
                    "is {}, must be <= init.init_maxval = {}",
                    i.init_minval, i.init_maxval
                ),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(edit: impl FnOnce(&mut TrainConfig)) -> String {
        let mut c = TrainConfig::for_task("perceptual-discrimination");
        edit(&mut c);
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_valid() {
        for name in crate::task::TASK_NAMES {
            TrainConfig::for_task(name).validate().unwrap();
        }
    }

    #[test]
    fn each_bad_value_is_named_with_its_value() {
        let e = err(|c| c.train.batch = 0);
        assert!(e.contains("train.batch") && e.contains("is 0"), "{e}");
        let e = err(|c| c.train.trials = 99);
        assert!(e.contains("train.trials") && e.contains("100"), "{e}");
        let e = err(|c| c.train.performance_cutoff = Some(2.0));
        assert!(
            e.contains("train.performance_cutoff") && e.contains("is 2"),
            "{e}"
        );
        let e = err(|c| {
            c.init.init_minval = 0.5;
            c.init.init_maxval = 0.1;
        });
        assert!(e.contains("init.init_minval") && e.contains("0.5"), "{e}");
        let e = err(|c| c.init.init_minval = f64::NAN);
        assert!(e.contains("init.init_minval") && e.contains("NaN"), "{e}");
        let e = err(|c| c.task.coherence = Some(5.0));
        assert!(e.contains("task.coherence") && e.contains('5'), "{e}");
        let e = err(|c| c.train.threads = 100_000);
        assert!(e.contains("train.threads"), "{e}");
    }
}
