//! Dot-product kernels, named by number format: `dot_<weights>_<activations>_<accumulator>`.
//!
//! Weights arrive as little-endian bytes borrowed straight from the blob (no alignment is
//! assumed, nothing is copied); activations are `i16`.
//!
//! | kernel | portable (host, Cortex-M3, …) | Cortex-M0/M0+ (`thumbv6m`) | Cortex-M4/M7 DSP (feature `dsp`, `thumbv7em`) | reference |
//! |---|---|---|---|---|
//! | `dot_s8_s16_s64` | unrolled, `i32` blocks of 256 | portable | `SXTB16` + `PKHBT`/`PKHTB` + `SMLALD` | [`dot_s8_s16_s64_ref`] |
//! | `dot_s16_s16_s64` | unrolled, `i64` | portable | `SMLALD` | [`dot_s16_s16_s64_ref`] |
//! | `dot_rows_s8_s16_s64` | 2 rows per activation load, `i32` spans of 256 (`kernel/portable.rs`) | 4 rows, Thumb-1 assembly, `i32` spans of 256 (`kernel/arm_v6m.rs`) | rows 4-aligned, via [`dot_rows_s8_s16_s64_acts`]: one row at a time, 16 weights per `LDM`, `SXTB16` + `SMLAD` against activations permuted once per step, `i32` spans of 256 (`kernel/arm_dsp/aligned.rs`); otherwise 4 rows: activations repacked, `SXTB16` + `SMLAD` into `i32` spans | [`dot_rows_s8_s16_s64_ref`] |
//! | `dot_rows_s16_s16_s64` | 2 rows, weights split into bytes, `i32` spans (`kernel/portable.rs`) | 2 rows, Thumb-1 assembly: 2-aligned weights as full `LDRSH` products, `i32` sums with a `BVS` overflow fix-up into a high word; odd addresses split into bytes, `i32` spans | rows and activations 4-aligned: one row at a time, `LDM` + 4 `SMLALD` per 8 columns (`kernel/arm_dsp/aligned.rs`); otherwise 3 rows, `SMLALD` | [`dot_rows_s16_s16_s64_ref`] |
//!
//! The `dot_rows_*` kernels compute several consecutive rows of a matrix at once (what
//! the cell's step calls); matrices with fewer than 8 columns (a few inputs) go row by row.
//! On the DSP path they first try the aligned `LDM` kernels of `kernel/arm_dsp/aligned.rs` (rows
//! and activations 4-aligned: `i16` 8 columns per `LDM` pair into `SMLALD`, 32 per loop
//! iteration; `i8` 16 weights per `LDM` into `SXTB16` + `SMLAD` against activations
//! permuted once per step), checked at run time per call; the table's kernels take
//! whatever is not aligned. The `*_acts` forms ([`with_acts`]) take the activations
//! prepared once for many calls (the `i8` permutation, an aligned copy of misaligned
//! `i16` rates); matrices of fewer than 8 columns take the narrow kernels of
//! `kernel/arm_dsp/narrow.rs` there; [`leaky_rows_i32`] is the leaky cell's row update,
//! [`tanh_rows_s16`] its `tanh` rates and [`leaky_fused`] its whole row loop in one pass
//! (both dot products, the update and the rate; `kernel/leaky_rows.rs`) in assembly on
//! the DSP path. All of them have plain references (`*_ref`).
//!
//! The public functions dispatch at compile time: with feature `dsp` on a target with the
//! Armv7E-M DSP extension (`cfg(neuroloop_arm_dsp)`, set by `core/build.rs`) they run the
//! `asm!` and `global_asm!` loops in `kernel/arm_dsp.rs` (and `arm_dsp/aligned.rs`); on
//! Armv6-M (`cfg(neuroloop_arm_v6m)`, every `thumbv6m` build) the multi-row kernels are
//! the `global_asm!` routines of `kernel/arm_v6m.rs`; everywhere else the portable code;
//! [`PATH`] says which. These two modules are the only ones in the crate allowed
//! `unsafe` (each states its safety argument). The `_ref` functions are the plain references every path must match bit
//! for bit (host proptests for the portable path; the firmware's kernel self-test and the
//! QEMU end-to-end tests for the assembly paths).
//!
//! Overflow contract: the portable `dot_s8_s16_s64` accumulates blocks of 256 products in `i32`
//! (|w·x| ≤ 2^22, so a block stays below 2^30) and widens to `i64`;
//! `dot_s16_s16_s64` accumulates in `i64` (|w·x| ≤ 2^30, 2^33 terms before overflow).
//! The DSP path accumulates in 64 bits (`SMLALD`), except the 4-row and the aligned `i8`
//! kernels, which use `i32` spans of 256 columns like the portable code; the portable and Cortex-M0
//! multi-row kernels use `i32` spans of 256 columns (`i16` weights split into a signed
//! high and an unsigned low byte), except the Cortex-M0 `i16` kernel on 2-aligned weights,
//! which counts each `i32` overflow into a high word (`kernel/arm_v6m.rs`). Nothing can
//! wrap for any vector length the blob limits allow.
//!
//! If the lengths disagree the extra elements are ignored (never a panic); callers pass
//! validated lengths.
//!
//! ```
//! use neuroloop_core::kernel::{dot_s8_s16_s64, dot_s16_s16_s64};
//! let w8 = [2i8 as u8, (-3i8) as u8];
//! assert_eq!(dot_s8_s16_s64(&w8, &[10, 20]), 2 * 10 - 3 * 20);
//! let w16: Vec<u8> = [300i16, -400].iter().flat_map(|w| w.to_le_bytes()).collect();
//! assert_eq!(dot_s16_s16_s64(&w16, &[10, 20]), 300 * 10 - 400 * 20);
//! ```

