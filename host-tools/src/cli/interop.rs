//! `neuroloop import …` and `neuroloop export …` flags → [`ImportCmd`], [`ExportCmd`].

use super::values::{TaskArg, TransferArg};
use crate::commands::export::ExportCmd;
use crate::commands::import::ImportCmd;
use crate::interop::psychrnn::ImportOptions;
use clap::Subcommand;
use std::path::PathBuf;

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
    /// Transfer function (PsychRNN default: relu).
    #[arg(long, value_enum, default_value_t = TransferArg::Relu)]
    pub transfer: TransferArg,
    /// Recurrent noise σ (PsychRNN `rec_noise`).
    #[arg(long, default_value_t = 0.0)]
    pub rec_noise: f32,
    /// Model name (default: the file stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Task the weights were trained on (PsychRNN files do not store it); recorded in the
    /// model, so `eval` and `quantize` default to it.
    #[arg(long, value_name = "NAME")]
    pub task: Option<TaskArg>,
    /// Output native float model (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

impl From<ImportPsychrnnArgs> for ImportCmd {
    fn from(a: ImportPsychrnnArgs) -> Self {
        ImportCmd {
            weights: a.weights,
            options: ImportOptions {
                dt: a.dt,
                tau: a.tau,
                transfer: a.transfer.into(),
                rec_noise: a.rec_noise,
                name: a.name,
                task: a.task.map(TaskArg::name),
            },
            output: a.output,
            force: a.force,
        }
    }
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
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

impl From<ExportPsychrnnArgs> for ExportCmd {
    fn from(a: ExportPsychrnnArgs) -> Self {
        ExportCmd {
            model: a.model,
            output: a.output,
            force: a.force,
        }
    }
}
