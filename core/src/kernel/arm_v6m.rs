//! Cortex-M0/M0+ (Armv6-M, Thumb-1: the RP2040) multi-row kernels, hand-written in
//! assembly (`global_asm!`).
//!
//! Written by hand because the compiler's code for the portable two-row loops spends most
//! of its instructions on bookkeeping: Thumb-1 has 8 low registers, and LLVM keeps the
//! accumulators there and spills. Every load, multiply and flag-setting add needs low
//! registers, so each loop keeps exactly its operands, pointers and flag-checked
//! accumulators in `r0`–`r7` and everything else in high registers (`r8`–`r11`, reachable
//! by `ADD` and `MOV`); each activation is loaded once per group of rows.
//! - `i8` weights, 4 rows: per weight `LDRSB` (register offset), `MULS`, `ADD` into a
//!   high-register accumulator; the loop is unrolled four times (one loop-end branch per
//!   four columns).
//! - `i16` weights, 2 rows, 2-aligned (checked per call: `LDRSH` faults on odd
//!   addresses, and blob weights carry no alignment of their own): per weight `LDRSH`,
//!   `MULS`, `ADDS` into the row's low word, and `BVS` to an out-of-line fix-up that is
//!   not taken unless the low word overflowed; the loop is unrolled four times (one
//!   loop-end branch per four columns), about 5.1 instructions per MAC against 7.5 for
//!   the byte split below.
//! - `i16` weights at an odd address: split into bytes, as in `kernel/portable.rs`.
//!
//! Built only for `thumbv6m-*` (`cfg(neuroloop_arm_v6m)`, set by `core/build.rs`).
//!
//! # Exactness
//! `MULS` keeps the low 32 bits of the product; every product here fits `i32`, so it is
//! the product itself (`|w·x| ≤ 2^15·2^15 = 2^30`).
//! - `i8` weights: `|w·x| ≤ 2^7·2^15 = 2^22`, so a span of [`SPAN`] = 256 columns sums to
//!   at most 2^30; the callers run each assembly call over at most 256 columns and widen
//!   to `i64` after it.
//! - `i16` weights, aligned (full products, any length): each row keeps a low word `lo`
//!   (`i32`, in a low register) and a high word `hi` (in `r8`/`r9`) with the invariant
//!   `S = hi·2^32 + lo` for the exact running sum `S`, starting at 0 = 0. Adding a product
//!   `p` with `ADDS lo, p` either does not overflow (then `lo + p` is exact and the
//!   invariant holds) or sets V: then `lo + p` lies outside `i32` by less than 2^32
//!   (`|lo| ≤ 2^31`, `|p| ≤ 2^30`), so the register holds `lo + p − sign(p)·2^32`, and the
//!   fix-up adds `sign(p)` (`p ≠ 0`, as it overflowed: `2·(p >> 31) + 1`, i.e. +1 or −1)
//!   to `hi`. One `ADDS` wraps at most once, so the invariant holds after every column,
//!   and the caller forms `hi·2^32 + lo` in `i64` (`|hi| ≤ n`). No span limit is needed.
//!   The firmware's kernel self-test runs sums that cross ±2^31 upwards and downwards
//!   every 32 columns (`firmware/app/src/selftest.rs`, run on the QEMU Cortex-M0 by
//!   `tests/tests/bench_qemu.rs`); it fails if the fix-up's sign is flipped.
//! - `i16` weights, odd address, split into bytes (`w = 256·hi + lo`, `hi` signed, `lo`
//!   unsigned): `|hi·x| ≤ 2^22` and `|lo·x| ≤ 255·2^15 < 2^23`, 256 of them < 2^31; the
//!   row's sum is `256·Σhi·x + Σlo·x`, formed in `i64` per span of 256 columns.
//!
//! # Safety argument (the three `extern "C"` calls below)
//! - Memory: each routine reads `n` columns (`n ≥ 1`, checked by the caller) of each of
//!   its rows through `base_r + k` with the byte index `k` running from `−n·size` up to 0,
//!   the bases being the end of the span in each row (`w + r·stride + n·size`), and `n`
//!   activations through `x + 2n + 2k'`. The callers check that `w` holds every row of
//!   the group in full (`rows·stride` bytes, each span inside its row) and that `x` holds
//!   `cols` values, so every byte read lies inside the argument slices. The only memory
//!   written is the caller's `[i32; 4]` output array and the routine's own stack frame.
//! - Registers: the routines follow the AAPCS: they save and restore the `r4`–`r11` they
//!   use and return through the saved `lr`; `r0`–`r3`, `r12` and the flags are
//!   caller-saved.
//! - Alignment: `i8` and split `i16` weights are read bytewise (`LDRB`/`LDRSB`, no
//!   alignment needed); aligned `i16` weights with `LDRSH` only when the caller has checked
//!   that `w` is 2-aligned (the row stride `2·cols` is even, so every row is too);
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

