//! Cortex-M4/M7 (Armv7E-M DSP extension) paths of the dot kernels: `smlald` with `asm!`.
//!
//! Built only with feature `dsp` on a DSP-capable Arm target (`cfg(neuroloop_arm_dsp)`, set
//! by `core/build.rs` for `thumbv7em-*`); [`super`] dispatches here and falls back to the
//! portable code everywhere else. Each function runs its main loop over whole blocks of 8
//! elements in assembly and hands the tail (< 8 elements, any length mismatch already
//! trimmed) to the plain reference, so the result is the same `i64` as the reference for
//! every input.
//!
//! # Exactness
//! Both kernels accumulate with `SMLALD` (two signed 16×16 products added to a 64-bit
//! accumulator): no 32-bit intermediate exists, so nothing can saturate or wrap. Each
//! instruction adds at most 2·2^30 = 2^31 in magnitude; wrapping the 64-bit accumulator
//! would take 2^32 instructions, far beyond any slice in memory (blob limits: ≤ 1024
//! columns). `SMLALD` does not touch the Q flag or the condition flags.
//! i8 weights are sign-extended in pairs with `SXTB16` (bytes 0, 2 and, rotated by 8,
//! bytes 1, 3) and repacked into (w0, w1), (w2, w3) with `PKHBT`/`PKHTB`, so every weight
//! meets the activation with the same index.
//!
//! # Safety argument (every `unsafe` block below is one `asm!` loop of this shape)
//! - Memory: the loop reads through two pointers taken from the argument slices, `pw`
//!   (weights) and `px` (activations), advancing by post-indexed `LDR`. It runs
//!   `blocks = n / 8` times with `n` the number of elements both slices hold, and each
//!   iteration reads exactly 8 weights (8 or 16 bytes) and 8 activations (16 bytes), so
//!   every byte read lies inside `w[..n·size]` and `x[..n]`. The loop is entered only
//!   when `blocks ≥ 1` (a zero count would wrap `SUBS` and run away). Nothing is written
//!   to memory and the stack is not used (`options(nostack, readonly)`); all registers
//!   touched are declared operands; the condition flags are clobbered (the `asm!`
//!   default assumes so).
//! - Alignment: weights are borrowed from the blob with no alignment guarantee and
//!   activations are only 2-byte aligned, so the word loads may be unaligned. They use
//!   only single-register `LDR`, which Armv7-M performs unaligned in hardware on Normal
//!   memory (RAM, flash) while `CCR.UNALIGN_TRP` is 0, its reset value; `LDRD`/`LDM`,
//!   which always fault when unaligned, are never used. LLVM relies on the same thing for
//!   ordinary Rust code on `thumbv7em` (it emits unaligned `LDR` itself). A firmware that
//!   sets `UNALIGN_TRP` would get a UsageFault (a fault, not undefined behaviour).
//! - Target: `SMLALD`, `SXTB16` and `PKHBT`/`PKHTB` exist on Armv7E-M (Cortex-M4, M7);
//!   the cfg keeps this module off thumbv6m/thumbv7m, where they would not assemble.

use core::arch::asm;

/// Elements per assembly loop iteration.
const BLOCK: usize = 8;

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
