//! [`Model`]: a validated, immutable view of a blob, borrowing its bytes.
//!
//! Decoding runs once ([`Model::from_bytes`]: header, CRC, every field); afterwards the
//! accessors cannot fail and `step` does no checks beyond the input length.
//!
//! ```
//! # let bytes = neuroloop_core::blob::tests_support::tiny_blob();
//! use neuroloop_core::Model;
//! let m = Model::from_bytes(&bytes).unwrap();
//! assert_eq!((m.n_in(), m.n_rec(), m.n_out()), (1, 2, 1));
//! assert_eq!(m.state_len(), 2 * 2 + 1);
//! ```

use crate::blob::{self, Body, DType, Error, Kinds, Tensor};
use crate::fixed::dequantize;
use crate::kernel::{
    dot_rows_s16_s16_s64, dot_rows_s16_s16_s64_acts, dot_rows_s8_s16_s64, dot_rows_s8_s16_s64_acts,
    dot_s16_s16_s64, dot_s8_s16_s64, Acts,
};
use crate::{CellKind, Transfer};

/// A validated model borrowing the blob bytes.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    body: Body<'a>,
    crc: u32,
    len: usize,
    kinds: Kinds,
    /// Smallest per-row fractional bits of `w_in` and `w_rec`, found once at load (the
    /// precondition of the leaky cell's `i32` row update, see [`crate::cell::leaky`]).
    min_frac: (u8, u8),
    /// Largest per-row fractional bits of `w_in` and `w_rec`, likewise.
    max_frac: (u8, u8),
}

/// A weight matrix with per-row scales, borrowed from the blob.
#[derive(Clone, Copy, Debug)]
pub struct Weights<'a> {
    dtype: DType,
    cols: usize,
    frac: &'a [u8],
    data: &'a [u8],
}

impl<'a> Weights<'a> {
    /// `t` with the dtype validation found (i8 or i16).
    fn new(t: &Tensor<'a>, dtype: DType) -> Self {
        Weights {
            dtype,
            cols: t.cols as usize,
            frac: t.frac,
            data: t.data,
        }
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Fractional bits of row `row` (0 if out of range; debug builds assert the range).
    #[inline]
    pub fn row_frac(&self, row: usize) -> u8 {
        debug_assert!(row < self.frac.len(), "row {row} of {}", self.frac.len());
        self.frac.get(row).copied().unwrap_or(0)
    }

    /// Fractional bits of every row, in row order.
    #[inline]
    pub fn fracs(&self) -> &'a [u8] {
        self.frac
    }

    /// `Σ_k W[row, k]·x[k]` with the row's own scale (fractional bits `row_frac + x_frac`).
    ///
    /// `x` must have one value per column and `row` be in range (debug builds assert it;
    /// release builds compute a partial or empty sum, never a panic). This is where the
    /// length contract is checked: the kernels themselves are specified (and self-tested
    /// on the device) to ignore the longer side's extra elements.
    #[inline]
    pub fn dot_row(&self, row: usize, x: &[i16]) -> i64 {
        debug_assert_eq!(x.len(), self.cols, "dot_row: one value per column");
        debug_assert!(
            row < self.frac.len(),
            "dot_row: row {row} of {}",
            self.frac.len()
        );
        let size = self.dtype.size();
        let start = row * self.cols * size;
        let bytes = self
            .data
            .get(start..start + self.cols * size)
            .unwrap_or(&[]);
        match self.dtype {
            DType::I16 => dot_s16_s16_s64(bytes, x),
            _ => dot_s8_s16_s64(bytes, x),
        }
    }

    /// `out[j] = Σ_k W[first + j, k]·x[k]` for `out.len()` consecutive rows from `first`:
    /// the multi-row kernels ([`dot_rows_s16_s16_s64`], [`dot_rows_s8_s16_s64`]), each
    /// activation loaded once for a group of rows. Same values as [`Weights::dot_row`] row
    /// by row.
    ///
    /// `x` must have one value per column and the rows be in range (debug builds assert
    /// it; release builds compute partial or empty sums, never a panic).
    #[inline]
    pub fn dot_rows(&self, first: usize, x: &[i16], out: &mut [i64]) {
        let bytes = self.rows_from(first, out.len(), x.len());
        match self.dtype {
            DType::I16 => dot_rows_s16_s16_s64(bytes, self.cols, x, out),
            _ => dot_rows_s8_s16_s64(bytes, self.cols, x, out),
        }
    }