/// One column of [`neuroloop_core_v6m_dot4_s8`]'s loop, copy `$c` (0–3): the activation
/// loaded once (byte index doubled for it), then per row `LDRSB`, `MULS`, `ADD` into the
/// row's high-register accumulator, then the index step.
#[rustfmt::skip]
macro_rules! s8_column {
    ($c:literal) => {
        concat!(
            ".Lnl_s8_c", $c, ":\n",
            "adds r7, r5, r5\n",
            "ldrsh r6, [r4, r7]\n",
            "ldrsb r7, [r0, r5]\n",
            "muls r7, r6, r7\n",
            "add r8, r7\n",
            "ldrsb r7, [r1, r5]\n",
            "muls r7, r6, r7\n",
            "add r9, r7\n",
            "ldrsb r7, [r2, r5]\n",
            "muls r7, r6, r7\n",
            "add r10, r7\n",
            "ldrsb r7, [r3, r5]\n",
            "muls r7, r6, r7\n",
            "add r11, r7\n",
            "adds r5, r5, #1",
        )
    };
}

// r0 = row 0 (its first column of the span), r1 = row stride in bytes, r2 = x (first
// column of the span), r3 = n ≥ 1 columns; the output pointer is the fifth argument, on
// the stack. Low registers in the loop: r0–r3 the four rows' span ends, r4 the end of x,
// r5 the index k (−n … −1), r6 the activation, r7 the weight / product; r8–r11 the four
// sums. The loop body is unrolled four times; the entry jumps into it so that n mod 4
// columns run before the first pass over the loop end.
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
    "movs r7, #3",
    "ands r7, r3",
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
    // n mod 4: 0 → copy 0, 3 → copy 1, 2 → copy 2, 1 → copy 3.
    "cmp r7, #2",
    "beq .Lnl_s8_c2",
    "bhi .Lnl_s8_c1",
    "cmp r7, #1",
    "beq .Lnl_s8_c3",
    s8_column!("0"),
    s8_column!("1"),
    s8_column!("2"),
    s8_column!("3"),
    "bne .Lnl_s8_c0",
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

/// One column of [`neuroloop_core_v6m_dot2_s16h`]'s loop, copy `$c` (0–3): the activation
/// loaded once, then per row `LDRSH`, `MULS`, `ADDS` into the row's low word and `BVS` to
/// the row's fix-up (never taken unless the low word overflows), then the index step.
#[rustfmt::skip]
macro_rules! s16h_column {
    ($c:literal) => {
        concat!(
            ".Lnl_s16h_c", $c, ":\n",
            "ldrsh r6, [r2, r3]\n",
            "ldrsh r7, [r0, r3]\n",
            "muls r7, r6, r7\n",
            "adds r4, r4, r7\n",
            "bvs .Lnl_s16h_f0", $c, "\n",
            ".Lnl_s16h_r1", $c, ":\n",
            "ldrsh r7, [r1, r3]\n",
            "muls r7, r6, r7\n",
            "adds r5, r5, r7\n",
            "bvs .Lnl_s16h_f1", $c, "\n",
            ".Lnl_s16h_n", $c, ":\n",
            "adds r3, r3, #2",
        )
    };
}

/// The two overflow fix-ups of column copy `$c`: `r7` still holds the product `p` whose
/// `ADDS` overflowed; add `sign(p)` (`2·(p >> 31) + 1`) to the row's high word and go
/// back to where the column continues.
#[rustfmt::skip]
macro_rules! s16h_fixups {
    ($c:literal) => {
        concat!(
            ".Lnl_s16h_f0", $c, ":\n",
            "asrs r7, r7, #31\n",
            "lsls r7, r7, #1\n",
            "adds r7, r7, #1\n",
            "add r8, r7\n",
            "b .Lnl_s16h_r1", $c, "\n",
            ".Lnl_s16h_f1", $c, ":\n",
            "asrs r7, r7, #31\n",
            "lsls r7, r7, #1\n",
            "adds r7, r7, #1\n",
            "add r9, r7\n",
            "b .Lnl_s16h_n", $c,
        )
    };
}

