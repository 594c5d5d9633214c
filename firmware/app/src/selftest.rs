//! Boot-time check of the dot kernels against their plain references, on the device.
//!
//! The optimised kernel path a board is built with (`neuroloop_core::kernel::PATH`, e.g.
//! the Cortex-M4 `asm!` path of core feature `dsp`) can only run on that board, so the
//! board runs this at boot and refuses to start on a mismatch. It covers what model blobs
//! rarely reach: every length 0..=40 and 63..=65, 255..=257, 1023..=1024 (all block
//! tails), every weight alignment (byte offsets 0..=3) and both activation alignments,
//! mismatched lengths (extra elements ignored, odd `i16` weight byte counts), and the
//! extremes: `-32768`/`-128` weights times `-32768` activations (each `i16` product 2^30,
//! a pair 2^31 — one past `i32`), alternating `MIN`/`MAX`, pseudo-random full-range
//! values, and `MAX` weights against runs of 8 `MAX` then 16 `MIN` then 8 `MAX`
//! activations, whose running sums swing between about ±2^33 and cross ±2^31 (an `i32`
//! accumulator's range) upwards and downwards every 32 columns. Each case compares the
//! public kernel with its `_ref`, and the all-`MIN` cases also with the closed form
//! `n·2^30` / `n·2^22`. The multi-row kernels (`dot_rows_*`: the 3- and 4-row `asm!`
//! groups on the Cortex-M4, the 4-row i8 and 2-row i16 Thumb-1 groups on the
//! Cortex-M0/M0+ — full `i16` products with an overflow fix-up on 2-aligned weights,
//! byte-split weights on odd addresses —, the 2-row groups of the portable path) get
//! the same patterns and alignments over 1–9 rows and the column counts around their block
//! and span boundaries ([`rows_cases`]). The `tanh` rates kernel gets every `i16` value
//! at ten state formats, both alignments, odd and even counts ([`tanh_cases`]).

use neuroloop_core::kernel::{
    dot_rows_s16_s16_s64, dot_rows_s16_s16_s64_ref, dot_rows_s8_s16_s64, dot_rows_s8_s16_s64_ref,
    dot_s16_s16_s64, dot_s16_s16_s64_ref, dot_s8_s16_s64, dot_s8_s16_s64_ref, tanh_rows_s16,
    tanh_rows_s16_ref,
};

/// Longest vector tested.
const N_MAX: usize = 1024;
/// Lengths tested (with every alignment and pattern).
const LENGTHS: [core::ops::RangeInclusive<usize>; 4] = [0..=40, 63..=65, 255..=257, 1023..=1024];

/// The first case where a kernel disagreed with its reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// `"dot_s8_s16_s64"` or `"dot_s16_s16_s64"`.
    pub kernel: &'static str,
    /// Value pattern index (0 random, 1 all MIN, 2 MIN/MAX alternating, 3 MIN × MAX,
    /// 4 MAX × swinging runs of MAX and MIN).
    pub pattern: u8,
    /// Weight elements passed.
    pub n_w: usize,
    /// Activations passed.
    pub n_x: usize,
    /// Byte offset of the weights in their buffer.
    pub w_offset: usize,
    /// Element offset of the activations in their buffer.
    pub x_offset: usize,
    /// Kernel result.
    pub got: i64,
    /// Reference (or closed-form) result.
    pub want: i64,
}

