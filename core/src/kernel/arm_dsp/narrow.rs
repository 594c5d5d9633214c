//! The narrow multi-row kernels of the Cortex-M4/M7 DSP path: matrices of 1 to 7 columns
//! (`W_in` with a few inputs), in `global_asm!`, one routine per column count and weight
//! type (`neuroloop_core_dsp_narrow_s16_<cols>`, `neuroloop_core_dsp_narrow_s8_<cols>`),
//! with the Rust wrapper that picks one. The safety argument is in the parent module's
//! docs (`kernel/arm_dsp.rs`: "Narrow kernels").
//!
//! Written by hand for measured speed: the compiler's unrolled row loop (`small_rows_n`
//! in `kernel/mod.rs`, the portable form) takes about 7 instructions a row for 2 `i16`
//! columns (8 for `i8`) behind a longer dispatch. Here the activations stay in registers
//! for every row and two rows share a loop test, so a row of `c` columns is `⌈c/2⌉`
//! `LDR` + `SMLALD` pairs (`i16`; an odd last column `LDRSH` + `SMLALBB`) or `c`
//! `LDRSB` and `SMLABB` pairs (`i8`, an `i32` sum: at most 7 products of magnitude ≤
//! 2^22), plus the store and half the loop test: 6 (`i16`) or 7 (`i8`) instructions a row
//! for 2 columns.

use core::arch::global_asm;

// One routine per column count: r0 = row 0 of the weights (any alignment: `LDR`,
// `LDRSH`, `LDRSB` only), r1 = the `cols` activations (2-aligned), r2 = out (8-aligned
// `i64`s), r3 = the end of `out` (past the last row, `rows ≥ 1`). The activations are
// loaded once into r4–r7 (`i16`: pairs, the odd last one sign-extended in r7) or r4–r7,
// r10–r12 (`i8`: one each); the row loop, two rows per iteration (an odd count runs one
// row first; r1 is free once the activations are loaded), sums into r8:r9 (`i16`) or r8
// (`i8`, then sign-extended into r9) and stores with `STRD`.
global_asm!(
    // One row into r8:r9, stored; the weight and output pointers advance.
    ".macro nl_narrow_row cols, s8",
    ".if \\s8",
    "ldrsb lr, [r0], #1",
    "smulbb r8, lr, r4",
    ".if \\cols >= 2",
    "ldrsb lr, [r0], #1",
    "smlabb r8, lr, r5, r8",
    ".endif",
    ".if \\cols >= 3",
    "ldrsb lr, [r0], #1",
    "smlabb r8, lr, r6, r8",
    ".endif",
    ".if \\cols >= 4",
    "ldrsb lr, [r0], #1",
    "smlabb r8, lr, r7, r8",
    ".endif",
    ".if \\cols >= 5",
    "ldrsb lr, [r0], #1",
    "smlabb r8, lr, r10, r8",
    ".endif",
    ".if \\cols >= 6",
    "ldrsb lr, [r0], #1",
    "smlabb r8, lr, r11, r8",
    ".endif",
    ".if \\cols >= 7",
    "ldrsb lr, [r0], #1",
    "smlabb r8, lr, r12, r8",
    ".endif",
    "asr r9, r8, #31",
    ".else",
    "movs r8, #0",
    "movs r9, #0",
    ".if \\cols >= 2",
    "ldr lr, [r0], #4",
    "smlald r8, r9, lr, r4",
    ".endif",
    ".if \\cols >= 4",
    "ldr lr, [r0], #4",
    "smlald r8, r9, lr, r5",
    ".endif",
    ".if \\cols >= 6",
    "ldr lr, [r0], #4",
    "smlald r8, r9, lr, r6",
    ".endif",
    ".if \\cols % 2",
    "ldrsh lr, [r0], #2",
    "smlalbb r8, r9, lr, r7",
    ".endif",
    ".endif",
    "strd r8, r9, [r2], #8",
    ".endm",
    ".macro nl_narrow_fn name, cols, s8",
    asm_fn_begin!("\\name"),
    "push {{r4, r5, r6, r7, r8, r9, r10, r11, lr}}",
    ".if \\s8",
    "ldrsh r4, [r1]",
    ".if \\cols >= 2",
    "ldrsh r5, [r1, #2]",
    ".endif",
    ".if \\cols >= 3",
    "ldrsh r6, [r1, #4]",
    ".endif",
    ".if \\cols >= 4",
    "ldrsh r7, [r1, #6]",
    ".endif",
    ".if \\cols >= 5",
    "ldrsh r10, [r1, #8]",
    ".endif",
    ".if \\cols >= 6",
    "ldrsh r11, [r1, #10]",
    ".endif",
    ".if \\cols >= 7",
    "ldrsh r12, [r1, #12]",
    ".endif",
    ".else",
    ".if \\cols >= 2",
    "ldr r4, [r1]",
    ".endif",
    ".if \\cols >= 4",
    "ldr r5, [r1, #4]",
    ".endif",
    ".if \\cols >= 6",
    "ldr r6, [r1, #8]",
    ".endif",
    ".if \\cols % 2",
    "ldrsh r7, [r1, #(2 * (\\cols - 1))]",
    ".endif",
    ".endif",
    // Two rows per iteration; an odd row count runs one row first.
    "sub r1, r3, r2",
    "tst r1, #8",
    "beq 1f",
    "nl_narrow_row \\cols, \\s8",
    "cmp r2, r3",
    "beq 9f",
    "1:",
    "nl_narrow_row \\cols, \\s8",
    "nl_narrow_row \\cols, \\s8",
    "cmp r2, r3",
    "bne 1b",
    "9:",
    "pop {{r4, r5, r6, r7, r8, r9, r10, r11, pc}}",
    asm_fn_end!("\\name"),
    ".endm",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s16_1, 1, 0",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s16_2, 2, 0",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s16_3, 3, 0",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s16_4, 4, 0",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s16_5, 5, 0",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s16_6, 6, 0",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s16_7, 7, 0",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s8_1, 1, 1",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s8_2, 2, 1",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s8_3, 3, 1",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s8_4, 4, 1",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s8_5, 5, 1",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s8_6, 6, 1",
    "nl_narrow_fn neuroloop_core_dsp_narrow_s8_7, 7, 1",
    ".purgem nl_narrow_fn",
    ".purgem nl_narrow_row",
);

