//! The leaky cell's whole row loop in one routine on the Cortex-M4/M7 DSP path
//! ([`crate::kernel::leaky_fused`], reference [`crate::kernel::leaky_fused_ref`]): for
//! each row, `W_rec`'s dot product, `W_in`'s, the `i32` row update and the `tanh` rate,
//! with no `i64` written to memory and read back, in `global_asm!`, with the Rust wrapper
//! that checks its preconditions and prepares the rates. The safety argument is in the
//! parent module's docs (`kernel/arm_dsp.rs`: "The fused leaky rows").
//!
//! Written by hand for measured speed: the separate passes (`aligned.rs`'s row loop,
//! `narrow.rs`, `leaky_rows_i32`, `tanh.rs`) store each row's two `i64` sums and reload
//! them, and pay their own loops and set-up: about 59 instructions a row besides the dot
//! product's loads and multiply-adds at `N_rec` 128. Here a row is 45 (`W_in` of 2
//! columns, `tanh`, `i16` or `i8`; the call into the dot body and its return included):
//!
//! - the dot product is a call into a fully unrolled 256-column body
//!   (`neuroloop_core_dsp_fused_dot_s16` / `_s8`), entered `cols / 8` or `cols / 16`
//!   blocks before its end and left with `BX LR`: no loop counter;
//! - every per-row address is `end + k·size` with one index register counting up from
//!   `−n` to 0 (`[Rn, Rm, LSL #s]`), so nothing is stored back between rows; the
//!   constants sit in memory right after the activations, where the dot product's last
//!   `LDM` leaves its pointer, and come back with two `LDM`s;
//! - `W_in` with 2 columns of `W_rec`'s type is summed in the row (`SMUAD`, exact when
//!   no input is −32768, which the wrapper checks; `i8`: `SMULBB` + `SMLABT`); other
//!   widths read the `i64` sums of a narrow-kernel pass (9 instructions more a row);
//! - the `tanh` rate is `tanh.rs`'s instruction sequence on the new state, still in a
//!   register.
//!
//! The window of each dot product, the bias, the α update and the final clamp are
//! `leaky_rows_i32`'s instructions (`aligned.rs`); the `i8` sum (`i32`, at most 256
//! columns) is read with one `ASR`.

use crate::kernel::FUSED_COLS_MAX;
use core::arch::global_asm;
use core::mem::MaybeUninit;

// The dot products: r0 = the row's weights (4-aligned, advanced past the row), r1 = the
// activations (4-aligned: `i16` values, or the `i8` kernel's permuted words; advanced),
// r2:r3 the `i64` accumulator (`i16`) or r2 the `i32` one (`i8`, r3 scratch), in and out;
// r4–r10 and r12 clobbered. Entered `blocks` blocks before the `_end` label (the caller
// computes the address), returns with `BX LR`.
global_asm!(
    ".global neuroloop_core_dsp_fused_dot_s16_end",
    ".hidden neuroloop_core_dsp_fused_dot_s16_end",
    ".type neuroloop_core_dsp_fused_dot_s16_end,%function",
    asm_fn_begin!("neuroloop_core_dsp_fused_dot_s16"),
    ".rept 32",
    "ldm r1!, {{r4, r5, r6, r7}}",
    "ldm.w r0!, {{r8, r9, r10, r12}}",
    "smlald r2, r3, r8, r4",
    "smlald r2, r3, r9, r5",
    "smlald r2, r3, r10, r6",
    "smlald r2, r3, r12, r7",
    ".endr",
    ".thumb_func",
    "neuroloop_core_dsp_fused_dot_s16_end:",
    "bx lr",
    asm_fn_end!("neuroloop_core_dsp_fused_dot_s16"),
    ".global neuroloop_core_dsp_fused_dot_s8_end",
    ".hidden neuroloop_core_dsp_fused_dot_s8_end",
    ".type neuroloop_core_dsp_fused_dot_s8_end,%function",
    asm_fn_begin!("neuroloop_core_dsp_fused_dot_s8"),
    ".rept 16",
    "ldm.w r0!, {{r8, r9, r10, r12}}",
    "ldm r1!, {{r4, r5, r6, r7}}",
    "sxtb16 r3, r8",
    "smlad r2, r3, r4, r2",
    "sxtb16 r3, r8, ror #8",
    "smlad r2, r3, r5, r2",
    "sxtb16 r3, r9",
    "smlad r2, r3, r6, r2",
    "sxtb16 r3, r9, ror #8",
    "smlad r2, r3, r7, r2",
    "ldm r1!, {{r4, r5, r6, r7}}",
    "sxtb16 r3, r10",
    "smlad r2, r3, r4, r2",
    "sxtb16 r3, r10, ror #8",
    "smlad r2, r3, r5, r2",
    "sxtb16 r3, r12",
    "smlad r2, r3, r6, r2",
    "sxtb16 r3, r12, ror #8",
    "smlad r2, r3, r7, r2",
    ".endr",
    ".thumb_func",
    "neuroloop_core_dsp_fused_dot_s8_end:",
    "bx lr",
    asm_fn_end!("neuroloop_core_dsp_fused_dot_s8"),
);

