//! PsychRNN's `Basic` leaky rate RNN, one time step, in fixed point.
//!
//! Float equations (α = dt/τ, f the transfer function, ξ ~ N(0, 1)):
//!
//! ```text
//! s_t = (1 − α)·s_{t−1} + α·(W_rec·f(s_{t−1}) + W_in·u_t + b_rec) + sqrt(2α)·σ·ξ_t
//! y_t = W_out·f(s_t) + b_out
//! ```
//!
//! Fixed point (`fx`, `fu`, `fr`, `fy` the state, input, rate and output fractional bits,
//! `wᵢ` a weight row's own fractional bits, `G` = [`GUARD_BITS`], `T = fx + G`):
//!
//! 1. `pre_i = rs(W_rec[i]·r, w_i + fr − T) + rs(W_in[i]·u, w_i' + fu − T) + b_rec[i]`
//!    (dot products exact in `i64`, `rs` = rounding shift, ties toward +∞, saturating adds);
//! 2. `x_i ← sat16(rs((x_i << G) + rs(α_q15·(pre_i − (x_i << G)), 15) + noise_i, G))`
//!    where `noise_i = rs(g·noise_mul, 16)` and `g` comes from [`Rng::gauss_s32`];
//! 3. `r_i = f(x_i)` ([`Transfer::apply_s16`]);
//! 4. `y_o = sat16(rs(rs(W_out[o]·r, w_o + fr − fy − G) + b_out[o], G))`.
//!
//! That is the definition (`update_i64`): every intermediate is an `i64` kept away from
//! overflow (the difference in step 2 is clamped to ±2^46 before the α multiply); results
//! saturate to `i16`, nothing wraps. Step 2 updates `x` in place: row `i` reads only the
//! old rates `r` and its own `x_i`.
//!
//! # The `i32` row update
//! Most models take a cheaper, bit-identical path (`Fast`; the `i64` definition above
//! runs for the others). Its precondition, checked once per step from fields the decoder
//! validated: α ≥ 2^9 (dt/τ ≥ 1/64), `noise_mul` ≤ 2^22, and every row of `W_rec` and
//! `W_in` stays below 2^61 after its row shift `w_i + fr − T` (`w_i' + fu − T`): a
//! right shift only shrinks a dot product, and a left shift by `L` is allowed when
//! `⌊log2 cols⌋ + 1 + 7 (i8) or 15 (i16) + 15 + L ≤ 61` (the smallest row fractional
//! bits are found once, at load: [`Model::min_row_frac`]). Then:
//!
//! - `pre` is summed with plain `i64` adds: both shifted dot products are below 2^61 in
//!   magnitude and `|b| < 2^31`, so `|pre| < 2^62` and none of the definition's
//!   saturating shifts and adds can saturate.
//! - `d = sat32(pre − x_t)`, everything after it in `i32` (one 32×32→64 multiply for
//!   `α·d`, `SMULL` on the M4) with saturating adds, and `x_i = sat16(rs(next, 8))`.
//!
//! Why this equals the definition: the definition's result is a nondecreasing function
//! `F(d)` of `d` (for a fixed `x_t` and noise term) that is pinned at 32767 once `next ≥
//! 2^23` and at −32768 once `next ≤ −2^23`. With `|x_t| ≤ 2^23` and `|noise| ≤ 2^17·2^22
//! / 2^16 = 2^23` (`|g| ≤ 2^17`), any `d ≥ 2^31 − 1` gives `rs(α·d, 15) ≥ 2^9·(2^31 − 1)
//! / 2^15 − 1 > 2^25 − 2`, so `next > 2^25 − 2^24 − 2 > 2^23`: pinned (likewise below
//! `−2^31`); the ±2^46 clamp never matters there either. So saturating `d` to `i32`
//! changes nothing. Once `|d| < 2^31`, `|rs(α·d, 15)| ≤ |d|` fits `i32`, and a
//! saturating add of `x_t` or of the noise term only saturates when the exact sum is
//! beyond ±(2^31 − 2^23 − 1), where `F` is pinned too. The final rounding shift is
//! `((next >> 7) + 1) >> 1`, which cannot overflow. The unit tests below check the
//! update against `update_i64` at the edges, and `core/tests/reference_step.rs` checks
//! whole steps against an independent `i128` reference on models of both kinds.
//!
//! # Dot products in `i32`
//! Where a matrix's row shifts and sizes allow it (`Narrow`, decided once per step),
//! a row whose two dot products fit `i32` is updated without any 64-bit arithmetic (the
//! Cortex-M0 has no 64-bit shift or add in one instruction; the M4 saves the
//! variable 64-bit shifts): each shifted dot product is formed in `i32` and is within
//! ±2^29, so their sum is exact; then `pre' = sat32(sum + b)` and `d' = sat32(pre' −
//! x_t)` with saturating adds. If neither saturates, `d' = d`. If one does, the exact
//! `pre − x_t` is beyond ±(2^31 − 2^23 − 1) (`|x_t| ≤ 2^23`) and so is `d'`; for such `d`
//! the update above is pinned (`rs(α·d, 15) ≥ 2^9·(2^31 − 2^23 − 1)/2^15 − 1 > 2^25 −
//! 2^17 − 2`, so `next > 2^25 − 2^17 − 2 − 2^24 > 2^23`; likewise below), and it is a
//! nondecreasing function of `d`: both give the same saturated state. Rows that do not
//! fit take the `i64` form above.
//!
//! # The assembly row update
//! On the Cortex-M4/M7 DSP path, noise-free models with α < 2^14 run the `i32` update in
//! assembly ([`kernel::leaky_rows_i32`], plain reference beside it) when both matrices
//! pass `window` (checked once per step from the row-fraction range found at load):
//! with `c = frac_i + sh − 1` (the row shift minus one) in `0..=31` for every row and
//! `dot_bits − min c ≤ 30`, every dot product `v` (`|v| < 2^dot_bits`) has `|v >> c| <
//! 2^30`, so the low word of the `i64` `v >> c` is that value, `((v >> c) + 1) >> 1` is
//! the rounding shift `rs(v, c + 1)` (the formula of `Narrow`) and it is within ±2^29:
//! the "Dot products in `i32`" argument above applies to every row, with no row left
//! over. `W_in` may also shift left (`c < 0`, few columns): with `a = −min c`,
//! `dot_bits + a ≤ 30` makes every `v` an `i32` with `|v·2^a| < 2^30`, so shifting the low
//! word left by `a` (the high word, `v`'s sign, unchanged) gives the `i64` `v·2^a`, read
//! at `c + a ≥ 0`; for `c ≥ 0` it is the same formula, and for `c < 0` it is
//! `(v·2^−c + 1) >> 1 = v·2^(−c−1) = rs(v, c + 1)` (`v·2^−c` is even). `W_rec` needs
//! `a = 0`.
//!
//! The rest is `Fast::tail` without noise in cheaper instructions: `rs(α·d, 15) =
//! (d·α·2^17 + 2^31) >> 32` (one `SMMULR`), and with `E = x_t + rs(α·d, 15)` the last
//! shift `((sat32(E) >> 7) + 1) >> 1 = (sat32(E) + 128) >> 8` is replaced by
//! `sat32(x_t + 128 + rs(α·d, 15)) >> 8` (`|x_t| ≤ 2^23`, so `x_t + 128` is exact): the
//! two differ only where `E ≥ 2^31 − 128` or `E < −2^31`, where both are at least
//! `2^23 − 1` or at most `−2^23` and the `i16` clamp gives 32767 or −32768 alike. A host
//! proptest checks the reference against `update_i64`, the firmware bench binary the
//! assembly against the reference. The step prepares the rates once for all of
//! `W_rec`'s row groups ([`kernel::with_acts`]: the `i8` kernel's permutation, an aligned
//! copy for the `i16` one).
//!
//! # The fused row loop
//! Where the assembly row update applies and `W_rec` has the shape of the unrolled DSP
//! dot products (4-aligned in the blob, `N_rec` a multiple of 8 for `i16` or 16 for `i8`,
//! at most [`kernel::FUSED_COLS_MAX`]), the whole row loop is one routine
//! ([`kernel::leaky_fused`], `step_fused` here): per row, both dot products, the same
//! update, and with `tanh` the new rate, with no `i64` stored. It computes exactly what
//! the chunked loop below does: the update of row `i` reads only the old rates (which the
//! routine reads from a copy) and its own `x_i`, and the rate of row `i` only the new
//! `x_i`. A host proptest checks its reference against the `i64` definition on whole
//! steps, the firmware bench binary the assembly against the reference.