/// A narrow routine: (row 0, activations, out, end of out).
type Narrow = unsafe extern "C" fn(*const u8, *const i16, *mut i64, *mut i64);

extern "C" {
    fn neuroloop_core_dsp_narrow_s16_1(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s16_2(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s16_3(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s16_4(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s16_5(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s16_6(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s16_7(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s8_1(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s8_2(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s8_3(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s8_4(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s8_5(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s8_6(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
    fn neuroloop_core_dsp_narrow_s8_7(w: *const u8, x: *const i16, out: *mut i64, end: *mut i64);
}

/// The rows of a matrix of `cols` columns (1..=7) of `size`-byte weights (1: `i8`, 2:
/// `i16`) that `w` holds in full, against `x[..cols]`, into `out`; returns how many
/// leading rows of `out` it wrote (0 for any other column count or size, or `x` shorter
/// than `cols`: the caller's general path takes them).
pub(in crate::kernel) fn narrow_rows(
    w: &[u8],
    cols: usize,
    size: usize,
    x: &[i16],
    out: &mut [i64],
) -> usize {
    let f: Narrow = match (size, cols) {
        (2, 1) => neuroloop_core_dsp_narrow_s16_1,
        (2, 2) => neuroloop_core_dsp_narrow_s16_2,
        (2, 3) => neuroloop_core_dsp_narrow_s16_3,
        (2, 4) => neuroloop_core_dsp_narrow_s16_4,
        (2, 5) => neuroloop_core_dsp_narrow_s16_5,
        (2, 6) => neuroloop_core_dsp_narrow_s16_6,
        (2, 7) => neuroloop_core_dsp_narrow_s16_7,
        (1, 1) => neuroloop_core_dsp_narrow_s8_1,
        (1, 2) => neuroloop_core_dsp_narrow_s8_2,
        (1, 3) => neuroloop_core_dsp_narrow_s8_3,
        (1, 4) => neuroloop_core_dsp_narrow_s8_4,
        (1, 5) => neuroloop_core_dsp_narrow_s8_5,
        (1, 6) => neuroloop_core_dsp_narrow_s8_6,
        (1, 7) => neuroloop_core_dsp_narrow_s8_7,
        _ => return 0,
    };
    if x.len() < cols {
        return 0;
    }
    let rows = out.len().min(w.len() / (size * cols));
    if rows == 0 {
        return 0;
    }
    let out = &mut out[..rows];
    let end = out.as_mut_ptr_range().end;
    // SAFETY: see "Narrow kernels" in the `arm_dsp` module docs: the routine reads
    // `x[..cols]` (`x.len() ≥ cols`, 2-aligned `i16`s) and, for each of the `rows ≥ 1`
    // rows, the row's `size·cols` weight bytes one after the other from `w`'s start
    // (`rows·size·cols ≤ w.len()`, single-register loads of any alignment), and writes
    // `out[..rows]` (8-aligned `i64`s, `STRD`), stopping at `end`; nothing else but its
    // stack frame; AAPCS.
    unsafe { f(w.as_ptr(), x.as_ptr(), out.as_mut_ptr(), end) };
    rows
}