/// Fill the buffers with `pattern`; the `i16` weights start at byte `w16_offset`, so
/// every alignment sees whole values.
fn fill(pattern: u8, w16_offset: usize, w8: &mut [u8], w16: &mut [u8], x: &mut [i16]) {
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for (k, b) in w8.iter_mut().enumerate() {
        *b = match pattern {
            0 => next() as u8,
            2 if k % 2 == 1 => i8::MAX as u8,
            4 => i8::MAX as u8,
            _ => i8::MIN as u8,
        };
    }
    for (k, b) in w16[w16_offset..].chunks_exact_mut(2).enumerate() {
        let v = match pattern {
            0 => next() as i16,
            2 if k % 2 == 1 => i16::MAX,
            4 => i16::MAX,
            _ => i16::MIN,
        };
        b.copy_from_slice(&v.to_le_bytes());
    }
    for (k, v) in x.iter_mut().enumerate() {
        *v = match pattern {
            0 => next() as i16,
            2 if k % 3 == 2 => i16::MAX,
            3 => i16::MAX,
            4 if matches!((k / 8) % 4, 0 | 3) => i16::MAX,
            _ => i16::MIN,
        };
    }
}

/// Run every case; `Ok(number of cases)` when all are bit-exact.
pub fn kernels() -> Result<u32, Mismatch> {
    let mut w8 = [0u8; N_MAX + 4];
    let mut w16 = [0u8; 2 * N_MAX + 6];
    let mut x = [0i16; N_MAX + 2];
    let mut cases = 0u32;
    for pattern in 0..5u8 {
        for w_offset in 0..4 {
            fill(pattern, w_offset, &mut w8, &mut w16, &mut x);
            for n in LENGTHS.iter().cloned().flatten() {
                for x_offset in 0..2 {
                    // Equal lengths, then one side longer (the extra is ignored).
                    for (n_w, n_x) in [(n, n), (n + 1, n), (n, n + 1)] {
                        let xs = &x[x_offset..x_offset + n_x];
                        let case = |kernel, got, want| Mismatch {
                            kernel,
                            pattern,
                            n_w,
                            n_x,
                            w_offset,
                            x_offset,
                            got,
                            want,
                        };
                        let ws = &w8[w_offset..w_offset + n_w];
                        let (got, want) = (dot_s8_s16_s64(ws, xs), dot_s8_s16_s64_ref(ws, xs));
                        if got != want {
                            return Err(case("dot_s8_s16_s64", got, want));
                        }
                        if pattern == 1 && want != n as i64 * (1 << 22) {
                            return Err(case("dot_s8_s16_s64_ref", want, n as i64 * (1 << 22)));
                        }
                        // i16 weights: also an odd byte count (a dangling byte is ignored).
                        for extra in [0, 1] {
                            let ws = &w16[w_offset..w_offset + 2 * n_w + extra];
                            let (got, want) =
                                (dot_s16_s16_s64(ws, xs), dot_s16_s16_s64_ref(ws, xs));
                            if got != want {
                                return Err(case("dot_s16_s16_s64", got, want));
                            }
                            if pattern == 1 && want != n as i64 * (1 << 30) {
                                return Err(case(
                                    "dot_s16_s16_s64_ref",
                                    want,
                                    n as i64 * (1 << 30),
                                ));
                            }
                        }
                        cases += 3;
                    }
                }
            }
            for x_offset in 0..2 {
                cases += rows_cases(pattern, w_offset, x_offset, &w8, &w16, &x)?;
            }
        }
    }
    Ok(cases + tanh_cases()?)
}

/// State formats of the `tanh` cases: around the clamp's cut (12), the table's reach
/// and the kernels' limit (21).
const TANH_FRACS: [u8; 10] = [0, 3, 6, 9, 11, 12, 13, 15, 21, 22];