// The row loop, one routine per (weights, `W_in` form, rate form):
// `neuroloop_core_dsp_fused_<s16|s8>_<pair|dots>_<none|tanh|tanhc>`. r0 = `[activations,
// 0, 0, the dot entry (Thumb bit set), W_rec (row 0, 4-aligned), −n (n ≥ 1 rows)]`; the
// activations (`cols / 2` words) are followed in memory by the row constants, which the
// dot product's last `LDM` leaves r1 pointing at: `B` = [`fr` end, `b` end, `x` end,
// `W_in` end (`pair`: the weights, 4 or 2 bytes a row) or the `i64` sums' end (`dots`),
// `k_in << 16 | k_rec & 0xFFFF`, `a_in`, the two inputs (`u0 | u1 << 16`), `fi` end], then
// `C` = [α·2^17, `r` end, the tanh table, `sh`, −16, `lim`]. Every "end" is the array's
// address past row `n − 1`; r11 = `k − n` for row `k` indexes them all. The frame holds
// the first four words (reloaded with one `LDM` before each row's dot product).
global_asm!(
    ".macro nl_fused_fn name, s8, pair, rate",
    asm_fn_begin!("\\name"),
    "push {{r4, r5, r6, r7, r8, r9, r10, r11, lr}}",
    "sub sp, sp, #20",
    "ldm r0, {{r1, r2, r3, r4, r5, r6}}",
    "stm sp, {{r1, r2, r3, r4}}",
    "mov r0, r5",
    "mov r11, r6",
    "1:",
    // The dot product of row k into r2:r3 (`i16`) or r2 (`i8`); r1 ends at `B`.
    "ldm sp, {{r1, r2, r3, r12}}",
    "blx r12",
    "ldm r1!, {{r4, r5, r6, r7, r8, r9, r10, lr}}",
    // r2 = `W_rec`'s window plus one (as `leaky_rows_i32`).
    "ldrb r12, [r4, r11]",
    "add r12, r12, r8",
    ".if \\s8",
    "asr r2, r2, r12",
    ".else",
    "lsr r2, r2, r12",
    "rsb r12, r12, #32",
    "lsl r3, r3, r12",
    "orr r2, r2, r3",
    ".endif",
    "add r2, r2, #1",
    // r3 = W_in's window plus one.
    ".if \\pair",
    ".if \\s8",
    "ldrh r3, [r7, r11, lsl #1]",
    "sxtb r12, r3, ror #8",
    "sxtb r3, r3",
    "smulbb r3, r3, r10",
    "smlabt r3, r12, r10, r3",
    ".else",
    "ldr r3, [r7, r11, lsl #2]",
    "smuad r3, r3, r10",
    ".endif",
    "ldrb r12, [lr, r11]",
    "add r12, r12, r8, asr #16",
    "lsl r3, r3, r9",
    "asr r3, r3, r12",
    ".else",
    "add r10, r7, r11, lsl #3",
    "ldrd r3, r12, [r10]",
    "ldrb r10, [lr, r11]",
    "add r10, r10, r8, asr #16",
    "lsl r3, r3, r9",
    "lsr r3, r3, r10",
    "rsb r10, r10, #32",
    "lsl r12, r12, r10",
    "orr r3, r3, r12",
    ".endif",
    "add r3, r3, #1",
    // pre = sat32(s_rec + s_in + b), d = sat32(pre − x_t), the α update and the clamp.
    "asr r2, r2, #1",
    "add r2, r2, r3, asr #1",
    "ldr r3, [r5, r11, lsl #2]",
    "qadd r2, r2, r3",
    "ldrsh r3, [r6, r11, lsl #1]",
    "lsl r3, r3, #8",
    "qsub r2, r2, r3",
    "ldm r1, {{r1, r4, r7, r8, r9, r10}}",
    "smmulr r2, r2, r1",
    "add r3, r3, #128",
    "qadd r2, r3, r2",
    "ssat r2, #16, r2, asr #8",
    "strh r2, [r6, r11, lsl #1]",
    // The rate: `tanh.rs`'s sequence (r12 = |x|, clamped to `lim` for `tanhc`).
    ".if \\rate",
    "eor r12, r2, r2, asr #31",
    "sub r12, r12, r2, asr #31",
    ".if \\rate == 2",
    "usub16 r1, r10, r12",
    "sel r12, r12, r10",
    ".endif",
    "lsl r12, r12, r8",
    "ubfx r1, r12, #16, #9",
    "ldr r1, [r7, r1, lsl #2]",
    "ubfx r3, r1, #4, #11",
    "uxtah r12, r9, r12",
    "mla r1, r3, r12, r1",
    "eor r1, r1, r2, asr #31",
    "asr r1, r1, #16",
    "sub r1, r1, r2, asr #31",
    "strh r1, [r4, r11, lsl #1]",
    ".endif",
    "adds r11, r11, #1",
    "bne 1b",
    "add sp, sp, #20",
    "pop {{r4, r5, r6, r7, r8, r9, r10, r11, pc}}",
    asm_fn_end!("\\name"),
    ".endm",
    "nl_fused_fn neuroloop_core_dsp_fused_s16_pair_none, 0, 1, 0",
    "nl_fused_fn neuroloop_core_dsp_fused_s16_pair_tanh, 0, 1, 1",
    "nl_fused_fn neuroloop_core_dsp_fused_s16_pair_tanhc, 0, 1, 2",
    "nl_fused_fn neuroloop_core_dsp_fused_s16_dots_none, 0, 0, 0",
    "nl_fused_fn neuroloop_core_dsp_fused_s16_dots_tanh, 0, 0, 1",
    "nl_fused_fn neuroloop_core_dsp_fused_s16_dots_tanhc, 0, 0, 2",
    "nl_fused_fn neuroloop_core_dsp_fused_s8_pair_none, 1, 1, 0",
    "nl_fused_fn neuroloop_core_dsp_fused_s8_pair_tanh, 1, 1, 1",
    "nl_fused_fn neuroloop_core_dsp_fused_s8_pair_tanhc, 1, 1, 2",
    "nl_fused_fn neuroloop_core_dsp_fused_s8_dots_none, 1, 0, 0",
    "nl_fused_fn neuroloop_core_dsp_fused_s8_dots_tanh, 1, 0, 1",
    "nl_fused_fn neuroloop_core_dsp_fused_s8_dots_tanhc, 1, 0, 2",
    ".purgem nl_fused_fn",
);