    /// [`Weights::dot_rows`] against activations prepared once for many calls
    /// ([`crate::kernel::with_acts`]: on the DSP path the `i8` permutation that lets 4-aligned
    /// rows take the `LDM` kernels): the same values.
    #[inline]
    pub fn dot_rows_acts(&self, first: usize, acts: &Acts<'_>, out: &mut [i64]) {
        let bytes = self.rows_from(first, out.len(), acts.x().len());
        match self.dtype {
            DType::I16 => dot_rows_s16_s16_s64_acts(bytes, self.cols, acts, out),
            _ => dot_rows_s8_s16_s64_acts(bytes, self.cols, acts, out),
        }
    }

    /// The weight bytes from row `first` on (empty past the end), for the multi-row dot
    /// products of `rows` rows against `cols` values: debug builds assert one value per
    /// column and the rows in range.
    #[inline(always)]
    fn rows_from(&self, first: usize, rows: usize, cols: usize) -> &'a [u8] {
        debug_assert_eq!(cols, self.cols, "dot_rows: one value per column");
        debug_assert!(
            first + rows <= self.frac.len(),
            "dot_rows: rows {first}..{} of {}",
            first + rows,
            self.frac.len()
        );
        let size = self.dtype.size();
        self.data.get(first * self.cols * size..).unwrap_or(&[])
    }

    /// Element `(row, col)` as an integer (0 if out of range).
    pub fn get(&self, row: usize, col: usize) -> i32 {
        let size = self.dtype.size();
        let at = (row * self.cols + col) * size;
        match (self.dtype, self.data.get(at..at + size)) {
            (DType::I16, Some(b)) => i16::from_le_bytes([b[0], b[1]]) as i32,
            (_, Some(b)) => b[0] as i8 as i32,
            _ => 0,
        }
    }
}

