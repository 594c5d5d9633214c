//! Cortex-M0/M0+ (Armv6-M, Thumb-1: the RP2040) multi-row kernels, hand-written in
//! assembly (`global_asm!`).
//!
//! Written by hand because the compiler's code for the portable two-row loops spends most
//! of its instructions on bookkeeping: Thumb-1 has 8 low registers, and LLVM keeps the
//! accumulators there and spills. These loops keep every accumulator in a high register
//! (`r8`–`r11`, reachable by `ADD` and `MOV`) and every pointer and operand in the 8 low
//! registers, so each multiply-accumulate is three instructions: a sign-extending byte
//! load with a register offset, `MULS`, `ADD`; each activation is loaded once per group.
//! Built only for `thumbv6m-*` (`cfg(neuroloop_arm_v6m)`, set by `core/build.rs`).
//!
//! # Exactness
//! Every product fits `i32` and every sum is kept below 2^31 by the span length, as in
//! `kernel/portable.rs`: the callers run each assembly call over at most [`SPAN`] = 256
//! columns and widen to `i64` after it.
//! - `i8` weights, 4 rows: `|w·x| ≤ 2^7·2^15 = 2^22`, 256 of them ≤ 2^30.
//! - `i16` weights, 2 rows, split into bytes (`w = 256·hi + lo`, `hi` signed, `lo`
//!   unsigned): `|hi·x| ≤ 2^22` and `|lo·x| ≤ 255·2^15 < 2^23`, 256 of them < 2^31; the
//!   row's sum is `256·Σhi·x + Σlo·x`, formed in `i64`.
//!
//! `MULS` keeps the low 32 bits of the product, which is the product itself here.
//!
//! # Safety argument (the two `extern "C"` calls below)
//! - Memory: each routine reads `n` columns (`n ≥ 1`, checked by the caller) of each of
//!   its rows through `base_r + k` with the byte index `k` running from `−n·size` up to 0,
//!   the bases being the end of the span in each row (`w + r·stride + n·size`), and `n`
//!   activations through `x + 2n + 2k'`. The callers check that `w` holds every row of
//!   the group in full (`rows·stride` bytes, each span inside its row) and that `x` holds
//!   `cols` values, so every byte read lies inside the argument slices. The only memory
//!   written is the caller's `[i32; 4]` output array and the routine's own stack frame.
//! - Registers: the routines follow the AAPCS: they save and restore `r4`–`r11` and
//!   return through the saved `lr`; `r0`–`r3`, `r12` and the flags are caller-saved.
//! - Alignment: weights are read bytewise (`LDRB`/`LDRSB`, no alignment needed);
//!   activations with `LDRSH` at even addresses (`x` is an `i16` slice, so 2-aligned); the
//!   output array is an `[i32; 4]` (4-aligned for `STR`). Armv6-M faults on any unaligned
//!   access, so nothing wider is used.
//! - Target: only Armv6-M Thumb-1 instructions; the cfg keeps this module off every other
//!   target.

use core::arch::global_asm;

/// Rows per call of [`dot2_s16_s16_s64`].
pub(super) const ROWS_S16: usize = 2;
/// Rows per call of [`dot4_s8_s16_s64`].
pub(super) const ROWS_S8: usize = 4;
/// Columns per assembly call (see the module docs).
const SPAN: usize = 256;

