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
    /// Run a model (float, PsychRNN .npz or .nlb) on recorded inputs (.npz key `x`).
    Run(RunArgs),
    /// Import a model from another tool's format.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export a model to another tool's format.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Train a network on a task (BPTT + Adam, PsychRNN semantics).
    Train(TrainArgs),
    /// Accuracy of a float model or a blob on fresh task trials (`--compare` for both).
    Eval(EvalArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Train the PsychRNN Hello World, quantize it to int16 and int8, compare accuracy.
    Quickstart(QuickstartArgs),
    /// Drive a board: upload, stimulus, ping, recorded runs (see docs/rig.md).
    #[command(subcommand)]
    Rig(crate::rig_cli::RigCommand),
    /// The firmware running on this host behind the wire protocol (no board needed).
    DeviceSim(crate::rig_cli::DeviceSimArgs),
}

/// `neuroloop run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Model: native float model, PsychRNN .npz weights or .nlb blob (recognised by content).
    #[arg(long)]
    pub model: PathBuf,
    /// Inputs .npz with key `x`, float [batch, steps, N_in].
    #[arg(long)]
    pub inputs: PathBuf,
    /// Output .npz: `outputs` [batch, steps, N_out], `states` [batch, steps, N_rec].
    #[arg(short, long)]
    pub output: PathBuf,
    /// Time step in ms (PsychRNN .npz models only).
    #[arg(long)]
    pub dt: Option<f32>,
    /// Time constant in ms (PsychRNN .npz models only).
    #[arg(long)]
    pub tau: Option<f32>,
    /// Transfer function (PsychRNN .npz models only).
    #[arg(long, default_value = "relu")]
    pub transfer: String,
    /// Recurrent noise σ (PsychRNN .npz models only; used only with --noise-seed).
    #[arg(long, default_value_t = 0.0)]
    pub rec_noise: f32,
    /// Turn recurrent noise on for float models, with this seed (default: noise off).
    #[arg(long)]
    pub noise_seed: Option<u64>,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `neuroloop import <format>`.
#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// PsychRNN 1.0.0 weights (`model.save` .npz) → native float model.
    Psychrnn(ImportPsychrnnArgs),
}

/// `neuroloop import psychrnn`.
#[derive(clap::Args, Debug)]
pub struct ImportPsychrnnArgs {
    /// PsychRNN weights (.npz).
    pub weights: PathBuf,
    /// Time step, ms (not stored in PsychRNN files).
    #[arg(long)]
    pub dt: f32,
    /// Time constant, ms (not stored in PsychRNN files).
    #[arg(long)]
    pub tau: f32,
    /// Transfer function: relu (PsychRNN default), tanh, sigmoid or identity.
    #[arg(long, default_value = "relu")]
    pub transfer: String,
    /// Recurrent noise σ (PsychRNN `rec_noise`).
    #[arg(long, default_value_t = 0.0)]
    pub rec_noise: f32,
    /// Model name (default: the file stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Output native float model (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `neuroloop export <format>`.
#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Native float model → PsychRNN 1.0.0 weights (.npz, loads in `BasicSimulator`).
    Psychrnn(ExportPsychrnnArgs),
}

