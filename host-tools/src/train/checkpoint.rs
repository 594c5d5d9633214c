//! Checkpoints: everything needed to continue a run bit-for-bit (config, raw parameters,
//! Adam state, batch counter, curriculum stage), as JSON written atomically (temporary
//! file in the same folder, fsync, rename, fsync of the folder), so a crash or SIGKILL
//! leaves either the old or the new checkpoint, never a torn one.

use super::adam::Adam;
use super::config::TrainConfig;
use crate::model::FloatModel;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `format` field of a checkpoint.
pub const CHECKPOINT_FORMAT: &str = "neuroloop-checkpoint";
/// Checkpoint version this build writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// A training checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Checkpoint {
    /// Always [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// Always [`CHECKPOINT_VERSION`].
    pub version: u32,
    /// The run's configuration.
    pub config: TrainConfig,
    /// Model with the current raw parameters.
    pub model: FloatModel,
    /// Optimiser state.
    pub adam: Adam,
    /// Batches completed.
    pub batches_done: u64,
    /// Curriculum stage.
    pub stage: usize,
    /// Whether training finished (trials reached, cutoff or last curriculum stage passed).
    pub finished: bool,
    /// Last batch loss.
    pub last_loss: f64,
    /// Last batch accuracy.
    pub last_accuracy: f64,
}

/// Checkpoint and file errors, naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// Not a checkpoint of this version.
    #[error("{path}: not a neuroloop checkpoint (v{CHECKPOINT_VERSION}): {reason}")]
    Format {
        /// File.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Write `bytes` to `path` atomically ([`crate::model::file::write_atomic_io`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    crate::model::file::write_atomic_io(path, bytes).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl Checkpoint {
    /// Save atomically.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let bytes = serde_json::to_vec(self).map_err(|e| CheckpointError::Format {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        write_atomic(path, &bytes)
    }

    /// Load and check format, version and model.
    pub fn load(path: &Path) -> Result<Self, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let fmt = |reason: String| CheckpointError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let c: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| fmt(e.to_string()))?;
        if c.format != CHECKPOINT_FORMAT || c.version != CHECKPOINT_VERSION {
            return Err(fmt(format!("format {:?} version {}", c.format, c.version)));
        }
        c.model.validate().map_err(|e| fmt(e.to_string()))?;
        Ok(c)
    }
}

/// Default checkpoint path for a model output path: `MODEL.ckpt.json`.
pub fn default_path(model_out: &Path) -> PathBuf {
    let mut s = model_out.as_os_str().to_owned();
    s.push(".ckpt.json");
    PathBuf::from(s)
}

/// The first key where a run's config `now` differs from the checkpoint's in a way a
/// resume cannot accept, as (dotted key, checkpoint value, value now); `None` when the
/// run may continue from the checkpoint (only `train.trials`, `train.checkpoint_every`
/// and `train.threads` may change).
pub fn resume_diff(ckpt: &TrainConfig, now: &TrainConfig) -> Option<(String, String, String)> {
    let strip = |c: &TrainConfig| {
        let mut c = c.clone();
        c.train.trials = 0;
        c.train.checkpoint_every = 0;
        c.train.threads = 0;
        serde_json::to_value(&c).unwrap_or_default()
    };
    first_diff("", &strip(ckpt), &strip(now))
}

/// First differing leaf between two JSON values, as (dotted key, a, b).
fn first_diff(
    prefix: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                if let Some(d) = first_diff(&p, va, vb) {
                    return Some(d);
                }
            }
            None
        }
        _ if a == b => None,
        _ => Some((prefix.to_string(), a.to_string(), b.to_string())),
    }
}