#[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
#[allow(unsafe_code)]
mod arm_dsp;
#[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
use arm_dsp as imp;

#[cfg(neuroloop_arm_v6m)]
#[allow(unsafe_code)]
mod arm_v6m;
/// The Cortex-M0 multi-row kernels (Thumb-1 assembly) and the portable single-row ones.
#[cfg(neuroloop_arm_v6m)]
mod imp {
    pub(super) use super::arm_v6m::{dot2_s16_s16_s64 as dot3_s16_s16_s64, ROWS_S16};
    pub(super) use super::arm_v6m::{dot4_s8_s16_s64, ROWS_S8};
    pub(super) use super::dot_s16_s16_s64_portable as dot_s16_s16_s64;
    pub(super) use super::dot_s8_s16_s64_portable as dot_s8_s16_s64;
}

/// The portable kernels under the names the public functions call.
#[cfg(not(any(all(feature = "dsp", neuroloop_arm_dsp), neuroloop_arm_v6m)))]
mod imp {
    pub(super) use super::dot_s16_s16_s64_portable as dot_s16_s16_s64;
    pub(super) use super::dot_s8_s16_s64_portable as dot_s8_s16_s64;
    pub(super) use super::portable::{dot2_s16_s16_s64 as dot3_s16_s16_s64, ROWS_S16};
    pub(super) use super::portable::{dot2_s8_s16_s64 as dot4_s8_s16_s64, ROWS_S8};
}

#[cfg_attr(
    any(all(feature = "dsp", neuroloop_arm_dsp), neuroloop_arm_v6m),
    allow(dead_code)
)]
mod portable;

mod leaky_rows;
pub use leaky_rows::{
    leaky_fused, leaky_fused_fits, leaky_fused_ref, leaky_rows_i32, leaky_rows_i32_ref, FusedIn,
    FusedRate, LeakyFused, LeakyRows, FUSED_COLS_MAX,
};

/// Whether this build runs the Cortex-M4/M7 DSP path ([`PATH`] is `"arm-dsp"`).
pub const PATH_IS_DSP: bool = cfg!(all(feature = "dsp", neuroloop_arm_dsp));