// r0 = row 0 (its first column of the span), r1 = row stride in bytes, r2 = x (first
// column of the span), r3 = n ≥ 1 columns; the output pointer is the fifth argument, on
// the stack. Low registers in the loop: r0–r3 the four rows' span ends, r4 the end of x,
// r5 the index k (−n … −1), r6 the activation, r7 the weight / product.
global_asm!(
    ".section .text.neuroloop_core_v6m_dot4_s8,\"ax\",%progbits",
    ".p2align 2",
    ".global neuroloop_core_v6m_dot4_s8",
    ".hidden neuroloop_core_v6m_dot4_s8",
    ".type neuroloop_core_v6m_dot4_s8,%function",
    ".thumb_func",
    "neuroloop_core_v6m_dot4_s8:",
    "push {{r4, r5, r6, r7, lr}}",
    "mov r4, r8",
    "mov r5, r9",
    "mov r6, r10",
    "mov r7, r11",
    "push {{r4, r5, r6, r7}}",
    "adds r4, r2, r3",
    "adds r4, r4, r3",
    "rsbs r5, r3, #0",
    "adds r0, r0, r3",
    "mov r6, r1",
    "adds r1, r0, r6",
    "adds r2, r1, r6",
    "adds r3, r2, r6",
    "movs r6, #0",
    "mov r8, r6",
    "mov r9, r6",
    "mov r10, r6",
    "mov r11, r6",
    "2:",
    "adds r7, r5, r5",
    "ldrsh r6, [r4, r7]",
    "ldrsb r7, [r0, r5]",
    "muls r7, r6, r7",
    "add r8, r7",
    "ldrsb r7, [r1, r5]",
    "muls r7, r6, r7",
    "add r9, r7",
    "ldrsb r7, [r2, r5]",
    "muls r7, r6, r7",
    "add r10, r7",
    "ldrsb r7, [r3, r5]",
    "muls r7, r6, r7",
    "add r11, r7",
    "adds r5, r5, #1",
    "bne 2b",
    "ldr r0, [sp, #36]",
    "mov r1, r8",
    "str r1, [r0, #0]",
    "mov r1, r9",
    "str r1, [r0, #4]",
    "mov r1, r10",
    "str r1, [r0, #8]",
    "mov r1, r11",
    "str r1, [r0, #12]",
    "pop {{r4, r5, r6, r7}}",
    "mov r8, r4",
    "mov r9, r5",
    "mov r10, r6",
    "mov r11, r7",
    "pop {{r4, r5, r6, r7, pc}}",
    ".size neuroloop_core_v6m_dot4_s8, . - neuroloop_core_v6m_dot4_s8",
);

// Same arguments (stride and n as above, i16 weights: 2 bytes per column). Low registers:
// r0/r1 row 0's span end for its low/high bytes, r2/r3 row 1's, r4 the end of x, r5 the
// byte index k (−2n … −2, shared by weights and activations), r6 the activation, r7 the
// byte / product. Output: [Σlo·x, Σhi·x] of row 0, then of row 1.
global_asm!(
    ".section .text.neuroloop_core_v6m_dot2_s16,\"ax\",%progbits",
    ".p2align 2",
    ".global neuroloop_core_v6m_dot2_s16",
    ".hidden neuroloop_core_v6m_dot2_s16",
    ".type neuroloop_core_v6m_dot2_s16,%function",
    ".thumb_func",
    "neuroloop_core_v6m_dot2_s16:",
    "push {{r4, r5, r6, r7, lr}}",
    "mov r4, r8",
    "mov r5, r9",
    "mov r6, r10",
    "mov r7, r11",
    "push {{r4, r5, r6, r7}}",
    "lsls r5, r3, #1",
    "adds r4, r2, r5",
    "adds r0, r0, r5",
    "adds r2, r0, r1",
    "adds r1, r0, #1",
    "adds r3, r2, #1",
    "rsbs r5, r5, #0",
    "movs r6, #0",
    "mov r8, r6",
    "mov r9, r6",
    "mov r10, r6",
    "mov r11, r6",
    "2:",
    "ldrsh r6, [r4, r5]",
    "ldrb r7, [r0, r5]",
    "muls r7, r6, r7",
    "add r8, r7",
    "ldrsb r7, [r1, r5]",
    "muls r7, r6, r7",
    "add r9, r7",
    "ldrb r7, [r2, r5]",
    "muls r7, r6, r7",
    "add r10, r7",
    "ldrsb r7, [r3, r5]",
    "muls r7, r6, r7",
    "add r11, r7",
    "adds r5, r5, #2",
    "bne 2b",
    "ldr r0, [sp, #36]",
    "mov r1, r8",
    "str r1, [r0, #0]",
    "mov r1, r9",
    "str r1, [r0, #4]",
    "mov r1, r10",
    "str r1, [r0, #8]",
    "mov r1, r11",
    "str r1, [r0, #12]",
    "pop {{r4, r5, r6, r7}}",
    "mov r8, r4",
    "mov r9, r5",
    "mov r10, r6",
    "mov r11, r7",
    "pop {{r4, r5, r6, r7, pc}}",
    ".size neuroloop_core_v6m_dot2_s16, . - neuroloop_core_v6m_dot2_s16",
);

