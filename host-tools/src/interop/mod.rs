//! Interoperability with the Python world: NumPy `.npy`/`.npz` files and PsychRNN 1.0.0
//! weight files.
//!
//! - [`npy`]: one array (f4/f8/i4/i8, object arrays as raw pickle bytes);
//! - [`npz`]: a zip of `.npy` members (`np.savez`, `np.savez_compressed`);
//! - [`pickle`]: reads the one pickle PsychRNN writes (`dale_ratio = None`) without executing it;
//! - [`psychrnn`]: PsychRNN weights ⇄ [`FloatModel`](crate::model::FloatModel).
//!
//! The commands `neuroloop import psychrnn` and `neuroloop export psychrnn` are in
//! `crate::commands`.

pub mod npy;
pub mod npz;
pub mod pickle;
pub mod psychrnn;
