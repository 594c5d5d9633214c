//! The `.nlb` model blob, format version 1: field table, encoder, validating decoder.
//!
//! A blob is what the quantizer writes, the firmware stores in its model slot and
//! [`Model::from_bytes`](crate::Model::from_bytes) borrows zero-copy. The wire layout:
//!
//! | offset | field | encoding |
//! |---|---|---|
//! | 0 | magic `NLRN` | 4 raw bytes |
//! | 4 | format version (= [`VERSION`]) | `u16` little-endian |
//! | 6 | body ([`Body`]) | postcard (varint integers, length-prefixed bytes/strings) |
//! | len − 4 | CRC-32 (ISO-HDLC, as zlib) of bytes `0 .. len − 4` | `u32` little-endian |
//!
//! Body fields, in order:
//!
//! | field | type | meaning / valid range |
//! |---|---|---|
//! | `meta.name` | str ≤ 64 B | model name |
//! | `meta.task` | str ≤ 64 B | task it was trained on |
//! | `meta.dt` | f32 | time step in ms (information only) |
//! | `meta.tau` | f32 | time constant in ms (information only; α below is what runs) |
//! | `meta.summary` | str ≤ 256 B | free-form training/quantization summary |
//! | `topology.cell` | u8 | 0 leaky rate RNN, 1 GRU, 2 LSTM ([`CellKind`]) |
//! | `topology.transfer` | u8 | 0 relu, 1 tanh, 2 sigmoid, 3 identity (GRU: tanh; LSTM: tanh, or sigmoid for PsychRNN's `h = o·σ(c)`) |
//! | `topology.n_in`, `n_rec`, `n_out` | u16 | 1 ..= [`MAX_IN`], [`MAX_REC`], [`MAX_OUT`] |
//! | `quant.state_frac` (`fx`) | u8 ≤ 15 | fractional bits of the `i16` state |
//! | `quant.input_frac` (`fu`) | u8 ≤ 15 | fractional bits of the `i16` inputs |
//! | `quant.output_frac` (`fy`) | u8 ≤ 15 | fractional bits of the `i16` outputs |
//! | `quant.alpha_q15` | u16, 1 ..= 32768 | α = dt/τ in Q15 |
//! | `quant.noise_mul` | u32 | recurrent noise: per step `x += (g·noise_mul + 2^15) >> 16` at `fx + G` bits, `g` from [`crate::rng`]; 0 = no noise |
//! | `quant.seed` | u32 | noise PRNG seed, applied on every reset |
//! | `tensors.w_in` | [`Tensor`] | `i8`/`i16`, K·n_rec × n_in, one frac per row |
//! | `tensors.w_rec` | [`Tensor`] | `i8`/`i16`, K·n_rec × n_rec, one frac per row |
//! | `tensors.w_out` | [`Tensor`] | `i8`/`i16`, n_out × n_rec, one frac per row |
//! | `tensors.b_rec` | [`Tensor`] | `i32`, B·n_rec × 1, at `fx + G` fractional bits (gated: `GATE_FRAC + G`), no frac list |
//! | `tensors.b_out` | [`Tensor`] | `i32`, n_out × 1, at `fy + G` fractional bits, no frac list |
//! | `tensors.init_state` | [`Tensor`] | `i16`, S·n_rec × 1, at `fx` fractional bits (LSTM: `h₀` in Q15 then `c₀` at `fx`), no frac list |
//!
//! K (gate row blocks), B (bias row blocks) and S (state row blocks) depend on the cell
//! ([`CellKind::gates`], [`CellKind::bias_rows`], [`CellKind::init_rows`]): leaky 1, 1, 1;
//! GRU 3 (`r, z, n`), 4 (`b_r, b_z, b_in, b_hn`), 1; LSTM 4 (`i, f, g, o`), 4, 2. Gated
//! cells also require `alpha_q15` = 32768 and `noise_mul` = 0 (no leak, no noise) and the
//! GRU `state_frac` = 15 (its state is `h` in Q15); their arithmetic is in
//! [`crate::cell::gru`] and [`crate::cell::lstm`].
//!
//! A [`Tensor`] is `dtype: u8` (1 `i8`, 2 `i16`, 3 `i32`), `rows: u16`, `cols: u16`,
//! `frac: bytes` (per-row fractional bits of a weight matrix, each ≤ [`MAX_WEIGHT_FRAC`]),
//! `data: bytes` (row-major, little-endian, `rows · cols · size` bytes). `G` =
//! [`GUARD_BITS`] = 8 extra bits kept through the update for rounding.
//!
//! **Compatibility rule:** any change to this table bumps [`VERSION`]; a decoder accepts
//! exactly the versions it lists and refuses others with
//! [`Error::UnsupportedVersion`]. Readers never guess.
//!
//! ```
//! use neuroloop_core::blob::{self, Body};
//! # let bytes = neuroloop_core::blob::tests_support::tiny_blob();
//! let model = neuroloop_core::Model::from_bytes(&bytes).unwrap();
//! assert_eq!(model.n_rec(), 2);
//! let mut corrupt = bytes.clone();
//! let last = corrupt.len() - 1;
//! corrupt[last] ^= 1;
//! assert!(matches!(neuroloop_core::Model::from_bytes(&corrupt), Err(blob::Error::BadCrc { .. })));
//! # let _ = core::mem::size_of::<Body>();
//! ```

