//! The GRU (PyTorch `nn.GRU` equations and gate order `r, z, n`), one time step, in fixed
//! point.
//!
//! Float equations (σ the logistic function, ⊙ elementwise):
//!
//! ```text
//! r = σ(W_ir·u + W_hr·h + b_r)          z = σ(W_iz·u + W_hz·h + b_z)
//! n = tanh(W_in·u + b_in + r ⊙ (W_hn·h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
//! y = W_out·h' + b_out
//! ```
//!
//! Blob layout: `w_in`/`w_rec` rows `0..n` are gate `r`, `n..2n` gate `z`, `2n..3n` gate
//! `n`; `b_rec` holds `b_r` (= PyTorch `b_ir + b_hr`), `b_z`, `b_in`, `b_hn` (4n values at
//! `GATE_FRAC + G` fractional bits); `init_state` is `h₀`.
//!
//! **State format:** `h` is an `i16` in Q15 (`state_frac` = 15, which the decoder
//! enforces): `h` is a convex combination of `tanh` values and the previous `h`, so it
//! never leaves (−1, 1) and Q15 is the finest format that holds it. The state buffer's
//! "state" and "rates" both hold `h` (so telemetry of either is the hidden state).
//!
//! Fixed point (`rec_k`, `inp_k`, `pre_k` the gate sums of [`super::gate`], at
//! `T = GATE_FRAC + G` and [`GATE_FRAC`](super::gate::GATE_FRAC); all gate outputs Q15 from the tables of
//! [`crate::activation`]):
//!
//! 1. `r = sigmoid_s16(pre_r, GATE_FRAC)`, `z = sigmoid_s16(pre_z, GATE_FRAC)`;
//! 2. `hn = sat32(rec_n + b_hn)` (at `T`), `n = tanh_s16(sat16(rs(inp_n + b_in + rs(r·hn,
//!    15), G)), GATE_FRAC)` (adds saturating in `i64`; `|r·hn| < 2^46` is exact);
//! 3. `h' = sat16(n + rs(z·(h − n), 15))` (exact in `i32`: `|z·(h − n)| < 2^31 − 2^14`);
//! 4. outputs as the leaky cell's ([`crate::cell::leaky::outputs`], rates format Q15).
//!
//! How: `Gates::fill` gives `s_r`, `s_z` (`sat32` of the gate sums), `hn` and
//! `xn = inp_n + b_in` (exact, or clamped to ±2^34 where that cannot change the result,
//! see [`super::gate`]); `rs(r·hn, 15)` is within ±2^31 (`r < 2^15`, `|hn| ≤ 2^31`), so
//! `acc = xn + rs(r·hn, 15)` is below 2^35 and `rs(acc, G)` fits `i32`
//! (`gate::rs_g_wide`); σ and tanh are the table functions written for `GATE_FRAC`, with
//! the `sat16` of `pre` folded in (`gate::sigmoid`, `gate::tanh`, equal for every
//! input).
//!
//! Every unit reads the old `h` (the "rates" half of the buffer) and writes its new value
//! into the "state" half; the rates are copied from it after the last unit.

use super::gate::{self, Gates, CHUNK};
use crate::kernel;
use crate::Model;

/// One step: the new hidden state into `x` from the old one in `r` and inputs `u`, then
/// `r = x` and the outputs `y`.
///
/// Slices must have the model's lengths (`n_in`, `n_rec`, `n_rec`, `n_out`): debug builds
/// assert it; release builds process other lengths as far as they go (never a panic).
// Not inlined into `Network::step`: its stack frame (scratch rows, prepared rates) is
// then only there while this cell steps, not added to every other cell's.
#[inline(never)]
pub fn step(model: &Model<'_>, u: &[i16], x: &mut [i16], r: &mut [i16], y: &mut [i16]) {
    debug_assert_eq!(u.len(), model.n_in(), "gru::step: u has n_in values");
    debug_assert_eq!(x.len(), model.n_rec(), "gru::step: x has n_rec values");
    debug_assert_eq!(r.len(), model.n_rec(), "gru::step: r has n_rec values");
    let mut g = Gates::new(model);
    let mut first = 0;
    // The old `h` prepared once for every gate's row groups (the DSP path's `i8` permutation).
    let xm = &mut *x;
    kernel::with_acts(r, model.w_rec().dtype(), |acts| {
        for xs in xm.chunks_mut(CHUNK) {
            let len = xs.len();
            g.fill(3, Some(2), first, len, u, acts);
            let h_old = acts.x().get(first..first + len).unwrap_or(&[]);
            let gates = g.s[0].iter().zip(&g.s[1]).zip(g.s[2].iter().zip(&g.xn));
            for ((xi, &h), ((&sr, &sz), (&hn, &xn))) in xs.iter_mut().zip(h_old).zip(gates) {
                let rg = gate::sigmoid(gate::rs_g(sr));
                let zg = gate::sigmoid(gate::rs_g(sz));
                // |r·hn| < 2^46: rs(·, 15) is within ±2^31; |xn| ≤ 2^34 (`gate::XN_CLAMP`).
                let rhn = (rg as i64 * hn as i64 + (1 << 14)) >> 15;
                let ng = gate::tanh(gate::rs_g_wide(xn + rhn));
                let h = h as i32;
                *xi = (ng + ((zg * (h - ng) + (1 << 14)) >> 15)).clamp(-32768, 32767) as i16;
            }
            first += len;
        }
    });
    rates(x, r);
    super::leaky::outputs(model, r, y);
}

/// `r = x`: the GRU's rates are its state `h`.
pub fn rates(x: &[i16], r: &mut [i16]) {
    for (ri, &xi) in r.iter_mut().zip(x) {
        *ri = xi;
    }
}
