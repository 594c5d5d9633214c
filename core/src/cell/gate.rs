//! What the GRU and LSTM steps share: the gate sums `W_rec·h + W_in·u + b` of a chunk of
//! units, computed with the multi-row kernels and reduced to one `i32` per gate row, and
//! σ/tanh at [`GATE_FRAC`].
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
//!
//! # How it is computed (bit-identical, mostly in `i32`)
//! [`Gates::fill`] reduces each gate row to `s_j = sat32(rec_j + inp_j + b_rec[j])` (the
//! GRU's candidate gate to `hn = sat32(rec + b_hn)` and `xn = inp + b_in`, see
//! [`super::gru`]). That is all the cells need: `sat16(rs(·, G))` is nondecreasing and
//! pinned at ±32767/−32768 once `|sum| ≥ 2^23`, so `pre_j = sat16(rs(s_j, G))` equals the
//! definition (saturating at `±2^31` cannot move a sum across the pinned range).
//!
//! **Row shifts by one multiply.** For a shift `1 ≤ sh ≤ 32` and `m = 2^(32 − sh)`,
//! `rs(v, sh) = ⌊(v·m + 2^31) / 2^32⌋`. With `v = hi·2^32 + lo` (`lo` unsigned) and
//! `lo·m = P_hi·2^32 + P_lo` (a `UMULL`) that is `hi·m + P_hi + [P_lo ≥ 2^31]`, whose low
//! 32 bits are `hi·m + P_hi + (P_lo >> 31)` in wrapping `u32` arithmetic (an `MLA` and an
//! `ADD` with shifted operand): [`rs_mul`], the exact result wherever it fits `i32`.
//!
//! **When it fits.** A matrix with `c` columns and `i16` (`i8`) weights has `|W[j]·x| ≤
//! c·2^15·2^15` (`c·2^7·2^15`) against `i16` values, i.e. `≤ 2^P` with `P = ⌈log2 c⌉ + 30`
//! (`+ 22`), so `|rs(v, sh)| ≤ 2^(P − sh)`. [`RowShifts`] holds, per fractional-bit count
//! `f` of a row, `m` where `sh = f + base ≥ 1` and `P − sh ≤ 30` (`W_rec`) or `≤ 29`
//! (`W_in`), else 0. For a row where both are nonzero, `|rec| ≤ 2^30` and `|inp| ≤ 2^29`
//! are exact `i32`s, their sum (≤ 1.5·2^30) is exact, and one saturating add of the bias
//! gives `s_j`. Every other row (left shifts, short shifts on wide rows) takes the
//! definition in `i64` ([`rs_dot`], plain adds: below 2^62 as argued above) and saturates
//! the sum to `i32`. The unit tests check [`rs_mul`] against the rounding shift at the
//! extremes, that the tables open exactly where the bound allows (one bit less and an
//! extreme row overflows `i32`), and `core/tests/gated_step.rs` checks whole steps
//! against the `i128` reference on blobs that take both forms.

use crate::activation::TANH_Q15;
use crate::blob::{DType, GUARD_BITS, MAX_WEIGHT_FRAC};
use crate::fixed::{rs_dot, sat_i32};
use crate::model::Weights;
use crate::Model;

/// Fractional bits of a gate pre-activation fed to the σ/tanh tables (Q4.11, ±16: σ(16)
/// and tanh(16) round to 32767 in Q15, so the `i16` clamp loses nothing).
pub const GATE_FRAC: u8 = 11;
/// `GATE_FRAC + G`: fractional bits of the gate sums and of the gated cells' `b_rec`.
pub(crate) const T: i32 = GATE_FRAC as i32 + GUARD_BITS as i32;
/// Units whose gate sums are computed together: a multiple of every kernel's row group
/// (2, 3, 4).
pub(crate) const CHUNK: usize = 12;

/// `rs(v, sh)` for `m = 2^(32 − sh)`, `1 ≤ sh ≤ 32`: the low 32 bits of the exact result
/// (see the module docs), i.e. the result itself wherever it fits `i32`.
#[inline(always)]
fn rs_mul(v: i64, m: u32) -> i32 {
    let (lo, hi) = (v as u32, (v >> 32) as u32);
    let p = lo as u64 * m as u64;
    hi.wrapping_mul(m)
        .wrapping_add((p >> 32) as u32)
        .wrapping_add(p as u32 >> 31) as i32
}

