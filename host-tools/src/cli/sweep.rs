//! `neuroloop sweep …` flags → [`SweepCmd`].

use crate::commands::sweep::{SlurmCmd, SweepCmd};
use std::path::PathBuf;

/// `neuroloop sweep`.
#[derive(clap::Subcommand, Debug)]
pub enum SweepCommand {
    /// Print the runs of a sweep file (grid of axes × seeds) and their count.
    Plan {
        /// Sweep file (TOML; every key: docs/sweep.md).
        file: PathBuf,
        /// Print the plan as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run every run not done yet on this machine; rerun to resume after a kill.
    Run {
        /// Sweep file.
        file: PathBuf,
        /// Output folder (results by run id; resumed when it has some).
        #[arg(short, long)]
        output: PathBuf,
        /// Runs at once, each pinned to its share of the cores (default 1).
        #[arg(short, long, default_value_t = 1)]
        jobs: usize,
    },
    /// Run one run of the grid by index (what each Slurm array task does).
    RunOne {
        /// Sweep file.
        file: PathBuf,
        /// Grid index (0-based, as `sweep plan` numbers them).
        #[arg(long)]
        index: usize,
        /// Output folder.
        #[arg(short, long)]
        output: PathBuf,
        /// Training threads (0 = every core this process may use).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Refuse to run unless the sweep file still gives this plan (fingerprint written
        /// into the sbatch script).
        #[arg(long)]
        plan: Option<String>,
    },
    /// Write an sbatch job array for the runs not done yet and submit it.
    Slurm {
        /// Sweep file.
        file: PathBuf,
        /// Output folder (on a file system the compute nodes share).
        #[arg(short, long)]
        output: PathBuf,
        /// `#SBATCH --partition`.
        #[arg(long)]
        partition: Option<String>,
        /// `#SBATCH --time` (e.g. 1:00:00).
        #[arg(long)]
        time: Option<String>,
        /// `#SBATCH --mem` (e.g. 4G).
        #[arg(long)]
        mem: Option<String>,
        /// `#SBATCH --cpus-per-task`, also each run's training threads.
        #[arg(long, default_value_t = 1)]
        cpus_per_task: usize,
        /// `#SBATCH --account`.
        #[arg(long)]
        account: Option<String>,
        /// Most array tasks running at once (`--array=…%N`).
        #[arg(long)]
        max_parallel: Option<usize>,
        /// `#SBATCH --job-name`.
        #[arg(long, default_value = "neuroloop-sweep")]
        job_name: String,
        /// Write the script (DIR/sweep.sbatch) and print it on stdout; do not submit.
        #[arg(long)]
        dry_run: bool,
    },
    /// What landed in an output folder: done, failed (with the error), partial, missing.
    Status {
        /// Output folder.
        dir: PathBuf,
        /// Print every run's state as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// One table of every run: DIR/results.csv and DIR/results.json.
    Collect {
        /// Output folder.
        dir: PathBuf,
        /// Also print the rows as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

impl From<SweepCommand> for SweepCmd {
    fn from(c: SweepCommand) -> Self {
        match c {
            SweepCommand::Plan { file, json } => SweepCmd::Plan { file, json },
            SweepCommand::Run { file, output, jobs } => SweepCmd::Run { file, output, jobs },
            SweepCommand::RunOne {
                file,
                index,
                output,
                threads,
                plan,
            } => SweepCmd::RunOne {
                file,
                index,
                output,
                threads,
                plan,
            },
            SweepCommand::Slurm {
                file,
                output,
                partition,
                time,
                mem,
                cpus_per_task,
                account,
                max_parallel,
                job_name,
                dry_run,
            } => SweepCmd::Slurm(SlurmCmd {
                file,
                output,
                options: crate::sweep::slurm::SlurmOptions {
                    partition,
                    time,
                    mem,
                    cpus_per_task,
                    account,
                    max_parallel,
                    job_name,
                },
                dry_run,
            }),
            SweepCommand::Status { dir, json } => SweepCmd::Status { dir, json },
            SweepCommand::Collect { dir, json } => SweepCmd::Collect { dir, json },
        }
    }
}
