//! The aligned (`LDM`) multi-row kernels and the leaky cell's row update of the
//! Cortex-M4/M7 DSP path, in `global_asm!` (all of r0–r12 and lr), with the small Rust
//! wrappers that check their preconditions. What they compute, why it is exact and the
//! safety argument of every `unsafe` block here are in the parent module's docs
//! (`kernel/arm_dsp.rs`: "Aligned kernels", "The leaky row update").

use core::arch::global_asm;
use core::mem::MaybeUninit;
// Aligned multi-row `i16` kernel (`global_asm!`: all of r0–r12 and lr are free).
//
// r0 = row 0 of the group (4-aligned), r1 = x (4-aligned), r2 = out (`rows` i64s),
// r3 = params `[rows ≥ 1, skip, n32, n8, n64]`: per row `n32` iterations of 32 columns
// then `n8` of 8 columns (`4·n32 + n8 ≥ 1` blocks), then `skip` bytes to the next row
// start; or, with `n64 ≥ 1` (rows of whole 64-column iterations one after the other, see
// [`rows_s16_aligned`]), `n64` iterations of 64 columns in the short row loop at 7:.
// Frame: [sp] x, [sp, #4] rows left, [sp, #8] skip, [sp, #12] n32, [sp, #16] n8,
// [sp, #20] n64, [sp, #24] two zero words (the accumulator's start), [sp, #32] the end of
// `out`. In the loop: r0 the weights, r1 the activations, r2:r3 the accumulator, r4–r7
// four activation words, r8–r10 and r12 four weight words, r11 the output pointer, lr the
// iteration count.
global_asm!(
    // 8 columns: 8 activations and 8 weights (two `LDM`s), four `SMLALD`.
    ".macro nl_rows_s16_8cols",
    "ldm r1!, {{r4, r5, r6, r7}}",
    "ldm r0!, {{r8, r9, r10, r12}}",
    "smlald r2, r3, r8, r4",
    "smlald r2, r3, r9, r5",
    "smlald r2, r3, r10, r6",
    "smlald r2, r3, r12, r7",
    ".endm",
    // 32 columns and the count (`LDM`/`SMLALD` leave the flags `SUBS` set).
    ".macro nl_rows_s16_32cols",
    ".rept 3",
    "nl_rows_s16_8cols",
    ".endr",
    "subs lr, lr, #1",
    "nl_rows_s16_8cols",
    ".endm",
    asm_fn_begin!("neuroloop_core_dsp_rows_s16"),
    "push {{r4, r5, r6, r7, r8, r9, r10, r11, lr}}",
    "sub sp, sp, #40",
    "ldm r3, {{r4, r5, r6, r7, r8}}",
    "str r1, [sp]",
    "str r4, [sp, #4]",
    "str r5, [sp, #8]",
    "str r6, [sp, #12]",
    "str r7, [sp, #16]",
    "str r8, [sp, #20]",
    "movs r9, #0",
    "movs r10, #0",
    "strd r9, r10, [sp, #24]",
    "add r9, r2, r4, lsl #3",
    "str r9, [sp, #32]",
    "mov r11, r2",
    "cmp r8, #0",
    "beq 1f",
    "7:",
    "ldr r1, [sp]",
    "ldrd r2, r3, [sp, #24]",
    "ldr lr, [sp, #20]",
    "8:",
    ".rept 7",
    "nl_rows_s16_8cols",
    ".endr",
    "subs lr, lr, #1",
    "nl_rows_s16_8cols",
    "bne 8b",
    "strd r2, r3, [r11], #8",
    "ldr r4, [sp, #32]",
    "cmp r11, r4",
    "bne 7b",
    "b 9f",
    "1:",
    "ldr r1, [sp]",
    "ldrd r2, r3, [sp, #24]",
    "ldr lr, [sp, #12]",
    "cmp lr, #0",
    "beq 3f",
    "2:",
    "nl_rows_s16_32cols",
    "bne 2b",
    "3:",
    "ldr lr, [sp, #16]",
    "cmp lr, #0",
    "beq 5f",
    "4:",
    "subs lr, lr, #1",
    "nl_rows_s16_8cols",
    "bne 4b",
    "5:",
    "strd r2, r3, [r11], #8",
    "ldr r4, [sp, #8]",
    "add r0, r0, r4",
    "ldr r4, [sp, #4]",
    "subs r4, r4, #1",
    "str r4, [sp, #4]",
    "bne 1b",
    "9:",
    "add sp, sp, #40",
    "pop {{r4, r5, r6, r7, r8, r9, r10, r11, pc}}",
    ".purgem nl_rows_s16_32cols",
    ".purgem nl_rows_s16_8cols",
    asm_fn_end!("neuroloop_core_dsp_rows_s16"),
);

