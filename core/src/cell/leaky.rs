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
//! Every intermediate is an `i64` kept away from overflow (the difference in step 2 is
//! clamped to ±2^46 before the α multiply); results saturate to `i16`, nothing wraps.
//! Step 2 updates `x` in place: row `i` reads only the old rates `r` and its own `x_i`.

use crate::blob::GUARD_BITS;
use crate::fixed::{sat_i16, shift_round};
use crate::rng::Rng;
use crate::Model;
#[allow(unused_imports)]
use crate::Transfer;

const D_CLAMP: i64 = 1 << 46;
/// Rows whose dot products are computed together (by the multi-row kernels, see
/// [`crate::kernel`]) before their per-row update: a multiple of every kernel's row group
/// (2, 3, 4), small enough for the stack (`2 · 12` `i64`).
const CHUNK: usize = 12;

/// [`shift_round`] of a dot product, equal to it for every `|v| < 2^62` (the kernels'
/// sums are below 2^41: ≤ 1024 products of magnitude ≤ 2^30): there the rounding add of a
/// right shift cannot saturate, and `(v + 2^(sh−1)) >> sh = ((v >> (sh−1)) + 1) >> 1`
/// needs no 64-bit constant.
#[inline(always)]
fn rs_dot(v: i64, sh: i32) -> i64 {
    if sh > 0 && sh < 63 {
        ((v >> (sh - 1)) + 1) >> 1
    } else {
        shift_round(v, sh)
    }
}

/// One update of state `x` and rates `r` from input `u`, then outputs `y`.
///
/// Slices must have the model's lengths (`n_in`, `n_rec`, `n_rec`, `n_out`): debug builds
/// assert it; release builds process other lengths as far as they go (never a panic).
pub fn step(
    model: &Model<'_>,
    u: &[i16],
    x: &mut [i16],
    r: &mut [i16],
    y: &mut [i16],
    rng: &mut Rng,
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
    let (mut rec, mut inp) = ([0i64; CHUNK], [0i64; CHUNK]);
    let mut first = 0;
    for xs in x.chunks_mut(CHUNK) {
        let (rec, inp) = (&mut rec[..xs.len()], &mut inp[..xs.len()]);
        w_rec.dot_rows(first, r, rec);
        w_in.dot_rows(first, u, inp);
        for (((xi, &rec), &inp), i) in xs.iter_mut().zip(&*rec).zip(&*inp).zip(first..) {
            let rec = rs_dot(rec, w_rec.row_frac(i) as i32 + sh_rec);
            let inp = rs_dot(inp, w_in.row_frac(i) as i32 + sh_in);
            let pre = rec
                .saturating_add(inp)
                .saturating_add(model.b_rec(i) as i64);
            let x_t = (*xi as i64) << g;
            let d = pre.saturating_sub(x_t).clamp(-D_CLAMP, D_CLAMP);
            // |α·d| ≤ 2^15·2^46: the plain rounding shift cannot overflow.
            let mut next = x_t + ((alpha * d + (1 << 14)) >> 15);
            if noise_mul != 0 {
                next += shift_round(rng.gauss_s32() as i64 * noise_mul, 16);
            }
            // |next| < 2^48: likewise.
            *xi = sat_i16((next + (1 << (g - 1))) >> g);
        }
        first += xs.len();
    }
    rates(model, x, r);
    outputs(model, r, y);
}

/// `r = f(x)` elementwise.
pub fn rates(model: &Model<'_>, x: &[i16], r: &mut [i16]) {
    debug_assert_eq!(x.len(), model.n_rec(), "leaky::rates: x has n_rec values");
    debug_assert_eq!(r.len(), model.n_rec(), "leaky::rates: r has n_rec values");
    let (f, fx) = (model.transfer(), model.state_frac());
    for (ri, &xi) in r.iter_mut().zip(x) {
        *ri = f.apply_s16(xi, fx);
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
    let mut acc = [0i64; CHUNK];
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
}