/// [`tanh_rows_s16`] against its reference for every `i16` value at each of
/// [`TANH_FRACS`], in runs of 1023 and 1024 values (odd and even counts) at both
/// alignments of the input and the output; `pattern` in a [`Mismatch`] is the `frac`,
/// `n_w` the run's first value (as `u16`).
fn tanh_cases() -> Result<u32, Mismatch> {
    let mut cases = 0;
    let (mut x, mut got, mut want) = ([0i16; 1026], [0i16; 1026], [0i16; 1026]);
    for frac in TANH_FRACS {
        for start in (i16::MIN as i32..=i16::MAX as i32).step_by(1024) {
            for (k, v) in x.iter_mut().enumerate() {
                *v = (start + k as i32).min(i16::MAX as i32) as i16;
            }
            for (offset, n) in [(0, 1024), (1, 1024), (0, 1023), (1, 1023)] {
                let xs = &x[offset..offset + n];
                tanh_rows_s16(xs, &mut got[1 - offset..1 - offset + n], frac);
                tanh_rows_s16_ref(xs, &mut want[..n], frac);
                if let Some(k) = (0..n).find(|&k| got[1 - offset + k] != want[k]) {
                    return Err(Mismatch {
                        kernel: "tanh_rows_s16",
                        pattern: frac,
                        n_w: start as u16 as usize,
                        n_x: n,
                        w_offset: k,
                        x_offset: offset,
                        got: got[1 - offset + k] as i64,
                        want: want[k] as i64,
                    });
                }
                cases += 1;
            }
        }
    }
    Ok(cases)
}

/// Row counts of the multi-row cases: every group size and remainder of the kernels.
const ROWS: core::ops::RangeInclusive<usize> = 1..=9;
/// Column counts of the multi-row cases: below and around the narrow-matrix cut (8), the
/// 8-column blocks and the 256-column `i32` spans.
const COLS: [core::ops::RangeInclusive<usize>; 5] =
    [1..=20, 31..=33, 63..=65, 127..=129, 255..=257];

/// The multi-row kernels (`dot_rows_*`) against their references: every row count in
/// [`ROWS`] × column count in [`COLS`] that fits the buffers, weight buffers whole and cut
/// short by 1–2 bytes (last row partial), and the closed form for the all-`MIN` pattern.
fn rows_cases(
    pattern: u8,
    w_offset: usize,
    x_offset: usize,
    w8: &[u8],
    w16: &[u8],
    x: &[i16],
) -> Result<u32, Mismatch> {
    let mut cases = 0;
    let (mut got, mut want) = ([0i64; 9], [0i64; 9]);
    for cols in COLS.iter().cloned().flatten() {
        for rows in ROWS.clone().filter(|r| r * cols <= N_MAX) {
            let xs = &x[x_offset..x_offset + cols];
            for trim in 0..3 {
                let case = |kernel, got, want| Mismatch {
                    kernel,
                    pattern,
                    n_w: rows * cols,
                    n_x: cols,
                    w_offset,
                    x_offset,
                    got,
                    want,
                };
                let ws = &w8[w_offset..w_offset + rows * cols - trim.min(rows * cols)];
                dot_rows_s8_s16_s64(ws, cols, xs, &mut got[..rows]);
                dot_rows_s8_s16_s64_ref(ws, cols, xs, &mut want[..rows]);
                if let Some(r) = (0..rows).find(|&r| got[r] != want[r]) {
                    return Err(case("dot_rows_s8_s16_s64", got[r], want[r]));
                }
                if pattern == 1 && trim == 0 && want[rows - 1] != cols as i64 * (1 << 22) {
                    return Err(case(
                        "dot_rows_s8_s16_s64_ref",
                        want[rows - 1],
                        cols as i64 * (1 << 22),
                    ));
                }
                let ws = &w16[w_offset..w_offset + 2 * rows * cols - trim];
                dot_rows_s16_s16_s64(ws, cols, xs, &mut got[..rows]);
                dot_rows_s16_s16_s64_ref(ws, cols, xs, &mut want[..rows]);
                if let Some(r) = (0..rows).find(|&r| got[r] != want[r]) {
                    return Err(case("dot_rows_s16_s16_s64", got[r], want[r]));
                }
                if pattern == 1 && trim == 0 && want[rows - 1] != cols as i64 * (1 << 30) {
                    return Err(case(
                        "dot_rows_s16_s16_s64_ref",
                        want[rows - 1],
                        cols as i64 * (1 << 30),
                    ));
                }
                cases += 2;
            }
        }
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernels_pass_on_the_host_path() {
        let cases = super::kernels().unwrap();
        assert!(cases > 10_000, "{cases}");
    }
}