use crate::blob::{DType, GUARD_BITS};
use crate::fixed::{rs_dot, sat_i16, sat_i32, shift_round};
use crate::kernel;
use crate::rng::Rng;
use crate::Model;
#[allow(unused_imports)]
use crate::Transfer;

const D_CLAMP: i64 = 1 << 46;
/// Rows whose dot products are computed together (by the multi-row kernels, see
/// [`crate::kernel`]) before their per-row update: a multiple of every kernel's row group
/// (2, 3, 4) and of the aligned kernels' 64-column rows, small enough for the stack and
/// large enough that the per-chunk call overheads (about 500 instructions on the M4: the
/// kernels' wrappers, the row update's set-up) are a few instructions per row. On the
/// Cortex-M4/M7 DSP path (boards with ≥ 64 KiB of RAM) 192 rows, `2 · 192` `i64` (3 KiB):
/// one chunk up to `N_rec` 192; elsewhere (the 16 KiB Cortex-M0 micro:bit) 48 rows, 768
/// bytes.
const CHUNK: usize = if kernel::PATH_IS_DSP { 192 } else { 48 };

/// [`shift_round`] of a dot product (`|v| < 2^41`) by `sh ≤ 37` (the blob limits:
/// `w ≤ 30`, `fr, fu ≤ 15`), for `|v|·2^−sh < 2^61` when `sh < 0` (the `i32` row
/// update's precondition): no saturation can happen. For `sh ≥ 0`, `2v` cannot overflow,
/// `(2v >> sh) = v >> (sh − 1)` for `sh ≥ 1`, and `sh = 0` gives `v` back.
#[inline(always)]
fn rs_fast(v: i64, sh: i32) -> i64 {
    if sh >= 0 {
        (((v << 1) >> sh) + 1) >> 1
    } else {
        v << -sh
    }
}

/// Whether every row of `w` (dot products against `i16` values, `|x| ≤ 2^15`) shifted by
/// its row shift `frac + sh` stays below 2^61 in magnitude: `|Σ w·x| < 2^bits` with
/// `bits = ⌊log2 cols⌋ + 1 + 7 (i8) or 15 (i16) + 15`, so a left shift by `L` is safe when
/// `bits + L ≤ 61`; right shifts only shrink it.
fn rows_fit(w: &crate::model::Weights<'_>, min_frac: u8, sh: i32) -> bool {
    let left = -(min_frac as i32 + sh);
    left <= 0 || dot_bits(w) + left <= 61
}

/// `bits` with `|Σ w·x| < 2^bits` for any row of `w` against `i16` values:
/// `⌊log2 cols⌋ + 1 + 7 (i8) or 15 (i16) + 15`.
fn dot_bits(w: &crate::model::Weights<'_>) -> i32 {
    let wbits = if w.dtype() == crate::blob::DType::I16 {
        15
    } else {
        7
    };
    (usize::BITS - w.cols().leading_zeros()) as i32 + wbits + 15
}

