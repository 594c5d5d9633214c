//! `neuroloop run` flags → [`RunCmd`].

use super::values::TransferArg;
use crate::commands::run::RunCmd;
use std::path::PathBuf;

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
    #[arg(long, value_enum, default_value_t = TransferArg::Relu)]
    pub transfer: TransferArg,
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

impl From<RunArgs> for RunCmd {
    fn from(a: RunArgs) -> Self {
        RunCmd {
            model: a.model,
            inputs: a.inputs,
            output: a.output,
            dt: a.dt,
            tau: a.tau,
            transfer: a.transfer.into(),
            rec_noise: a.rec_noise,
            noise_seed: a.noise_seed,
            json: a.json,
        }
    }
}
