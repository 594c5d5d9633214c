//! What a training run will cost, known before it starts: memory, checkpoint size and
//! time, from a model of the trainer's buffers and FLOPs; the limits a run must respect
//! (the sizes a deployable blob can hold; the memory limit is [`crate::cost`]'s, the
//! policy every command shares).
//!
//! * Memory: parameters `P = N·N_in + N² + N_out·N + 2N + N_out` floats are held about
//!   `9 + W` times (raw, effective, masks, model copy, Adam m and v, gradient sum, one
//!   gradient per worker thread `W`), and each trial of a batch holds
//!   `steps·(3N + 2·N_in + 8·N_out)` floats of states, inputs, targets and outputs;
//!   4 bytes each; plus the checkpoint's JSON while it is written, the initialiser's
//!   `f64` matrices (`32·N²` bytes) and [`BASE_BYTES`] for the program. Measured
//!   (`/usr/bin/time` max RSS, perceptual discrimination, 2 threads): N 256, batch 50:
//!   43 MB (estimate 49 MB); N 1024, batch 20: 167 MB (estimate 184 MB).
//! * Checkpoint: the model and Adam's two moments (`3P` floats) and the masks, as JSON
//!   (~14 bytes per float).
//! * Time: FLOPs per batch = 2 × the multiply-adds of the forward and backward matrix
//!   products, `T·B·(3·N² + 2·N·N_in + 3·N·N_out)` (forward `W_rec`, `W_in`, `W_out`;
//!   backward `Δ·W_rec`, `dY·W_out`; weight gradients `∂W_rec`, `∂W_in`, `∂W_out`), at an
//!   assumed [`ASSUMED_GFLOPS_PER_THREAD`] per worker thread (`neuroloop bench train`
//!   measures the real figure; the README lists it for a laptop-class CPU).
//! * Gated cells ([`crate::model::Cell`], `g` gates): every `N²` and `N·N_in` term above
//!   is `g` times larger (parameters and FLOPs), and each trial holds `10·N` more floats
//!   per step (gate activations and their gradients).

use super::config::{ConfigError, TrainConfig};
use super::parallel::thread_count;
use crate::cost::{bytes, seconds, WARN_BYTES, WARN_SECONDS};
use crate::task::build;
use neuroloop_core::blob::{MAX_IN, MAX_OUT, MAX_REC};
use serde::Serialize;

/// Sustained GFLOP/s per worker thread the time estimate assumes (the README's 2-core
/// laptop-class CPU does 18–37 per core; a shared or older machine less).
pub const ASSUMED_GFLOPS_PER_THREAD: f64 = 10.0;
/// Checkpoint bytes above which the checkpoint size is warned about.
pub const WARN_CHECKPOINT_BYTES: u64 = 100 << 20;
/// Bytes of the program itself (binary, allocator, thread stacks).
pub const BASE_BYTES: u64 = 10 << 20;
/// FLOPs per training batch (2 × multiply-adds of the matrix products; module docs).
pub fn flops_per_batch(n_rec: usize, n_in: usize, n_out: usize, batch: usize, steps: usize) -> f64 {
    flops_per_batch_gated(1, n_rec, n_in, n_out, batch, steps)
}

/// [`flops_per_batch`] of a cell with `gates` gates (1 = leaky).
pub fn flops_per_batch_gated(
    gates: usize,
    n_rec: usize,
    n_in: usize,
    n_out: usize,
    batch: usize,
    steps: usize,
) -> f64 {
    let (g, n, i, o) = (gates as f64, n_rec as f64, n_in as f64, n_out as f64);
    2.0 * (steps * batch) as f64 * (3.0 * g * n * n + 2.0 * g * n * i + 3.0 * n * o)
}

/// Bytes of the trainer's buffers for a network and batch (module docs).
pub fn memory_bytes(
    n_rec: usize,
    n_in: usize,
    n_out: usize,
    batch: usize,
    steps: usize,
    threads: usize,
) -> u64 {
    let (n, i, o) = (n_rec as f64, n_in as f64, n_out as f64);
    let p = n * i + n * n + o * n + 2.0 * n + o;
    let per_trial = steps as f64 * (3.0 * n + 2.0 * i + 8.0 * o);
    (4.0 * ((9.0 + threads as f64) * p + batch as f64 * per_trial)) as u64
}

/// The cost of a training run, before it starts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainEstimate {
    /// Bytes of memory the trainer holds.
    pub memory_bytes: u64,
    /// Bytes of each checkpoint file.
    pub checkpoint_bytes: u64,
    /// FLOPs per batch.
    pub flops_per_batch: f64,
    /// Batches to run.
    pub batches: u64,
    /// Worker threads.
    pub threads: usize,
    /// Estimated seconds per batch at [`ASSUMED_GFLOPS_PER_THREAD`].
    pub seconds_per_batch: f64,
    /// Estimated seconds for the whole run.
    pub seconds: f64,
}

