//! `neuroloop run` flags → [`RunCmd`].

use super::values::{NoiseArg, TransferArg};
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
    /// Transfer function (PsychRNN .npz models only; default relu).
    #[arg(long, value_enum)]
    pub transfer: Option<TransferArg>,
    /// Recurrent noise σ (PsychRNN .npz models only; default 0).
    #[arg(long)]
    pub rec_noise: Option<f32>,
    /// Recurrent noise on or off (default off; a blob uses its own noise and seed).
    #[arg(long, value_enum)]
    pub noise: Option<NoiseArg>,
    /// Seed of the recurrent noise of a float model (implies --noise on; default 0).
    #[arg(long)]
    pub noise_seed: Option<u64>,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
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
            transfer: a.transfer.map(Into::into),
            rec_noise: a.rec_noise,
            noise: a.noise.map(Into::into),
            noise_seed: a.noise_seed,
            force: a.force,
            json: a.json,
        }
    }
}
