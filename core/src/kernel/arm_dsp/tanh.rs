//! `tanh` over a vector of `i16` states on the Cortex-M4/M7 DSP path (the leaky cell's
//! rates), in `global_asm!`, two values per word load and store and four per loop
//! iteration, with the Rust wrapper.
//! The safety argument is in the parent module's docs (`kernel/arm_dsp.rs`: "The tanh
//! rows"); the reference is [`crate::activation::tanh_s16`], value by value.
//!
//! Written by hand because the compiler's loop (`cell/leaky.rs`, `rates`) spends about 20
//! instructions a value: a 4-instruction `|x|`, a branch for the saturated range, and
//! pointer reloads under register pressure. Here a value is 13 instructions (15 with the
//! clamp) plus its share of the load, pack, store and loop: `|x|` in two (`EOR`/`SUB`
//! with `ASR #31`), the clamp to the table's end in two (`USUB16` + `SEL`, an unsigned
//! 16-bit minimum), `UBFX` for the entry and the step, `UXTAH` for `t − 16`, one `MLA`,
//! and the sign put back in three.
//!
//! What it computes, for each value `x` (`frac ≤ 21`, `sh = 21 − frac`, `T` =
//! `activation::TANH_PACKED`), exactly `tanh_s16(x, frac)`:
//!
//! ```text
//! m = min(|x|, lim)   lim = min(2^(24 − sh), 2^15)   (only where 2^(24 − sh) < 2^15)
//! p = m << sh         (≤ 2^24)
//! e = T[p >> 16]      (entry 256 for p = 2^24: T = 32767, step 0)
//! v = (e + step(e)·((p mod 2^16) − 16)) >> 16
//! r = (v ^ s) − s     s = x >> 31
//! ```
//!
//! `tanh_s16` returns 32767 for `|x| ≥ 2^(24 − sh)` and interpolates entry `(p >> 16) & 0xFF`
//! below: the clamp sends every saturated `|x|` to `p = 2^24`, entry 256, whose value is
//! 32767 and step 0; below it `p < 2^24`, so `p >> 16 ≤ 255` is the same entry. When
//! `2^(24 − sh) ≥ 2^15` (`frac ≥ 12`) no `|x| ≤ 2^15` reaches the limit and `p ≤ 2^24`
//! already: the routine without the clamp runs.

use core::arch::global_asm;

// r0 = x (the values, 2-aligned), r1 = out (2-aligned), r2 = the end of x (`x + 4·quads`
// values, `quads ≥ 1`: two words per iteration), r3 = params `[sh, lim, T]`. Registers in the loop: r4 `sh`, r5 `lim`, r6
// `T`, r7 the input word, r8 −16, r9–r11 and r12, lr scratch (r12 and lr the two results).
global_asm!(
    // One value: the sign-extended `x` in `\a`, the result (low half) in `\v`.
    ".macro nl_tanh_one a, v, clamp",
    "eor r9, \\a, \\a, asr #31",
    "sub r9, r9, \\a, asr #31",
    ".if \\clamp",
    "usub16 r10, r5, r9",
    "sel r9, r9, r5",
    ".endif",
    "lsl r9, r9, r4",
    "ubfx r10, r9, #16, #9",
    "ldr r10, [r6, r10, lsl #2]",
    "ubfx r11, r10, #4, #11",
    "uxtah r9, r8, r9",
    "mla r10, r11, r9, r10",
    "eor r10, r10, \\a, asr #31",
    "asr r10, r10, #16",
    "sub \\v, r10, \\a, asr #31",
    ".endm",
    ".macro nl_tanh_fn name, clamp",
    asm_fn_begin!("\\name"),
    "push {{r4, r5, r6, r7, r8, r9, r10, r11, lr}}",
    "ldm r3, {{r4, r5, r6}}",
    "mvn r8, #15",
    "1:",
    ".rept 2",
    "ldr r7, [r0], #4",
    "sxth r3, r7",
    "nl_tanh_one r3, r12, \\clamp",
    "asr r3, r7, #16",
    "nl_tanh_one r3, lr, \\clamp",
    "pkhbt r12, r12, lr, lsl #16",
    "str r12, [r1], #4",
    ".endr",
    "cmp r0, r2",
    "bne 1b",
    "pop {{r4, r5, r6, r7, r8, r9, r10, r11, pc}}",
    asm_fn_end!("\\name"),
    ".endm",
    "nl_tanh_fn neuroloop_core_dsp_tanh_rows, 0",
    "nl_tanh_fn neuroloop_core_dsp_tanh_rows_clamp, 1",
    ".purgem nl_tanh_fn",
    ".purgem nl_tanh_one",
);

extern "C" {
    fn neuroloop_core_dsp_tanh_rows(
        x: *const i16,
        out: *mut i16,
        end: *const i16,
        p: *const [u32; 3],
    );
    fn neuroloop_core_dsp_tanh_rows_clamp(
        x: *const i16,
        out: *mut i16,
        end: *const i16,
        p: *const [u32; 3],
    );
}

/// `out[k] = tanh_s16(x[k], frac)` for the first `4·⌊n/4⌋` values (`n` the shorter
/// length) when `frac ≤ 21`; returns how many it wrote (0 for `frac > 21`: the caller's
/// loop takes them all, and the last `n mod 4` values).
pub(in crate::kernel) fn tanh_rows(x: &[i16], out: &mut [i16], frac: u8) -> usize {
    if frac > 21 {
        return 0;
    }
    let n = x.len().min(out.len()) / 4 * 4;
    if n == 0 {
        return 0;
    }
    let sh = 21 - frac as u32;
    let clamp = 24 - sh < 15;
    let params = [
        sh,
        if clamp { 1 << (24 - sh) } else { 1 << 15 },
        crate::activation::TANH_PACKED.as_ptr() as u32,
    ];
    let f = if clamp {
        neuroloop_core_dsp_tanh_rows_clamp
    } else {
        neuroloop_core_dsp_tanh_rows
    };
    // SAFETY: see "The tanh rows" in the `arm_dsp` module docs: the routine reads the
    // words of `x[..n]` and writes those of `out[..n]` (`n ≥ 4` a multiple of 4, `n ≤`
    // both lengths; single-register `LDR`/`STR`, any alignment), stopping at `x + n`, and
    // reads the 257-entry table at indices `p >> 16 ≤ 256` (`p ≤ 2^24`); nothing else but
    // its stack frame; AAPCS.
    unsafe { f(x.as_ptr(), out.as_mut_ptr(), x.as_ptr().add(n), &params) };
    n
}
