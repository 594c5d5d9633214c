//! Training configuration: one TOML file (every key optional except `task.name`, which
//! `--task` may fill in), the defaults being PsychRNN 1.0.0's and its Hello World's.
//! Every key with its type, range, default and PsychRNN name: `docs/config.md` (a test
//! keeps it complete); the checks: [`super::validate`].
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
//! cell = "leaky"         # leaky | gru | lstm | lstm-psychrnn
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

use super::objective::LossKind;
use crate::model::init::InitConfig;
use crate::model::{Cell, Transfer};
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
    /// Recurrent cell: `leaky` (PsychRNN `Basic`), `gru`, `lstm` or `lstm-psychrnn`.
    #[serde(default)]
    pub cell: Cell,
    /// Transfer function name (the leaky cell's).
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
            cell: Cell::Leaky,
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
        Self::from_toml_with_task(text, path, None)
    }

    /// Parse TOML text with `task.name` set to `task` if given (the `--task` flag, which
    /// overrides the file's `task.name` or fills it in when the file has none).
    pub fn from_toml_with_task(
        text: &str,
        path: &str,
        task: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let parse = |message: String| ConfigError::Parse {
            path: path.into(),
            message,
        };
        let Some(name) = task else {
            return toml::from_str(text).map_err(|e| parse(e.to_string()));
        };
        let mut value: toml::Table = toml::from_str(text).map_err(|e| parse(e.to_string()))?;
        {
            let entry = value
                .entry("task")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => {
                    t.insert("name".into(), toml::Value::String(name.into()));
                }
                other => {
                    return Err(parse(format!(
                        "`task` must be a table ([task]), found {}",
                        other.type_str()
                    )))
                }
            }
        }
        toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| parse(e.to_string()))
    }

    /// The resolved config as TOML (what `neuroloop train --print-config` prints).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot print the config: {e}\n"))
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