/// How one matrix's shifted dot products are formed in `i32` ([`Fast::update_dots`]):
/// `rs(v, sh) = ((u >> k) + 1) >> 1` with `u = v·2^a`, `k = sh + a − 1` capped at 31.
/// Chosen once per step from the matrix's smallest row shift `m` and [`dot_bits`]; `None`
/// where neither form below holds (those rows go through [`rs_fast`] in `i64`).
///
/// - `m ≥ 2`: `a = 0`, for a row whose dot product fits `i32` (checked per row): `k ≥ 1`
///   and `|rs(v, sh)| ≤ 2^31·2^−2 = 2^29`.
/// - else, if `dot_bits + a ≤ 30` with `a = 1 + max(0, −m)`: every dot product fits, `u`
///   is below 2^30, `k ≥ 0` and `|rs(v, sh)| ≤ |v|·2^(a−1) < 2^29`.
///
/// Why the formula is the rounding shift: `⌊(⌊x⌋ + 1)/2⌋ = ⌊(x + 1)/2⌋` for real `x`, so
/// it is `⌊v·2^−sh + 1/2⌋`; and for `k ≥ 31`, `u >> k = u >> 31` because `|u| < 2^31`.
#[derive(Clone, Copy)]
struct Narrow {
    a: u32,
}

impl Narrow {
    fn new(w: &crate::model::Weights<'_>, min_frac: u8, sh: i32) -> Option<Narrow> {
        let m = min_frac as i32 + sh;
        if m >= 2 {
            return Some(Narrow { a: 0 });
        }
        let a = 1 + (-m).max(0);
        (dot_bits(w) + a <= 30).then_some(Narrow { a: a as u32 })
    }

    /// `rs(v, sh)` in `i32` (within ±2^29), or `None` if `v` does not fit `i32`.
    #[inline(always)]
    fn rs(self, v: i64, sh: i32) -> Option<i32> {
        let v32 = v as i32;
        (v32 as i64 == v).then(|| (((v32 << self.a) >> (sh + self.a as i32 - 1).min(31)) + 1) >> 1)
    }
}

/// The window `(k, a)` of the assembly row update ([`kernel::leaky_rows_i32`]) for a
/// matrix whose row shifts are `frac_i + sh`, if every row's shifted dot product can be
/// read from a 32-bit window of its `i64` (low word first shifted left by `a`; see "The
/// assembly row update" in the module docs): with `c_i = frac_i + sh − 1` and `a =
/// max(0, −min c_i)`, every `c_i + a` in `0..=31` and `dot_bits − min c_i ≤ 30`; then
/// `k = sh − 1 + a`.
fn window(
    w: &crate::model::Weights<'_>,
    min_frac: u8,
    max_frac: u8,
    sh: i32,
) -> Option<(i32, u32)> {
    let (lo, hi) = (min_frac as i32 + sh - 1, max_frac as i32 + sh - 1);
    let a = (-lo).max(0);
    (hi + a <= 31 && dot_bits(w) - lo <= 30).then_some((sh - 1 + a, a as u32))
}

/// α (Q15) of the assembly row update stays below this: it multiplies by `α·2^17`, an `i32`.
const ASM_ALPHA_END: i32 = 1 << 14;

/// `rs(α·d, 15)` for `α` in `1..=2^15` and any `d`: the Cortex-M0 form
/// ([`alpha_mul_split`], no 64-bit multiply there) or the 32×32→64 one elsewhere
/// (`SMULL` on the M4). Both are exact and equal (unit test).
#[inline(always)]
fn alpha_mul(alpha: i32, d: i32) -> i32 {
    #[cfg(neuroloop_arm_v6m)]
    return alpha_mul_split(alpha, d);
    #[cfg(not(neuroloop_arm_v6m))]
    return alpha_mul_wide(alpha, d);
}

/// `rs(α·d, 15)` with one 32×32→64 multiply: `|α·d| ≤ 2^46`, and the result is within
/// `±2^31` (`|rs(α·d, 15)| ≤ |d|` for `α ≤ 2^15`).
#[cfg_attr(neuroloop_arm_v6m, allow(dead_code))]
#[inline(always)]
fn alpha_mul_wide(alpha: i32, d: i32) -> i32 {
    ((alpha as i64 * d as i64 + (1 << 14)) >> 15) as i32
}

/// `rs(α·d, 15)` in `i32` only: `d = 2^15·dh + dl` with `dl` in `0..2^15`, so
/// `rs(α·d, 15) = α·dh + rs(α·dl, 15)` exactly (`α·dh·2^15` is a multiple of 2^15).
/// `α·dl < 2^30`, `α·dh` is within `[−2^31, 2^31 − 2^15]` and `rs(α·dl, 15) ≤ 2^15 − 1`:
/// nothing overflows.
#[cfg_attr(not(neuroloop_arm_v6m), allow(dead_code))]
#[inline(always)]
fn alpha_mul_split(alpha: i32, d: i32) -> i32 {
    alpha * (d >> 15) + ((alpha * (d & 0x7FFF) + (1 << 14)) >> 15)
}

/// Smallest α (Q15) of the `i32` row update: dt/τ ≥ 1/64 (see the module docs).
const FAST_ALPHA_MIN: i32 = 1 << 9;
/// Largest `noise_mul` of the `i32` row update: every noise term is within ±2^23.
const FAST_NOISE_MUL_MAX: u32 = 1 << 22;

/// The per-step constants of the `i32` row update, if the model meets its precondition
/// (see the module docs): α ≥ [`FAST_ALPHA_MIN`], `noise_mul` ≤ [`FAST_NOISE_MUL_MAX`]
/// and every row of `W_rec` and `W_in` fits `i64` with room to spare after its shift
/// ([`rows_fit`]).
#[derive(Clone, Copy)]
struct Fast {
    alpha: i32,
    noise_mul: i32,
    /// How `W_rec`'s and `W_in`'s shifted dot products are formed in `i32`, if both can.
    narrow: Option<(Narrow, Narrow)>,
}

