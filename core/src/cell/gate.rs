//! What the GRU and LSTM steps share: the gate pre-activations `W_rec·h + W_in·u + b` of a
//! chunk of units, computed with the multi-row kernels and brought to [`GATE_FRAC`].
//!
//! Definition (`T = GATE_FRAC + G`, `rs` the rounding shift of [`crate::fixed`], row `j`
//! of gate block `k` is `k·n_rec + i`, `wⱼ`, `wⱼ'` its own fractional bits in `W_rec`, `W_in`):
//!
//! ```text
//! rec_j = rs(W_rec[j]·h, wⱼ + 15 − T)     inp_j = rs(W_in[j]·u, wⱼ' + fu − T)
//! pre_j = sat16(rs(rec_j + inp_j + b_rec[j], G))          (GATE_FRAC fractional bits)
//! ```
//!
//! Every dot product is exact in `i64` (|Σ| < 2^41 for the blob limits) and a row shift is
//! at least `0 + 0 − 19`, so `|rec|, |inp| < 2^60` and the sum with an `i32` bias is below
//! 2^62: no intermediate saturates, which is why an `i128` reference computing them
//! unbounded agrees bit for bit.

use crate::blob::GUARD_BITS;
use crate::fixed::{rs_dot, sat_i16, shift_round};
use crate::Model;

/// Fractional bits of a gate pre-activation fed to the σ/tanh tables (Q4.11, ±16: σ(16)
/// and tanh(16) round to 32767 in Q15, so the `i16` clamp loses nothing).
pub const GATE_FRAC: u8 = 11;
/// `GATE_FRAC + G`: fractional bits of the gate sums and of the gated cells' `b_rec`.
pub(crate) const T: i32 = GATE_FRAC as i32 + GUARD_BITS as i32;
/// Units whose gate sums are computed together: a multiple of every kernel's row group
/// (2, 3, 4); the sums take `2 · 4 · 12` `i64` (768 bytes) of stack.
pub(crate) const CHUNK: usize = 12;

/// Gate sums of a chunk of units at `T` fractional bits, recurrent and input parts apart
/// (the GRU's candidate gate needs them apart); `[gate][unit in chunk]`.
pub(crate) struct Sums {
    pub rec: [[i64; CHUNK]; 4],
    pub inp: [[i64; CHUNK]; 4],
}

impl Sums {
    /// Zeroed sums.
    pub fn new() -> Sums {
        Sums {
            rec: [[0; CHUNK]; 4],
            inp: [[0; CHUNK]; 4],
        }
    }

    /// `rec`/`inp` of gates `0..gates` for units `first .. first + len` (`len ≤ CHUNK`),
    /// from the old hidden state `h` (Q15) and inputs `u` (at `fu`).
    pub fn fill(
        &mut self,
        model: &Model<'_>,
        gates: usize,
        first: usize,
        len: usize,
        u: &[i16],
        h: &[i16],
    ) {
        let n = model.n_rec();
        let (w_rec, w_in) = (model.w_rec(), model.w_in());
        let sh_rec = 15 - T;
        let sh_in = model.input_frac() as i32 - T;
        for k in 0..gates.min(4) {
            let row0 = k * n + first;
            let (rec, inp) = (&mut self.rec[k][..len], &mut self.inp[k][..len]);
            w_rec.dot_rows(row0, h, rec);
            w_in.dot_rows(row0, u, inp);
            for (j, (r, i)) in rec.iter_mut().zip(inp.iter_mut()).enumerate() {
                *r = rs_dot(*r, w_rec.row_frac(row0 + j) as i32 + sh_rec);
                *i = rs_dot(*i, w_in.row_frac(row0 + j) as i32 + sh_in);
            }
        }
    }

    /// `pre = sat16(rs(rec + inp + b_rec[k·n_rec + unit], G))` of gate `k`, unit
    /// `first + j`, at [`GATE_FRAC`].
    #[inline]
    pub fn pre(&self, model: &Model<'_>, k: usize, first: usize, j: usize) -> i16 {
        let b = model.b_rec(k * model.n_rec() + first + j) as i64;
        let acc = self.rec[k][j]
            .saturating_add(self.inp[k][j])
            .saturating_add(b);
        to_gate(acc)
    }
}

/// A sum at `T` fractional bits to an `i16` at [`GATE_FRAC`]: `sat16(rs(acc, G))`.
#[inline]
pub(crate) fn to_gate(acc: i64) -> i16 {
    sat_i16(shift_round(acc, GUARD_BITS as i32))
}