extern "C" {
    fn neuroloop_core_dsp_rows_s16(
        w: *const u8,
        x: *const i16,
        out: *mut i64,
        params: *const [u32; 5],
    );
}

/// Columns per iteration of the aligned kernels' short loop.
const ABLOCK: usize = 8;

/// The `n64` parameter of the aligned kernels: rows that are whole 64-column iterations,
/// one after the other (`plain`: no partial block, no gap between rows, nothing added to
/// `out`, and an even number `n32` of 32-column iterations) take the short row loop, `n32
/// / 2` iterations of 64 columns with 8 instructions of row overhead; 0 selects the
/// general loop.
fn short_loop(plain: bool, n32: usize) -> u32 {
    if plain && n32 % 2 == 0 {
        (n32 / 2) as u32
    } else {
        0
    }
}

/// The aligned fast path of [`crate::kernel::dot_rows_s16_s16_s64`] (`x` already cut to `cols`):
/// rows whose weights and activations can be read with `LDM` (4-aligned, after peeling
/// column 0 when both start at 2 mod 4; the row stride a multiple of 4 bytes), summed
/// with `SMLALD` 8 columns per `LDM` pair; returns how many leading rows of `out` it
/// wrote (0: none, the caller's general path takes them all).
pub(in crate::kernel) fn rows_s16_aligned(
    w: &[u8],
    cols: usize,
    x: &[i16],
    out: &mut [i64],
) -> usize {
    let stride = 2 * cols;
    // Columns peeled so that both pointers are 4-aligned (0 or 1).
    let peel = (x.as_ptr() as usize & 2) >> 1;
    let aligned = (w.as_ptr() as usize ^ x.as_ptr() as usize) & 3 == 0;
    if !aligned || stride % 4 != 0 || x.len() < cols || cols < peel + ABLOCK {
        return 0;
    }
    let rows = out.len().min(w.len() / stride);
    if rows == 0 {
        return 0;
    }
    let blocks = (cols - peel) / ABLOCK;
    let done = peel + ABLOCK * blocks;
    let (skip, n32, n8) = (stride - 2 * ABLOCK * blocks, blocks / 4, blocks % 4);
    let params = [
        rows as u32,
        skip as u32,
        n32 as u32,
        n8 as u32,
        short_loop(skip == 0 && n8 == 0, n32),
    ];
    // SAFETY: see "Aligned kernels" in the `arm_dsp` module docs: row r is read at
    // `w + r·stride + 2·peel` for `16·blocks ≤ stride − 2·peel` bytes, inside
    // `w[..rows·stride]` (`rows ≤ w.len() / stride`); `x` for columns `peel .. done ≤ cols ≤
    // x.len()`; both start 4-aligned (`w ≡ x (mod 4)`, and `x + peel` is 4-aligned,
    // `stride ≡ 0 (mod 4)`); `out` holds `rows` `i64`s (8-aligned for `STRD`); `blocks ≥ 1`.
    unsafe {
        neuroloop_core_dsp_rows_s16(
            w.as_ptr().add(2 * peel),
            x.as_ptr().add(peel),
            out.as_mut_ptr(),
            &params,
        );
    }
    if done < cols || peel > 0 {
        for (r, o) in out[..rows].iter_mut().enumerate() {
            let row = &w[r * stride..(r + 1) * stride];
            *o += super::super::dot_s16_s16_s64_ref(&row[..2 * peel], &x[..peel])
                + super::super::dot_s16_s16_s64_ref(&row[2 * done..], &x[done..cols]);
        }
    }
    rows
}