impl Fast {
    fn new(model: &Model<'_>) -> Option<Fast> {
        let t = model.state_frac() as i32 + GUARD_BITS as i32;
        let (min_in, min_rec) = model.min_row_frac();
        let shifts_ok = rows_fit(&model.w_rec(), min_rec, model.rate_frac() as i32 - t)
            && rows_fit(&model.w_in(), min_in, model.input_frac() as i32 - t);
        let alpha = model.alpha_q15() as i32;
        let noise_mul = model.noise_mul();
        let narrow = Narrow::new(&model.w_rec(), min_rec, model.rate_frac() as i32 - t).zip(
            Narrow::new(&model.w_in(), min_in, model.input_frac() as i32 - t),
        );
        (shifts_ok && alpha >= FAST_ALPHA_MIN && noise_mul <= FAST_NOISE_MUL_MAX).then_some(Fast {
            alpha,
            noise_mul: noise_mul as i32,
            narrow,
        })
    }

    /// The new `x_i` from `pre_i` (step 1, exact: |pre| < 2^62) and the old `x_i`, in
    /// `i32` with saturating adds; equal to the `i64` update (proof in the module docs).
    #[inline(always)]
    fn update(self, pre: i64, xi: i16, rng: &mut Rng) -> i16 {
        let x_t = (xi as i32) << GUARD_BITS;
        self.tail(sat_i32(pre - x_t as i64), x_t, rng)
    }

    /// [`Fast::update`] from the two dot products of the row (`rec`, `inp`), its row
    /// shifts and bias: entirely in `i32` where [`Fast::narrow`] allows it for both (see
    /// "Dot products in `i32`" in the module docs), else through [`rs_fast`] and
    /// [`Fast::update`].
    #[inline(always)]
    fn update_dots(
        self,
        (rec, s_rec): (i64, i32),
        (inp, s_in): (i64, i32),
        b: i32,
        xi: i16,
        rng: &mut Rng,
    ) -> i16 {
        let both = self
            .narrow
            .and_then(|(nr, ni)| nr.rs(rec, s_rec).zip(ni.rs(inp, s_in)));
        match both {
            Some((rec, inp)) => {
                let x_t = (xi as i32) << GUARD_BITS;
                // Both within ±2^29: their sum is exact.
                let pre = (rec + inp).saturating_add(b);
                self.tail(pre.saturating_sub(x_t), x_t, rng)
            }
            _ => self.update(rs_fast(rec, s_rec) + rs_fast(inp, s_in) + b as i64, xi, rng),
        }
    }

    /// Step 2 from `d = sat32(pre − x_t)` on, in `i32`.
    #[inline(always)]
    fn tail(self, d: i32, x_t: i32, rng: &mut Rng) -> i16 {
        let ad = alpha_mul(self.alpha, d);
        let mut next = x_t.saturating_add(ad);
        if self.noise_mul != 0 {
            let g = rng.gauss_s32() as i64 * self.noise_mul as i64;
            next = next.saturating_add(((g + (1 << 15)) >> 16) as i32);
        }
        (((next >> (GUARD_BITS - 1)) + 1) >> 1).clamp(i16::MIN as i32, i16::MAX as i32) as i16
    }
}

/// Step 2 for one row in `i64`, the definition (any `pre`, any α and `noise_mul`).
#[inline(always)]
fn update_i64(pre: i64, xi: i16, alpha: i64, noise_mul: i64, rng: &mut Rng) -> i16 {
    let g = GUARD_BITS as i32;
    let x_t = (xi as i64) << g;
    let d = pre.saturating_sub(x_t).clamp(-D_CLAMP, D_CLAMP);
    // |α·d| ≤ 2^15·2^46: the plain rounding shift cannot overflow.
    let mut next = x_t + ((alpha * d + (1 << 14)) >> 15);
    if noise_mul != 0 {
        next += shift_round(rng.gauss_s32() as i64 * noise_mul, 16);
    }
    // |next| < 2^48: likewise.
    sat_i16((next + (1 << (g - 1))) >> g)
}

/// One update of state `x` and rates `r` from input `u`, then outputs `y`.
///
/// Slices must have the model's lengths (`n_in`, `n_rec`, `n_rec`, `n_out`): debug builds
/// assert it; release builds process other lengths as far as they go (never a panic).
// Not inlined into `Network::step`: its stack frame (scratch rows, prepared rates) is
// then only there while this cell steps, not added to every other cell's.
#[inline(never)]
pub fn step(
    model: &Model<'_>,
    u: &[i16],
    x: &mut [i16],
    r: &mut [i16],
    y: &mut [i16],
    rng: &mut Rng,
) {
    step_with(model, u, x, r, y, rng, Fast::new(model));
}