/// Which implementation the public kernels run in this build: `"arm-dsp"` (feature `dsp`
/// on a Cortex-M4/M7 target), `"arm-v6m"` (Cortex-M0/M0+) or `"portable"`.
pub const PATH: &str = if PATH_IS_DSP {
    "arm-dsp"
} else if cfg!(neuroloop_arm_v6m) {
    "arm-v6m"
} else {
    "portable"
};

/// Σ w\[k\]·x\[k\] with `i8` weights (one byte each) and `i16` activations, exact in `i64`.
///
/// Bit-identical to [`dot_s8_s16_s64_ref`] for every input, on every path.
#[inline]
pub fn dot_s8_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    imp::dot_s8_s16_s64(w, x)
}

/// Σ w\[k\]·x\[k\] with `i16` weights (two little-endian bytes each) and `i16` activations,
/// exact in `i64`.
///
/// Bit-identical to [`dot_s16_s16_s64_ref`] for every input, on every path.
#[inline]
pub fn dot_s16_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    imp::dot_s16_s16_s64(w, x)
}

/// Matrices narrower than this (e.g. `W_in` with a few inputs) go row by row: on the DSP
/// path through the narrow kernels of `kernel/arm_dsp/narrow.rs` (activations kept in
/// registers), elsewhere through [`small_rows_s16`] / [`small_rows_s8`].
const SMALL: usize = 8;

/// `out[r] = Σ_k W[r, k]·x[k]` for the `out.len()` consecutive rows of a row-major weight
/// matrix with `cols` columns (`w`: its bytes from the first of those rows on; `i16` weights
/// as two little-endian bytes each), exact in `i64`.
///
/// The multi-row form of [`dot_s16_s16_s64`]: rows go through the kernel in groups that
/// load each activation once for the whole group (three rows with `SMLALD` on the DSP
/// path, two on the portable path), the rest one by one. A row whose bytes `w` does not
/// hold in full sums the weights it does hold; only the first `cols` activations are used.
/// Bit-identical to [`dot_rows_s16_s16_s64_ref`] on every path.
#[inline]
pub fn dot_rows_s16_s16_s64(w: &[u8], cols: usize, x: &[i16], out: &mut [i64]) {
    let x = &x[..cols.min(x.len())];
    let stride = 2 * cols;
    if cols < SMALL {
        #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
        let (w, out) = {
            let done = arm_dsp::narrow_rows(w, cols, 2, x, out);
            (w.get(done * stride..).unwrap_or(&[]), &mut out[done..])
        };
        if !out.is_empty() {
            small_rows_s16(w, cols, x, out);
        }
        return;
    }
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    let (w, out) = {
        let done = arm_dsp::rows_s16_aligned(w, cols, x, out);
        (w.get(done * stride..).unwrap_or(&[]), &mut out[done..])
    };
    let mut groups = out.chunks_exact_mut(imp::ROWS_S16);
    let mut rest = w;
    for g in &mut groups {
        let sums = imp::dot3_s16_s16_s64(rest, cols, x);
        g.copy_from_slice(&sums);
        rest = rest.get(imp::ROWS_S16 * stride..).unwrap_or(&[]);
    }
    let last = groups.into_remainder();
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    if last.len() == 2 {
        last.copy_from_slice(&arm_dsp::dot2_s16_s16_s64(rest, cols, x));
        return;
    }
    for o in last {
        *o = imp::dot_s16_s16_s64(&rest[..stride.min(rest.len())], x);
        rest = rest.get(stride..).unwrap_or(&[]);
    }
}

