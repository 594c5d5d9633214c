//! Cortex-M4/M7 (Armv7E-M DSP extension) paths of the dot kernels (`SMLALD`, `SMLAD`,
//! `SXTB16` with `asm!` and `global_asm!`) and of the leaky cell's row update.
//!
//! Written by hand because the compiler neither uses the DSP multiply-accumulates for
//! these sums nor multi-register loads on data it cannot prove aligned. Built only with
//! feature `dsp` on a DSP-capable Arm target (`cfg(neuroloop_arm_dsp)`, set by
//! `core/build.rs` for `thumbv7em-*`); [`super`] dispatches here and falls back to the
//! portable code everywhere else.
//!
//! - **Aligned kernels** (`global_asm!`, all of r0–r12 and lr): where a matrix's rows
//!   and the activations are 4-aligned, [`aligned::rows_s16_aligned`] reads 8 columns per `LDM`
//!   pair (4 weight words, 4 activation words) into four `SMLALD` (32 columns per loop
//!   iteration), and [`aligned::rows_s8_aligned`] reads 16 weights per `LDM` against activations
//!   that [`super::with_acts`] permuted once per step ([`aligned::permute_s8`]: `(x0, x2), (x1,
//!   x3)` per 4 columns, the order `SXTB16` yields the weights in), so each 4 columns
//!   are one `SXTB16` pair and two `SMLAD`. One call runs a whole row group, row after
//!   row, and writes each row's `i64`; tails shorter than a block go through the
//!   reference. Alignment is checked at run time per call (rows 4-aligned: the first
//!   one, and a row size that is a multiple of 4 bytes; `i16` activations at 2 mod 4
//!   with weights at 2 mod 4 peel one column); anything else takes the kernels below,
//!   unchanged. `blob::encode_aligned` writes blobs whose `W_rec` starts 4-aligned.
//! - **Unaligned kernels** (`asm!`): single-row kernels run their main loop over whole
//!   blocks of 8 elements; the multi-row kernels ([`dot3_s16_s16_s64`],
//!   [`dot4_s8_s16_s64`]) load each activation word once for 3 (`i16`) or 4 (`i8`) rows
//!   — as many 64-bit / 32-bit accumulators as the 12 allocatable registers hold — with
//!   single-register `LDR` only. Every function hands its tail (any length mismatch
//!   already trimmed) to the plain reference, so the result is the same `i64` as the
//!   reference for every input.
//! - **Narrow kernels** ([`narrow::narrow_rows`], `global_asm!`): matrices of 1–7 columns
//!   (`W_in`), one routine per column count and weight type, the activations loaded
//!   into registers once for all rows: `LDR` + `SMLALD` per weight pair (`i16`, an odd
//!   last column `LDRSH` + `SMLALBB`) or `LDRSB` + `SMLABB` per weight (`i8`, an `i32`
//!   sum of at most 7 products of magnitude ≤ 2^22, sign-extended), 7–8 instructions a
//!   row for 2 columns.
//! - **The tanh rows** ([`tanh::tanh_rows`], reference [`super::tanh_rows_s16_ref`]): the
//!   leaky cell's rates, two values per word, about 14.5 instructions a value
//!   (`kernel/arm_dsp/tanh.rs` derives it from [`crate::activation::tanh_s16`]).
//! - **The fused leaky rows** ([`fused::leaky_fused`], reference
//!   [`super::leaky_fused_ref`]): the leaky step's whole row loop, `W_rec`'s dot product
//!   (a jump into a fully unrolled body), `W_in`'s, the row update and the `tanh` rate in
//!   one routine per row, with no `i64` stored: about 45 instructions a row besides the
//!   dot product's loads and multiply-adds (`kernel/arm_dsp/fused.rs`).
//! - **The leaky row update** ([`aligned::leaky_rows_i32`], reference
//!   [`super::leaky_rows_i32_ref`]): the cell's noise-free `i32` update of a row group
//!   from its two `i64` dot products, 30 instructions a row: each shifted dot product is
//!   a 32-bit window of the `i64` (`LSR`, `LSL`, `ORR`), `QADD`/`QSUB` are the saturating
//!   adds, `SMMULR` the rounded α multiply, `SSAT` the final shift and clamp.
//!
//! # Exactness
//! The `i16` kernels and the single-row `i8` kernel accumulate with `SMLALD` (two signed 16×16 products added to a 64-bit
//! accumulator): no 32-bit intermediate exists, so nothing can saturate or wrap. Each
//! instruction adds at most 2·2^30 = 2^31 in magnitude; wrapping the 64-bit accumulator
//! would take 2^32 instructions, far beyond any slice in memory (blob limits: ≤ 1024
//! columns). `SMLALD` does not touch the Q flag or the condition flags.
//! i8 weights are sign-extended in pairs with `SXTB16` (bytes 0, 2 and, rotated by 8,
//! bytes 1, 3) and repacked into (w0, w1), (w2, w3) with `PKHBT`/`PKHTB`, so every weight
//! meets the activation with the same index. The 4-row `i8` kernel repacks the
//! activations instead (once per 4 columns for all four rows: `(x0, x2)`, `(x1, x3)` with
//! `PKHBT`/`PKHTB`, the order `SXTB16` yields the weights in) and accumulates with `SMLAD`
//! into `i32`: per call at most 256 columns, i.e. ≤ 256 products of magnitude ≤ 2^22, so
//! every partial sum stays within ±2^30 and `SMLAD` never overflows (nor sets Q); the
//! Rust caller widens to `i64` after each call.
//!
//! # Safety argument of the `asm!` loops (the unaligned kernels)
//! - Memory: the loop reads through two pointers taken from the argument slices, `pw`
//!   (weights) and `px` (activations), advancing by post-indexed `LDR`. It runs
//!   `blocks = n / 8` times with `n` the number of elements both slices hold, and each
//!   iteration reads exactly 8 weights (8 or 16 bytes) and 8 activations (16 bytes), so
//!   every byte read lies inside `w[..n·size]` and `x[..n]`. The loop is entered only
//!   when `blocks ≥ 1` (a zero count would wrap `SUBS` and run away). Nothing is written
//!   to memory and the stack is not used (`options(nostack, readonly)`); all registers
//!   touched are declared operands; the condition flags are clobbered (the `asm!`
//!   default assumes so). The multi-row loops read rows 1–3 of their group at fixed
//!   offsets (`stride`, `2·stride`, `3·stride`) from the row-0 pointer; each checks that
//!   the whole group lies in `w` before entering (see their `SAFETY` notes).
//! - Alignment: weights are borrowed from the blob with no alignment guarantee and
//!   activations are only 2-byte aligned, so the word loads may be unaligned. They use
//!   only single-register `LDR`, which Armv7-M performs unaligned in hardware on Normal
//!   memory (RAM, flash) while `CCR.UNALIGN_TRP` is 0, its reset value; `LDRD`/`LDM`,
//!   which always fault when unaligned, are never used. LLVM relies on the same thing for
//!   ordinary Rust code on `thumbv7em` (it emits unaligned `LDR` itself). A firmware that
//!   sets `UNALIGN_TRP` would get a UsageFault (a fault, not undefined behaviour). (The
//!   aligned kernels below use `LDM` only on pointers checked 4-aligned.)
//! - Target: `SMLALD`, `SMLAD`, `SXTB16`, `PKHBT`/`PKHTB`, `USAT`/`SSAT` and
//!   `QADD`/`QSUB` exist on Armv7E-M (Cortex-M4, M7); the cfg keeps this module off
//!   thumbv6m/thumbv7m, where they would not assemble.
//!
//! The other `unsafe` blocks are the `extern "C"` calls below and two slices over a
//! `MaybeUninit` buffer the code just initialised ([`aligned::permute_s8`], [`aligned::prepare`]), each
//! with its `SAFETY` note.
//!
//! # Aligned kernels (the `extern "C"` routines `neuroloop_core_dsp_rows_*`)
//! - Memory: each routine reads `rows` rows, each from its start pointer (the first
//!   row's plus `r·stride`, through `skip = stride − bytes read`) for the whole blocks
//!   of its span, and the activations (the `i16` values or the permuted words) for the
//!   same columns; the Rust callers check that `w` holds every one of those rows in full
//!   (`rows ≤ w.len() / stride`) and that the activations cover `cols` columns, so every
//!   byte read lies inside the argument slices. The only memory written is the caller's
//!   `out[..rows]` (`STRD`, 8-aligned `i64`s; the `i8` routine also reads them back with
//!   `LDRD` when adding a later span) and the routine's own stack frame.
//! - Alignment: `LDM`, `LDRD` and `STRD` fault when unaligned; the callers pass them
//!   only 4-aligned weight rows (`w` checked, row size a multiple of 4), 4-aligned
//!   activations (checked; the permuted words are `u32`s) and `i64` outputs.
//! - Registers: AAPCS: `r4`–`r11` saved and restored, return through the saved `lr`.
//! - Exactness: `SMLALD` as above; the `i8` routine's `i32` sum covers at most 256
//!   columns per call (≤ 256 products of magnitude ≤ 2^22), widened into the `i64`.
//!
//! # Narrow kernels (`neuroloop_core_dsp_narrow_*`)
//! - Memory: the routine reads the `cols` activations (`LDR`/`LDRSH` at fixed offsets
//!   below `2·cols` bytes) once, then row after row the row's `size·cols` weight bytes
//!   from the weight pointer on (post-indexed single-register loads), writing each row's
//!   `i64` with `STRD` until the output pointer reaches the end the caller passed: the
//!   Rust wrapper passes `rows ≥ 1` rows that `w` holds in full (`rows ≤ w.len() /
//!   (size·cols)`), `x.len() ≥ cols` and `out[..rows]`, so every byte read or written
//!   lies in the argument slices or the routine's stack frame.
//! - Alignment: single-register loads at any alignment (as for the unaligned kernels);
//!   `STRD` on the caller's 8-aligned `i64`s.
//! - Registers: AAPCS, `r4`–`r11` saved and restored.
//! - Exactness: `SMLALD`/`SMLALBB` add 16×16 products into the 64-bit accumulator (no
//!   32-bit intermediate); the `i8` sum of at most 7 products of magnitude ≤ 2^22 is below
//!   2^25, so `SMULBB`/`SMLABB` never overflow; `ASR #31` widens it.
//!
//! # The tanh rows (`neuroloop_core_dsp_tanh_rows*`)
//! - Memory: the routine reads `x` a word (two values) at a time and writes `out` the
//!   same way, two words per iteration, stopping when the input pointer reaches the end
//!   the caller passed (`x + n`, `n ≥ 4` a multiple of 4 and at most both lengths); it reads the
//!   257-entry `TANH_PACKED` at `p >> 16` with `p ≤ 2^24` (the clamp or the format
//!   guarantees it, see `kernel/arm_dsp/tanh.rs`), so at most entry 256.
//! - Alignment: single-register `LDR`/`STR` at any alignment.
//! - Registers: AAPCS, `r4`–`r11` saved and restored.
//! - Exactness: `kernel/arm_dsp/tanh.rs` shows it is `tanh_s16`; the firmware kernel
//!   self-test compares every `i16` value at ten formats.
//!
//! # The zero fill ([`with_zeroed_i64`])
//! - Memory: `asm!` loops store eight zero registers (`STM`, which needs the 4-aligned
//!   address an `i64` array has) `blocks = 2·len / 8` times from the array's start (four
//!   `STM` per iteration `⌊blocks / 4⌋` times, then one per iteration `blocks mod 4`
//!   times, each loop skipped when its count is 0) and stop there; Rust writes
//!   the remaining `2·len mod 8` words. That is every byte of the first `len ≤ N`
//!   elements once, nothing outside them (the slice handed on covers exactly those); the
//!   registers it changes are declared (the eight zero registers inputs, the pointer and
//!   count `inout`), flags clobbered, no stack.
//!
//! # The leaky row update (`neuroloop_core_dsp_leaky_rows`)
//! - Memory: it reads `rec`, `inp` (8-aligned `i64`s, `LDM` of two words), one byte of
//!   `fr` and `fi` and 4 bytes of `b` (single `LDR`, any alignment) per row, and reads and
//!   writes `x[k]`, for at most the rows every slice holds (the caller passes the end of
//!   `x` cut to the shortest one); nothing else but its own stack frame is written.
//! - Exactness: each instruction is the operation [`super::leaky_rows_i32_ref`] names:
//!   for a row shift `c` in 0..=31, `(lo >> c) | (hi << (32 − c))` (logical shifts; a
//!   register shift by 32 gives 0, so `c = 0` gives `lo`) is the low word of the `i64`
//!   `v >> c`, which is the `low32(v >> c)` of the reference (`W_in`'s `lo` first
//!   shifted left by `a_in`, `LSL` wrapping like `wrapping_shl`; the low byte of `f + (k_in
//!   << 16 | k_rec & 0xFFFF)`, all a register shift reads, is that of `f + k_rec`); `QADD`/`QSUB` saturate like
//!   `saturating_add`/`_sub`; `SMMULR d, α·2^17` is `(d·α·2^17 + 2^31) >> 32` (`α < 2^14`
//!   keeps `α·2^17` an `i32`); `SSAT #16, …, ASR #8` is the last shift and the `i16`
//!   clamp. The firmware bench binary checks it against the reference at boot, and the
//!   cell's proof (`cell/leaky.rs`) that this is the definition is checked by host
//!   proptests.
//!
//! # The fused leaky rows (`neuroloop_core_dsp_fused_*`)
//! - Memory: for each row `k < n` (the index register runs from `−n` up to 0, `n ≥ 1`)
//!   the routine reads `W_rec`'s row `k` (`cols·size` bytes from the caller's 4-aligned
//!   `W_rec`, which holds `n·cols·size` bytes: the dot body is entered `cols / 8` or
//!   `cols / 16` blocks before its end, each block `LDM`s 16 bytes of weights, and the
//!   Rust wrapper computes the entry from the body's two symbols), the `cols / 2` words of
//!   prepared activations and the 14 constant words after them (the wrapper's stack
//!   buffer, written before the call), `fr[k]`, `fi[k]`, `b[4k..4k + 4]`, the `W_in` row's
//!   `2·size` bytes (`pair`) or `dots[k]` (`dots`, an 8-aligned `LDRD`), reads and writes
//!   `x[k]`, writes `r[k]` (rates only), and reads `TANH_PACKED` at `p >> 16 ≤ 256` (as
//!   the tanh rows). Every "end" the wrapper passes is the slice's address plus `n`
//!   elements, and it checked that every slice holds `n` rows (`r` holds `cols ≥ n`), so
//!   every address is inside an argument slice, the buffer or the routine's frame.
//! - Alignment: `LDM` on 4-aligned addresses (`W_rec` rows: a 4-aligned start and a row
//!   size that is a multiple of 16 bytes; the buffer of `u32`s); `LDRD` on the `i64`s;
//!   everything else single-register loads and stores.
//! - Registers: AAPCS, `r4`–`r11` and `lr` saved and restored; the dot body, called with
//!   `BLX`, clobbers only r1–r10, r12 and advances r0.
//! - Exactness: the dot bodies are the aligned kernels' `SMLALD` (`i16`, `i64`) and
//!   `SXTB16` + `SMLAD` (`i8`: at most 256 columns, so the `i32` sum is exact, and its
//!   `ASR` by `c` in 0..=31 is the low word of the `i64` `v >> c`); the `i16` pair's
//!   `SMUAD` is exact because the wrapper refuses an input of −32768 (two products of
//!   magnitude below 2^30), the `i8` pair's `SMULBB` + `SMLABT` are (≤ 2^23); the rest is
//!   the leaky row update's and the tanh rows' instructions above. The firmware bench
//!   binary checks all twelve routines against [`super::leaky_fused_ref`] at boot.