/// [`step`] with the row update chosen by the caller: `fast` from [`Fast::new`] (the
/// `i32` update where the model allows it) or `None` (the `i64` definition everywhere).
fn step_with<'a>(
    model: &Model<'a>,
    u: &[i16],
    x: &mut [i16],
    r: &mut [i16],
    y: &mut [i16],
    rng: &mut Rng,
    fast: Option<Fast>,
) {
    debug_assert_eq!(u.len(), model.n_in(), "leaky::step: u has n_in values");
    debug_assert_eq!(x.len(), model.n_rec(), "leaky::step: x has n_rec values");
    let g = GUARD_BITS as i32;
    let fx = model.state_frac() as i32;
    let fr = model.rate_frac() as i32;
    let fu = model.input_frac() as i32;
    let t = fx + g;
    let alpha = model.alpha_q15() as i64;
    let noise_mul = model.noise_mul() as i64;
    let (w_rec, w_in) = (model.w_rec(), model.w_in());
    let (sh_rec, sh_in) = (fr - t, fu - t);
    // `W_rec` row group by row group against the rates prepared once for the step (a
    // `move` closure: the per-step constants live in registers, not behind references).
    let (rec_bytes, cols, dtype) = (model.body().tensors.w_rec.data, w_rec.cols(), w_rec.dtype());
    debug_assert_eq!(r.len(), cols, "leaky::step: r has n_rec values");
    // The assembly row update ([`kernel::leaky_rows_i32`]) on the DSP path, where it
    // applies ([`asm_rows`]).
    let asm_rows = fast
        .filter(|_| kernel::PATH_IS_DSP)
        .and_then(|f| asm_rows(model, f));
    // There, the fused row loop: the whole step's rows in one pass, where its shapes allow.
    if let Some(p) = asm_rows {
        let fits = kernel::leaky_fused_fits(dtype, cols, rec_bytes);
        if fits && step_fused(model, p, u, x, r, kernel::leaky_fused) {
            if model.transfer() != Transfer::Tanh {
                rates(model, x, r);
            }
            outputs(model, r, y);
            return;
        }
    }
    let xm = &mut *x;
    kernel::with_acts(r, dtype, move |acts| {
        let len = xm.len().min(CHUNK);
        kernel::with_zeroed_i64::<CHUNK, _>(len, |rec| {
            kernel::with_zeroed_i64::<CHUNK, _>(len, |inp| {
                let mut first = 0;
                for xs in xm.chunks_mut(CHUNK) {
                    let (rec, inp) = (&mut rec[..xs.len()], &mut inp[..xs.len()]);
                    let bytes = rec_bytes.get(first * cols * dtype.size()..).unwrap_or(&[]);
                    match dtype {
                        DType::I16 => kernel::dot_rows_s16_s16_s64_acts(bytes, cols, acts, rec),
                        _ => kernel::dot_rows_s8_s16_s64_acts(bytes, cols, acts, rec),
                    }
                    w_in.dot_rows(first, u, inp);
                    let n = xs.len();
                    // Rows `first..first + n` of the per-row scales and biases (the decoder checked
                    // their lengths; if one were short, the `i64` loop below reads it as 0).
                    let rows = (
                        fast,
                        w_rec.fracs().get(first..first + n),
                        w_in.fracs().get(first..first + n),
                        model.b_rec_bytes().get(4 * first..4 * (first + n)),
                    );
                    if let (Some(f), Some(fr), Some(fi), Some(b)) = rows {
                        // The DSP path's assembly form of `update_dots` does every row (0 elsewhere).
                        let done = asm_rows.map_or(0, |p| {
                            kernel::leaky_rows_i32(&p, (rec, fr), (inp, fi), b, xs)
                        });
                        for k in done..n {
                            let bk = i32::from_le_bytes([
                                b[4 * k],
                                b[4 * k + 1],
                                b[4 * k + 2],
                                b[4 * k + 3],
                            ]);
                            let rec = (rec[k], fr[k] as i32 + sh_rec);
                            let inp = (inp[k], fi[k] as i32 + sh_in);
                            xs[k] = f.update_dots(rec, inp, bk, xs[k], rng);
                        }
                    } else {
                        for (((xi, &rec), &inp), i) in
                            xs.iter_mut().zip(&*rec).zip(&*inp).zip(first..)
                        {
                            let rec = rs_dot(rec, w_rec.row_frac(i) as i32 + sh_rec);
                            let inp = rs_dot(inp, w_in.row_frac(i) as i32 + sh_in);
                            let pre = rec
                                .saturating_add(inp)
                                .saturating_add(model.b_rec(i) as i64);
                            *xi = update_i64(pre, *xi, alpha, noise_mul, rng);
                        }
                    }
                    first += xs.len();
                }
            })
        })
    });
    rates(model, x, r);
    outputs(model, r, y);
}

/// The constants of the assembly row update ([`kernel::leaky_rows_i32`]) and the fused
/// row loop ([`kernel::leaky_fused`]) for a model on the `i32` path (`f`), if they apply:
/// noise-free, α below 2^14 and every row's shifted dot products a 32-bit window of its
/// `i64` ([`window`]).
fn asm_rows(model: &Model<'_>, f: Fast) -> Option<kernel::LeakyRows> {
    if f.noise_mul != 0 || f.alpha >= ASM_ALPHA_END {
        return None;
    }
    let t = model.state_frac() as i32 + GUARD_BITS as i32;
    let ((lo_in, lo_rec), (hi_in, hi_rec)) = (model.min_row_frac(), model.max_row_frac());
    let sh_rec = model.rate_frac() as i32 - t;
    let (k_rec, 0) = window(&model.w_rec(), lo_rec, hi_rec, sh_rec)? else {
        return None;
    };
    let sh_in = model.input_frac() as i32 - t;
    let (k_in, a_in) = window(&model.w_in(), lo_in, hi_in, sh_in)?;
    Some(kernel::LeakyRows {
        alpha: f.alpha,
        k_rec,
        k_in,
        a_in,
    })
}

/// The rows of a step through `fused` ([`kernel::leaky_fused`], or its reference in
/// tests) with the row constants `p` ([`asm_rows`]): `W_in` summed in the row when it
/// has 2 columns of `W_rec`'s type (and `fused` takes them), else from the narrow
/// kernels' pass; the `tanh` rates written with the state. Returns whether it ran (then
/// `x` is the new state, and `r` the new rates if the transfer is `tanh`); false leaves
/// both untouched.
fn step_fused(
    model: &Model<'_>,
    p: kernel::LeakyRows,
    u: &[i16],
    x: &mut [i16],
    r: &mut [i16],
    fused: fn(&kernel::LeakyFused<'_>, &mut [i16], &mut [i16]) -> usize,
) -> bool {
    let (w_rec, w_in, t) = (model.w_rec(), model.w_in(), &model.body().tensors);
    let rate = match model.transfer() {
        Transfer::Tanh => kernel::FusedRate::Tanh(model.state_frac()),
        _ => kernel::FusedRate::None,
    };
    let run = |w_in_dots: kernel::FusedIn<'_>, x: &mut [i16], r: &mut [i16]| {
        let f = kernel::LeakyFused {
            w_rec: t.w_rec.data,
            dtype: w_rec.dtype(),
            cols: w_rec.cols(),
            fr: w_rec.fracs(),
            w_in: w_in_dots,
            fi: w_in.fracs(),
            b: model.b_rec_bytes(),
            rows: p,
            rate,
        };
        fused(&f, x, r) == x.len()
    };
    if let ([u0, u1], 2, true) = (u, w_in.cols(), w_in.dtype() == w_rec.dtype()) {
        if run(kernel::FusedIn::Pair(t.w_in.data, [*u0, *u1]), x, r) {
            return true;
        }
    }
    kernel::with_zeroed_i64::<{ kernel::FUSED_COLS_MAX }, _>(x.len(), |inp| {
        inp.len() == x.len() && {
            w_in.dot_rows(0, u, inp);
            run(kernel::FusedIn::Dots(inp), x, r)
        }
    })
}