/// Per fractional-bit count `f` of a row (`0 ..= 31`, masked), the multiplier `m` of
/// [`rs_mul`] for the row shift `f + base` where the shifted dot product is exact and
/// within `±2^lim`, else 0 (the row takes the `i64` definition). See the module docs.
#[derive(Clone, Copy)]
struct RowShifts {
    m: [u32; 32],
    base: i32,
}

impl RowShifts {
    /// For a matrix of `dtype` weights with `cols` columns (dot products against `i16`
    /// values), row shifts `f + base`, results within `±2^lim`.
    fn new(dtype: DType, cols: usize, base: i32, lim: i32) -> RowShifts {
        let p = dot_log2(dtype, cols);
        let m = core::array::from_fn(|f| {
            let sh = f as i32 + base;
            if (1..=32).contains(&sh) && p - sh <= lim {
                1u32 << (32 - sh)
            } else {
                0
            }
        });
        RowShifts { m, base }
    }

    /// `m` for a row with `f` fractional bits (0: take the `i64` definition).
    #[inline(always)]
    fn m(&self, f: u8) -> u32 {
        self.m[(f & 31) as usize]
    }

    /// `rs(v, f + base)` by the definition, in `i64` (exact: `|v| < 2^41`).
    #[inline(always)]
    fn slow(&self, v: i64, f: u8) -> i64 {
        rs_dot(v, f as i32 + self.base)
    }
}

/// `P` with `|W[j]·x| ≤ 2^P` for every row of a `dtype` matrix with `cols` columns
/// against `i16` values `x`: `⌈log2 cols⌉ + 15 + 15` (`i16` weights) or `+ 7 + 15` (`i8`).
fn dot_log2(dtype: DType, cols: usize) -> i32 {
    let wbits = if dtype == DType::I16 { 15 } else { 7 };
    cols.next_power_of_two().trailing_zeros() as i32 + wbits + 15
}

/// Stand-ins for fractional bits and biases of rows a (decoded, hence validated) model
/// always has: never read in practice, they keep a short tensor from panicking.
static ZEROS: [u8; 4 * CHUNK] = [0; 4 * CHUNK];

/// The gate sums of one chunk of units (see the module docs), and what it takes to
/// compute them, set up once per step.
pub(crate) struct Gates<'a> {
    w_rec: Weights<'a>,
    w_in: Weights<'a>,
    b: &'a [u8],
    n: usize,
    rec_shift: RowShifts,
    in_shift: RowShifts,
    dot_rec: [i64; CHUNK],
    dot_in: [i64; CHUNK],
    /// `s_j = sat32(rec + inp + b)` at `T`, `[gate][unit in chunk]`; for the GRU's
    /// candidate gate (block 2) `hn = sat32(rec + b_hn)`.
    pub s: [[i32; CHUNK]; 4],
    /// GRU candidate gate: `xn = inp + b_in` at `T` (exact).
    pub xn: [i64; CHUNK],
}

impl<'a> Gates<'a> {
    /// The per-step setup for `model`.
    pub fn new(model: &Model<'a>) -> Gates<'a> {
        let (w_rec, w_in) = (model.w_rec(), model.w_in());
        Gates {
            rec_shift: RowShifts::new(w_rec.dtype(), w_rec.cols(), 15 - T, 30),
            in_shift: RowShifts::new(w_in.dtype(), w_in.cols(), model.input_frac() as i32 - T, 29),
            w_rec,
            w_in,
            b: model.b_rec_bytes(),
            n: model.n_rec(),
            dot_rec: [0; CHUNK],
            dot_in: [0; CHUNK],
            s: [[0; CHUNK]; 4],
            xn: [0; CHUNK],
        }
    }

    /// Bytes of biases `rows` (4 each), or zeros standing in.
    fn biases(&self, first: usize, len: usize) -> &'a [u8] {
        self.b.get(4 * first..4 * (first + len)).unwrap_or(&ZEROS)
    }

