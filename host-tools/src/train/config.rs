//! Training configuration: one TOML file (every key optional except `task.name`), the
//! defaults being PsychRNN 1.0.0's and its Hello World's.
//!
//! ```toml
//! seed = 1
//! [task]                 # see task::TaskSpec
//! name = "perceptual-discrimination"
//! dt = 10.0
//! tau = 100.0
//! t = 2000.0
//! [model]
//! n_rec = 50
//! transfer = "relu"      # relu | tanh | sigmoid | identity
//! rec_noise = 0.0
//! dale_ratio = 0.8       # optional
//! autapses = true
//! # input_connectivity = [[1.0, 0.0], ...]   # n_rec rows × n_in
//! [init]
//! initializer = "gaussian_spectral_radius"   # | alpha_identity | random
//! spec_rad = 1.1
//! [train]
//! batch = 50
//! trials = 50000         # PsychRNN training_iters
//! learning_rate = 0.001
//! loss = "mean_squared_error"                # | binary_cross_entropy
//! l2_firing_rate = 0.0   # and l1_in, l1_rec, l1_out, l2_in, l2_rec, l2_out
//! checkpoint_every = 100
//! # fixed_weights = { W_rec = [[...]] }      # 1 = frozen
//! # [curriculum] stages = [{ name = "...", coherence = 0.7 }, ...], thresholds = [0.9, ...]
//! ```

use super::net::TENSOR_NAMES;
use super::objective::LossKind;
use crate::model::init::InitConfig;
use crate::model::Transfer;
use crate::task::TaskSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whole training configuration.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Seed of every random draw (initialisation, trials, noise).
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// Task.
    pub task: TaskSpec,
    /// Model.
    #[serde(default)]
    pub model: ModelConfig,
    /// Initialisers.
    #[serde(default)]
    pub init: InitConfig,
    /// Optimisation.
    #[serde(default)]
    pub train: TrainParams,
    /// Optional curriculum (replaces `task` by its stages, in order).
    #[serde(default)]
    pub curriculum: Option<CurriculumConfig>,
}

fn d_seed() -> u64 {
    1
}

/// `[model]`: architecture, constraints, initialisation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Model name (default: the task name).
    #[serde(default)]
    pub name: Option<String>,
    /// Recurrent units.
    #[serde(default = "d_n_rec")]
    pub n_rec: usize,
    /// Transfer function name.
    #[serde(default = "d_transfer")]
    pub transfer: String,
    /// Recurrent noise σ.
    #[serde(default)]
    pub rec_noise: f32,
    /// Dale's law excitatory fraction.
    #[serde(default)]
    pub dale_ratio: Option<f32>,
    /// Self-connections allowed.
    #[serde(default = "d_true")]
    pub autapses: bool,
    /// Input mask, n_rec rows of n_in.
    #[serde(default)]
    pub input_connectivity: Option<Vec<Vec<f32>>>,
    /// Recurrent mask, n_rec rows of n_rec.
    #[serde(default)]
    pub rec_connectivity: Option<Vec<Vec<f32>>>,
    /// Output mask, n_out rows of n_rec.
    #[serde(default)]
    pub output_connectivity: Option<Vec<Vec<f32>>>,
}

fn d_n_rec() -> usize {
    50
}
fn d_transfer() -> String {
    "relu".into()
}
fn d_true() -> bool {
    true
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            name: None,
            n_rec: d_n_rec(),
            transfer: d_transfer(),
            rec_noise: 0.0,
            dale_ratio: None,
            autapses: true,
            input_connectivity: None,
            rec_connectivity: None,
            output_connectivity: None,
        }
    }
}

/// `[train]`: optimisation (PsychRNN `train_params` + regularisers + loss).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainParams {
    /// Trials per batch (`N_batch`).
    #[serde(default = "d_batch")]
    pub batch: usize,
    /// Trials to train on (`training_iters`); batches run while `k·batch < trials`.
    #[serde(default = "d_trials")]
    pub trials: u64,
    /// Adam learning rate.
    #[serde(default = "d_lr")]
    pub learning_rate: f64,
    /// Adam β₁.
    #[serde(default = "d_b1")]
    pub beta1: f64,
    /// Adam β₂.
    #[serde(default = "d_b2")]
    pub beta2: f64,
    /// Adam ε.
    #[serde(default = "d_eps")]
    pub epsilon: f64,
    /// Clip each tensor's gradient to L2 norm 1 (`clip_grads`).
    #[serde(default = "d_true")]
    pub clip_grads: bool,
    /// Loss function.
    #[serde(default = "d_loss")]
    pub loss: LossKind,
    /// L1 on effective `W_in`.
    #[serde(default)]
    pub l1_in: f64,
    /// L1 on effective `W_rec`.
    #[serde(default)]
    pub l1_rec: f64,
    /// L1 on effective `W_out`.
    #[serde(default)]
    pub l1_out: f64,
    /// L2 on effective `W_in`.
    #[serde(default)]
    pub l2_in: f64,
    /// L2 on effective `W_rec`.
    #[serde(default)]
    pub l2_rec: f64,
    /// L2 on effective `W_out`.
    #[serde(default)]
    pub l2_out: f64,
    /// L2 on firing rates.
    #[serde(default)]
    pub l2_firing_rate: f64,
    /// Trainable flags, by PsychRNN tensor name (`W_in`, `W_rec`, `W_out`, `b_rec`,
    /// `b_out`, `init_state`); missing = trainable.
    #[serde(default)]
    pub trainable: BTreeMap<String, bool>,
    /// Fixed-weight masks by tensor name (1 = frozen), rows as the tensor's shape.
    #[serde(default)]
    pub fixed_weights: BTreeMap<String, Vec<Vec<f32>>>,
    /// Stop once accuracy on a fresh batch (tested every `metric_epoch` batches) ≥ this.
    #[serde(default)]
    pub performance_cutoff: Option<f64>,
    /// Batches between accuracy tests (curriculum and performance cutoff).
    #[serde(default = "d_metric_epoch")]
    pub metric_epoch: u64,
    /// Batches between checkpoints (0 = only at the end).
    #[serde(default = "d_ckpt")]
    pub checkpoint_every: u64,
    /// Worker threads (0 = all cores).
    #[serde(default)]
    pub threads: usize,
}

