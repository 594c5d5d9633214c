//! `neuroloop bench train`: estimate memory and time first (refused above the machine's
//! memory, a warning when large), time training batches ([`crate::bench`]) and print the
//! figures, next to the sgemm peak unless `--no-peak`. With a gated `--cell`, the leaky
//! cell is timed too at the same size, and the two compared per multiply-add.

use super::train::check_estimate;
use crate::bench::{bench_estimate, bench_train, sgemm_peak, BenchConfig, BenchReport};
use crate::model::Cell;
use crate::task::MAX_STEPS;

/// Typed config of `neuroloop bench train`.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchCmd {
    /// Sizes, repetitions and threads.
    pub bench: BenchConfig,
    /// Skip the sgemm peak measurement.
    pub no_peak: bool,
    /// JSON report on stdout.
    pub json: bool,
}

impl BenchCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        let c = &self.bench;
        for (flag, v) in [
            ("--n-rec", c.n_rec),
            ("--batch", c.batch),
            ("--steps", c.steps),
        ] {
            if v == 0 {
                anyhow::bail!("{flag} is 0, must be at least 1");
            }
        }
        if c.steps > MAX_STEPS {
            anyhow::bail!("--steps is {}, must be at most {MAX_STEPS}", c.steps);
        }
        let e = bench_estimate(c).map_err(|e| {
            anyhow::anyhow!(
                "{}",
                e.to_string()
                    .replace("model.n_rec", "--n-rec")
                    .replace("train.batch", "--batch")
                    .replace("train.threads", "--threads")
            )
        })?;
        check_estimate(&e, "this benchmark", "--n-rec, --batch or --steps")
    }
}

fn describe(r: &BenchReport) -> String {
    format!(
        "bench train: {} cell, n_rec {}, batch {}, {} steps, {} threads: median {:.2} ms/batch (best {:.2} ms), {:.1} GFLOP/s (best {:.1}), {:.1} MFLOP/batch, {:.4} ns/MAC",
        r.cell,
        r.n_rec,
        r.batch,
        r.steps,
        r.threads,
        r.median_s * 1e3,
        r.best_s * 1e3,
        r.gflops,
        r.gflops_best,
        r.flops_per_batch / 1e6,
        r.ns_per_mac
    )
}

/// Run the benchmark and report.
pub fn run(cmd: &BenchCmd) -> anyhow::Result<()> {
    let c = &cmd.bench;
    let r = bench_train(c)?;
    let leaky = if c.cell.is_leaky() {
        None
    } else {
        Some(bench_train(&BenchConfig {
            cell: Cell::Leaky,
            ..c.clone()
        })?)
    };
    let peak = if cmd.no_peak {
        None
    } else {
        Some(sgemm_peak(256, 50, c.threads))
    };
    if cmd.json {
        println!(
            "{}",
            serde_json::json!({ "train": r, "leaky": leaky, "sgemm_peak": peak })
        );
    } else {
        eprintln!("{}", describe(&r));
        if let Some(l) = &leaky {
            eprintln!("{}", describe(l));
            eprintln!(
                "{} vs leaky: {:.2}x the time per MAC ({:.2}x the time per batch for {:.2}x the MACs)",
                r.cell,
                r.ns_per_mac / l.ns_per_mac,
                r.median_s / l.median_s,
                r.flops_per_batch / l.flops_per_batch
            );
        }
        if let Some(p) = peak {
            eprintln!(
                "sgemm peak ({0}x{0}x{0}, matrixmultiply): {1:.1} GFLOP/s on one core, {2:.1} GFLOP/s on {3} cores",
                p.n, p.one_core, p.all_cores, p.threads
            );
        }
    }
    Ok(())
}