    /// [`Gates::s`] (and for the GRU, `split` = `Some(2)`, [`Gates::xn`]) of gates
    /// `0..gates` for units `first .. first + len` (`len ≤ CHUNK`), from the old hidden
    /// state `h` (Q15) and inputs `u` (at `fu`).
    pub fn fill(
        &mut self,
        gates: usize,
        split: Option<usize>,
        first: usize,
        len: usize,
        u: &[i16],
        h: &[i16],
    ) {
        let len = len.min(CHUNK);
        for k in 0..gates.min(4) {
            let row0 = k * self.n + first;
            self.w_rec.dot_rows(row0, h, &mut self.dot_rec[..len]);
            self.w_in.dot_rows(row0, u, &mut self.dot_in[..len]);
            let fr = self.w_rec.fracs().get(row0..row0 + len).unwrap_or(&ZEROS);
            let fi = self.w_in.fracs().get(row0..row0 + len).unwrap_or(&ZEROS);
            let (rs, is) = (&self.rec_shift, &self.in_shift);
            let rows = self.dot_rec.iter().zip(&self.dot_in).zip(fr.iter().zip(fi));
            if split == Some(k) {
                // GRU candidate: b_in is block 2 of the biases, b_hn block 3.
                let b_in = self.biases(row0, len).chunks_exact(4);
                let b_hn = self.biases(row0 + self.n, len).chunks_exact(4);
                let out = self.s[k].iter_mut().zip(self.xn.iter_mut());
                for (((hn, xn), ((&rec, &inp), (&fr, &fi))), (b_in, b_hn)) in
                    out.zip(rows).zip(b_in.zip(b_hn))
                {
                    let (b_in, b_hn) = (bias(b_in), bias(b_hn));
                    let (mr, mi) = (rs.m(fr), is.m(fi));
                    *hn = if mr != 0 {
                        rs_mul(rec, mr).saturating_add(b_hn)
                    } else {
                        sat_i32(rs.slow(rec, fr) + b_hn as i64)
                    };
                    *xn = if mi != 0 {
                        rs_mul(inp, mi) as i64 + b_in as i64
                    } else {
                        is.slow(inp, fi) + b_in as i64
                    };
                }
            } else {
                let b = self.biases(row0, len).chunks_exact(4);
                for ((s, ((&rec, &inp), (&fr, &fi))), b) in self.s[k].iter_mut().zip(rows).zip(b) {
                    let b = bias(b);
                    let (mr, mi) = (rs.m(fr), is.m(fi));
                    *s = if mr != 0 && mi != 0 {
                        // |rec| ≤ 2^30, |inp| ≤ 2^29: the sum is exact.
                        (rs_mul(rec, mr) + rs_mul(inp, mi)).saturating_add(b)
                    } else {
                        sat_i32(rs.slow(rec, fr) + is.slow(inp, fi) + b as i64)
                    };
                }
            }
        }
    }
}

/// A little-endian `i32` from 4 bytes (one unaligned `LDR` on the M4).
#[inline(always)]
fn bias(b: &[u8]) -> i32 {
    b.try_into().map_or(0, i32::from_le_bytes)
}

/// `pre = sat16(rs(s, G))` at [`GATE_FRAC`] from a gate sum at `T` (`((s >> 7) + 1) >> 1`
/// cannot overflow).
#[inline(always)]
pub(crate) fn pre(s: i32) -> i32 {
    (((s >> (GUARD_BITS - 1)) + 1) >> 1).clamp(i16::MIN as i32, i16::MAX as i32)
}

/// `pre` of a sum that may leave `i32` (the GRU candidate): `sat16(rs(acc, G))`, through
/// `sat32` first (which cannot change it, see the module docs).
#[inline(always)]
pub(crate) fn pre_wide(acc: i64) -> i32 {
    pre(sat_i32(acc))
}

/// [`crate::activation::sigmoid_s16`]`(x, GATE_FRAC)` for `x` in the `i16` range, written
/// for that one format: `tanh` at 12 fractional bits reads table entry `|x| >> 7` and
/// interpolates with `|x| mod 2^7` (`rs(d·t·2^9, 16) = rs(d·t, 7)`), then `rs(32768 + t,
/// 1)`, which is at most 32768 and clamped to 32767. Equal for every `i16` (unit test).
#[inline(always)]
pub(crate) fn sigmoid(x: i32) -> i32 {
    let mag = x.unsigned_abs();
    let v = if mag >= 1 << 15 {
        i16::MAX as i32
    } else {
        interp(mag >> 7, mag & 127, 7)
    };
    let t = if x < 0 { -v } else { v };
    ((32768 + t + 1) >> 1).min(i16::MAX as i32)
}

/// [`crate::activation::tanh_s16`]`(x, GATE_FRAC)` for `x` in the `i16` range: entry
/// `|x| >> 6`, interpolated with `|x| mod 2^6` (`rs(d·t·2^10, 16) = rs(d·t, 6)`), 32767
/// from `|x| = 2^14` on. Equal for every `i16` (unit test).
#[inline(always)]
pub(crate) fn tanh(x: i32) -> i32 {
    let mag = x.unsigned_abs();
    let v = if mag >= 1 << 14 {
        i16::MAX as i32
    } else {
        interp(mag >> 6, mag & 63, 6)
    };
    if x < 0 {
        -v
    } else {
        v
    }
}