// Aligned multi-row `i8` kernel over activations permuted per 4 columns to the words
// `(x0, x2)`, `(x1, x3)` ([`permute_s8`]), the order `SXTB16` yields the weights in.
//
// r0 = row 0 of the group at the span's first column (4-aligned), r1 = the permuted
// activations of the span (4-aligned), r2 = out (`rows` i64s), r3 = params
// `[rows ≥ 1, skip, n32, n16, add, n64]`: per row `n32` iterations of 32 columns then
// `n16` of 16 (`2·n32 + n16 ≥ 1`, at most 256 columns: the `i32` sum is exact), then
// `skip` bytes to the next row; the row's `i32` sum is stored (`add = 0`) or added (`add =
// 1`) to its `i64`; or, with `n64 ≥ 1` (rows of whole 64-column iterations one after the
// other, stored, see [`rows_s8_aligned`]), `n64` iterations of 64 columns in the short row
// loop at 7:. Frame: [sp] x, [sp, #4] rows left, [sp, #8] skip, [sp, #12] n32, [sp, #16]
// n16, [sp, #20] add, [sp, #24] n64, [sp, #28] the end of `out`. In the loop: r0 the
// weights, r1 the activations, r2 the `i32` sum, r3 the sign-extended weight pair, r4–r7
// four activation words, r8–r10 and r12 four weight words (16 weights), r11 the output
// pointer, lr the count.
global_asm!(
    // 8 columns of the weight word pair `wa`, `wb` against activation words `x0`–`x3`.
    ".macro nl_rows_s8_8cols wa, wb, x0, x1, x2, x3",
    "sxtb16 r3, \\wa",
    "smlad r2, r3, \\x0, r2",
    "sxtb16 r3, \\wa, ror #8",
    "smlad r2, r3, \\x1, r2",
    "sxtb16 r3, \\wb",
    "smlad r2, r3, \\x2, r2",
    "sxtb16 r3, \\wb, ror #8",
    "smlad r2, r3, \\x3, r2",
    ".endm",
    // 16 columns: one `LDM` of weights, two of activations.
    ".macro nl_rows_s8_16cols",
    "ldm r0!, {{r8, r9, r10, r12}}",
    "ldm r1!, {{r4, r5, r6, r7}}",
    "nl_rows_s8_8cols r8, r9, r4, r5, r6, r7",
    "ldm r1!, {{r4, r5, r6, r7}}",
    "nl_rows_s8_8cols r10, r12, r4, r5, r6, r7",
    ".endm",
    asm_fn_begin!("neuroloop_core_dsp_rows_s8"),
    "push {{r4, r5, r6, r7, r8, r9, r10, r11, lr}}",
    "sub sp, sp, #32",
    "ldm r3, {{r4, r5, r6, r7, r8, r9}}",
    "str r1, [sp]",
    "str r4, [sp, #4]",
    "str r5, [sp, #8]",
    "str r6, [sp, #12]",
    "str r7, [sp, #16]",
    "str r8, [sp, #20]",
    "str r9, [sp, #24]",
    "add r10, r2, r4, lsl #3",
    "str r10, [sp, #28]",
    "mov r11, r2",
    "cmp r9, #0",
    "beq 1f",
    "7:",
    "ldr r1, [sp]",
    "movs r2, #0",
    "ldr lr, [sp, #24]",
    "8:",
    ".rept 3",
    "nl_rows_s8_16cols",
    ".endr",
    "subs lr, lr, #1",
    "nl_rows_s8_16cols",
    "bne 8b",
    "asr r3, r2, #31",
    "strd r2, r3, [r11], #8",
    "ldr r4, [sp, #28]",
    "cmp r11, r4",
    "bne 7b",
    "b 9f",
    "1:",
    "ldr r1, [sp]",
    "movs r2, #0",
    "ldr lr, [sp, #12]",
    "cmp lr, #0",
    "beq 3f",
    "2:",
    "nl_rows_s8_16cols",
    "subs lr, lr, #1",
    "nl_rows_s8_16cols",
    "bne 2b",
    "3:",
    "ldr lr, [sp, #16]",
    "cmp lr, #0",
    "beq 5f",
    "4:",
    "subs lr, lr, #1",
    "nl_rows_s8_16cols",
    "bne 4b",
    "5:",
    "asr r3, r2, #31",
    "ldr r4, [sp, #20]",
    "cbz r4, 6f",
    "ldrd r4, r5, [r11]",
    "adds r2, r2, r4",
    "adc r3, r3, r5",
    "6:",
    "strd r2, r3, [r11], #8",
    "ldr r4, [sp, #8]",
    "add r0, r0, r4",
    "ldr r4, [sp, #4]",
    "subs r4, r4, #1",
    "str r4, [sp, #4]",
    "bne 1b",
    "9:",
    "add sp, sp, #32",
    "pop {{r4, r5, r6, r7, r8, r9, r10, r11, pc}}",
    ".purgem nl_rows_s8_16cols",
    ".purgem nl_rows_s8_8cols",
    asm_fn_end!("neuroloop_core_dsp_rows_s8"),
);