fn read_i32(data: &[u8], i: usize) -> i32 {
    match data.get(4 * i..4 * i + 4) {
        Some(b) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

fn read_i16(data: &[u8], i: usize) -> i16 {
    match data.get(2 * i..2 * i + 2) {
        Some(b) => i16::from_le_bytes([b[0], b[1]]),
        None => 0,
    }
}

impl<'a> Model<'a> {
    /// Decode and validate a blob (see [`crate::blob`]); borrows `bytes`.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        let (body, crc, kinds) = blob::decode(bytes)?;
        let min = |t: &Tensor<'_>| t.frac.iter().copied().min().unwrap_or(0);
        let max = |t: &Tensor<'_>| t.frac.iter().copied().max().unwrap_or(0);
        let min_frac = (min(&body.tensors.w_in), min(&body.tensors.w_rec));
        let max_frac = (max(&body.tensors.w_in), max(&body.tensors.w_rec));
        Ok(Model {
            body,
            crc,
            len: bytes.len(),
            kinds,
            min_frac,
            max_frac,
        })
    }

    /// The decoded body (raw fields; [`Model::kinds`] has the closed-set ones as enums).
    pub fn body(&self) -> &Body<'a> {
        &self.body
    }
    /// CRC-32 of the blob.
    pub fn crc(&self) -> u32 {
        self.crc
    }
    /// Blob length in bytes.
    pub fn blob_len(&self) -> usize {
        self.len
    }
    /// Model name.
    pub fn name(&self) -> &'a str {
        self.body.meta.name
    }
    /// Task name.
    pub fn task(&self) -> &'a str {
        self.body.meta.task
    }
    /// The validated enums of the blob's closed-set fields.
    pub fn kinds(&self) -> Kinds {
        self.kinds
    }
    /// Cell kind.
    pub fn cell(&self) -> CellKind {
        self.kinds.cell
    }
    /// Transfer function.
    pub fn transfer(&self) -> Transfer {
        self.kinds.transfer
    }
    /// Number of inputs.
    pub fn n_in(&self) -> usize {
        self.body.topology.n_in as usize
    }
    /// Number of recurrent units.
    pub fn n_rec(&self) -> usize {
        self.body.topology.n_rec as usize
    }
    /// Number of outputs.
    pub fn n_out(&self) -> usize {
        self.body.topology.n_out as usize
    }
    /// Fractional bits of the state.
    pub fn state_frac(&self) -> u8 {
        self.body.quant.state_frac
    }
    /// Fractional bits of the rates (depends on the transfer function).
    pub fn rate_frac(&self) -> u8 {
        self.kinds.transfer.rate_frac(self.state_frac())
    }
    /// Fractional bits of the inputs.
    pub fn input_frac(&self) -> u8 {
        self.body.quant.input_frac
    }
    /// Fractional bits of the outputs.
    pub fn output_frac(&self) -> u8 {
        self.body.quant.output_frac
    }
    /// α in Q15.
    pub fn alpha_q15(&self) -> u16 {
        self.body.quant.alpha_q15
    }
    /// Noise multiplier (0 = deterministic).
    pub fn noise_mul(&self) -> u32 {
        self.body.quant.noise_mul
    }
    /// Noise seed.
    pub fn seed(&self) -> u32 {
        self.body.quant.seed
    }
    /// Smallest per-row fractional bits of `(w_in, w_rec)` (decoded once, at load).
    pub fn min_row_frac(&self) -> (u8, u8) {
        self.min_frac
    }
    /// Largest per-row fractional bits of `(w_in, w_rec)` (decoded once, at load).
    pub fn max_row_frac(&self) -> (u8, u8) {
        self.max_frac
    }
    /// Input weights.
    pub fn w_in(&self) -> Weights<'a> {
        Weights::new(&self.body.tensors.w_in, self.kinds.w_in)
    }
    /// Recurrent weights.
    pub fn w_rec(&self) -> Weights<'a> {
        Weights::new(&self.body.tensors.w_rec, self.kinds.w_rec)
    }
    /// Output weights.
    pub fn w_out(&self) -> Weights<'a> {
        Weights::new(&self.body.tensors.w_out, self.kinds.w_out)
    }
    /// Recurrent bias `i` at `state_frac + GUARD_BITS` (gated cells: row `i` of the
    /// stacked gate biases, at `GATE_FRAC + GUARD_BITS`).
    pub fn b_rec(&self, i: usize) -> i32 {
        read_i32(self.body.tensors.b_rec.data, i)
    }
    /// Recurrent biases as stored: little-endian `i32` (4 bytes each), `n_rec` of them
    /// for the leaky cell, `4·n_rec` for the gated ones.
    pub fn b_rec_bytes(&self) -> &'a [u8] {
        self.body.tensors.b_rec.data
    }
    /// Output bias `i` at `output_frac + GUARD_BITS`.
    pub fn b_out(&self, i: usize) -> i32 {
        read_i32(self.body.tensors.b_out.data, i)
    }
    /// Initial state word `i` at `state_frac` (LSTM: words `0..n_rec` are `h₀` in Q15,
    /// `n_rec..2·n_rec` are `c₀`).
    pub fn init_state(&self, i: usize) -> i16 {
        read_i16(self.body.tensors.init_state.data, i)
    }

    /// `i16` words of caller-owned state a [`Network`](crate::Network) needs:
    /// state and rates (`n_rec` each) and outputs (`n_out`), and for the LSTM `n_rec`
    /// words of scratch (the new hidden state, see [`crate::cell::lstm`]).
    pub fn state_len(&self) -> usize {
        let scratch = match self.cell() {
            CellKind::Lstm => self.n_rec(),
            _ => 0,
        };
        2 * self.n_rec() + self.n_out() + scratch
    }

    /// Bytes of all parameter tensors as stored (weights, biases, initial state).
    pub fn param_bytes(&self) -> usize {
        self.body
            .tensors
            .iter()
            .iter()
            .map(|(_, t)| t.data.len())
            .sum()
    }

    /// Quantize float inputs into `out` (pairs up to the shorter length).
    pub fn quantize_inputs(&self, x: &[f32], out: &mut [i16]) {
        crate::fixed::quantize_slice(x, self.input_frac(), out);
    }

    /// Dequantize outputs into `out` (pairs up to the shorter length).
    pub fn dequantize_outputs(&self, y: &[i16], out: &mut [f32]) {
        let f = self.output_frac();
        for (o, &v) in out.iter_mut().zip(y) {
            *o = dequantize(v as i32, f);
        }
    }
}
