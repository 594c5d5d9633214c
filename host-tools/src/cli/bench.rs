//! `neuroloop bench …` flags → [`BenchCmd`].

use super::values::CellArg;
use crate::bench::BenchConfig;
use crate::commands::bench::BenchCmd;
use clap::Subcommand;

/// `neuroloop bench ...`.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Seconds per training batch and GFLOP/s, against the sgemm peak.
    Train(BenchTrainArgs),
}

/// `neuroloop bench train`.
#[derive(clap::Args, Debug)]
pub struct BenchTrainArgs {
    /// Recurrent units.
    #[arg(long, default_value_t = 50)]
    pub n_rec: usize,
    /// Trials per batch.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Steps per trial.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Timed batches (the median is reported).
    #[arg(long, default_value_t = 30)]
    pub reps: usize,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Recurrent cell; a gated one is compared with the leaky cell per MAC.
    #[arg(long, value_enum, default_value_t = CellArg::Leaky)]
    pub cell: CellArg,
    /// Skip the sgemm peak measurement.
    #[arg(long)]
    pub no_peak: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl From<BenchTrainArgs> for BenchCmd {
    fn from(a: BenchTrainArgs) -> Self {
        BenchCmd {
            bench: BenchConfig {
                n_rec: a.n_rec,
                batch: a.batch,
                steps: a.steps,
                reps: a.reps,
                threads: a.threads,
                cell: a.cell.into(),
            },
            no_peak: a.no_peak,
            json: a.json,
        }
    }
}