mod decode;
mod encode;
mod error;

pub use decode::{decode, validate};
pub use encode::{encode, encode_aligned, max_encoded_len, W_REC_ALIGN};
#[cfg(feature = "std")]
pub use encode::{encode_to_vec, encode_to_vec_aligned};
pub use error::{Dim, Error, TensorId};

use serde::{Deserialize, Serialize};

/// The four magic bytes every blob starts with.
pub const MAGIC: [u8; 4] = *b"NLRN";
/// The format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Bytes before the body: magic + version.
pub const HEADER_LEN: usize = 6;
/// Bytes after the body: the CRC-32.
pub const CRC_LEN: usize = 4;
/// Largest input count.
pub const MAX_IN: usize = 256;
/// Largest recurrent unit count.
pub const MAX_REC: usize = 1024;
/// Largest output count.
pub const MAX_OUT: usize = 256;
/// Largest per-row weight fractional bit count.
pub const MAX_WEIGHT_FRAC: u8 = 30;
/// Largest `fx`, `fu`, `fy`.
pub const MAX_FRAC: u8 = 15;
/// Extra fractional bits kept for biases and through the state update.
pub const GUARD_BITS: u8 = 8;
/// Longest `meta.name` / `meta.task`.
pub const MAX_NAME_LEN: usize = 64;
/// Longest `meta.summary`.
pub const MAX_SUMMARY_LEN: usize = 256;

/// The CRC used by blobs (CRC-32/ISO-HDLC, the zlib/PNG one).
pub const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Recurrent cell kind (`topology.cell`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum CellKind {
    /// Leaky rate RNN (PsychRNN `Basic`).
    Leaky = 0,
    /// Gated recurrent unit, PyTorch equations ([`crate::cell::gru`]).
    Gru = 1,
    /// Long short-term memory ([`crate::cell::lstm`]).
    Lstm = 2,
}

impl CellKind {
    /// The cell for a blob byte, if it names one.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(CellKind::Leaky),
            1 => Some(CellKind::Gru),
            2 => Some(CellKind::Lstm),
            _ => None,
        }
    }

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            CellKind::Leaky => "leaky",
            CellKind::Gru => "gru",
            CellKind::Lstm => "lstm",
        }
    }

    /// Gate row blocks of `w_in` and `w_rec` (each `n_rec` rows): 1, 3 (`r, z, n`),
    /// 4 (`i, f, g, o`).
    pub const fn gates(self) -> usize {
        match self {
            CellKind::Leaky => 1,
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }

    /// Row blocks of `b_rec`: the gates' biases, plus the GRU's `b_hn`.
    pub const fn bias_rows(self) -> usize {
        match self {
            CellKind::Leaky => 1,
            CellKind::Gru | CellKind::Lstm => 4,
        }
    }

    /// Row blocks of `init_state`: 2 for the LSTM (`h₀` then `c₀`), else 1.
    pub const fn init_rows(self) -> usize {
        match self {
            CellKind::Lstm => 2,
            _ => 1,
        }
    }
}