extern "C" {
    fn neuroloop_core_dsp_rows_s8(
        w: *const u8,
        x: *const u32,
        out: *mut i64,
        params: *const [u32; 6],
    );
}

/// Columns per iteration of the short loop of the aligned `i8` kernel.
const ABLOCK_S8: usize = 16;

/// Activations in the order the aligned `i8` kernel reads them: per 4 columns the words
/// `(x0, x2)`, `(x1, x3)` (low half first), for the first `x.len() / 4 · 4` columns,
/// written into `buf`; returns the filled prefix (empty if `buf` is too short).
pub(in crate::kernel) fn permute_s8<'b>(x: &[i16], buf: &'b mut [MaybeUninit<u32>]) -> &'b [u32] {
    let n = x.len() / 4 * 2;
    let Some(buf) = buf.get_mut(..n) else {
        return &[];
    };
    // 16 values (8 words) per iteration with `LDM`/`STM` where `x` is 4-aligned (`buf`, of
    // `u32`s, always is): 14 instructions where the compiler's loop takes 38.
    let blocks = if x.as_ptr() as usize & 3 == 0 {
        n / 8
    } else {
        0
    };
    if blocks > 0 {
        // SAFETY: see "Aligned kernels" in the `arm_dsp` module docs: the loop reads
        // `blocks` times 8 words from `x` (4-aligned, checked; `16·blocks ≤ x.len()`
        // values) and writes as many to `buf` (`8·blocks ≤ n` words, 4-aligned), with
        // `LDM`/`STM` of four registers in ascending order (each `STM` writes the words
        // `(x0, x2), (x1, x3), (x4, x6), (x5, x7)` of its 8 values); nothing else;
        // `blocks ≥ 1`.
        unsafe {
            core::arch::asm!(
                "2:",
                "ldm r0!, {{r2, r3, r4, r5}}",
                "pkhbt r8, r2, r3, lsl #16",
                "pkhtb r10, r3, r2, asr #16",
                "pkhbt r11, r4, r5, lsl #16",
                "pkhtb lr, r5, r4, asr #16",
                "stm r1!, {{r8, r10, r11, lr}}",
                "ldm r0!, {{r2, r3, r4, r5}}",
                "pkhbt r8, r2, r3, lsl #16",
                "pkhtb r10, r3, r2, asr #16",
                "pkhbt r11, r4, r5, lsl #16",
                "pkhtb lr, r5, r4, asr #16",
                "subs r12, r12, #1",
                "stm r1!, {{r8, r10, r11, lr}}",
                "bne 2b",
                inout("r0") x.as_ptr() => _,
                inout("r1") buf.as_mut_ptr() => _,
                inout("r12") blocks => _,
                out("r2") _,
                out("r3") _,
                out("r4") _,
                out("r5") _,
                out("r8") _,
                out("r10") _,
                out("r11") _,
                out("lr") _,
                options(nostack),
            );
        }
    }
    let tail = buf[8 * blocks..].chunks_exact_mut(2);
    for (b, q) in tail.zip(x[16 * blocks..].chunks_exact(4)) {
        b[0].write(q[0] as u16 as u32 | (q[2] as u16 as u32) << 16);
        b[1].write(q[1] as u16 as u32 | (q[3] as u16 as u32) << 16);
    }
    // SAFETY: every one of the `n` elements was written just above (`n / 2` chunks of 2,
    // `x` has `n / 2` chunks of 4); `MaybeUninit<u32>` has the layout of `u32`.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u32>(), n) }
}