/// `r = f(x)` elementwise.
pub fn rates(model: &Model<'_>, x: &[i16], r: &mut [i16]) {
    debug_assert_eq!(x.len(), model.n_rec(), "leaky::rates: x has n_rec values");
    debug_assert_eq!(r.len(), model.n_rec(), "leaky::rates: r has n_rec values");
    let (f, fx) = (model.transfer(), model.state_frac());
    // The transfer chosen once, not per element: each loop inlines its function.
    #[inline(always)]
    fn each(x: &[i16], r: &mut [i16], g: impl Fn(i16) -> i16) {
        for (ri, &xi) in r.iter_mut().zip(x) {
            *ri = g(xi);
        }
    }
    match f {
        Transfer::Tanh => kernel::tanh_rows_s16(x, r, fx),
        _ => each(x, r, |xi| f.apply_s16(xi, fx)),
    }
}

/// `y = W_out·r + b_out` in the output format.
pub fn outputs(model: &Model<'_>, r: &[i16], y: &mut [i16]) {
    debug_assert_eq!(r.len(), model.n_rec(), "leaky::outputs: r has n_rec values");
    debug_assert_eq!(y.len(), model.n_out(), "leaky::outputs: y has n_out values");
    let g = GUARD_BITS as i32;
    let fr = model.rate_frac() as i32;
    let fy = model.output_frac() as i32;
    let w_out = model.w_out();
    let sh = fr - fy - g;
    kernel::with_zeroed_i64::<CHUNK, _>(y.len(), |acc| {
        let mut first = 0;
        for ys in y.chunks_mut(CHUNK) {
            let acc = &mut acc[..ys.len()];
            w_out.dot_rows(first, r, acc);
            for ((yo, &a), o) in ys.iter_mut().zip(&*acc).zip(first..) {
                let a = rs_dot(a, w_out.row_frac(o) as i32 + sh);
                *yo = sat_i16(shift_round(a.saturating_add(model.b_out(o) as i64), g));
            }
            first += ys.len();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    /// `pre` values at and around the saturation edges of the `i32` update.
    fn edgy_pre() -> impl Strategy<Value = i64> {
        prop_oneof![
            -(1i64 << 62)..(1i64 << 62),
            -(1i64 << 43)..(1i64 << 43),
            -(1i64 << 33)..(1i64 << 33),
            -(1i64 << 26)..(1i64 << 26),
            (-3i64..=3).prop_map(|k| i32::MAX as i64 + k),
            (-3i64..=3).prop_map(|k| i32::MIN as i64 + k),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
        #[test]
        fn i32_update_matches_the_i64_definition(
            pre in edgy_pre(),
            xi in prop_oneof![any::<i16>(), Just(i16::MIN), Just(i16::MAX)],
            alpha in prop_oneof![FAST_ALPHA_MIN..=32768, Just(FAST_ALPHA_MIN), Just(32768)],
            noise_mul in prop_oneof![Just(0u32), 0..=FAST_NOISE_MUL_MAX, Just(FAST_NOISE_MUL_MAX)],
            seed in any::<u32>(),
        ) {
            let fast = Fast { alpha, noise_mul: noise_mul as i32, narrow: None };
            let (mut a, mut b) = (Rng::new(seed), Rng::new(seed));
            let want = update_i64(pre, xi, alpha as i64, noise_mul as i64, &mut a);
            prop_assert_eq!(fast.update(pre, xi, &mut b), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
        #[test]
        fn narrow_shifts_are_the_rounding_shift(
            v in prop_oneof![any::<i32>().prop_map(i64::from), Just(i32::MIN as i64), Just(i32::MAX as i64), -(1i64 << 40)..(1i64 << 40)],
            a in 0u32..=3,
            sh in -2i32..=40,
        ) {
            // The promises of `Narrow::new`: a = 0 → sh ≥ 2; a ≥ 1 → sh ≥ 1 − a and
            // |v| < 2^(30 − a).
            let lim = 1i64 << (30 - a);
            let (v, sh) = if a == 0 { (v, sh.max(2)) } else { (v % lim, sh.max(1 - a as i32)) };
            let want = shift_round(v, sh);
            match (Narrow { a }).rs(v, sh) {
                Some(got) => prop_assert_eq!(got as i64, want),
                None => prop_assert!(a == 0 && i32::try_from(v).is_err()),
            }
        }

        #[test]
        fn i32_dot_update_matches_the_i64_definition(
            rec in edgy_pre(),
            inp in prop_oneof![edgy_pre(), -(1i64 << 24)..(1i64 << 24)],
            s_rec in 2i32..=40,
            (a_in, s_in) in (0u32..=2).prop_flat_map(|a| (Just(a), (if a == 0 { 2 } else { 1 - a as i32 })..=40)),
            b in any::<i32>(),
            xi in prop_oneof![any::<i16>(), Just(i16::MIN), Just(i16::MAX)],
            alpha in prop_oneof![FAST_ALPHA_MIN..=32768, Just(FAST_ALPHA_MIN), Just(32768)],
            noise_mul in prop_oneof![Just(0u32), 0..=FAST_NOISE_MUL_MAX, Just(FAST_NOISE_MUL_MAX)],
            seed in any::<u32>(),
        ) {
            // `Narrow { a ≥ 1 }` promises |inp|·2^(a−1) < 2^29 (from the matrix's size).
            let inp = if a_in == 0 { inp } else { inp.clamp(-(1 << 29 >> a_in) + 1, (1 << 29 >> a_in) - 1) };
            let narrow = Some((Narrow { a: 0 }, Narrow { a: a_in }));
            let fast = Fast { alpha, noise_mul: noise_mul as i32, narrow };
            let (mut r1, mut r2) = (Rng::new(seed), Rng::new(seed));
            let pre = shift_round(rec, s_rec)
                .saturating_add(shift_round(inp, s_in))
                .saturating_add(b as i64);
            let want = update_i64(pre, xi, alpha as i64, noise_mul as i64, &mut r1);
            prop_assert_eq!(fast.update_dots((rec, s_rec), (inp, s_in), b, xi, &mut r2), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
        /// The arithmetic `kernel::leaky_rows_i32` implements (its plain reference) is the
        /// definition `update_i64` without noise, wherever `window` and `ASM_ALPHA_END`
        /// let `step_with` call it: row shifts `c + 1` with `|v·2^−c| < 2^30`, `c` in
        /// 0..=31 for `W_rec` and in −31..=31 for `W_in` (pre-shift `a = max(0, −c)`).
        #[test]
        fn kernel_row_update_is_the_definition(
            (c_rec, rec) in (0i32..=31).prop_flat_map(|c| (Just(c), window_dot(c))),
            (c_in, a_in, inp) in (-29i32..=31).prop_flat_map(|c| (Just(c), Just((-c).max(0) as u32), window_dot(c))),
            (fr, fi) in (0u8..=30, 0u8..=30),
            b in prop_oneof![any::<i32>(), Just(i32::MAX), Just(i32::MIN)],
            xi in prop_oneof![any::<i16>(), Just(i16::MIN), Just(i16::MAX)],
            alpha in prop_oneof![FAST_ALPHA_MIN..ASM_ALPHA_END, Just(FAST_ALPHA_MIN), Just(ASM_ALPHA_END - 1)],
        ) {
            let k_in = c_in + a_in as i32 - fi as i32;
            let p = kernel::LeakyRows { alpha, k_rec: c_rec - fr as i32, k_in, a_in };
            let mut x = [xi];
            let done = kernel::leaky_rows_i32_ref(&p, (&[rec], &[fr]), (&[inp], &[fi]), &b.to_le_bytes(), &mut x);
            prop_assert_eq!(done, 1);
            let pre = shift_round(rec, c_rec + 1)
                .saturating_add(shift_round(inp, c_in + 1))
                .saturating_add(b as i64);
            prop_assert_eq!(x[0], update_i64(pre, xi, alpha as i64, 0, &mut Rng::new(1)));
        }
    }

    /// A 16-unit leaky blob with `n_in` inputs, random weights (scaled down by a random
    /// shift, so some nets saturate and others stay in range), per-row fractional bits
    /// where the assembly row update's windows usually hold, random biases and state.
    fn fused_net(
        n_in: usize,
        i8w: bool,
        tanh: bool,
        state_frac: u8,
        alpha: u16,
        seed: u64,
    ) -> Vec<u8> {
        use crate::blob::{encode_to_vec, Body, Meta, QuantParams, Tensor, Tensors, Topology};
        const N: usize = 16;
        let mut rng = Rng::new(seed as u32);
        let mut next = move || rng.next_u32();
        let shift = next() % 8;
        let mut weights = |n: usize| -> Vec<u8> {
            (0..n)
                .flat_map(|_| {
                    let w = (next() as i16) >> shift;
                    if i8w {
                        vec![(w >> 8) as u8]
                    } else {
                        w.to_le_bytes().to_vec()
                    }
                })
                .collect()
        };
        let (w_in, w_rec, w_out) = (weights(N * n_in), weights(N * N), weights(2 * N));
        let base = if i8w { 9 } else { 14 };
        let fracs: Vec<u8> = (0..3 * N)
            .map(|k| base + ((k * 7 + shift as usize) % 6) as u8)
            .collect();
        let b_rec: Vec<u8> = (0..N)
            .flat_map(|_| ((next() as i32) >> (8 + shift)).to_le_bytes())
            .collect();
        let init: Vec<u8> = (0..N).flat_map(|_| (next() as i16).to_le_bytes()).collect();
        let dtype = if i8w { 1 } else { 2 };
        let tensor = |rows: usize, cols: usize, dtype: u8, frac, data| Tensor {
            dtype,
            rows: rows as u16,
            cols: cols as u16,
            frac,
            data,
        };
        let body = Body {
            meta: Meta {
                name: "fused",
                task: "none",
                dt: 10.0,
                tau: 100.0,
                summary: "",
            },
            topology: Topology {
                cell: 0,
                transfer: tanh as u8,
                n_in: n_in as u16,
                n_rec: N as u16,
                n_out: 2,
            },
            quant: QuantParams {
                state_frac,
                input_frac: 12,
                output_frac: 12,
                alpha_q15: alpha,
                noise_mul: 0,
                seed: 1,
            },
            tensors: Tensors {
                w_in: tensor(N, n_in, dtype, &fracs[..N], &w_in),
                w_rec: tensor(N, N, dtype, &fracs[N..2 * N], &w_rec),
                w_out: tensor(2, N, dtype, &fracs[2 * N..2 * N + 2], &w_out),
                b_rec: tensor(N, 1, 3, &[], &b_rec),
                b_out: tensor(2, 1, 3, &[], &[0; 8]),
                init_state: tensor(N, 1, 2, &[], &init),
            },
        };
        encode_to_vec(&body).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]
        /// The fused row loop's arithmetic (`kernel::leaky_fused_ref`, which the DSP
        /// routine matches bit for bit in the firmware's boot check) steps like the `i64`
        /// definition wherever `asm_rows` lets `step_with` call it: `W_in` summed in the
        /// row (2 inputs) or given (3), `tanh` rates written with the state or relu ones
        /// after, inputs at the extremes too.
        #[test]
        fn fused_rows_step_like_the_definition(
            n_in in 2usize..=3,
            (i8w, tanh) in (any::<bool>(), any::<bool>()),
            state_frac in 6u8..=14,
            alpha in prop_oneof![FAST_ALPHA_MIN as u16..ASM_ALPHA_END as u16, Just(FAST_ALPHA_MIN as u16)],
            u in prop::collection::vec(prop_oneof![any::<i16>(), Just(i16::MIN), Just(i16::MAX)], 3),
            seed in any::<u64>(),
        ) {
            let bytes = fused_net(n_in, i8w, tanh, state_frac, alpha, seed);
            let model = Model::from_bytes(&bytes).unwrap();
            let p = Fast::new(&model).and_then(|f| asm_rows(&model, f));
            prop_assume!(p.is_some(), "the windows do not hold");
            let u = &u[..n_in];
            let x0: Vec<i16> = (0..model.n_rec()).map(|i| model.init_state(i)).collect();
            let r0: Vec<i16> = x0.iter().map(|&v| v.wrapping_mul(7)).collect();
            let (mut xa, mut ra) = (x0.clone(), r0.clone());
            let ran = step_fused(&model, p.unwrap(), u, &mut xa, &mut ra, kernel::leaky_fused_ref);
            prop_assert!(ran);
            if !tanh {
                rates(&model, &xa, &mut ra);
            }
            let (mut xb, mut rb, mut yb) = (x0, r0, [0i16; 2]);
            step_with(&model, u, &mut xb, &mut rb, &mut yb, &mut Rng::new(1), None);
            prop_assert_eq!((xa, ra), (xb, rb));
        }
    }

    /// Dot products `v` with `|v·2^−c| < 2^30` (the window's promise: `|v| < 2^dot_bits`
    /// with `dot_bits ≤ 30 + c`), edges included; `c ≥ −29`.
    fn window_dot(c: i32) -> impl Strategy<Value = i64> {
        let hi = (1i64 << (30 + c)) - 1;
        let small = hi.min(1 << 20);
        prop_oneof![
            -hi..=hi,
            Just(-hi),
            Just(hi),
            -small..=small,
            (0..=hi.min(3)).prop_map(move |k| hi - k)
        ]
    }

    /// The tiny test blob with other α, noise and per-row fractional bits.
    fn variant(alpha: u16, noise_mul: u32, frac: u8) -> Vec<u8> {
        let bytes = crate::blob::tests_support::tiny_blob();
        let mut body = *Model::from_bytes(&bytes).unwrap().body();
        body.quant.alpha_q15 = alpha;
        body.quant.noise_mul = noise_mul;
        let f = [frac; 2];
        body.tensors.w_in.frac = &f;
        body.tensors.w_rec.frac = &f;
        crate::blob::encode_to_vec(&body).unwrap()
    }

    proptest! {
        #[test]
        fn both_alpha_multiplies_are_the_rounding_shift(
            alpha in prop_oneof![1i32..=32768, Just(1), Just(32768)],
            d in prop_oneof![any::<i32>(), Just(i32::MIN), Just(i32::MAX), -70000i32..70000],
        ) {
            let want = shift_round(alpha as i64 * d as i64, 15);
            prop_assert_eq!(alpha_mul_wide(alpha, d) as i64, want);
            prop_assert_eq!(alpha_mul_split(alpha, d) as i64, want);
        }

        #[test]
        fn rs_fast_is_the_rounding_shift(v in -(1i64 << 41)..(1i64 << 41), sh in -20i32..=37) {
            // Left shifts within the precondition: |v|·2^−sh < 2^61.
            let v = if sh < 0 { v >> (-sh) } else { v };
            prop_assert_eq!(rs_fast(v, sh), shift_round(v, sh));
            for e in [1i64 << 41, -(1i64 << 41)] {
                let e = if sh < 0 { e >> (-sh) } else { e };
                prop_assert_eq!(rs_fast(e, sh), shift_round(e, sh));
            }
        }
    }

    #[test]
    fn fast_update_runs_exactly_where_its_precondition_holds() {
        // The tiny blob: fx = fu = 12, relu (fr = 12), so T = 20: row shifts are frac − 8.
        let fast = |a, n, f| Fast::new(&Model::from_bytes(&variant(a, n, f)).unwrap()).is_some();
        assert!(fast(3277, 0, 8));
        assert!(fast(512, 1 << 22, 30));
        assert!(fast(3277, 0, 0), "short rows shifted left by 8 fit");
        assert!(!fast(511, 0, 8), "α below 2^9");
        assert!(!fast(3277, (1 << 22) + 1, 8), "noise_mul above 2^22");
    }

    #[test]
    fn both_updates_step_alike_at_the_edges_of_the_precondition() {
        for (alpha, noise_mul, frac) in [
            (512u16, 1u32 << 22, 8u8),
            (32768, 0, 8),
            (512, 0, 30),
            (3277, 1 << 20, 0),
        ] {
            let bytes = variant(alpha, noise_mul, frac);
            let model = Model::from_bytes(&bytes).unwrap();
            let (mut xa, mut xb) = ([i16::MAX, i16::MIN], [i16::MAX, i16::MIN]);
            let (mut ra, mut rb, mut ya, mut yb) = ([0i16; 2], [0i16; 2], [0i16; 1], [0i16; 1]);
            let (mut ga, mut gb) = (Rng::new(5), Rng::new(5));
            for u in [i16::MAX, i16::MIN, 0, 12345] {
                step_with(
                    &model,
                    &[u],
                    &mut xa,
                    &mut ra,
                    &mut ya,
                    &mut ga,
                    Fast::new(&model),
                );
                step_with(&model, &[u], &mut xb, &mut rb, &mut yb, &mut gb, None);
                assert_eq!(
                    (xa, ra, ya),
                    (xb, rb, yb),
                    "α {alpha}, noise {noise_mul}, frac {frac}"
                );
            }
        }
    }
}
