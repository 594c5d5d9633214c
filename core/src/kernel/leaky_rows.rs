//! The leaky cell's row update as kernels (`cell/leaky.rs` proves them equal to the
//! cell's definition): [`leaky_rows_i32`], the noise-free `i32` update of rows whose two
//! `i64` dot products are given, and [`leaky_fused`], the whole row loop of a step (the
//! `W_rec` and `W_in` dot products, the update and the `tanh` rate) in one pass. On the
//! Cortex-M4/M7 DSP path both are assembly (`kernel/arm_dsp/aligned.rs`,
//! `kernel/arm_dsp/fused.rs`); elsewhere they do nothing and return 0 (the cell's own
//! loops are as fast there). Their plain references, [`leaky_rows_i32_ref`] and
//! [`leaky_fused_ref`], are what the firmware's boot check compares them with.

use super::PATH_IS_DSP;
use crate::blob::DType;

/// The constants of [`leaky_rows_i32`]: the leaky cell's noise-free `i32` row update
/// (`cell/leaky.rs`, "The assembly row update", which proves it equal to the definition).
#[derive(Clone, Copy, Debug)]
pub struct LeakyRows {
    /// α in Q15, below 2^14 (the routine multiplies by `α·2^17`, an `i32`).
    pub alpha: i32,
    /// Offset of `W_rec`'s row shifts: row `k` takes bits `fr[k] + k_rec ..` of its `i64`
    /// dot product (`0 ≤ fr[k] + k_rec ≤ 31`, the caller's precondition).
    pub k_rec: i32,
    /// The same for `W_in` (`fi[k] + k_in`), whose `i64`'s low word is first shifted left
    /// by `a_in` (wrapping; `a_in ≤ 31`).
    pub k_in: i32,
    /// See [`LeakyRows::k_in`].
    pub a_in: u32,
}

/// The leaky cell's `i32` row update for the rows `x` (and every other slice) covers
/// (noise-free; the caller checked its preconditions: [`LeakyRows`]), on the DSP path in
/// assembly. For each row `k`:
///
/// ```text
/// w(v, a)  = v with its low word shifted left by a (wrapping, the high word unchanged)
/// s(v, c)  = (low32(v >> c) + 1) >> 1              (i32, wrapping + 1)
/// pre      = sat32(s(rec[k], fr[k] + k_rec) + s(w(inp[k], a_in), fi[k] + k_in) + b[k])
/// x_t      = x[k] << 8
/// ad       = (sat32(pre − x_t)·(α·2^17) + 2^31) >> 32        (= rs(α·d, 15))
/// x[k]     = sat16(sat32(x_t + 128 + ad) >> 8)
/// ```
///
/// (`b` 4 LE bytes a row; the sum of the two shifts is a plain add, the others saturate,
/// as [`leaky_rows_i32_ref`] writes it.) Returns the rows it updated: all of them on the
/// DSP path; elsewhere it does nothing and returns 0 (the cell's own loop is as fast
/// there). Rows whose `c` is outside `0..=31` get an unspecified (but memory-safe) result.
#[inline]
pub fn leaky_rows_i32(
    p: &LeakyRows,
    rec: (&[i64], &[u8]),
    inp: (&[i64], &[u8]),
    b: &[u8],
    x: &mut [i16],
) -> usize {
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    return super::arm_dsp::leaky_rows_i32(p, rec, inp, b, x);
    #[cfg(not(all(feature = "dsp", neuroloop_arm_dsp)))]
    {
        let _ = (p, rec, inp, b, x);
        0
    }
}

/// Plain reference for [`leaky_rows_i32`] (the same rows, where every `c` is in `0..=31`).
pub fn leaky_rows_i32_ref(
    p: &LeakyRows,
    (rec, fr): (&[i64], &[u8]),
    (inp, fi): (&[i64], &[u8]),
    b: &[u8],
    x: &mut [i16],
) -> usize {
    let s = |v: i64, c: i32| ((v >> c.clamp(0, 63)) as i32).wrapping_add(1) >> 1;
    let w = |v: i64| v & !0xFFFF_FFFF | (v as u32).wrapping_shl(p.a_in) as i64;
    let alpha17 = p.alpha.wrapping_shl(17) as i64;
    let rows = x.iter_mut().zip(rec.iter().zip(fr)).zip(inp.iter().zip(fi));
    let mut done = 0;
    for (((xi, (&r, &f_r)), (&u, &f_i)), b) in rows.zip(b.chunks_exact(4)) {
        let bias = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let pre = s(r, f_r as i32 + p.k_rec)
            .wrapping_add(s(w(u), f_i as i32 + p.k_in))
            .saturating_add(bias);
        let x_t = (*xi as i32) << 8;
        let d = pre.saturating_sub(x_t) as i64;
        let ad = ((d * alpha17 + (1 << 31)) >> 32) as i32;
        *xi = ((x_t + 128).saturating_add(ad) >> 8).clamp(i16::MIN as i32, i16::MAX as i32) as i16;
        done += 1;
    }
    done
}