/// `i8`-weight form of [`dot_rows_s16_s16_s64`] (one byte per weight; four rows per group
/// on the DSP path, two on the portable path). Bit-identical to
/// [`dot_rows_s8_s16_s64_ref`] on every path.
#[inline]
pub fn dot_rows_s8_s16_s64(w: &[u8], cols: usize, x: &[i16], out: &mut [i64]) {
    let x = &x[..cols.min(x.len())];
    if cols < SMALL {
        #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
        let (w, out) = {
            let done = arm_dsp::narrow_rows(w, cols, 1, x, out);
            (w.get(done * cols..).unwrap_or(&[]), &mut out[done..])
        };
        if !out.is_empty() {
            small_rows_s8(w, cols, x, out);
        }
        return;
    }
    let mut groups = out.chunks_exact_mut(imp::ROWS_S8);
    let mut rest = w;
    for g in &mut groups {
        let sums = imp::dot4_s8_s16_s64(rest, cols, x);
        g.copy_from_slice(&sums);
        rest = rest.get(imp::ROWS_S8 * cols..).unwrap_or(&[]);
    }
    let last = groups.into_remainder();
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    let last = if last.len() >= 2 {
        let (two, one) = last.split_at_mut(2);
        two.copy_from_slice(&arm_dsp::dot2_s8_s16_s64(rest, cols, x));
        rest = rest.get(2 * cols..).unwrap_or(&[]);
        one
    } else {
        last
    };
    for o in last {
        *o = imp::dot_s8_s16_s64(&rest[..cols.min(rest.len())], x);
        rest = rest.get(cols..).unwrap_or(&[]);
    }
}

/// The longest activation vector [`with_acts`] prepares (the blob's largest `n_rec`);
/// longer ones are passed through unprepared (same results, the general kernels).
pub const ACTS_MAX: usize = crate::blob::MAX_REC;

/// One activation vector prepared once for many multi-row kernel calls against it (the
/// rates of a step against every row group of `W_rec`): see [`with_acts`].
pub struct Acts<'a> {
    /// The values, for the general kernels.
    x: &'a [i16],
    /// The same values at a 4-aligned address (DSP path, `i16` weights: `x` itself or an
    /// aligned copy).
    x16: &'a [i16],
    /// DSP path, `i8` weights: the activations permuted for `SXTB16` (empty otherwise).
    #[cfg_attr(not(all(feature = "dsp", neuroloop_arm_dsp)), allow(dead_code))]
    s8: &'a [u32],
}

impl<'a> Acts<'a> {
    /// The activation values, as given to [`with_acts`].
    pub fn x(&self) -> &'a [i16] {
        self.x
    }
}

/// Run `f` on the first `len.min(N)` elements of a `[0i64; N]` on this frame (the cells'
/// scratch rows of dot products), zeroing only those: a chunk sized for the largest
/// model costs a step only the rows it uses. On the DSP path they are filled with a
/// multi-register store loop (`STM` of four zero registers, 16 bytes an instruction; the
/// compiler's `__aeabi_memclr8` stores about a word an instruction) in place, elsewhere
/// the plain array is zeroed.
#[inline(always)]
pub fn with_zeroed_i64<const N: usize, R>(len: usize, f: impl FnOnce(&mut [i64]) -> R) -> R {
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    return arm_dsp::with_zeroed_i64::<N, R>(len, f);
    #[cfg(not(all(feature = "dsp", neuroloop_arm_dsp)))]
    f(&mut [0; N][..len.min(N)])
}