/// The aligned fast path of [`crate::kernel::dot_rows_s8_s16_s64_acts`] (`x` cut to `cols`,
/// `xp` = [`permute_s8`] of it): rows of a matrix whose rows start 4-aligned (`w`
/// 4-aligned, `cols` a multiple of 4), `SXTB16` + `SMLAD` 16 columns per `LDM` of
/// weights, `i32` spans of at most 256 columns widened per span; returns how many
/// leading rows of `out` it wrote (0: none).
pub(in crate::kernel) fn rows_s8_aligned(
    w: &[u8],
    cols: usize,
    x: &[i16],
    xp: &[u32],
    out: &mut [i64],
) -> usize {
    if (w.as_ptr() as usize | xp.as_ptr() as usize) & 3 != 0
        || cols % 4 != 0
        || cols < ABLOCK_S8
        || x.len() < cols
        || xp.len() < cols / 2
    {
        return 0;
    }
    let rows = out.len().min(w.len() / cols);
    if rows == 0 {
        return 0;
    }
    let blocks = cols / ABLOCK_S8;
    let done = ABLOCK_S8 * blocks;
    // Spans of at most 16 blocks (256 columns).
    let mut start = 0;
    while start < blocks {
        let n = (blocks - start).min(super::S8_SPAN / ABLOCK_S8);
        let (skip, n32, n16, add) = (cols - ABLOCK_S8 * n, n / 2, n % 2, start > 0);
        let params = [
            rows as u32,
            skip as u32,
            n32 as u32,
            n16 as u32,
            add as u32,
            short_loop(skip == 0 && n16 == 0 && !add, n32),
        ];
        let c0 = ABLOCK_S8 * start;
        // SAFETY: see "Aligned kernels" in the `arm_dsp` module docs: row r is read at
        // `w + r·cols + c0` for `16·n` bytes with `c0 + 16·n ≤ cols`, inside
        // `w[..rows·cols]` (`rows ≤ w.len() / cols`); `xp` for words `c0/2 .. (c0 +
        // 16n)/2 ≤ cols/2 ≤ xp.len()`; both 4-aligned (checked; `cols`, `c0` multiples of
        // 4); `out` holds `rows` `i64`s (8-aligned for `LDRD`/`STRD`); `n ≥ 1`, `16·n ≤ 256`.
        unsafe {
            neuroloop_core_dsp_rows_s8(
                w.as_ptr().add(c0),
                xp.as_ptr().add(c0 / 2),
                out.as_mut_ptr(),
                &params,
            );
        }
        start += n;
    }
    if done < cols {
        for (r, o) in out[..rows].iter_mut().enumerate() {
            let row = &w[r * cols..(r + 1) * cols];
            *o += super::super::dot_s8_s16_s64_ref(&row[done..], &x[done..cols]);
        }
    }
    rows
}

