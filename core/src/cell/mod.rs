//! Recurrent cells in fixed point, one file per cell: [`leaky`] (PsychRNN's `Basic`),
//! [`gru`] and [`lstm`]; what the two gated cells share (gate sums) is in [`gate`].

pub mod gate;
pub mod gru;
pub mod leaky;
pub mod lstm;

pub use gate::GATE_FRAC;