extern "C" {
    fn neuroloop_core_v6m_dot4_s8(
        w: *const u8,
        stride: usize,
        x: *const i16,
        n: usize,
        out: *mut [i32; 4],
    );
    fn neuroloop_core_v6m_dot2_s16(
        w: *const u8,
        stride: usize,
        x: *const i16,
        n: usize,
        out: *mut [i32; 4],
    );
}

/// Four consecutive rows (row stride `cols` bytes) of `i8` weights against `x`, in spans
/// of at most [`SPAN`] columns.
///
/// `w` must hold `4·cols` weights and `x` at least `cols` values; otherwise the rows go
/// through the portable single-row kernel (same results).
#[inline]
pub(super) fn dot4_s8_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; ROWS_S8] {
    if w.len() < ROWS_S8 * cols || x.len() < cols {
        return core::array::from_fn(|r| {
            let row = w.get(r * cols..).unwrap_or(&[]);
            super::dot_s8_s16_s64_portable(&row[..cols.min(row.len())], x)
        });
    }
    let mut total = [0i64; ROWS_S8];
    let mut start = 0;
    if cols <= SPAN && cols > 0 {
        let mut out = [0i32; 4];
        // SAFETY: as in the loop below with `start = 0`, `n = cols`.
        unsafe { neuroloop_core_v6m_dot4_s8(w.as_ptr(), cols, x.as_ptr(), cols, &mut out) };
        return out.map(|a| a as i64);
    }
    while start < cols {
        let n = (cols - start).min(SPAN);
        let mut out = [0i32; 4];
        // SAFETY: see the module docs: `1 ≤ n`, `start + n ≤ cols`, so each of the four
        // rows `w[r·cols + start ..][..n]` lies inside `w[..4·cols]` (checked above) and
        // `x[start..start + n]` inside `x`; `out` is a live, aligned `[i32; 4]`.
        unsafe {
            neuroloop_core_v6m_dot4_s8(w[start..].as_ptr(), cols, x[start..].as_ptr(), n, &mut out);
        }
        for (t, a) in total.iter_mut().zip(out) {
            *t += a as i64;
        }
        start += n;
    }
    total
}

/// Two consecutive rows (row stride `2·cols` bytes) of `i16` weights against `x`, weights
/// split into bytes, in spans of at most [`SPAN`] columns.
///
/// `w` must hold `2·cols` weights per row for both rows and `x` at least `cols` values;
/// otherwise the rows go through the portable single-row kernel (same results).
#[inline]
pub(super) fn dot2_s16_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; ROWS_S16] {
    let stride = 2 * cols;
    if w.len() < ROWS_S16 * stride || x.len() < cols {
        return core::array::from_fn(|r| {
            let row = w.get(r * stride..).unwrap_or(&[]);
            super::dot_s16_s16_s64_portable(&row[..stride.min(row.len())], x)
        });
    }
    let mut total = [0i64; ROWS_S16];
    let mut start = 0;
    if cols <= SPAN && cols > 0 {
        let mut out = [0i32; 4];
        // SAFETY: as in the loop below with `start = 0`, `n = cols`.
        unsafe { neuroloop_core_v6m_dot2_s16(w.as_ptr(), stride, x.as_ptr(), cols, &mut out) };
        return [
            ((out[1] as i64) << 8) + out[0] as i64,
            ((out[3] as i64) << 8) + out[2] as i64,
        ];
    }
    while start < cols {
        let n = (cols - start).min(SPAN);
        let mut out = [0i32; 4];
        // SAFETY: see the module docs: `1 ≤ n`, `start + n ≤ cols`, so both rows'
        // `w[r·stride + 2·start ..][..2n]` lie inside `w[..2·stride]` (checked above) and
        // `x[start..start + n]` inside `x`; `out` is a live, aligned `[i32; 4]`.
        unsafe {
            neuroloop_core_v6m_dot2_s16(
                w[2 * start..].as_ptr(),
                stride,
                x[start..].as_ptr(),
                n,
                &mut out,
            );
        }
        total[0] += ((out[1] as i64) << 8) + out[0] as i64;
        total[1] += ((out[3] as i64) << 8) + out[2] as i64;
        start += n;
    }
    total
}