// Aligned i16 weights, full products: r0 = row 0 (its first column, 2-aligned), r1 = row
// stride in bytes, r2 = x, r3 = n ≥ 1 columns, output pointer fifth (on the stack). Low
// registers in the loop: r0/r1 the two rows' ends, r2 the end of x, r3 the byte index k
// (−2n … −2, shared by weights and activations), r4/r5 the rows' low words, r6 the
// activation, r7 the weight / product; r8/r9 the rows' high words (overflow counts). The
// loop body is unrolled four times; the entry jumps into it so that n mod 4 columns run
// before the first pass over the loop end. Output: [low, high] of row 0, then of row 1.
global_asm!(
    ".section .text.neuroloop_core_v6m_dot2_s16h,\"ax\",%progbits",
    ".p2align 2",
    ".global neuroloop_core_v6m_dot2_s16h",
    ".hidden neuroloop_core_v6m_dot2_s16h",
    ".type neuroloop_core_v6m_dot2_s16h,%function",
    ".thumb_func",
    "neuroloop_core_v6m_dot2_s16h:",
    "push {{r4, r5, r6, r7, lr}}",
    "mov r4, r8",
    "mov r5, r9",
    "push {{r4, r5}}",
    "lsls r3, r3, #1",
    "adds r2, r2, r3",
    "adds r0, r0, r3",
    "adds r1, r0, r1",
    "lsrs r6, r3, #1",
    "movs r7, #3",
    "ands r6, r7",
    "rsbs r3, r3, #0",
    "movs r4, #0",
    "movs r5, #0",
    "mov r8, r4",
    "mov r9, r4",
    // n mod 4: 0 → copy 0, 3 → copy 1, 2 → copy 2, 1 → copy 3.
    "cmp r6, #2",
    "beq .Lnl_s16h_c2",
    "bhi .Lnl_s16h_c1",
    "cmp r6, #1",
    "beq .Lnl_s16h_c3",
    s16h_column!("0"),
    s16h_column!("1"),
    s16h_column!("2"),
    s16h_column!("3"),
    "bne .Lnl_s16h_c0",
    "ldr r0, [sp, #28]",
    "str r4, [r0, #0]",
    "mov r1, r8",
    "str r1, [r0, #4]",
    "str r5, [r0, #8]",
    "mov r1, r9",
    "str r1, [r0, #12]",
    "pop {{r4, r5}}",
    "mov r8, r4",
    "mov r9, r5",
    "pop {{r4, r5, r6, r7, pc}}",
    s16h_fixups!("0"),
    s16h_fixups!("1"),
    s16h_fixups!("2"),
    s16h_fixups!("3"),
    ".size neuroloop_core_v6m_dot2_s16h, . - neuroloop_core_v6m_dot2_s16h",
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
    fn neuroloop_core_v6m_dot2_s16h(
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

/// Two consecutive rows (row stride `2·cols` bytes) of `i16` weights against `x`: full
/// products with the overflow fix-up if the weights are 2-aligned, otherwise weights split
/// into bytes in spans of at most [`SPAN`] columns (see the module docs).
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
    if cols == 0 {
        return [0; ROWS_S16];
    }
    if w.as_ptr() as usize % 2 == 0 {
        let mut out = [0i32; 4];
        // SAFETY: see the module docs: `1 ≤ cols`, both rows `w[r·stride..][..stride]` lie
        // inside `w[..2·stride]` (checked above) and start 2-aligned (`w` is, `stride` is
        // even), `x[..cols]` lies inside `x`; `out` is a live, aligned `[i32; 4]`.
        unsafe { neuroloop_core_v6m_dot2_s16h(w.as_ptr(), stride, x.as_ptr(), cols, &mut out) };
        // Each row: high word · 2^32 + signed low word.
        return [
            ((out[1] as i64) << 32) + out[0] as i64,
            ((out[3] as i64) << 32) + out[2] as i64,
        ];
    }
    if cols <= SPAN {
        let mut out = [0i32; 4];
        // SAFETY: as in the loop below with `start = 0`, `n = cols`.
        unsafe { neuroloop_core_v6m_dot2_s16(w.as_ptr(), stride, x.as_ptr(), cols, &mut out) };
        return [
            ((out[1] as i64) << 8) + out[0] as i64,
            ((out[3] as i64) << 8) + out[2] as i64,
        ];
    }
    let mut total = [0i64; ROWS_S16];
    let mut start = 0;
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
        // Each row: 256 · Σ high bytes · x + Σ low bytes · x.
        total[0] += ((out[1] as i64) << 8) + out[0] as i64;
        total[1] += ((out[3] as i64) << 8) + out[2] as i64;
        start += n;
    }
    total
}
