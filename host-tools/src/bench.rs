//! `neuroloop bench train`: seconds per training batch (task generation, forward, BPTT,
//! Adam, on all cores) and the GFLOP/s that means, next to the machine's sgemm peak.
//!
//! FLOPs per batch: [`crate::train::estimate::flops_per_batch_gated`] (the same model the
//! trainer's pre-run estimate uses; a MAC is 2 FLOPs). A gated cell ([`Cell`]) is timed
//! the same way, and its nanoseconds per MAC set beside the leaky cell's at the same size.

use crate::linalg::gemm;
use crate::model::Cell;
use crate::train::config::ConfigError;
use crate::train::config::TrainConfig;
use crate::train::estimate::{flops_per_batch_gated, TrainEstimate};
use crate::train::parallel::thread_count;
use crate::train::trainer::{TrainError, Trainer};
use serde::Serialize;
use std::time::Instant;

/// Benchmark settings.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchConfig {
    /// Recurrent units.
    pub n_rec: usize,
    /// Trials per batch.
    pub batch: usize,
    /// Steps per trial.
    pub steps: usize,
    /// Timed batches.
    pub reps: usize,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Recurrent cell.
    pub cell: Cell,
}

/// Benchmark result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// Recurrent cell.
    pub cell: Cell,
    /// Recurrent units.
    pub n_rec: usize,
    /// Trials per batch.
    pub batch: usize,
    /// Steps per trial.
    pub steps: usize,
    /// Worker threads.
    pub threads: usize,
    /// Median seconds per batch.
    pub median_s: f64,
    /// Fastest batch, seconds.
    pub best_s: f64,
    /// FLOPs per batch (see module docs).
    pub flops_per_batch: f64,
    /// GFLOP/s at the median.
    pub gflops: f64,
    /// GFLOP/s at the best.
    pub gflops_best: f64,
    /// Nanoseconds per multiply-add at the median (2 FLOPs per MAC).
    pub ns_per_mac: f64,
}

/// The training config the benchmark times: perceptual discrimination at its size.
pub fn bench_train_config(c: &BenchConfig) -> TrainConfig {
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.task.t = c.steps as f32 * cfg.task.dt;
    cfg.model.n_rec = c.n_rec;
    cfg.model.cell = c.cell;
    cfg.train.batch = c.batch;
    cfg.train.trials = u64::MAX / 2;
    cfg.train.threads = c.threads;
    cfg
}

/// Memory and time of the benchmark (3 warm-up and `reps` timed batches), before it runs.
pub fn bench_estimate(c: &BenchConfig) -> Result<TrainEstimate, ConfigError> {
    let cfg = bench_train_config(c);
    cfg.validate()?;
    let mut e = TrainEstimate::of(&cfg)?;
    e.batches = 3 + c.reps.max(1) as u64;
    e.seconds = e.seconds_per_batch * e.batches as f64;
    Ok(e)
}

/// Time training batches of perceptual discrimination at the given size.
pub fn bench_train(c: &BenchConfig) -> Result<BenchReport, TrainError> {
    let mut t = Trainer::new(bench_train_config(c))?;
    for _ in 0..3 {
        t.step()?;
    }
    let mut times = Vec::with_capacity(c.reps);
    for _ in 0..c.reps.max(1) {
        let s = Instant::now();
        t.step()?;
        times.push(s.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let best = times[0];
    let d = t.task().dims();
    let f = flops_per_batch_gated(c.cell.gates(), c.n_rec, d.n_in, d.n_out, c.batch, c.steps);
    Ok(BenchReport {
        cell: c.cell,
        n_rec: c.n_rec,
        batch: c.batch,
        steps: c.steps,
        threads: thread_count(c.threads),
        median_s: median,
        best_s: best,
        flops_per_batch: f,
        gflops: f / median / 1e9,
        gflops_best: f / best / 1e9,
        ns_per_mac: median / (f / 2.0) * 1e9,
    })
}

/// sgemm peak: GFLOP/s of `n×n×n` sgemm (best of `reps`), on one core and on `threads`
/// cores at once (each thread its own product).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SgemmPeak {
    /// Matrix size.
    pub n: usize,
    /// One thread, GFLOP/s.
    pub one_core: f64,
    /// Threads used for `all_cores`.
    pub threads: usize,
    /// All threads together, GFLOP/s.
    pub all_cores: f64,
}

/// Measure the sgemm peak (matrixmultiply, the kernel the trainer uses).
pub fn sgemm_peak(n: usize, reps: usize, threads: usize) -> SgemmPeak {
    let one = |reps: usize| -> f64 {
        let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
        let b = a.clone();
        let mut c = vec![0.0f32; n * n];
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            let s = Instant::now();
            gemm(n, n, n, 1.0, &a, false, &b, false, 0.0, &mut c);
            best = best.min(s.elapsed().as_secs_f64());
        }
        std::hint::black_box(&c);
        2.0 * (n * n * n) as f64 / best / 1e9
    };
    let one_core = one(reps);
    let threads = thread_count(threads);
    let all_cores = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads).map(|_| s.spawn(|| one(reps))).collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
    });
    SgemmPeak {
        n,
        one_core,
        threads,
        all_cores,
    }
}