/// [`crate::kernel::with_acts`] on the DSP path: `x` as the aligned kernels read it, written into
/// `buf` where needed: for `i8` weights the [`permute_s8`] words (`x` itself unchanged),
/// for `i16` weights `x` copied to a 4-aligned address if it is not 4-aligned already.
/// Returns (activations for the `i16` kernel, permuted words for the `i8` kernel).
pub(in crate::kernel) fn prepare<'b>(
    x: &'b [i16],
    s8: bool,
    buf: &'b mut [MaybeUninit<u32>],
) -> (&'b [i16], &'b [u32]) {
    if s8 {
        return (x, permute_s8(x, buf));
    }
    if x.as_ptr() as usize & 3 == 0 {
        return (x, &[]);
    }
    let pairs = x.len() / 2;
    // An odd last value: the word after the pairs.
    match (x.len() % 2, buf.get_mut(pairs)) {
        (0, _) => {}
        (_, Some(b)) => {
            b.write(x[x.len() - 1] as u16 as u32);
        }
        _ => return (x, &[]),
    }
    if copy_words(x, buf).len() != pairs {
        return (x, &[]);
    }
    // SAFETY: the first `x.len().div_ceil(2)` elements of `buf` were written just above
    // (`copy_words` the pairs, and the odd last value); they hold at least `x.len()`
    // little-endian `i16`s, the first `x.len()` of which are `x`'s values; `u32` is
    // 4-aligned, so the `i16` view is aligned too.
    let copy = unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<i16>(), x.len()) };
    (copy, &[])
}

/// `x` as little-endian word pairs in `buf` (4-aligned), with `LDM`/`STM` 8 words at a
/// time where `x` is 4-aligned; the filled prefix (`x.len() / 2` words; empty if `buf`
/// is too short).
pub(in crate::kernel) fn copy_words<'b>(x: &[i16], buf: &'b mut [MaybeUninit<u32>]) -> &'b [u32] {
    let n = x.len() / 2;
    let Some(buf) = buf.get_mut(..n) else {
        return &[];
    };
    let blocks = if x.as_ptr() as usize & 3 == 0 {
        n / 8
    } else {
        0
    };
    if blocks > 0 {
        // SAFETY: see "Aligned kernels" in the `arm_dsp` module docs: the loop reads
        // `blocks ≥ 1` times 8 words from `x` (4-aligned, checked; `16·blocks ≤ 2n ≤
        // x.len()` values) and writes as many to `buf` (`8·blocks ≤ n` words, 4-aligned),
        // with `LDM`/`STM` of r0–r3; nothing else.
        unsafe {
            core::arch::asm!(
                "2:",
                "ldm {s}!, {{r0, r1, r2, r3}}",
                "stm {t}!, {{r0, r1, r2, r3}}",
                "ldm {s}!, {{r0, r1, r2, r3}}",
                "stm {t}!, {{r0, r1, r2, r3}}",
                "subs {k}, {k}, #1",
                "bne 2b",
                s = inout(reg) x.as_ptr() => _,
                t = inout(reg) buf.as_mut_ptr() => _,
                k = inout(reg) blocks => _,
                out("r0") _,
                out("r1") _,
                out("r2") _,
                out("r3") _,
                options(nostack),
            );
        }
    }
    for (k, b) in buf.iter_mut().enumerate().skip(8 * blocks) {
        b.write(x[2 * k] as u16 as u32 | (x[2 * k + 1] as u16 as u32) << 16);
    }
    // SAFETY: every element of `buf` (the first `n`) was written above.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u32>(), n) }
}