/// `neuroloop export psychrnn`.
#[derive(clap::Args, Debug)]
pub struct ExportPsychrnnArgs {
    /// Native float model.
    pub model: PathBuf,
    /// Output PsychRNN weights (.npz).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `neuroloop quantize`.
#[derive(clap::Args, Debug)]
pub struct QuantizeArgs {
    /// Float model to quantize (a neuroloop float model, recognised by content; import
    /// PsychRNN weights first with `neuroloop import psychrnn`).
    pub model: PathBuf,
    /// Weight format.
    #[arg(long, value_enum, default_value_t = WeightArg::I16)]
    pub weights: WeightArg,
    /// Output blob.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Calibrate on trials of this task (default: the task the model was trained on;
    /// random task-like inputs if it has none). Also measures float vs fixed accuracy.
    #[arg(long, value_name = "NAME")]
    pub calibrate_task: Option<String>,
    /// Calibration trials.
    #[arg(long, default_value_t = 64)]
    pub trials: usize,
    /// Held-out trials for the float vs fixed report (0 = no report).
    #[arg(long, default_value_t = 1000)]
    pub eval_trials: usize,
    /// Do not fold the mean weight-rounding error into the biases.
    #[arg(long)]
    pub no_bias_correction: bool,
    /// Time steps per calibration trial (random inputs only; a task sets its own).
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

/// `neuroloop train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Task name (perceptual-discrimination, delayed-discrimination, match-to-category);
    /// overrides `task.name` of the config.
    #[arg(long)]
    pub task: Option<String>,
    /// TOML config (see `neuroloop::train::config`); flags override its keys.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Recurrent units (`model.n_rec`, default 50).
    #[arg(long)]
    pub n_rec: Option<usize>,
    /// Trials per batch (`train.batch`, default 50).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Trials to train on (`train.trials`, default 50000).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Seed (`seed`, default 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Adam learning rate (`train.learning_rate`, default 0.001).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Transfer function (`model.transfer`: relu, tanh, sigmoid, identity).
    #[arg(long)]
    pub transfer: Option<String>,
    /// Dale's law excitatory fraction (`model.dale_ratio`).
    #[arg(long)]
    pub dale_ratio: Option<f32>,
    /// Recurrent noise (`model.rec_noise`).
    #[arg(long)]
    pub rec_noise: Option<f32>,
    /// Worker threads (`train.threads`, 0 = all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Batches between checkpoints (`train.checkpoint_every`, default 100).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Checkpoint file (default: MODEL.ckpt.json).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint (after a crash, a kill or to train longer).
    #[arg(long)]
    pub resume: bool,
    /// Output model (native JSON float model).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `neuroloop eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Model: a neuroloop float model or a fixed-point `.nlb` blob (recognised by
    /// content; a blob runs in the fixed-point core, the code the firmware runs).
    #[arg(long)]
    pub model: PathBuf,
    /// Also run this model on the same trials and print both side by side (typically the
    /// float model a blob was quantized from).
    #[arg(long, value_name = "MODEL")]
    pub compare: Option<PathBuf>,
    /// Task name (default: the task the model was trained on).
    #[arg(long)]
    pub task: Option<String>,
    /// Trials to evaluate.
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,
    /// Trial length in ms (default 2000).
    #[arg(long)]
    pub t: Option<f32>,
    /// Seed of the trials.
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

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
    /// Skip the sgemm peak measurement.
    #[arg(long)]
    pub no_peak: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `neuroloop quickstart`.
#[derive(clap::Args, Debug)]
pub struct QuickstartArgs {
    /// Folder for the trained model and blobs.
    #[arg(long, default_value = "neuroloop-quickstart")]
    pub dir: PathBuf,
    /// Evaluation trials.
    #[arg(long, default_value_t = 1000)]
    pub trials: usize,
    /// Training trials (PsychRNN Hello World: 50000).
    #[arg(long, default_value_t = 50_000)]
    pub train_trials: u64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the comparison as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Parse `std::env::args` and run.
pub fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Quantize(a) => crate::quantize::run_cli(&a),
        Command::Inspect(a) => crate::inspect::run_cli(&a),
        Command::Run(a) => crate::run::run_cli(&a),
        Command::Import(ImportCommand::Psychrnn(a)) => crate::interop::import_cli(&a),
        Command::Export(ExportCommand::Psychrnn(a)) => crate::interop::export_cli(&a),
        Command::Train(a) => crate::train::run_cli(&a),
        Command::Eval(a) => crate::eval::run_cli(&a),
        Command::Bench(BenchCommand::Train(a)) => crate::bench::run_cli(&a),
        Command::Quickstart(a) => crate::quickstart::run_cli(&a),
        Command::Rig(c) => crate::rig_cli::run(&c),
        Command::DeviceSim(a) => crate::rig_cli::device_sim(&a),
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