/// How [`leaky_fused`] gets each row's `W_in` dot product.
#[derive(Clone, Copy, Debug)]
pub enum FusedIn<'a> {
    /// `W_in` has 2 columns of the type of `W_rec`: its rows (two little-endian weights
    /// each) and the two inputs; each row's sum is formed in the row.
    Pair(&'a [u8], [i16; 2]),
    /// Each row's dot product, computed before (any width: the narrow kernels).
    Dots(&'a [i64]),
}

/// What [`leaky_fused`] writes to the rates.
#[derive(Clone, Copy, Debug)]
pub enum FusedRate {
    /// Nothing: the caller computes the rates from the new state afterwards.
    None,
    /// `r[k] = tanh_s16(x[k], frac)` ([`crate::activation::tanh_s16`]) of the new state.
    Tanh(u8),
}

/// The inputs of [`leaky_fused`]: a leaky step's matrices and row constants.
#[derive(Clone, Copy, Debug)]
pub struct LeakyFused<'a> {
    /// `W_rec`, row after row (little-endian weights of type `dtype`, `cols` a row).
    pub w_rec: &'a [u8],
    /// The weights' type.
    pub dtype: DType,
    /// Columns of `W_rec` (`N_rec`: the rates' length).
    pub cols: usize,
    /// `W_rec`'s row fractional bits.
    pub fr: &'a [u8],
    /// `W_in`'s dot products.
    pub w_in: FusedIn<'a>,
    /// `W_in`'s row fractional bits.
    pub fi: &'a [u8],
    /// The biases, 4 little-endian bytes a row.
    pub b: &'a [u8],
    /// The row update's constants (the preconditions of [`leaky_rows_i32`] hold).
    pub rows: LeakyRows,
    /// The rates to write.
    pub rate: FusedRate,
}

/// Whether [`leaky_fused`] runs for `W_rec` of this type, column count and bytes (the
/// assembly's shape rules: 4-aligned rows of whole unrolled blocks, 8 `i16` or 16 `i8`
/// columns each, at most [`FUSED_COLS_MAX`] columns). Always false off the DSP path.
pub fn leaky_fused_fits(dtype: DType, cols: usize, w_rec: &[u8]) -> bool {
    let block = if dtype == DType::I8 { 16 } else { 8 };
    PATH_IS_DSP
        && cols > 0
        && cols % block == 0
        && cols <= FUSED_COLS_MAX
        && w_rec.as_ptr() as usize & 3 == 0
}

/// The most columns (`N_rec`) [`leaky_fused`] runs: its unrolled dot products' length,
/// and the longest `i8` row whose `i32` sum is exact.
pub const FUSED_COLS_MAX: usize = 256;

/// A leaky step's rows `0..x.len()` in one pass: row `k`'s `W_rec` dot product against
/// the old rates `r`, its `W_in` dot product ([`FusedIn`]), [`leaky_rows_i32`]'s update
/// of `x[k]`, and with [`FusedRate::Tanh`] the new rate `r[k]`; returns the rows it did.
/// On the DSP path in assembly (`kernel/arm_dsp/fused.rs`) where [`leaky_fused_fits`],
/// `r.len() == cols`, every per-row array covers the rows, the tanh format `frac ≤ 21`
/// and, for an `i16` [`FusedIn::Pair`], neither input is −32768: all rows; otherwise (and on every other path) nothing, 0. Bit-identical to
/// [`leaky_fused_ref`] where it runs.
#[inline]
pub fn leaky_fused(p: &LeakyFused<'_>, x: &mut [i16], r: &mut [i16]) -> usize {
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    return super::arm_dsp::leaky_fused(p, x, r);
    #[cfg(not(all(feature = "dsp", neuroloop_arm_dsp)))]
    {
        let _ = (p, x, r);
        0
    }
}

/// Plain reference for [`leaky_fused`]: every row's update from the dot-product
/// references and [`leaky_rows_i32_ref`], then the rates from the new state with
/// [`super::tanh_rows_s16_ref`] (a rate depends only on its own row's new state, and the
/// dot products only on the old rates). Returns the rows it did (0 if `W_rec`, the rates
/// or a per-row array is short).
pub fn leaky_fused_ref(p: &LeakyFused<'_>, x: &mut [i16], r: &mut [i16]) -> usize {
    let n = x.len();
    let size = p.dtype.size();
    let row_bytes = p.cols * size;
    let inputs_ok = match p.w_in {
        FusedIn::Pair(w, _) => w.len() >= 2 * size * n,
        FusedIn::Dots(d) => d.len() >= n,
    };
    if p.w_rec.len() < n * row_bytes
        || r.len() < p.cols
        || p.fr.len() < n
        || p.fi.len() < n
        || p.b.len() < 4 * n
        || !inputs_ok
    {
        return 0;
    }
    let dot = |w: &[u8], x: &[i16]| match p.dtype {
        DType::I16 => super::dot_s16_s16_s64_ref(w, x),
        _ => super::dot_s8_s16_s64_ref(w, x),
    };
    for k in 0..n {
        let rec = dot(&p.w_rec[k * row_bytes..(k + 1) * row_bytes], &r[..p.cols]);
        let inp = match p.w_in {
            FusedIn::Pair(w, u) => dot(&w[2 * size * k..2 * size * (k + 1)], &u),
            FusedIn::Dots(d) => d[k],
        };
        leaky_rows_i32_ref(
            &p.rows,
            (&[rec], &p.fr[k..k + 1]),
            (&[inp], &p.fi[k..k + 1]),
            &p.b[4 * k..4 * k + 4],
            &mut x[k..k + 1],
        );
    }
    if let FusedRate::Tanh(frac) = p.rate {
        super::tanh_rows_s16_ref(x, r, frac);
    }
    n
}
