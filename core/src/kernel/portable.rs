//! Portable two-row kernels (every target without the DSP path: the host, Cortex-M0/M0+
//! such as the RP2040, Cortex-M3), written in plain safe Rust.
//!
//! Written by hand for the Cortex-M0, which has a 32×32→32 multiply and nothing wider:
//! an `i64` multiply-add there is a call to `__aeabi_lmul`. These loops never multiply in
//! 64 bits: every product fits `i32`, accumulators are `i32` over spans short enough never
//! to overflow, and they are widened to `i64` once per span. Each activation is loaded once
//! for two rows.
//!
//! - `i8` weights: `|w·x| ≤ 2^7·2^15 = 2^22`; a span of [`SPAN`] = 256 columns sums to
//!   ≤ 2^30.
//! - `i16` weights are split into bytes, `w = 256·hi + lo` with `hi` signed (`-128..=127`)
//!   and `lo` unsigned (`0..=255`), so `Σ w·x = 256·Σ hi·x + Σ lo·x`: `|hi·x| ≤ 2^22`,
//!   `|lo·x| < 2^23`, a span of 256 columns stays below 2^31 in both sums, and the two are
//!   combined in `i64`. No unaligned halfword load is needed (the Cortex-M0 faults on
//!   those, and blob weights have no alignment).
//!
//! Bit-identical to the plain references (`super::dot_*_ref`); host proptests check it
//! and the QEMU Cortex-M0 run (`tests/tests/bench_qemu.rs`) checks whole trajectories.

/// Rows per call of [`dot2_s16_s16_s64`].
pub(super) const ROWS_S16: usize = 2;
/// Rows per call of [`dot2_s8_s16_s64`].
pub(super) const ROWS_S8: usize = 2;
/// Columns per `i32` accumulation span (see the module docs).
const SPAN: usize = 256;

/// The two rows of `w` (row stride `stride` bytes) if `w` holds both in full.
fn two_rows(w: &[u8], stride: usize) -> Option<(&[u8], &[u8])> {
    Some((w.get(..stride)?, w.get(stride..2 * stride)?))
}

/// Two consecutive rows of `i8` weights (`cols` bytes each) against `x`.
///
/// If `w` holds fewer than `2·cols` bytes or `x` fewer than `cols` values, the rows go
/// through the single-row kernel (same results).
#[inline]
pub(super) fn dot2_s8_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; 2] {
    let (Some((w0, w1)), Some(x)) = (two_rows(w, cols), x.get(..cols)) else {
        return core::array::from_fn(|r| {
            let row = w.get(r * cols..).unwrap_or(&[]);
            super::dot_s8_s16_s64_portable(&row[..cols.min(row.len())], x)
        });
    };
    let mut total = [0i64; 2];
    for ((w0, w1), x) in w0.chunks(SPAN).zip(w1.chunks(SPAN)).zip(x.chunks(SPAN)) {
        let (mut a0, mut a1) = (0i32, 0i32);
        for ((&p, &q), &v) in w0.iter().zip(w1).zip(x) {
            let v = v as i32;
            a0 += p as i8 as i32 * v;
            a1 += q as i8 as i32 * v;
        }
        total[0] += a0 as i64;
        total[1] += a1 as i64;
    }
    total
}

/// Two consecutive rows of `i16` weights (`2·cols` bytes each) against `x`, weights split
/// into bytes (see the module docs).
///
/// If `w` holds fewer than `4·cols` bytes or `x` fewer than `cols` values, the rows go
/// through the single-row kernel (same results).
#[inline]
pub(super) fn dot2_s16_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; 2] {
    let stride = 2 * cols;
    let (Some((w0, w1)), Some(x)) = (two_rows(w, stride), x.get(..cols)) else {
        return core::array::from_fn(|r| {
            let row = w.get(r * stride..).unwrap_or(&[]);
            super::dot_s16_s16_s64_portable(&row[..stride.min(row.len())], x)
        });
    };
    let mut total = [0i64; 2];
    let spans = w0
        .chunks(2 * SPAN)
        .zip(w1.chunks(2 * SPAN))
        .zip(x.chunks(SPAN));
    for ((w0, w1), x) in spans {
        let (mut h0, mut l0, mut h1, mut l1) = (0i32, 0i32, 0i32, 0i32);
        for ((p, q), &v) in w0.chunks_exact(2).zip(w1.chunks_exact(2)).zip(x) {
            let v = v as i32;
            l0 += p[0] as i32 * v;
            h0 += p[1] as i8 as i32 * v;
            l1 += q[0] as i32 * v;
            h1 += q[1] as i8 as i32 * v;
        }
        total[0] += ((h0 as i64) << 8) + l0 as i64;
        total[1] += ((h1 as i64) << 8) + l1 as i64;
    }
    total
}
