//! The command line: clap structs (derive) and their conversion to the typed configs of
//! [`crate::commands`]. Nothing here does work; nothing below this layer sees clap.
//!
//! One file per subcommand holds its `…Args` struct and the conversion into the command's
//! config; closed sets (transfer functions, weight formats, task names) are clap
//! `ValueEnum`s in [`values`].

pub mod bench;
pub mod device_sim;
pub mod eval;
pub mod inspect;
pub mod interop;
pub mod plot;
pub mod quantize;
pub mod quickstart;
pub mod rig;
pub mod run;
pub mod sweep;
pub mod tasks;
pub mod train;
pub mod values;

use crate::commands::Command as Cmd;
use clap::{Parser, Subcommand};

/// Train recurrent networks on cognitive tasks and run them, fixed point, on a microcontroller.
#[derive(Parser, Debug)]
#[command(name = "neuroloop", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Quantize a float model to a fixed-point blob (.nlb).
    Quantize(quantize::QuantizeArgs),
    /// Show a blob's header, dimensions, formats, sizes and CRC status.
    Inspect(inspect::InspectArgs),
    /// Run a model (float, PsychRNN .npz or .nlb) on recorded inputs (.npz key `x`).
    Run(run::RunArgs),
    /// Import a model from another tool's format.
    #[command(subcommand)]
    Import(interop::ImportCommand),
    /// Export a model to another tool's format.
    #[command(subcommand)]
    Export(interop::ExportCommand),
    /// Train a network on a task (BPTT + Adam, PsychRNN semantics).
    Train(train::TrainArgs),
    /// Accuracy of a float model or a blob on fresh task trials (`--compare` for both).
    Eval(eval::EvalArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Train the PsychRNN Hello World, quantize it to int16 and int8, compare accuracy.
    Quickstart(quickstart::QuickstartArgs),
    /// Drive a board: upload, stimulus, ping, recorded runs (see docs/rig.md).
    #[command(subcommand)]
    Rig(rig::RigCommand),
    /// The firmware running on this host behind the wire protocol (no board needed).
    DeviceSim(device_sim::DeviceSimArgs),
    /// Populations of networks: a grid of training runs, locally or as a Slurm array.
    #[command(subcommand)]
    Sweep(sweep::SweepCommand),
    /// The task library and task files: list, show, check, sample (docs/tasks.md).
    #[command(subcommand)]
    Tasks(tasks::TasksCommand),
    /// Plots: loss, psychometric curve, trials, PCA trajectories, comparisons (PNG/SVG).
    #[command(subcommand)]
    Plot(plot::PlotCommand),
}

impl Cli {
    /// The typed config of the chosen subcommand.
    pub fn into_command(self) -> Cmd {
        match self.command {
            Command::Quantize(a) => Cmd::Quantize(a.into()),
            Command::Inspect(a) => Cmd::Inspect(a.into()),
            Command::Run(a) => Cmd::Run(a.into()),
            Command::Import(c) => Cmd::Import(c.into()),
            Command::Export(c) => Cmd::Export(c.into()),
            Command::Train(a) => Cmd::Train(a.into()),
            Command::Eval(a) => Cmd::Eval(a.into()),
            Command::Bench(bench::BenchCommand::Train(a)) => Cmd::Bench(a.into()),
            Command::Quickstart(a) => Cmd::Quickstart(a.into()),
            Command::Rig(c) => Cmd::Rig(c.into()),
            Command::DeviceSim(a) => Cmd::DeviceSim(a.into()),
            Command::Sweep(c) => Cmd::Sweep(c.into()),
            Command::Tasks(c) => Cmd::Tasks(c.into()),
            Command::Plot(c) => Cmd::Plot(c.into()),
        }
    }
}

/// Parse `std::env::args` (clap prints help or the error and exits on bad arguments).
pub fn parse() -> Cmd {
    Cli::parse().into_command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