/// Run `f` with `x` prepared for the `*_acts` multi-row kernels against weights of type
/// `dtype` ([`dot_rows_s8_s16_s64_acts`], [`dot_rows_s16_s16_s64_acts`]).
///
/// On the DSP path the aligned `LDM` kernels need the activations 4-aligned and, for
/// `i8` weights, permuted per 4 columns to `(x0, x2), (x1, x3)` (the order `SXTB16`
/// yields the weights in); that is done once here, into a stack buffer of up to
/// [`ACTS_MAX`] values (2 KiB), rather than once per row group. Everywhere else `f` gets
/// `x` as it is. The results of the `*_acts` kernels never depend on the preparation.
pub fn with_acts<R>(x: &[i16], dtype: crate::blob::DType, f: impl FnOnce(&Acts<'_>) -> R) -> R {
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    if x.len() <= ACTS_MAX {
        let mut buf = [const { core::mem::MaybeUninit::<u32>::uninit() }; ACTS_MAX / 2];
        let (x16, s8) = arm_dsp::prepare(x, dtype == crate::blob::DType::I8, &mut buf);
        return f(&Acts { x, x16, s8 });
    }
    let _ = dtype;
    f(&Acts { x, x16: x, s8: &[] })
}

/// [`dot_rows_s16_s16_s64`] against prepared activations ([`with_acts`]): the same
/// values (bit-identical to [`dot_rows_s16_s16_s64_ref`] on `acts.x()`).
#[inline]
pub fn dot_rows_s16_s16_s64_acts(w: &[u8], cols: usize, acts: &Acts<'_>, out: &mut [i64]) {
    dot_rows_s16_s16_s64(w, cols, acts.x16, out)
}

/// [`dot_rows_s8_s16_s64`] against prepared activations ([`with_acts`]): the same values
/// (bit-identical to [`dot_rows_s8_s16_s64_ref`] on `acts.x()`).
#[inline]
pub fn dot_rows_s8_s16_s64_acts(w: &[u8], cols: usize, acts: &Acts<'_>, out: &mut [i64]) {
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    let (w, out) = {
        let x = &acts.x[..cols.min(acts.x.len())];
        let done = if cols < SMALL {
            0
        } else {
            arm_dsp::rows_s8_aligned(w, cols, x, acts.s8, out)
        };
        (w.get(done * cols..).unwrap_or(&[]), &mut out[done..])
    };
    dot_rows_s8_s16_s64(w, cols, acts.x, out)
}

/// `out[k] = tanh_s16(x[k], frac)` ([`crate::activation::tanh_s16`]) for the values both
/// slices hold: on the DSP path two values per word in assembly (`kernel/arm_dsp/tanh.rs`,
/// for `frac ≤ 21`), elsewhere (and for an odd last value) the plain loop
/// [`tanh_rows_s16_ref`]. Bit-identical to it on every path.
#[inline]
pub fn tanh_rows_s16(x: &[i16], out: &mut [i16], frac: u8) {
    #[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
    let done = arm_dsp::tanh_rows(x, out, frac);
    #[cfg(not(all(feature = "dsp", neuroloop_arm_dsp)))]
    let done = 0;
    tanh_rows_s16_ref(
        x.get(done..).unwrap_or(&[]),
        out.get_mut(done..).unwrap_or(&mut []),
        frac,
    );
}

/// Plain reference for [`tanh_rows_s16`]: [`crate::activation::tanh_s16`] value by value.
pub fn tanh_rows_s16_ref(x: &[i16], out: &mut [i16], frac: u8) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = crate::activation::tanh_s16(v, frac);
    }
}

/// Narrow `i16` matrices (fewer than [`SMALL`] columns, `x` already cut to `cols`), row
/// by row: each product (≤ 2^30) formed in `i32`, summed in `i64`. The column count is
/// made a constant ([`small_rows_n`]) so the loop over a row unrolls; a last partial row
/// and rows `w` does not reach go through the reference (what it holds, then 0).
#[inline]
fn small_rows_s16(w: &[u8], cols: usize, x: &[i16], out: &mut [i64]) {
    let weight = |b: &[u8], k: usize| i16::from_le_bytes([b[2 * k], b[2 * k + 1]]) as i32;
    let done = match cols {
        1 => small_rows_n::<1>(w, 2, x, out, weight),
        2 => small_rows_n::<2>(w, 2, x, out, weight),
        3 => small_rows_n::<3>(w, 2, x, out, weight),
        4 => small_rows_n::<4>(w, 2, x, out, weight),
        5 => small_rows_n::<5>(w, 2, x, out, weight),
        6 => small_rows_n::<6>(w, 2, x, out, weight),
        7 => small_rows_n::<7>(w, 2, x, out, weight),
        _ => 0,
    };
    dot_rows_s16_s16_s64_ref(
        &w[(2 * cols * done).min(w.len())..],
        cols,
        x,
        &mut out[done..],
    );
}