// The leaky cell's `i32` row update ([`crate::kernel::leaky_rows_i32`], reference
// [`crate::kernel::leaky_rows_i32_ref`]) for consecutive rows. r0 = `rec` (i64s), r1 = `inp`
// (i64s), r2 = params `[fr ptr, fi ptr, b ptr, x end, k_in << 16 | k_rec & 0xFFFF, a_in,
// α·2^17]`, r3 = x (the first row's `i16`). Registers in the loop: r0 `rec`, r1 `inp`, r2
// `fr`, r3 `fi`, r4 `b`, r5 `x`, r6 `x` end, r7 both `k`s (the low byte of `f + r7` is `f
// + k_rec`: shifts by a register read its low byte only; `r7 ASR #16` is `k_in`), r8
// `a_in`, r9 α·2^17, r10–r12 and lr scratch. Each row's shifted dot product is the 32-bit
// window `(lo >> c) | (hi << (32 − c))` of its `i64` (`c = f + k` in 0..=31; a register
// shift by 32 gives 0).
global_asm!(
    // One row: its two windows, the bias, the α update and the clamp; `x` advances.
    ".macro nl_leaky_row",
    "ldm r0!, {{r10, r11}}",
    "ldrb r12, [r2], #1",
    "add r12, r12, r7",
    "lsr r10, r10, r12",
    "rsb r12, r12, #32",
    "lsl r11, r11, r12",
    "orr r10, r10, r11",
    "add r10, r10, #1",
    "asr r10, r10, #1",
    "ldm r1!, {{r11, r12}}",
    "ldrb lr, [r3], #1",
    "add lr, lr, r7, asr #16",
    "lsl r11, r11, r8",
    "lsr r11, r11, lr",
    "rsb lr, lr, #32",
    "lsl r12, r12, lr",
    "orr r11, r11, r12",
    "add r11, r11, #1",
    "add r10, r10, r11, asr #1",
    "ldr r11, [r4], #4",
    "qadd r10, r10, r11",
    "ldrsh r12, [r5]",
    "lsl r12, r12, #8",
    "qsub r10, r10, r12",
    "smmulr r10, r10, r9",
    "add r12, r12, #128",
    "qadd r10, r12, r10",
    "ssat r10, #16, r10, asr #8",
    "strh r10, [r5], #2",
    ".endm",
    asm_fn_begin!("neuroloop_core_dsp_leaky_rows"),
    "push {{r4, r5, r6, r7, r8, r9, r10, r11, lr}}",
    "mov r5, r3",
    "ldm r2, {{r2, r3, r4, r6, r7, r8, r9}}",
    "cmp r5, r6",
    "beq 9f",
    // Two rows per iteration (one compare and branch for both): an odd row count runs
    // one row first.
    "sub r10, r6, r5",
    "tst r10, #2",
    "beq 1f",
    "nl_leaky_row",
    "cmp r5, r6",
    "beq 9f",
    "1:",
    "nl_leaky_row",
    "nl_leaky_row",
    "cmp r5, r6",
    "bne 1b",
    "9:",
    "pop {{r4, r5, r6, r7, r8, r9, r10, r11, pc}}",
    ".purgem nl_leaky_row",
    asm_fn_end!("neuroloop_core_dsp_leaky_rows"),
);

extern "C" {
    fn neuroloop_core_dsp_leaky_rows(
        rec: *const i64,
        inp: *const i64,
        params: *const [u32; 7],
        x: *mut i16,
    );
}

/// [`crate::kernel::leaky_rows_i32`] in assembly: the rows `x` (and every other slice) covers.
pub(in crate::kernel) fn leaky_rows_i32(
    p: &crate::kernel::LeakyRows,
    (rec, fr): (&[i64], &[u8]),
    (inp, fi): (&[i64], &[u8]),
    b: &[u8],
    x: &mut [i16],
) -> usize {
    let n = x
        .len()
        .min(rec.len())
        .min(inp.len())
        .min(fr.len())
        .min(fi.len())
        .min(b.len() / 4);
    let x = &mut x[..n];
    let params = [
        fr.as_ptr() as u32,
        fi.as_ptr() as u32,
        b.as_ptr() as u32,
        x.as_mut_ptr_range().end as u32,
        (p.k_in as u32) << 16 | (p.k_rec as u32 & 0xFFFF),
        p.a_in,
        (p.alpha as u32).wrapping_shl(17),
    ];
    // SAFETY: see "The leaky row update" in the `arm_dsp` module docs: the routine reads `rec`,
    // `inp` (8-aligned `i64`s, `LDM` of 2 words), `fr`, `fi` (bytes), `b` (4 bytes a row,
    // single `LDR`: no alignment needed) and reads/writes `x` for exactly the `n` rows
    // every slice holds (it stops when `x` reaches `x + n`, and does nothing for `n = 0`);
    // it writes nothing else but its own stack frame, and follows the AAPCS.
    unsafe { neuroloop_core_dsp_leaky_rows(rec.as_ptr(), inp.as_ptr(), &params, x.as_mut_ptr()) };
    n
}