/// A row-loop routine: the parameter block.
type Fused = unsafe extern "C" fn(*const [u32; 6]);

extern "C" {
    fn neuroloop_core_dsp_fused_dot_s16();
    fn neuroloop_core_dsp_fused_dot_s16_end();
    fn neuroloop_core_dsp_fused_dot_s8();
    fn neuroloop_core_dsp_fused_dot_s8_end();
    fn neuroloop_core_dsp_fused_s16_pair_none(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s16_pair_tanh(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s16_pair_tanhc(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s16_dots_none(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s16_dots_tanh(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s16_dots_tanhc(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s8_pair_none(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s8_pair_tanh(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s8_pair_tanhc(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s8_dots_none(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s8_dots_tanh(p: *const [u32; 6]);
    fn neuroloop_core_dsp_fused_s8_dots_tanhc(p: *const [u32; 6]);
}

/// [`crate::kernel::leaky_fused`] in assembly: all `n = x.len()` rows, or 0 where a
/// precondition fails (the caller's other path takes them).
pub(in crate::kernel) fn leaky_fused(
    p: &crate::kernel::LeakyFused<'_>,
    x: &mut [i16],
    r: &mut [i16],
) -> usize {
    use crate::kernel::{FusedIn, FusedRate};
    let n = x.len();
    let s8 = p.dtype == crate::blob::DType::I8;
    let (size, block) = if s8 { (1, 16) } else { (2, 8) };
    let cols = p.cols;
    // Shapes (`W_rec` 4-aligned, so are its rows: `cols·size` is a multiple of 16), one
    // rate per column, every per-row array long enough.
    if n == 0
        || !crate::kernel::leaky_fused_fits(p.dtype, cols, p.w_rec)
        || r.len() != cols
        || n > cols
        || p.w_rec.len() < n * cols * size
        || p.fr.len() < n
        || p.fi.len() < n
        || p.b.len() < 4 * n
    {
        return 0;
    }
    let (pair, win_end, u01) = match p.w_in {
        FusedIn::Pair(w, u) => {
            // `SMUAD` is exact unless an input is −32768 (`i16` weights).
            if w.len() < 2 * size * n || (!s8 && u.contains(&i16::MIN)) {
                return 0;
            }
            let u01 = u[0] as u16 as u32 | (u[1] as u16 as u32) << 16;
            (true, w.as_ptr() as u32 + (2 * size * n) as u32, u01)
        }
        FusedIn::Dots(d) => {
            if d.len() < n {
                return 0;
            }
            (false, d.as_ptr() as u32 + 8 * n as u32, 0)
        }
    };
    let (rate, frac) = match p.rate {
        FusedRate::None => (0, 0),
        FusedRate::Tanh(f) if f <= 21 => (if 24 - (21 - f as u32) < 15 { 2 } else { 1 }, f),
        FusedRate::Tanh(_) => return 0,
    };
    // The old rates, prepared where the routine reads them (never `r` itself: it writes
    // the new ones there row by row), followed by the row constants `B` and `C`.
    let mut buf = [const { MaybeUninit::<u32>::uninit() }; FUSED_COLS_MAX / 2 + CONSTS];
    let acts = if s8 {
        super::aligned::permute_s8(r, &mut buf)
    } else {
        super::aligned::copy_words(r, &mut buf)
    };
    if acts.len() != cols / 2 {
        return 0;
    }
    let acts = acts.as_ptr() as u32;
    let (start, end) = if s8 {
        (
            neuroloop_core_dsp_fused_dot_s8 as *const () as usize,
            neuroloop_core_dsp_fused_dot_s8_end as *const () as usize,
        )
    } else {
        (
            neuroloop_core_dsp_fused_dot_s16 as *const () as usize,
            neuroloop_core_dsp_fused_dot_s16_end as *const () as usize,
        )
    };
    let blocks = FUSED_COLS_MAX / block;
    let entry = end - (cols / block) * ((end - start) / blocks);
    let sh = 21 - frac as u32;
    let f: Fused = match (s8, pair, rate) {
        (false, true, 0) => neuroloop_core_dsp_fused_s16_pair_none,
        (false, true, 1) => neuroloop_core_dsp_fused_s16_pair_tanh,
        (false, true, _) => neuroloop_core_dsp_fused_s16_pair_tanhc,
        (false, false, 0) => neuroloop_core_dsp_fused_s16_dots_none,
        (false, false, 1) => neuroloop_core_dsp_fused_s16_dots_tanh,
        (false, false, _) => neuroloop_core_dsp_fused_s16_dots_tanhc,
        (true, true, 0) => neuroloop_core_dsp_fused_s8_pair_none,
        (true, true, 1) => neuroloop_core_dsp_fused_s8_pair_tanh,
        (true, true, _) => neuroloop_core_dsp_fused_s8_pair_tanhc,
        (true, false, 0) => neuroloop_core_dsp_fused_s8_dots_none,
        (true, false, 1) => neuroloop_core_dsp_fused_s8_dots_tanh,
        (true, false, _) => neuroloop_core_dsp_fused_s8_dots_tanhc,
    };
    let q = &p.rows;
    let consts: [u32; CONSTS] = [
        p.fr.as_ptr() as u32 + n as u32,
        p.b.as_ptr() as u32 + 4 * n as u32,
        x.as_mut_ptr_range().end as u32,
        win_end,
        (q.k_in as u32) << 16 | (q.k_rec as u32 & 0xFFFF),
        q.a_in,
        u01,
        p.fi.as_ptr() as u32 + n as u32,
        (q.alpha as u32).wrapping_shl(17),
        r.as_mut_ptr() as u32 + 2 * n as u32,
        crate::activation::TANH_PACKED.as_ptr() as u32,
        sh,
        -16i32 as u32,
        if rate == 2 { 1 << (24 - sh) } else { 1 << 15 },
    ];
    for (b, &c) in buf[cols / 2..].iter_mut().zip(&consts) {
        b.write(c);
    }
    let params: [u32; 6] = [
        acts,
        0,
        0,
        entry as u32,
        p.w_rec.as_ptr() as u32,
        (n as u32).wrapping_neg(),
    ];
    // SAFETY: see "The fused leaky rows" in the `arm_dsp` module docs: for rows k < n
    // the routine reads `W_rec` row k (4-aligned `LDM`s, `cols·size` bytes, all within
    // `p.w_rec`), the `cols / 2` prepared words `acts` (4-aligned) and the `CONSTS`
    // words after them in `buf` (written above), `fr[k]`, `fi[k]`,
    // 4 bytes of `b`, the `W_in` row's `2·size` bytes (`pair`) or `dots[k]` (8-aligned
    // `LDRD`), reads and writes `x[k]` and writes `r[k]` (rates only; `r` is not `acts`),
    // and reads the 257-entry tanh table at `p >> 16 ≤ 256`; it runs the `n ≥ 1` rows and
    // returns; the dot entry lies within the unrolled body; AAPCS.
    unsafe { f(&params) };
    n
}

/// Row-constant words after the activations (`B` and `C` of the routine's comment).
const CONSTS: usize = 14;
