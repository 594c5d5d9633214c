//! [`Error`]: every way a blob can be refused, each naming the offending value.

use super::CellKind;

/// Which dimension an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Dim {
    /// `n_in`.
    NIn,
    /// `n_rec`.
    NRec,
    /// `n_out`.
    NOut,
}

impl Dim {
    /// Field name.
    pub const fn name(self) -> &'static str {
        match self {
            Dim::NIn => "n_in",
            Dim::NRec => "n_rec",
            Dim::NOut => "n_out",
        }
    }
}

/// Which tensor an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TensorId {
    /// `W_in`.
    WIn,
    /// `W_rec`.
    WRec,
    /// `W_out`.
    WOut,
    /// `b_rec`.
    BRec,
    /// `b_out`.
    BOut,
    /// `init_state`.
    InitState,
}

impl TensorId {
    /// Tensor name as in PsychRNN (`W_in`, `W_rec`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            TensorId::WIn => "W_in",
            TensorId::WRec => "W_rec",
            TensorId::WOut => "W_out",
            TensorId::BRec => "b_rec",
            TensorId::BOut => "b_out",
            TensorId::InitState => "init_state",
        }
    }
}

/// A blob was refused (decoding) or could not be written (encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The blob ends before a complete header/body/CRC: `need` bytes at least, `have` given.
    Truncated {
        /// Bytes needed at least.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The first four bytes are not `NLRN`.
    BadMagic {
        /// The bytes found.
        found: [u8; 4],
    },
    /// The format version is not one this build reads.
    UnsupportedVersion {
        /// Version in the blob.
        found: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// The stored CRC-32 does not match the bytes.
    BadCrc {
        /// CRC stored in the blob.
        stored: u32,
        /// CRC computed over the bytes.
        computed: u32,
    },
    /// The body is not valid postcard for format v1 (with a correct CRC: a writer bug).
    Malformed {
        /// What postcard reported.
        what: &'static str,
    },
    /// Bytes left between the body and the CRC.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A metadata string is longer than allowed.
    MetadataTooLong {
        /// Field name.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// `topology.cell` names no cell kind.
    UnknownCell {
        /// The byte found.
        found: u8,
    },
    /// The transfer byte is not one this cell kind allows (GRU: tanh; LSTM: tanh or
    /// sigmoid).
    CellTransfer {
        /// The cell.
        cell: CellKind,
        /// The transfer byte found.
        found: u8,
    },
    /// A quantization field has a value the cell kind does not allow (gated cells:
    /// `quant.alpha_q15` = 32768, `quant.noise_mul` = 0; GRU: `quant.state_frac` = 15).
    CellField {
        /// The cell.
        cell: CellKind,
        /// Field name.
        field: &'static str,
        /// Its value.
        found: u32,
        /// The value this cell requires.
        expected: u32,
    },
    /// `topology.transfer` names no transfer function.
    UnknownTransfer {
        /// The byte found.
        found: u8,
    },
    /// A dimension is zero.
    DimensionZero {
        /// Which one.
        dim: Dim,
    },
    /// A dimension is above its limit.
    DimensionTooLarge {
        /// Which one.
        dim: Dim,
        /// Its value.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// A fixed-point format field is out of range.
    FracOutOfRange {
        /// Field name.
        field: &'static str,
        /// Its value.
        found: u8,
        /// The largest allowed.
        max: u8,
    },
    /// α (`alpha_q15`) is 0 or above 32768 (α > 1).
    AlphaOutOfRange {
        /// Its value.
        found: u16,
    },
    /// A tensor has a dtype not allowed in its slot.
    BadDtype {
        /// Which tensor.
        tensor: TensorId,
        /// The dtype byte found.
        found: u8,
    },
    /// A tensor's shape disagrees with the topology.
    ShapeMismatch {
        /// Which tensor.
        tensor: TensorId,
        /// Expected `(rows, cols)`.
        expected: (usize, usize),
        /// Found `(rows, cols)`.
        found: (usize, usize),
    },
    /// A tensor's data length disagrees with its shape and dtype.
    TensorLength {
        /// Which tensor.
        tensor: TensorId,
        /// Expected bytes.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// A tensor's per-row scale list has the wrong length.
    ScaleCount {
        /// Which tensor.
        tensor: TensorId,
        /// Expected entries.
        expected: usize,
        /// Entries present.
        found: usize,
    },
    /// A per-row weight scale (fractional bits) is out of range.
    ShiftOutOfRange {
        /// Which tensor.
        tensor: TensorId,
        /// Which row.
        row: usize,
        /// Its value.
        found: u8,
        /// The largest allowed.
        max: u8,
    },
    /// Encoding: the output buffer is too small.
    BufferTooSmall {
        /// Bytes available.
        have: usize,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use Error::*;
        match *self {
            Truncated { need, have } => {
                write!(f, "blob truncated: need at least {need} bytes, have {have}")
            }
            BadMagic { found } => write!(
                f,
                "bad magic {found:02x?}: not a neuroloop blob (expected \"NLRN\")"
            ),
            UnsupportedVersion { found, supported } => write!(
                f,
                "unsupported blob format version {found} (this build reads version {supported})"
            ),
            BadCrc { stored, computed } => write!(
                f,
                "CRC mismatch: stored {stored:#010x}, computed {computed:#010x} (blob corrupted)"
            ),
            Malformed { what } => write!(f, "malformed blob body: {what}"),
            TrailingBytes { count } => write!(f, "{count} unexpected bytes after the blob body"),
            MetadataTooLong { field, len, max } => {
                write!(f, "metadata field {field} is {len} bytes long (max {max})")
            }
            UnknownCell { found } => {
                write!(f, "unknown cell kind {found} (0 leaky, 1 gru, 2 lstm)")
            }
            CellTransfer { cell, found } => write!(
                f,
                "transfer byte {found} is not allowed for the {} cell (gru: 1 tanh; lstm: 1 tanh or 2 sigmoid)",
                cell.name()
            ),
            CellField {
                cell,
                field,
                found,
                expected,
            } => write!(
                f,
                "{field} = {found}, the {} cell requires {expected}",
                cell.name()
            ),
            UnknownTransfer { found } => write!(
                f,
                "unknown transfer function {found} (0 relu, 1 tanh, 2 sigmoid, 3 identity)"
            ),
            DimensionZero { dim } => write!(f, "dimension {} is zero", dim.name()),
            DimensionTooLarge { dim, found, max } => {
                write!(
                    f,
                    "dimension {} = {found} is above the limit {max}",
                    dim.name()
                )
            }
            FracOutOfRange { field, found, max } => {
                write!(
                    f,
                    "{field} = {found} fractional bits is out of range (max {max})"
                )
            }
            AlphaOutOfRange { found } => {
                write!(
                    f,
                    "alpha_q15 = {found} is out of range (1..=32768, i.e. 0 < dt/tau <= 1)"
                )
            }
            BadDtype { tensor, found } => {
                write!(
                    f,
                    "tensor {} has dtype byte {found}, not allowed there",
                    tensor.name()
                )
            }
            ShapeMismatch {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {} has shape {}x{}, expected {}x{}",
                tensor.name(),
                found.0,
                found.1,
                expected.0,
                expected.1
            ),
            TensorLength {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {} holds {found} bytes, its shape and dtype need {expected}",
                tensor.name()
            ),
            ScaleCount {
                tensor,
                expected,
                found,
            } => write!(
                f,
                "tensor {} has {found} row scales, expected {expected}",
                tensor.name()
            ),
            ShiftOutOfRange {
                tensor,
                row,
                found,
                max,
            } => write!(
                f,
                "tensor {} row {row} has {found} fractional bits (max {max})",
                tensor.name()
            ),
            BufferTooSmall { have } => {
                write!(f, "output buffer of {have} bytes is too small for the blob")
            }
        }
    }
}

impl core::error::Error for Error {}