/// `T[k] + rs((T[k+1] − T[k])·t, bits)` for `k ≤ 255` (the callers' ranges).
#[inline(always)]
fn interp(k: u32, t: u32, bits: u32) -> i32 {
    let k = (k & 255) as usize;
    let (a, b) = (TANH_Q15[k] as i32, TANH_Q15[k + 1] as i32);
    a + (((b - a) * t as i32 + (1 << (bits - 1))) >> bits)
}

const _: () = assert!(
    MAX_WEIGHT_FRAC < 32,
    "RowShifts tables index fracs by f & 31"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{sigmoid_s16, tanh_s16};
    use crate::fixed::shift_round;
    use crate::kernel::{dot_s16_s16_s64_ref, dot_s8_s16_s64_ref};
    use proptest::prelude::*;

    #[test]
    fn gate_sigmoid_and_tanh_equal_the_general_ones_on_every_i16() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(
                sigmoid(x as i32),
                sigmoid_s16(x, GATE_FRAC) as i32,
                "σ({x})"
            );
            assert_eq!(tanh(x as i32), tanh_s16(x, GATE_FRAC) as i32, "tanh({x})");
        }
    }

    #[test]
    fn pre_is_the_saturated_rounding_shift() {
        for s in [
            i32::MIN,
            i32::MIN + 1,
            -(1 << 23) - 129,
            -(1 << 23) - 128,
            -129,
            -128,
            -1,
            0,
            127,
            128,
            (1 << 23) - 129,
            (1 << 23) - 128,
            i32::MAX,
        ] {
            let want = shift_round(s as i64, 8).clamp(-32768, 32767) as i32;
            assert_eq!(pre(s), want, "{s}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
        #[test]
        fn rs_mul_is_the_rounding_shift_where_it_fits(
            v in prop_oneof![-(1i64 << 41)..(1i64 << 41), any::<i32>().prop_map(i64::from), Just(1i64 << 41), Just(-(1i64 << 41))],
            sh in 1i32..=32,
        ) {
            let want = shift_round(v, sh);
            let got = rs_mul(v, 1u32 << (32 - sh));
            if let Ok(w) = i32::try_from(want) {
                prop_assert_eq!(got, w);
            } else {
                prop_assert_eq!(got, want as i32, "low 32 bits");
            }
        }
    }

    #[test]
    fn tables_open_exactly_where_the_shifted_dot_fits() {
        for dtype in [DType::I16, DType::I8] {
            for cols in [1usize, 2, 3, 5, 64, 100, 128, 256, 1024] {
                for (base, lim) in [(-4, 30), (-19, 29), (-8, 29), (-4, 29)] {
                    let t = RowShifts::new(dtype, cols, base, lim);
                    // The largest |dot|: every weight at −2^15 (−2^7), every activation
                    // at −2^15.
                    let x = vec![i16::MIN; cols];
                    let v = match dtype {
                        DType::I16 => dot_s16_s16_s64_ref(&i16::MIN.to_le_bytes().repeat(cols), &x),
                        _ => dot_s8_s16_s64_ref(&vec![i8::MIN as u8; cols], &x),
                    };
                    let wb = if dtype == DType::I16 { 30 } else { 22 };
                    assert_eq!(v, (cols as i64) << wb);
                    for f in 0..32u8 {
                        let sh = f as i32 + base;
                        let m = t.m(f);
                        if m == 0 {
                            // Closed rows: a left shift, or the bound fails. Where the
                            // bound fails for a columns count that is a power of two,
                            // the extreme dot product really exceeds 2^lim.
                            if sh >= 1 && cols.is_power_of_two() {
                                assert!(shift_round(v, sh) > 1i64 << lim, "{dtype:?} {cols} f {f}");
                            }
                            continue;
                        }
                        assert!(sh >= 1);
                        for v in [v, -v, v - 1, 1 - v] {
                            let want = shift_round(v, sh);
                            assert!(want.abs() <= 1i64 << lim, "{dtype:?} {cols} f {f}");
                            assert_eq!(rs_mul(v, m) as i64, want, "{dtype:?} {cols} f {f} v {v}");
                        }
                    }
                }
            }
        }
    }
}