use core::arch::asm;

/// `global_asm!` text opening a routine `$name` (a symbol, or `"\\name"` inside an
/// assembler `.macro`): its own section, word alignment, a global but hidden Thumb
/// function symbol, and the label. The routines of `aligned.rs`, `fused.rs`, `narrow.rs`
/// and `tanh.rs` start with it and end with `asm_fn_end!`.
#[rustfmt::skip]
macro_rules! asm_fn_begin {
    ($name:literal) => {
        concat!(
            ".section .text.", $name, ",\"ax\",%progbits\n",
            ".p2align 2\n",
            ".global ", $name, "\n",
            ".hidden ", $name, "\n",
            ".type ", $name, ",%function\n",
            ".thumb_func\n",
            $name, ":\n",
        )
    };
}

/// `global_asm!` text closing a routine opened with `asm_fn_begin!`: its symbol size.
macro_rules! asm_fn_end {
    ($name:literal) => {
        concat!(".size ", $name, ", . - ", $name, "\n")
    };
}

mod aligned;
mod fused;
mod narrow;
mod tanh;
pub(super) use aligned::{leaky_rows_i32, prepare, rows_s16_aligned, rows_s8_aligned};
pub(super) use fused::leaky_fused;
pub(super) use narrow::narrow_rows;
pub(super) use tanh::tanh_rows;