/// Element type of a [`Tensor`] (`dtype` byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum DType {
    /// `i8`, one byte.
    I8 = 1,
    /// `i16`, two bytes little-endian.
    I16 = 2,
    /// `i32`, four bytes little-endian.
    I32 = 3,
}

impl DType {
    /// The dtype for a blob byte, if it names one.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(DType::I8),
            2 => Some(DType::I16),
            3 => Some(DType::I32),
            _ => None,
        }
    }

    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 => 2,
            DType::I32 => 4,
        }
    }

    /// Lower-case name (`i8`, `i16`, `i32`).
    pub const fn name(self) -> &'static str {
        match self {
            DType::I8 => "i8",
            DType::I16 => "i16",
            DType::I32 => "i32",
        }
    }
}

/// The closed-set fields of a [`Body`] as the enums [`validate`] proved them to be, so
/// readers never re-decode (or default) a raw byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Kinds {
    /// `topology.cell`.
    pub cell: CellKind,
    /// `topology.transfer`.
    pub transfer: crate::Transfer,
    /// `tensors.w_in.dtype` ([`DType::I8`] or [`DType::I16`]).
    pub w_in: DType,
    /// `tensors.w_rec.dtype`.
    pub w_rec: DType,
    /// `tensors.w_out.dtype`.
    pub w_out: DType,
}

/// The postcard-encoded part of a blob, borrowing strings and tensor bytes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Body<'a> {
    /// Descriptive metadata.
    #[serde(borrow)]
    pub meta: Meta<'a>,
    /// Cell kind, transfer function and sizes.
    pub topology: Topology,
    /// Fixed-point formats and noise.
    pub quant: QuantParams,
    /// The parameters.
    #[serde(borrow)]
    pub tensors: Tensors<'a>,
}

/// Descriptive metadata (not used by the arithmetic).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Meta<'a> {
    /// Model name (≤ [`MAX_NAME_LEN`] bytes).
    pub name: &'a str,
    /// Task name (≤ [`MAX_NAME_LEN`] bytes).
    pub task: &'a str,
    /// Time step, ms.
    pub dt: f32,
    /// Time constant, ms.
    pub tau: f32,
    /// Training/quantization summary (≤ [`MAX_SUMMARY_LEN`] bytes).
    pub summary: &'a str,
}

/// Cell kind, transfer function and sizes (raw bytes; validated on decode).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topology {
    /// [`CellKind`] byte.
    pub cell: u8,
    /// [`Transfer`](crate::Transfer) byte.
    pub transfer: u8,
    /// Number of inputs.
    pub n_in: u16,
    /// Number of recurrent units.
    pub n_rec: u16,
    /// Number of outputs.
    pub n_out: u16,
}

/// Fixed-point formats and noise parameters.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantParams {
    /// Fractional bits of the state (`fx`).
    pub state_frac: u8,
    /// Fractional bits of the inputs (`fu`).
    pub input_frac: u8,
    /// Fractional bits of the outputs (`fy`).
    pub output_frac: u8,
    /// α = dt/τ in Q15 (1 ..= 32768).
    pub alpha_q15: u16,
    /// Noise multiplier; 0 disables recurrent noise.
    pub noise_mul: u32,
    /// Noise PRNG seed.
    pub seed: u32,
}

