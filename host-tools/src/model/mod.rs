//! The float model: a leaky rate RNN (PsychRNN `Basic`) with its biological constraints,
//! or a GRU / LSTM ([`cell`]).
//!
//! Parameters are stored **raw** (as trained); [`FloatModel::effective`] applies the
//! connectivity masks, `autapses = false` and Dale's law exactly as PsychRNN 1.0.0 does:
//!
//! ```text
//! W_in_eff  = |W_in ⊙ M_in|            (abs only with Dale)
//! W_rec_eff = |W_rec ⊙ M_rec| · D_rec  (D_rec = diag(+1 for the first ⌊dale_ratio·N⌋ units, −1 after))
//! W_out_eff = |W_out ⊙ M_out| · D_out  (D_out = diag(+1 excitatory, 0 inhibitory))
//! ```
//!
//! (PsychRNN 1.0.0's documentation says `D_out` is 1/0 as above, but its code builds it
//! from `Dale_rec`, ±1; `neuroloop import psychrnn` reads the saved effective matrices, so
//! either way imported weights are exact, see `interop::psychrnn`.)
//!
//! Without Dale the effective matrices are just `W ⊙ M`. `autapses = false` zeroes the
//! diagonal of `M_rec`. The file format is in [`file`]; the float reference run in
//! [`forward`]; PsychRNN's initialisers in [`init`].

pub mod cell;
pub mod error;
pub mod file;
pub mod float;
pub mod forward;
pub mod init;

pub use cell::Cell;
pub use error::{FileKind, ModelError};
pub use file::{detect_kind, load};
pub use float::{Constraints, FloatModel, FORMAT, FORMAT_VERSION};
pub use forward::{Effective, Trace};
pub use neuroloop_core::Transfer;
