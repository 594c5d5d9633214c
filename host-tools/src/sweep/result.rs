//! What lands in a sweep's output folder, and its status.
//!
//! ```text
//! DIR/plan.json               the plan when the runs were last started (PlanRecord)
//! DIR/runs/ID/config.toml     the run's resolved training config
//! DIR/runs/ID/checkpoint.json training checkpoint (a killed run resumes from it)
//! DIR/runs/ID/train.json      the training outcome, written when training ends
//! DIR/runs/ID/model.json      the trained float model
//! DIR/runs/ID/i8.nlb, i16.nlb the quantized blobs
//! DIR/runs/ID/result.json     the outcome (RunResult), written last and atomically
//! ```
//!
//! Every file is written atomically (temp file + rename), so a kill leaves a run either
//! with its whole `result.json` or without one; a run without one is run again (resuming
//! from its checkpoint). A run is done when its result is `ok` and was made with the
//! sweep's current quantize and eval steps.

use super::file::Steps;
use super::plan::{PlanRecord, RunRecord};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Errors reading or writing an output folder, naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResultError {
    /// I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The file is not what neuroloop wrote.
    #[error("{path}: {reason}")]
    Format {
        /// File.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// `ok` or `failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Trained (and quantized and evaluated, if asked).
    Ok,
    /// Failed; `error` says why.
    Failed,
}

/// Training outcome of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainOutcome {
    /// Loss (with regularisers) of the last training batch.
    pub loss: f64,
    /// Accuracy of the last training batch.
    pub accuracy: f64,
    /// Batches trained.
    pub batches: u64,
    /// Why training stopped.
    pub stopped: String,
}

/// One quantized blob of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FixedOutcome {
    /// `i8` or `i16`.
    pub weights: String,
    /// Accuracy of the blob in the fixed-point core on the eval trials (if evaluated).
    pub accuracy: Option<f64>,
    /// Blob bytes.
    pub blob_bytes: usize,
    /// Parameter bytes in the blob.
    pub param_bytes: usize,
    /// SHA-256 of the blob (hex): equal blobs, equal networks.
    pub sha256: String,
}

/// The result of one run (`DIR/runs/ID/result.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Run id.
    pub id: String,
    /// Grid index when it ran.
    pub index: usize,
    /// `ok` or `failed`.
    pub status: Outcome,
    /// Why it failed.
    pub error: Option<String>,
    /// Axis values and seed, by column name.
    pub params: Vec<(String, serde_json::Value)>,
    /// The quantize and eval steps it ran with.
    pub steps: Steps,
    /// Training outcome (absent if it failed before or during training).
    pub train: Option<TrainOutcome>,
    /// Batch the training resumed from (a killed run), if it did.
    pub resumed_from_batch: Option<u64>,
    /// Float model accuracy on the eval trials.
    pub float_accuracy: Option<f64>,
    /// Float model loss (masked MSE) on the eval trials, when evaluated without blobs.
    pub eval_loss: Option<f64>,
    /// The blobs.
    pub fixed: Vec<FixedOutcome>,
    /// Float model file bytes.
    pub model_bytes: Option<u64>,
    /// Wall seconds of this attempt (training after a resume counts only this attempt).
    pub wall_seconds: f64,
    /// Host it ran on.
    pub host: String,
    /// Worker threads it used.
    pub threads: usize,
}

/// Where a run stands.
#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    /// Done with the current steps.
    Done(RunResult),
    /// Failed (the result says why).
    Failed(RunResult),
    /// Ok, but made with other quantize/eval steps: runs again (training is not redone).
    Stale(RunResult),
    /// Started: a checkpoint of `batches` batches, no result yet.
    Partial {
        /// Batches in the checkpoint.
        batches: u64,
    },
    /// Nothing yet.
    Missing,
}

impl RunState {
    /// `done`, `failed`, `stale`, `partial`, `missing`.
    pub fn name(&self) -> &'static str {
        match self {
            RunState::Done(_) => "done",
            RunState::Failed(_) => "failed",
            RunState::Stale(_) => "stale",
            RunState::Partial { .. } => "partial",
            RunState::Missing => "missing",
        }
    }

    /// The result, if one landed.
    pub fn result(&self) -> Option<&RunResult> {
        match self {
            RunState::Done(r) | RunState::Failed(r) | RunState::Stale(r) => Some(r),
            _ => None,
        }
    }
}

/// `DIR/plan.json`.
pub fn plan_path(dir: &Path) -> PathBuf {
    dir.join("plan.json")
}

/// `DIR/runs/ID`.
pub fn run_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join("runs").join(id)
}

/// `DIR/runs/ID/result.json`.
pub fn result_path(dir: &Path, id: &str) -> PathBuf {
    run_dir(dir, id).join("result.json")
}

/// `DIR/runs/ID/checkpoint.json`.
pub fn checkpoint_path(dir: &Path, id: &str) -> PathBuf {
    run_dir(dir, id).join("checkpoint.json")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ResultError + '_ {
    move |source| ResultError::Io {
        path: path.into(),
        source,
    }
}

/// Write `value` as JSON to `path` atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ResultError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| ResultError::Format {
        path: path.into(),
        reason: e.to_string(),
    })?;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    crate::model::file::write_atomic_io(path, &bytes).map_err(io(path))
}

/// Read JSON written by [`write_json`].
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ResultError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&bytes).map_err(|e| ResultError::Format {
        path: path.into(),
        reason: format!("not a neuroloop sweep file: {e}"),
    })
}

/// Read `DIR/plan.json` (written by `sweep run` and `sweep slurm`).
pub fn read_plan(dir: &Path) -> Result<PlanRecord, ResultError> {
    let p = plan_path(dir);
    if !p.exists() {
        return Err(ResultError::Format {
            path: p,
            reason: "missing: not a sweep output folder (start one with `neuroloop sweep run` or `neuroloop sweep slurm`)".into(),
        });
    }
    read_json(&p)
}

/// Where run `r` of a sweep with `steps` stands in `dir`.
pub fn run_state(dir: &Path, r: &RunRecord, steps: &Steps) -> Result<RunState, ResultError> {
    let p = result_path(dir, &r.id);
    if p.exists() {
        let res: RunResult = read_json(&p)?;
        return Ok(match res.status {
            Outcome::Failed => RunState::Failed(res),
            Outcome::Ok if res.steps == *steps => RunState::Done(res),
            Outcome::Ok => RunState::Stale(res),
        });
    }
    let c = checkpoint_path(dir, &r.id);
    if c.exists() {
        let batches = crate::train::checkpoint::Checkpoint::load(&c)
            .map(|k| k.batches_done)
            .unwrap_or(0);
        return Ok(RunState::Partial { batches });
    }
    Ok(RunState::Missing)
}

/// The state of every run of `plan` in `dir`, in plan order.
pub fn states(dir: &Path, plan: &PlanRecord) -> Result<Vec<RunState>, ResultError> {
    plan.runs
        .iter()
        .map(|r| run_state(dir, r, &plan.steps))
        .collect()
}

/// This machine's host name.
pub fn host_name() -> String {
    #[cfg(unix)]
    if let Ok(h) = nix::unistd::gethostname() {
        return h.to_string_lossy().into_owned();
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