/// `i8` form of [`small_rows_s16`] (each product ≤ 2^22).
#[inline]
fn small_rows_s8(w: &[u8], cols: usize, x: &[i16], out: &mut [i64]) {
    let weight = |b: &[u8], k: usize| b[k] as i8 as i32;
    let done = match cols {
        1 => small_rows_n::<1>(w, 1, x, out, weight),
        2 => small_rows_n::<2>(w, 1, x, out, weight),
        3 => small_rows_n::<3>(w, 1, x, out, weight),
        4 => small_rows_n::<4>(w, 1, x, out, weight),
        5 => small_rows_n::<5>(w, 1, x, out, weight),
        6 => small_rows_n::<6>(w, 1, x, out, weight),
        7 => small_rows_n::<7>(w, 1, x, out, weight),
        _ => 0,
    };
    dot_rows_s8_s16_s64_ref(&w[(cols * done).min(w.len())..], cols, x, &mut out[done..]);
}

/// The rows `w` holds in full (`N` weights of `size` bytes each) against `x[..N]`,
/// `weight(row, k)` reading weight `k`; returns how many rows it wrote (0 if `x` is
/// shorter than `N`).
#[inline(always)]
fn small_rows_n<const N: usize>(
    w: &[u8],
    size: usize,
    x: &[i16],
    out: &mut [i64],
    weight: impl Fn(&[u8], usize) -> i32,
) -> usize {
    let Some(x) = x.get(..N) else { return 0 };
    let xs: [i32; N] = core::array::from_fn(|k| x[k] as i32);
    let mut done = 0;
    for (o, row) in out.iter_mut().zip(w.chunks_exact(size * N)) {
        *o = (0..N).map(|k| (weight(row, k) * xs[k]) as i64).sum();
        done += 1;
    }
    done
}

/// Plain reference for [`dot_rows_s16_s16_s64`]: [`dot_s16_s16_s64_ref`] row by row.
pub fn dot_rows_s16_s16_s64_ref(w: &[u8], cols: usize, x: &[i16], out: &mut [i64]) {
    let x = &x[..cols.min(x.len())];
    for (r, o) in out.iter_mut().enumerate() {
        let row = w.get(2 * cols * r..).unwrap_or(&[]);
        *o = dot_s16_s16_s64_ref(&row[..(2 * cols).min(row.len())], x);
    }
}

/// Plain reference for [`dot_rows_s8_s16_s64`]: [`dot_s8_s16_s64_ref`] row by row.
pub fn dot_rows_s8_s16_s64_ref(w: &[u8], cols: usize, x: &[i16], out: &mut [i64]) {
    let x = &x[..cols.min(x.len())];
    for (r, o) in out.iter_mut().enumerate() {
        let row = w.get(cols * r..).unwrap_or(&[]);
        *o = dot_s8_s16_s64_ref(&row[..cols.min(row.len())], x);
    }
}

/// Portable [`dot_s8_s16_s64`]: unrolled by four with two `i32` accumulators per 256-element block (each accumulator
/// sums ≤ 128 products of magnitude ≤ 2^22, so ≤ 2^29), widened to `i64` per block.
#[cfg_attr(all(feature = "dsp", neuroloop_arm_dsp), allow(dead_code))]
#[inline]
fn dot_s8_s16_s64_portable(w: &[u8], x: &[i16]) -> i64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut total = 0i64;
    for (wb, xb) in w.chunks(256).zip(x.chunks(256)) {
        let (mut a0, mut a1) = (0i32, 0i32);
        let mut wc = wb.chunks_exact(4);
        let mut xc = xb.chunks_exact(4);
        for (w4, x4) in (&mut wc).zip(&mut xc) {
            a0 += (w4[0] as i8 as i32) * (x4[0] as i32) + (w4[1] as i8 as i32) * (x4[1] as i32);
            a1 += (w4[2] as i8 as i32) * (x4[2] as i32) + (w4[3] as i8 as i32) * (x4[3] as i32);
        }
        for (&wk, &xk) in wc.remainder().iter().zip(xc.remainder()) {
            a0 += (wk as i8 as i32) * (xk as i32);
        }
        total += a0 as i64 + a1 as i64;
    }
    total
}