fn d_batch() -> usize {
    50
}
fn d_trials() -> u64 {
    50_000
}
fn d_lr() -> f64 {
    1e-3
}
fn d_b1() -> f64 {
    0.9
}
fn d_b2() -> f64 {
    0.999
}
fn d_eps() -> f64 {
    1e-8
}
fn d_loss() -> LossKind {
    LossKind::MeanSquaredError
}
fn d_metric_epoch() -> u64 {
    10
}
fn d_ckpt() -> u64 {
    100
}

impl Default for TrainParams {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

/// `[curriculum]`: tasks in order; advance when accuracy on a fresh batch ≥ threshold.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CurriculumConfig {
    /// Stages (tasks); all must have the same inputs, outputs and steps.
    pub stages: Vec<TaskSpec>,
    /// Accuracy threshold per stage (default 0.9 each, as PsychRNN).
    #[serde(default)]
    pub thresholds: Option<Vec<f64>>,
}

/// Configuration errors, naming the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML does not parse or has an unknown key / wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: String,
        /// Parser message (names the key and line).
        message: String,
    },
    /// A key has a bad value.
    #[error("config key `{key}` {reason}")]
    Field {
        /// Key, e.g. `train.batch`.
        key: String,
        /// What is wrong, with the value.
        reason: String,
    },
    /// A task option is bad.
    #[error(transparent)]
    Task(#[from] crate::task::TaskError),
}

impl TrainConfig {
    /// Defaults for a task (PsychRNN Hello World sizes).
    pub fn for_task(name: &str) -> Self {
        TrainConfig {
            seed: d_seed(),
            task: TaskSpec::named(name),
            model: ModelConfig::default(),
            init: InitConfig::default(),
            train: TrainParams::default(),
            curriculum: None,
        }
    }

    /// Parse TOML text; `path` names the source in errors.
    pub fn from_toml(text: &str, path: &str) -> Result<Self, ConfigError> {
        let c: TrainConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        Ok(c)
    }

    /// The transfer function named in `model.transfer`.
    pub fn transfer(&self) -> Result<Transfer, ConfigError> {
        Transfer::from_name(&self.model.transfer).ok_or_else(|| ConfigError::Field {
            key: "model.transfer".into(),
            reason: format!(
                "is {:?}; valid: relu, tanh, sigmoid, identity",
                self.model.transfer
            ),
        })
    }

    /// Check value ranges (shapes are checked when the model is built).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, reason: String| {
            Err(ConfigError::Field {
                key: key.into(),
                reason,
            })
        };
        let t = &self.train;
        if t.batch == 0 || t.batch > 1_000_000 {
            return bad(
                "train.batch",
                format!("is {}, must be in 1..=1000000", t.batch),
            );
        }
        if self.model.n_rec == 0 || self.model.n_rec > 16384 {
            return bad(
                "model.n_rec",
                format!("is {}, must be in 1..=16384", self.model.n_rec),
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
            if !(v.is_finite() && v >= 0.0) {
                return bad(k, format!("is {v}, must be >= 0"));
            }
        }
        if t.metric_epoch == 0 {
            return bad("train.metric_epoch", "is 0, must be >= 1".into());
        }
        if let Some(c) = t.performance_cutoff {
            if !c.is_finite() {
                return bad("train.performance_cutoff", format!("is {c}"));
            }
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
        if !(self.model.rec_noise.is_finite() && self.model.rec_noise >= 0.0) {
            return bad(
                "model.rec_noise",
                format!("is {}, must be >= 0", self.model.rec_noise),
            );
        }
        if let Some(r) = self.model.dale_ratio {
            if !(r > 0.0 && r <= 1.0) {
                return bad("model.dale_ratio", format!("is {r}, must be in (0, 1]"));
            }
        }
        if !(self.init.spec_rad.is_finite() && self.init.spec_rad > 0.0) {
            return bad(
                "init.spec_rad",
                format!("is {}, must be > 0", self.init.spec_rad),
            );
        }
        self.transfer()?;
        if let Some(c) = &self.curriculum {
            if c.stages.is_empty() {
                return bad("curriculum.stages", "is empty".into());
            }
            if let Some(th) = &c.thresholds {
                if th.len() != c.stages.len() {
                    return bad(
                        "curriculum.thresholds",
                        format!("has {} values for {} stages", th.len(), c.stages.len()),
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let e = TrainConfig::from_toml("[task]\nname = \"x\"\n[train]\nbatchh = 3\n", "c.toml")
            .unwrap_err();
        assert!(e.to_string().contains("batchh"), "{e}");
    }

    #[test]
    fn bad_value_is_named() {
        let mut c = TrainConfig::for_task("perceptual-discrimination");
        c.train.batch = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("train.batch"));
    }

    #[test]
    fn defaults_are_psychrnn() {
        let c =
            TrainConfig::from_toml("[task]\nname = \"perceptual-discrimination\"\n", "c").unwrap();
        assert_eq!(c.train.learning_rate, 1e-3);
        assert!(c.train.clip_grads);
        assert_eq!(c.train.loss, LossKind::MeanSquaredError);
        assert_eq!(c.init.spec_rad, 1.1);
        assert_eq!(c.train.trials, 50_000);
    }
}
