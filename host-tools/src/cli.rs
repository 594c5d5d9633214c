//! Command-line parsing (clap) and dispatch. Each subcommand turns its flags into the typed
//! config of the module that does the work; those modules never see clap.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
    Quantize(QuantizeArgs),
    /// Show a blob's header, dimensions, formats, sizes and CRC status.
    Inspect(InspectArgs),
}

/// `neuroloop quantize`.
#[derive(clap::Args, Debug)]
pub struct QuantizeArgs {
    /// Float model to quantize (native JSON model or PsychRNN .npz; recognised by content).
    pub model: PathBuf,
    /// Weight format.
    #[arg(long, value_enum, default_value_t = WeightArg::I16)]
    pub weights: WeightArg,
    /// Output blob.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Calibration trials (random task-like inputs unless a task is given).
    #[arg(long, default_value_t = 64)]
    pub trials: usize,
    /// Time steps per calibration trial.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Seed for calibration inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Weight format on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightArg {
    /// 8-bit weights.
    I8,
    /// 16-bit weights.
    I16,
}

/// `neuroloop inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Blob to inspect.
    pub file: PathBuf,
    /// Machine-readable JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Parse `std::env::args` and run.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Quantize(a) => crate::quantize::run_cli(&a),
        Command::Inspect(a) => crate::inspect::run_cli(&a),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
