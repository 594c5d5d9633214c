//! `neuroloop import …` and `neuroloop export …` flags → [`ImportCmd`], [`ExportCmd`].

use super::values::{TaskArg, TransferArg};
use crate::commands::export::{ExportCmd, ExportFormat};
use crate::commands::import::{ImportCmd, ImportFormat};
use crate::interop::psychrnn::ImportOptions;
use crate::interop::torch::{ExportPrefixes, TorchOptions};
use clap::Subcommand;
use std::path::PathBuf;

/// `neuroloop import <format>`.
#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// PsychRNN 1.0.0 weights (`model.save` .npz) → native float model: a Basic save
    /// becomes a leaky model, an LSTM save (recognised by its keys W_f … init_cell) an
    /// lstm-psychrnn model.
    Psychrnn(ImportPsychrnnArgs),
    /// PyTorch state_dict (.npz) of a single-layer nn.GRU or nn.LSTM and an nn.Linear
    /// readout → native gru or lstm model (docs/cells.md, "Interop").
    Torch(ImportTorchArgs),
}

/// `neuroloop import psychrnn`.
#[derive(clap::Args, Debug)]
pub struct ImportPsychrnnArgs {
    /// PsychRNN weights (.npz).
    pub weights: PathBuf,
    /// Time step, ms (not stored in PsychRNN files).
    #[arg(long)]
    pub dt: f32,
    /// Time constant, ms (not stored in PsychRNN files; an LSTM has no leak, so for an
    /// LSTM save it only scales the task's input noise).
    #[arg(long)]
    pub tau: f32,
    /// Transfer function (PsychRNN default: relu; not used by an LSTM save).
    #[arg(long, value_enum, default_value_t = TransferArg::Relu)]
    pub transfer: TransferArg,
    /// Recurrent noise σ (PsychRNN `rec_noise`; an LSTM has none).
    #[arg(long, default_value_t = 0.0)]
    pub rec_noise: f32,
    /// LSTM saves only: PsychRNN trains one initial hidden/cell state per batch row
    /// (`init_hidden`, `init_cell`: [N_batch, N_rec]); model.test starts trial b from row
    /// b, LSTMSimulator every trial from row 0. The imported model has one initial state:
    /// this row (default 0, so it runs like LSTMSimulator).
    #[arg(long, default_value_t = 0, value_name = "ROW")]
    pub init_row: usize,
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

/// `neuroloop import torch`.
#[derive(clap::Args, Debug)]
pub struct ImportTorchArgs {
    /// state_dict npz: `np.savez(f, **{k: v.numpy() for k, v in model.state_dict().items()})`,
    /// keys PREFIXweight_ih_l0, PREFIXweight_hh_l0, PREFIXbias_ih_l0, PREFIXbias_hh_l0, the
    /// readout's PREFIXweight, PREFIXbias, optionally h0 (and c0).
    pub weights: PathBuf,
    /// Time step the network was trained at, ms (a PyTorch RNN has no time step or leak).
    #[arg(long)]
    pub dt: f32,
    /// Time constant, ms: only scales the task's input noise (σ·√(2·dt/τ)).
    #[arg(long, default_value_t = 100.0)]
    pub tau: f32,
    /// Key prefix of the nn.Linear readout (`fc.` for `fc.weight`), needed only when
    /// several keys end in `weight`.
    #[arg(long, value_name = "PREFIX")]
    pub readout: Option<String>,
    /// Model name (default: the file stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Task the weights were trained on; recorded in the model.
    #[arg(long, value_name = "NAME")]
    pub task: Option<TaskArg>,
    /// Output native float model (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

impl From<ImportCommand> for ImportCmd {
    fn from(c: ImportCommand) -> Self {
        match c {
            ImportCommand::Psychrnn(a) => ImportCmd {
                weights: a.weights,
                format: ImportFormat::Psychrnn(ImportOptions {
                    dt: a.dt,
                    tau: a.tau,
                    transfer: a.transfer.into(),
                    rec_noise: a.rec_noise,
                    name: a.name,
                    task: a.task.map(TaskArg::name),
                    init_row: a.init_row,
                }),
                output: a.output,
                force: a.force,
            },
            ImportCommand::Torch(a) => ImportCmd {
                weights: a.weights,
                format: ImportFormat::Torch(TorchOptions {
                    dt: a.dt,
                    tau: a.tau,
                    name: a.name,
                    task: a.task.map(TaskArg::name),
                    readout: a.readout,
                }),
                output: a.output,
                force: a.force,
            },
        }
    }
}

/// `neuroloop export <format>`.
#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Native float model → PsychRNN 1.0.0 weights (.npz): a leaky model as a Basic save
    /// (loads in BasicSimulator), an lstm-psychrnn model as an LSTM save (loads in
    /// LSTMSimulator).
    Psychrnn(ExportArgs),
    /// Native gru or lstm model → PyTorch state_dict npz (nn.GRU/nn.LSTM + nn.Linear).
    Torch(ExportTorchArgs),
}

/// `neuroloop export psychrnn`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Native float model.
    pub model: PathBuf,
    /// Output weights (.npz).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `neuroloop export torch`.
#[derive(clap::Args, Debug)]
pub struct ExportTorchArgs {
    /// The model and output.
    #[command(flatten)]
    pub common: ExportArgs,
    /// Key prefix of the recurrent module (your module's attribute name and a dot).
    #[arg(long, default_value = "rnn.", value_name = "PREFIX")]
    pub rnn_prefix: String,
    /// Key prefix of the nn.Linear readout.
    #[arg(long, default_value = "fc.", value_name = "PREFIX")]
    pub readout_prefix: String,
}

impl From<ExportCommand> for ExportCmd {
    fn from(c: ExportCommand) -> Self {
        let (a, format) = match c {
            ExportCommand::Psychrnn(a) => (a, ExportFormat::Psychrnn),
            ExportCommand::Torch(t) => (
                t.common,
                ExportFormat::Torch(ExportPrefixes {
                    rnn: t.rnn_prefix,
                    readout: t.readout_prefix,
                }),
            ),
        };
        ExportCmd {
            model: a.model,
            format,
            output: a.output,
            force: a.force,
        }
    }
}