/// Portable [`dot_s16_s16_s64`]: unrolled by two; every product (≤ 2^30) is widened to `i64` before it is added, so no
/// input can overflow.
#[cfg_attr(all(feature = "dsp", neuroloop_arm_dsp), allow(dead_code))]
#[inline]
fn dot_s16_s16_s64_portable(w: &[u8], x: &[i16]) -> i64 {
    let n = (w.len() / 2).min(x.len());
    let (w, x) = (&w[..2 * n], &x[..n]);
    let mut acc = 0i64;
    let mut wc = w.chunks_exact(4);
    let mut xc = x.chunks_exact(2);
    for (w2, x2) in (&mut wc).zip(&mut xc) {
        let w0 = i16::from_le_bytes([w2[0], w2[1]]) as i32;
        let w1 = i16::from_le_bytes([w2[2], w2[3]]) as i32;
        acc += (w0 * x2[0] as i32) as i64 + (w1 * x2[1] as i32) as i64;
    }
    let rest = wc.remainder();
    if let (Some(b), Some(&xk)) = (rest.get(0..2), xc.remainder().first()) {
        acc += (i16::from_le_bytes([b[0], b[1]]) as i32 * xk as i32) as i64;
    }
    acc
}

/// Plain reference for [`dot_s8_s16_s64`]: one `i64` multiply-add per element.
pub fn dot_s8_s16_s64_ref(w: &[u8], x: &[i16]) -> i64 {
    w.iter()
        .zip(x)
        .map(|(&a, &b)| a as i8 as i64 * b as i64)
        .sum()
}