/// Elements per assembly loop iteration.
const BLOCK: usize = 8;

/// [`super::with_zeroed_i64`]: `f` on the first `len.min(N)` elements of an `[i64; N]` on
/// this frame, written with `STM` of eight zero registers per 32 bytes, then the odd
/// words one by one; the rest of the array is never read.
#[inline(always)]
pub(super) fn with_zeroed_i64<const N: usize, R>(len: usize, f: impl FnOnce(&mut [i64]) -> R) -> R {
    let mut a = core::mem::MaybeUninit::<[i64; N]>::uninit();
    let len = len.min(N);
    let p = a.as_mut_ptr().cast::<u32>();
    let blocks = 2 * len / 8;
    // SAFETY: see "The zero fill" in the module docs: the loops write `blocks` times 32
    // bytes from `p` (4-aligned, `2·len ≤ 2·N` words long, `8·blocks ≤ 2·len`), the tail
    // the other words, so every byte of the first `len` elements is written (zero is a
    // valid `i64`) before the slice over exactly those is made.
    let a = unsafe {
        if blocks > 0 {
            asm!(
                "lsrs {big}, {n}, #2",
                "beq 3f",
                "2:",
                "stm {q}!, {{r0, r1, r2, r3, r4, r5, r8, r10}}",
                "stm {q}!, {{r0, r1, r2, r3, r4, r5, r8, r10}}",
                "stm {q}!, {{r0, r1, r2, r3, r4, r5, r8, r10}}",
                "stm {q}!, {{r0, r1, r2, r3, r4, r5, r8, r10}}",
                "subs {big}, {big}, #1",
                "bne 2b",
                "3:",
                "ands {n}, {n}, #3",
                "beq 5f",
                "4:",
                "stm {q}!, {{r0, r1, r2, r3, r4, r5, r8, r10}}",
                "subs {n}, {n}, #1",
                "bne 4b",
                "5:",
                q = inout(reg) p => _,
                n = inout(reg) blocks => _,
                big = out(reg) _,
                in("r0") 0u32,
                in("r1") 0u32,
                in("r2") 0u32,
                in("r3") 0u32,
                in("r4") 0u32,
                in("r5") 0u32,
                in("r8") 0u32,
                in("r10") 0u32,
                options(nostack),
            );
        }
        for k in 8 * blocks..2 * len {
            p.add(k).write(0);
        }
        core::slice::from_raw_parts_mut(a.as_mut_ptr().cast::<i64>(), len)
    };
    f(a)
}