impl TrainEstimate {
    /// The estimate of a (valid) config.
    pub fn of(cfg: &TrainConfig) -> Result<Self, ConfigError> {
        let d = build(&cfg.task)?.dims();
        let t = &cfg.train;
        let n = cfg.model.n_rec;
        let g = cfg.model.cell.gates();
        let threads = thread_count(t.threads).min(t.batch).max(1);
        let flops = flops_per_batch_gated(g, n, d.n_in, d.n_out, t.batch, d.n_steps);
        let p = (g * (n * d.n_in + n * n) + d.n_out * n + 2 * n + d.n_out) as u64;
        let masks = [
            &cfg.model.input_connectivity,
            &cfg.model.rec_connectivity,
            &cfg.model.output_connectivity,
        ]
        .iter()
        .map(|m| {
            m.as_ref()
                .map_or(0, |rows| rows.iter().map(Vec::len).sum::<usize>()) as u64
        })
        .sum::<u64>();
        let batches = t.trials.div_ceil(t.batch as u64).saturating_sub(1);
        let seconds_per_batch = flops / (ASSUMED_GFLOPS_PER_THREAD * 1e9 * threads as f64);
        let checkpoint_bytes = 14 * (3 * p + 2 * masks);
        let mut buffers = memory_bytes(n, d.n_in, d.n_out, t.batch, d.n_steps, threads);
        if g > 1 {
            let extra_p = (g - 1) * (n * d.n_in + n * n);
            let extra_trial = 10 * n * d.n_steps;
            buffers += 4 * ((9 + threads) * extra_p + t.batch * extra_trial) as u64;
        }
        Ok(TrainEstimate {
            memory_bytes: buffers + checkpoint_bytes + 32 * (n * n) as u64 + BASE_BYTES,
            checkpoint_bytes,
            flops_per_batch: flops,
            batches,
            threads,
            seconds_per_batch,
            seconds: seconds_per_batch * batches as f64,
        })
    }

    /// Whether the run is large or long enough to warn about before it starts.
    pub fn is_large(&self) -> bool {
        self.memory_bytes > WARN_BYTES
            || self.seconds > WARN_SECONDS
            || self.checkpoint_bytes > WARN_CHECKPOINT_BYTES
    }

    /// One line: memory, checkpoint, time per batch and in total.
    pub fn describe(&self) -> String {
        format!(
            "~{} of memory, ~{} per checkpoint, ~{} per batch × {} batches = ~{} (at an assumed {} GFLOP/s per thread × {} threads)",
            bytes(self.memory_bytes),
            bytes(self.checkpoint_bytes),
            seconds(self.seconds_per_batch),
            self.batches,
            seconds(self.seconds),
            ASSUMED_GFLOPS_PER_THREAD,
            self.threads
        )
    }
}

/// Refuse a network `quantize` could not turn into a blob (`neuroloop_core::blob`'s
/// `MAX_REC`, `MAX_IN`, `MAX_OUT`); `--float-only` skips this check.
pub fn check_deployable(cfg: &TrainConfig) -> Result<(), ConfigError> {
    let d = build(&cfg.task)?.dims();
    for (key, v, max) in [
        ("model.n_rec", cfg.model.n_rec, MAX_REC),
        ("task.n_in (inputs)", d.n_in, MAX_IN),
        ("task.n_out (outputs)", d.n_out, MAX_OUT),
    ] {
        if v > max {
            return Err(ConfigError::Field {
                key: key.into(),
                reason: format!(
                    "is {v}, but a blob the firmware runs holds at most {max} (neuroloop_core::blob limit), so `neuroloop quantize` could not deploy this model; pass --float-only to train a float-only model anyway"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_world_is_small_and_4096_units_are_large() {
        let c = TrainConfig::for_task("perceptual-discrimination");
        let e = TrainEstimate::of(&c).unwrap();
        assert!(!e.is_large(), "{}", e.describe());
        assert_eq!(e.batches, 999);
        let mut big = c.clone();
        big.model.n_rec = 4096;
        let e = TrainEstimate::of(&big).unwrap();
        assert!(e.is_large(), "{}", e.describe());
        // 3 × 16.8 M floats of ~14 bytes: the 683 MB the issue saw, within 5 %.
        let seen = 683e6;
        assert!(
            (e.checkpoint_bytes as f64 - seen).abs() < 0.05 * seen,
            "{}",
            e.checkpoint_bytes
        );
    }

    #[test]
    fn undeployable_size_names_the_limit_and_the_flag() {
        let mut c = TrainConfig::for_task("perceptual-discrimination");
        c.model.n_rec = MAX_REC + 1;
        let e = check_deployable(&c).unwrap_err().to_string();
        assert!(e.contains("model.n_rec") && e.contains("1025"), "{e}");
        assert!(e.contains("1024") && e.contains("--float-only"), "{e}");
        c.model.n_rec = MAX_REC;
        check_deployable(&c).unwrap();
    }
}