/// Plain reference for [`dot_s16_s16_s64`].
pub fn dot_s16_s16_s64_ref(w: &[u8], x: &[i16]) -> i64 {
    w.chunks_exact(2)
        .zip(x)
        .map(|(a, &b)| i16::from_le_bytes([a[0], a[1]]) as i64 * b as i64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(w: &[i64], x: &[i16]) -> i64 {
        w.iter().zip(x).map(|(&a, &b)| a * b as i64).sum()
    }

    proptest! {
        #[test]
        fn kernels_match_their_references_on_any_lengths(
            w in proptest::collection::vec(any::<u8>(), 0..700),
            x in proptest::collection::vec(any::<i16>(), 0..700),
        ) {
            prop_assert_eq!(dot_s8_s16_s64(&w, &x), dot_s8_s16_s64_ref(&w, &x));
            prop_assert_eq!(dot_s16_s16_s64(&w, &x), dot_s16_s16_s64_ref(&w, &x));
        }
    }

    proptest! {
        #[test]
        fn dot_s8_matches_reference(pairs in proptest::collection::vec((any::<i8>(), any::<i16>()), 0..1100)) {
            let w: Vec<u8> = pairs.iter().map(|p| p.0 as u8).collect();
            let x: Vec<i16> = pairs.iter().map(|p| p.1).collect();
            let wi: Vec<i64> = pairs.iter().map(|p| p.0 as i64).collect();
            prop_assert_eq!(dot_s8_s16_s64(&w, &x), reference(&wi, &x));
        }

        #[test]
        fn dot_s16_matches_reference(pairs in proptest::collection::vec((any::<i16>(), any::<i16>()), 0..1100)) {
            let w: Vec<u8> = pairs.iter().flat_map(|p| p.0.to_le_bytes()).collect();
            let x: Vec<i16> = pairs.iter().map(|p| p.1).collect();
            let wi: Vec<i64> = pairs.iter().map(|p| p.0 as i64).collect();
            prop_assert_eq!(dot_s16_s16_s64(&w, &x), reference(&wi, &x));
        }
    }

    /// Weight rows and activations that mix random values with the extremes.
    fn extreme_or(v: u16, pick: u8) -> u16 {
        match pick % 4 {
            0 => 0x8000,
            1 => 0x7FFF,
            _ => v,
        }
    }

    proptest! {
        #[test]
        fn dot_rows_match_their_references(
            rows in 0usize..14,
            cols in 0usize..300,
            trim in 0usize..5,
            seed in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..64),
        ) {
            let val = |k: usize| { let (v, p) = seed[k % seed.len()]; extreme_or(v.wrapping_mul(k as u16 | 1), p.wrapping_add(k as u8)) };
            let x: Vec<i16> = (0..cols).map(|k| val(7 * k + 3) as i16).collect();
            let w16: Vec<u8> = (0..rows * cols).flat_map(|k| val(k).to_le_bytes()).collect();
            let w8: Vec<u8> = (0..rows * cols).map(|k| (val(k) >> 8) as u8).collect();
            // Also short weight buffers: the last rows are partial or missing.
            let w16 = &w16[..w16.len().saturating_sub(trim)];
            let w8 = &w8[..w8.len().saturating_sub(trim)];
            let (mut got, mut want) = (vec![0i64; rows], vec![0i64; rows]);
            dot_rows_s16_s16_s64(w16, cols, &x, &mut got);
            dot_rows_s16_s16_s64_ref(w16, cols, &x, &mut want);
            prop_assert_eq!(&got, &want);
            dot_rows_s8_s16_s64(w8, cols, &x, &mut got);
            dot_rows_s8_s16_s64_ref(w8, cols, &x, &mut want);
            prop_assert_eq!(&got, &want);
        }
    }

    proptest! {
        #[test]
        fn prepared_activations_give_the_references(
            rows in 0usize..9,
            cols in 0usize..300,
            (w_off, x_off) in (0usize..4, 0usize..2),
            seed in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..64),
        ) {
            let val = |k: usize| { let (v, p) = seed[k % seed.len()]; extreme_or(v.wrapping_mul(k as u16 | 1), p.wrapping_add(k as u8)) };
            // Offsets move the slices off 4-byte alignment (the DSP path's fallbacks).
            let xs: Vec<i16> = (0..cols + 2).map(|k| val(5 * k + 1) as i16).collect();
            let x = &xs[x_off..x_off + cols];
            let w16: Vec<u8> = (0..2 * rows * cols + 4).map(|k| (val(k) >> 3) as u8).collect();
            let w8 = &w16[w_off..w_off + rows * cols];
            let w16 = &w16[w_off..w_off + 2 * rows * cols];
            let (mut got, mut want) = (vec![0i64; rows], vec![0i64; rows]);
            with_acts(x, crate::blob::DType::I16, |a| dot_rows_s16_s16_s64_acts(w16, cols, a, &mut got));
            dot_rows_s16_s16_s64_ref(w16, cols, x, &mut want);
            prop_assert_eq!(&got, &want);
            with_acts(x, crate::blob::DType::I8, |a| {
                prop_assert_eq!(a.x(), x);
                dot_rows_s8_s16_s64_acts(w8, cols, a, &mut got);
                Ok(())
            })?;
            dot_rows_s8_s16_s64_ref(w8, cols, x, &mut want);
            prop_assert_eq!(&got, &want);
        }
    }

    #[test]
    fn dot_rows_extremes_match_closed_form() {
        for cols in [1usize, 2, 3, 7, 255, 256, 257, 513, 1024] {
            let x = vec![i16::MIN; cols];
            let w16: Vec<u8> = (0..5 * cols).flat_map(|_| i16::MIN.to_le_bytes()).collect();
            let w8 = vec![i8::MIN as u8; 5 * cols];
            let mut out = [0i64; 5];
            dot_rows_s16_s16_s64(&w16, cols, &x, &mut out);
            assert_eq!(out, [cols as i64 * (1 << 30); 5], "i16, {cols} columns");
            dot_rows_s8_s16_s64(&w8, cols, &x, &mut out);
            assert_eq!(out, [cols as i64 * (1 << 22); 5], "i8, {cols} columns");
        }
    }

    #[test]
    fn dot_extremes_do_not_overflow() {
        let n = 1024;
        let w8 = vec![i8::MIN as u8; n];
        let x = vec![i16::MIN; n];
        assert_eq!(dot_s8_s16_s64(&w8, &x), n as i64 * (1 << 22));
        let w16: Vec<u8> = (0..n).flat_map(|_| i16::MIN.to_le_bytes()).collect();
        assert_eq!(dot_s16_s16_s64(&w16, &x), n as i64 * (1 << 30));
    }
}