/// Σ w[k]·x[k], `i16` little-endian weights: `SMLALD` over 8 elements per iteration.
#[inline]
pub(super) fn dot_s16_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    let n = (w.len() / 2).min(x.len());
    let blocks = n / BLOCK;
    let (mut lo, mut hi) = (0u32, 0u32);
    if blocks > 0 {
        // SAFETY: see the module docs: reads `16·blocks ≤ 2n` bytes of `w` and
        // `8·blocks ≤ n` elements of `x`, writes no memory, `blocks ≥ 1`.
        unsafe {
            asm!(
                "2:",
                "ldr {w0}, [{pw}], #4",
                "ldr {x0}, [{px}], #4",
                "ldr {w1}, [{pw}], #4",
                "ldr {x1}, [{px}], #4",
                "smlald {lo}, {hi}, {w0}, {x0}",
                "ldr {w0}, [{pw}], #4",
                "ldr {x0}, [{px}], #4",
                "smlald {lo}, {hi}, {w1}, {x1}",
                "ldr {w1}, [{pw}], #4",
                "ldr {x1}, [{px}], #4",
                "smlald {lo}, {hi}, {w0}, {x0}",
                "subs {cnt}, {cnt}, #1",
                "smlald {lo}, {hi}, {w1}, {x1}",
                "bne 2b",
                pw = inout(reg) w.as_ptr() => _,
                px = inout(reg) x.as_ptr() => _,
                cnt = inout(reg) blocks => _,
                lo = inout(reg) lo,
                hi = inout(reg) hi,
                w0 = out(reg) _,
                x0 = out(reg) _,
                w1 = out(reg) _,
                x1 = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    let done = BLOCK * blocks;
    let head = (((hi as u64) << 32) | lo as u64) as i64;
    head + super::dot_s16_s16_s64_ref(&w[2 * done..2 * n], &x[done..n])
}

/// Σ w[k]·x[k], `i8` weights: `SXTB16` + `PKHBT`/`PKHTB` + `SMLALD`, 8 elements per
/// iteration.
#[inline]
pub(super) fn dot_s8_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    let n = w.len().min(x.len());
    let blocks = n / BLOCK;
    let (mut lo, mut hi) = (0u32, 0u32);
    if blocks > 0 {
        // SAFETY: see the module docs: reads `8·blocks ≤ n` bytes of `w` and
        // `8·blocks ≤ n` elements of `x`, writes no memory, `blocks ≥ 1`.
        unsafe {
            asm!(
                "2:",
                "ldr {w}, [{pw}], #4",
                "ldr {x0}, [{px}], #4",
                "ldr {x1}, [{px}], #4",
                "sxtb16 {a}, {w}",
                "sxtb16 {b}, {w}, ror #8",
                "pkhbt {w}, {a}, {b}, lsl #16",
                "pkhtb {a}, {b}, {a}, asr #16",
                "smlald {lo}, {hi}, {w}, {x0}",
                "smlald {lo}, {hi}, {a}, {x1}",
                "ldr {w}, [{pw}], #4",
                "ldr {x0}, [{px}], #4",
                "ldr {x1}, [{px}], #4",
                "sxtb16 {a}, {w}",
                "sxtb16 {b}, {w}, ror #8",
                "pkhbt {w}, {a}, {b}, lsl #16",
                "pkhtb {a}, {b}, {a}, asr #16",
                "smlald {lo}, {hi}, {w}, {x0}",
                "subs {cnt}, {cnt}, #1",
                "smlald {lo}, {hi}, {a}, {x1}",
                "bne 2b",
                pw = inout(reg) w.as_ptr() => _,
                px = inout(reg) x.as_ptr() => _,
                cnt = inout(reg) blocks => _,
                lo = inout(reg) lo,
                hi = inout(reg) hi,
                w = out(reg) _,
                a = out(reg) _,
                b = out(reg) _,
                x0 = out(reg) _,
                x1 = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    let done = BLOCK * blocks;
    let head = (((hi as u64) << 32) | lo as u64) as i64;
    head + super::dot_s8_s16_s64_ref(&w[done..n], &x[done..n])
}

/// Rows per call of [`dot3_s16_s16_s64`].
pub(super) const ROWS_S16: usize = 3;
/// Rows per call of [`dot4_s8_s16_s64`].
pub(super) const ROWS_S8: usize = 4;
/// Columns per assembly call of [`dot4_s8_s16_s64`]: its `i32` accumulators sum at most
/// this many products of magnitude ≤ 2^22, so they stay ≤ 2^30 (see the module docs).
const S8_SPAN: usize = 256;

/// The `R` consecutive `i16` rows (`stride` bytes apart) of a group `w` does not hold in
/// full (or `x` too short), each through the single-row kernel: the multi-row kernels'
/// fallback, with the same results.
fn rows_one_by_one_s16<const R: usize>(w: &[u8], stride: usize, x: &[i16]) -> [i64; R] {
    core::array::from_fn(|r| {
        let row = w.get(r * stride..).unwrap_or(&[]);
        dot_s16_s16_s64(&row[..stride.min(row.len())], x)
    })
}

/// The multi-row `i16` kernels' results: each row's 64-bit accumulator (`(lo, hi)`, the
/// first `done` columns) plus its columns `done..cols` through the reference. `w` holds
/// the `R` rows in full and `x` at least `cols` values (the callers checked).
fn rows_with_tails_s16<const R: usize>(
    acc: [(u32, u32); R],
    w: &[u8],
    cols: usize,
    x: &[i16],
    done: usize,
) -> [i64; R] {
    let stride = 2 * cols;
    core::array::from_fn(|r| {
        let (lo, hi) = acc[r];
        let head = (((hi as u64) << 32) | lo as u64) as i64;
        if done == cols {
            return head;
        }
        let row = &w[r * stride..(r + 1) * stride];
        head + super::dot_s16_s16_s64_ref(&row[2 * done..], &x[done..cols])
    })
}

/// Two rows of `i16` weights against `x` (the remainder of [`dot3_s16_s16_s64`]'s
/// groups, e.g. `W_out` with 2 outputs): each activation word loaded once for both rows,
/// 8 columns per iteration (22 instructions per 16 products, against 28 for two
/// single-row calls).
///
/// `w` must hold `2·cols` weights and `x` at least `cols` values; otherwise this falls
/// back to two single-row calls (same results).
#[inline]
pub(super) fn dot2_s16_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; 2] {
    let stride = 2 * cols;
    if w.len() < 2 * stride || x.len() < cols {
        return rows_one_by_one_s16(w, stride, x);
    }
    let blocks = cols / BLOCK;
    let (mut l0, mut h0, mut l1, mut h1) = (0u32, 0u32, 0u32, 0u32);
    if blocks > 0 {
        // SAFETY: see the module docs. Row 1 is read through `p0 + stride` (`[p0, s]`)
        // while `p0` walks row 0: `16·blocks ≤ stride` bytes from each row start, all
        // inside `w[..2·stride]` (checked above); `x` is read for `8·blocks ≤ cols ≤
        // x.len()` elements. No memory is written, `blocks ≥ 1`.
        unsafe {
            asm!(
                "2:",
                ".rept 4",
                "ldr {x}, [{px}], #4",
                "ldr {w}, [{p0}, {s}]",
                "smlald {l1}, {h1}, {w}, {x}",
                "ldr {w}, [{p0}], #4",
                "smlald {l0}, {h0}, {w}, {x}",
                ".endr",
                "subs {cnt}, {cnt}, #1",
                "bne 2b",
                p0 = inout(reg) w.as_ptr() => _,
                px = inout(reg) x.as_ptr() => _,
                s = in(reg) stride,
                cnt = inout(reg) blocks => _,
                l0 = inout(reg) l0,
                h0 = inout(reg) h0,
                l1 = inout(reg) l1,
                h1 = inout(reg) h1,
                w = out(reg) _,
                x = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    rows_with_tails_s16([(l0, h0), (l1, h1)], w, cols, x, BLOCK * blocks)
}

/// Three consecutive rows (row stride `cols` elements) of `i16` weights against `x`:
/// `SMLALD` into three 64-bit accumulators, every activation word loaded once for the
/// three rows, 8 columns per iteration.
///
/// `w` must hold `3·cols` weights and `x` at least `cols` values; otherwise this falls
/// back to three single-row calls (same results).
#[inline]
pub(super) fn dot3_s16_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; ROWS_S16] {
    let stride = 2 * cols;
    if w.len() < ROWS_S16 * stride || x.len() < cols {
        return rows_one_by_one_s16(w, stride, x);
    }
    let blocks = cols / BLOCK;
    let (mut l0, mut h0, mut l1, mut h1, mut l2, mut h2) = (0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    if blocks > 0 {
        // SAFETY: see the module docs. Row r of the group is read through `p0 + r·stride`
        // (`[p0, s]`, `[p0, s, lsl #1]`) while `p0` walks row 0: `16·blocks ≤ stride`
        // bytes from each row start, all inside `w[..3·stride]` (checked above); `x` is
        // read for `8·blocks ≤ cols ≤ x.len()` elements. No memory is written, `blocks ≥ 1`.
        unsafe {
            asm!(
                "2:",
                ".rept 4",
                "ldr {x}, [{px}], #4",
                "ldr {w}, [{p0}, {s}]",
                "smlald {l1}, {h1}, {w}, {x}",
                "ldr {w}, [{p0}, {s}, lsl #1]",
                "smlald {l2}, {h2}, {w}, {x}",
                "ldr {w}, [{p0}], #4",
                "smlald {l0}, {h0}, {w}, {x}",
                ".endr",
                "subs {cnt}, {cnt}, #1",
                "bne 2b",
                p0 = inout(reg) w.as_ptr() => _,
                px = inout(reg) x.as_ptr() => _,
                s = in(reg) stride,
                cnt = inout(reg) blocks => _,
                l0 = inout(reg) l0,
                h0 = inout(reg) h0,
                l1 = inout(reg) l1,
                h1 = inout(reg) h1,
                l2 = inout(reg) l2,
                h2 = inout(reg) h2,
                w = out(reg) _,
                x = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    rows_with_tails_s16([(l0, h0), (l1, h1), (l2, h2)], w, cols, x, BLOCK * blocks)
}

/// Four consecutive rows (row stride `cols` bytes) of `i8` weights against `x`: per 4
/// columns the two activation words are loaded once and repacked to `(x0, x2)`,
/// `(x1, x3)` (`PKHBT`/`PKHTB`), which is the order `SXTB16` yields the weights in, so
/// each row costs one load, two `SXTB16` and two `SMLAD`. The `i32` accumulators cover
/// at most [`S8_SPAN`] columns per assembly call and are widened to `i64` after it.
///
/// `w` must hold `4·cols` weights and `x` at least `cols` values; otherwise this falls
/// back to four single-row calls (same results).
#[inline]
pub(super) fn dot4_s8_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; ROWS_S8] {
    if w.len() < ROWS_S8 * cols || x.len() < cols {
        return core::array::from_fn(|r| {
            let row = w.get(r * cols..).unwrap_or(&[]);
            dot_s8_s16_s64(&row[..cols.min(row.len())], x)
        });
    }
    if cols != 0 && cols <= S8_SPAN && cols % 4 == 0 {
        // One span covers the rows: no `i64` totals to carry.
        // SAFETY: lengths checked above; `0 < cols ≤ S8_SPAN`, a multiple of 4.
        return unsafe { span4_s8(w, cols, x, 0, cols) }.map(|a| a as i64);
    }
    let mut total = [0i64; ROWS_S8];
    let mut start = 0;
    while cols - start >= 4 {
        let span = (cols - start).min(S8_SPAN) & !3;
        // SAFETY: lengths checked above; `4 ≤ span ≤ S8_SPAN`, a multiple of 4, and
        // `start + span ≤ cols`.
        let sums = unsafe { span4_s8(w, cols, x, start, span) };
        for (t, a) in total.iter_mut().zip(sums) {
            *t += a as i64;
        }
        start += span;
    }
    if start == cols {
        return total;
    }
    core::array::from_fn(|r| {
        let row = &w[r * cols..(r + 1) * cols];
        total[r] + super::dot_s8_s16_s64_ref(&row[start..], &x[start..cols])
    })
}

/// `asm!` text of the `i8` multi-row loops: 4 columns of activations loaded and repacked
/// to `{c}` = `(x0, x2)`, `{b}` = `(x1, x3)` (the order `SXTB16` yields the weights in).
macro_rules! s8_acts_4cols {
    () => {
        concat!(
            "ldr {a}, [{px}], #4\n",
            "ldr {b}, [{px}], #4\n",
            "pkhbt {c}, {a}, {b}, lsl #16\n",
            "pkhtb {b}, {b}, {a}, asr #16\n",
        )
    };
}

/// `asm!` text of the `i8` multi-row loops: one row's 4 weights (one word loaded from
/// `$addr`) against the repacked activations, summed into `$acc` (`{a}`, `{d}` scratch).
#[rustfmt::skip]
macro_rules! s8_row_4cols {
    ($addr:literal, $acc:literal) => {
        concat!(
            "ldr {a}, ", $addr, "\n",
            "sxtb16 {d}, {a}\n",
            "smlad ", $acc, ", {d}, {c}, ", $acc, "\n",
            "sxtb16 {a}, {a}, ror #8\n",
            "smlad ", $acc, ", {a}, {b}, ", $acc, "\n",
        )
    };
}

/// Two consecutive rows of `i8` weights against `x` (the remainder of
/// [`dot4_s8_s16_s64`]'s groups, e.g. `W_out` with 2 or 3 outputs): the activations
/// repacked once per 4 columns for both rows, as there; 8 columns per loop iteration, 15
/// instructions per 8 products, against about 24 for two single-row calls.
///
/// `w` must hold `2·cols` weights and `x` at least `cols` values; otherwise this falls
/// back to two single-row calls (same results).
#[inline]
pub(super) fn dot2_s8_s16_s64(w: &[u8], cols: usize, x: &[i16]) -> [i64; 2] {
    if w.len() < 2 * cols || x.len() < cols {
        return core::array::from_fn(|r| {
            let row = w.get(r * cols..).unwrap_or(&[]);
            dot_s8_s16_s64(&row[..cols.min(row.len())], x)
        });
    }
    let mut total = [0i64; 2];
    let mut start = 0;
    while cols - start >= 4 {
        let span = (cols - start).min(S8_SPAN) & !3;
        let (mut a0, mut a1) = (0i32, 0i32);
        // SAFETY: see the module docs. Row 1 is read through `p0 + cols` (`[p0, s]`)
        // while `p0` walks row 0 from column `start`: `span` bytes per row with `start +
        // span ≤ cols`, inside `w[..2·cols]` (checked above); `x` is read for elements
        // `start .. start + span ≤ cols ≤ x.len()`. No memory is written; `span / 4 ≥ 1`.
        // Each accumulator sums ≤ 256 products of magnitude ≤ 2^22 (≤ 2^30), so `SMLAD`
        // never overflows.
        unsafe {
            asm!(
                // 4 columns first if `span / 4` is odd, then 8 per iteration.
                "lsrs {cnt}, {cnt}, #1",
                "bcc 3f",
                s8_acts_4cols!(),
                s8_row_4cols!("[{p0}, {s}]", "{a1}"),
                s8_row_4cols!("[{p0}], #4", "{a0}"),
                "cmp {cnt}, #0",
                "beq 4f",
                "3:",
                ".rept 2",
                s8_acts_4cols!(),
                s8_row_4cols!("[{p0}, {s}]", "{a1}"),
                s8_row_4cols!("[{p0}], #4", "{a0}"),
                ".endr",
                "subs {cnt}, {cnt}, #1",
                "bne 3b",
                "4:",
                p0 = inout(reg) w[start..].as_ptr() => _,
                px = inout(reg) x[start..].as_ptr() => _,
                s = in(reg) cols,
                cnt = inout(reg) span / 4 => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a = out(reg) _,
                b = out(reg) _,
                c = out(reg) _,
                d = out(reg) _,
                options(nostack, readonly),
            );
        }
        total[0] += a0 as i64;
        total[1] += a1 as i64;
        start += span;
    }
    if start == cols {
        return total;
    }
    core::array::from_fn(|r| {
        let row = &w[r * cols..(r + 1) * cols];
        total[r] + super::dot_s8_s16_s64_ref(&row[start..], &x[start..cols])
    })
}

/// The assembly loop of [`dot4_s8_s16_s64`]: columns `start .. start + span` of its four
/// rows, `i32` sums.
///
/// # Safety
/// `w.len() ≥ 4·cols`, `x.len() ≥ cols`, `start + span ≤ cols`, `span ≤ S8_SPAN` and
/// `span` a nonzero multiple of 4.
#[inline(always)]
unsafe fn span4_s8(w: &[u8], cols: usize, x: &[i16], start: usize, span: usize) -> [i32; ROWS_S8] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY: see the module docs. Row r of the group is read through
    // `p0 + r·cols` (`[p0, s]`, `[p0, s, lsl #1]`, `[p0 + 2·cols, s]`) while `p0`
    // walks row 0 from column `start`: `span` bytes per row with
    // `start + span ≤ cols`, all inside `w[..4·cols]` (the caller's guarantee); `x` is read
    // for elements `start .. start + span ≤ cols ≤ x.len()`. No memory is written;
    // `span / 4 ≥ 1`. Each accumulator sums ≤ 256 products of magnitude ≤ 2^22
    // (≤ 2^30), so `SMLAD` never overflows.
    unsafe {
        asm!(
            "2:",
            s8_acts_4cols!(),
            s8_row_4cols!("[{p0}, {s}]", "{a1}"),
            s8_row_4cols!("[{p0}, {s}, lsl #1]", "{a2}"),
            "add {d}, {p0}, {s}, lsl #1",
            s8_row_4cols!("[{d}, {s}]", "{a3}"),
            s8_row_4cols!("[{p0}], #4", "{a0}"),
            "subs {cnt}, {cnt}, #1",
            "bne 2b",
            p0 = inout(reg) w[start..].as_ptr() => _,
            px = inout(reg) x[start..].as_ptr() => _,
            s = in(reg) cols,
            cnt = inout(reg) span / 4 => _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            a = out(reg) _,
            b = out(reg) _,
            c = out(reg) _,
            d = out(reg) _,
            options(nostack, readonly),
        );
    }
    [a0, a1, a2, a3]
}
