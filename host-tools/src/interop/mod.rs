//! Interoperability with the Python world: NumPy `.npy`/`.npz` files, PsychRNN 1.0.0
//! weight files (Basic and LSTM) and PyTorch `state_dict`s of `nn.GRU`/`nn.LSTM` + `nn.Linear`.
//!
//! - [`npy`]: one array (f4/f8/i4/i8, object arrays as raw pickle bytes);
//! - [`npz`]: a zip of `.npy` members (`np.savez`, `np.savez_compressed`);
//! - [`pickle`]: reads the one pickle PsychRNN writes (`dale_ratio = None`) without executing it;
//! - [`arrays`]: what the importers share (options, the error type, typed array reading);
//! - [`psychrnn`]: PsychRNN weights ⇄ [`FloatModel`](crate::model::FloatModel) (Basic ⇄
//!   leaky cell; an LSTM save, recognised by its keys, goes to [`psychrnn_lstm`]);
//! - [`psychrnn_lstm`]: PsychRNN `LSTM` saves ⇄ the `lstm-psychrnn` cell;
//! - [`torch`]: PyTorch `nn.GRU`/`nn.LSTM` + `nn.Linear` `state_dict` npz ⇄ the `gru` and
//!   `lstm` cells.
//!
//! The commands `neuroloop import psychrnn|torch` and `neuroloop export psychrnn|torch` are
//! in `crate::commands`.

pub mod arrays;
pub mod npy;
pub mod npz;
pub mod pickle;
pub mod psychrnn;
pub mod psychrnn_lstm;
pub mod torch;