/// The six parameter tensors (shapes per cell kind: see the [module](self) table).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Tensors<'a> {
    /// Input weights, K·n_rec × n_in.
    #[serde(borrow)]
    pub w_in: Tensor<'a>,
    /// Recurrent weights, K·n_rec × n_rec.
    #[serde(borrow)]
    pub w_rec: Tensor<'a>,
    /// Output weights, n_out × n_rec.
    #[serde(borrow)]
    pub w_out: Tensor<'a>,
    /// Recurrent bias, B·n_rec, `i32` at `fx + G` (gated cells: `GATE_FRAC + G`).
    #[serde(borrow)]
    pub b_rec: Tensor<'a>,
    /// Output bias, n_out, `i32` at `fy + G`.
    #[serde(borrow)]
    pub b_out: Tensor<'a>,
    /// Initial state, S·n_rec, `i16` at `fx` (LSTM: `h₀` in Q15, then `c₀` at `fx`).
    #[serde(borrow)]
    pub init_state: Tensor<'a>,
}

/// One tensor: raw dtype byte, shape, per-row fractional bits and little-endian data.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tensor<'a> {
    /// [`DType`] byte.
    pub dtype: u8,
    /// Rows.
    pub rows: u16,
    /// Columns.
    pub cols: u16,
    /// Per-row fractional bits (weight matrices) or empty (vectors).
    #[serde(borrow)]
    pub frac: &'a [u8],
    /// Row-major little-endian elements.
    #[serde(borrow)]
    pub data: &'a [u8],
}

impl<'a> Tensors<'a> {
    /// `(id, tensor)` pairs in blob order.
    pub fn iter(&self) -> [(TensorId, &Tensor<'a>); 6] {
        [
            (TensorId::WIn, &self.w_in),
            (TensorId::WRec, &self.w_rec),
            (TensorId::WOut, &self.w_out),
            (TensorId::BRec, &self.b_rec),
            (TensorId::BOut, &self.b_out),
            (TensorId::InitState, &self.init_state),
        ]
    }
}

#[cfg(feature = "std")]
#[doc(hidden)]
pub mod tests_support {
    //! A tiny valid blob for doctests.
    use super::*;
    use std::vec::Vec;

    /// A 1-input, 2-unit, 1-output relu blob.
    pub fn tiny_blob() -> Vec<u8> {
        let w_in = [10u8, 20];
        let w_rec = [1u8, 2, 3, 4];
        let w_out = [5u8, 6];
        let b_rec = [0u8; 8];
        let b_out = [0u8; 4];
        let init = [0u8; 4];
        let m = [6u8, 6];
        let body = Body {
            meta: Meta {
                name: "tiny",
                task: "none",
                dt: 10.0,
                tau: 100.0,
                summary: "",
            },
            topology: Topology {
                cell: 0,
                transfer: 0,
                n_in: 1,
                n_rec: 2,
                n_out: 1,
            },
            quant: QuantParams {
                state_frac: 12,
                input_frac: 12,
                output_frac: 12,
                alpha_q15: 3277,
                noise_mul: 0,
                seed: 1,
            },
            tensors: Tensors {
                w_in: Tensor {
                    dtype: 1,
                    rows: 2,
                    cols: 1,
                    frac: &m,
                    data: &w_in,
                },
                w_rec: Tensor {
                    dtype: 1,
                    rows: 2,
                    cols: 2,
                    frac: &m,
                    data: &w_rec,
                },
                w_out: Tensor {
                    dtype: 1,
                    rows: 1,
                    cols: 2,
                    frac: &m[..1],
                    data: &w_out,
                },
                b_rec: Tensor {
                    dtype: 3,
                    rows: 2,
                    cols: 1,
                    frac: &[],
                    data: &b_rec,
                },
                b_out: Tensor {
                    dtype: 3,
                    rows: 1,
                    cols: 1,
                    frac: &[],
                    data: &b_out,
                },
                init_state: Tensor {
                    dtype: 2,
                    rows: 2,
                    cols: 1,
                    frac: &[],
                    data: &init,
                },
            },
        };
        encode_to_vec(&body).unwrap()
    }
}
