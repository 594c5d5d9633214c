//! The LSTM (PyTorch `nn.LSTM` equations and gate order `i, f, g, o`), one time step, in
//! fixed point; `topology.transfer` picks the output nonlinearity: tanh (standard,
//! `h = o·tanh(c)`) or sigmoid (PsychRNN 1.0.0's `h = o·σ(c)`).
//!
//! Float equations:
//!
//! ```text
//! i = σ(W_ii·u + W_hi·h + b_i)    f = σ(W_if·u + W_hf·h + b_f)
//! g = tanh(W_ig·u + W_hg·h + b_g) o = σ(W_io·u + W_ho·h + b_o)
//! c' = f ⊙ c + i ⊙ g              h' = o ⊙ act(c')          y = W_out·h' + b_out
//! ```
//!
//! Blob layout: `w_in`/`w_rec` row blocks `i, f, g, o` (4n rows); `b_rec` the four gate
//! biases (PyTorch `b_ih + b_hh`, 4n values at `GATE_FRAC + G`); `init_state` `h₀` (Q15)
//! then `c₀` (at `state_frac`).
//!
//! **State formats:** `h` is `i16` Q15 (`|h| < 1`). The cell state `c` is an `i16` at
//! `state_frac` = `fx` fractional bits, chosen by the quantizer from the largest `|c|`
//! seen in calibration (e.g. `fx` = 12 holds `|c| < 8`), and saturates there. Why not
//! `i32`: `|c|` grows by at most 1 per step (`|i·g| < 1`) and trained networks keep it
//! within a few units (the gates saturate `tanh(c)` beyond ±4 anyway), so 16 bits at a
//! calibrated format lose nothing measurable (see `docs/cells.md`) while keeping the
//! firmware's `i16` state buffer, its telemetry and its wire format as they are. The
//! buffer's "state" half holds `c` and its "rates" half `h`; the LSTM needs `n_rec` more
//! words of scratch for the new `h` ([`crate::Model::state_len`]).
//!
//! Fixed point (`pre_k` the gate sums of [`super::gate`] at [`GATE_FRAC`]):
//!
//! 1. `i, f, o = sigmoid_s16(pre, GATE_FRAC)`, `g = tanh_s16(pre_g, GATE_FRAC)` (Q15);
//! 2. `c' = sat16(rs(f·c·2^15 + i·g·2^fx, 30))` (exact in `i64`, one rounding);
//! 3. `h' = rs(o·act(c'), 15)` with `act` = [`crate::Transfer::apply_s16`] at `fx` (the
//!    tanh or sigmoid table; `|o·act| < 2^30`, so `|h'| ≤ 32767` needs no clamp);
//! 4. outputs as the leaky cell's ([`crate::cell::leaky::outputs`], rates format Q15).

use super::gate::{Sums, CHUNK, GATE_FRAC};
use crate::activation::{sigmoid_s16, tanh_s16};
use crate::fixed::{sat_i16, shift_round};
use crate::Model;

/// One step: cell state `c` updated in place, the new hidden state written to `h_new`
/// (scratch) while every unit still reads the old `h`, then copied into `h`; outputs `y`.
///
/// Slices must have the model's lengths (`n_in`, `n_rec`, `n_rec`, `n_out`, `n_rec`):
/// debug builds assert it; release builds process other lengths as far as they go (never
/// a panic).
pub fn step(
    model: &Model<'_>,
    u: &[i16],
    c: &mut [i16],
    h: &mut [i16],
    y: &mut [i16],
    h_new: &mut [i16],
) {
    debug_assert_eq!(u.len(), model.n_in(), "lstm::step: u has n_in values");
    debug_assert_eq!(c.len(), model.n_rec(), "lstm::step: c has n_rec values");
    debug_assert_eq!(
        h_new.len(),
        model.n_rec(),
        "lstm::step: scratch has n_rec values"
    );
    let fx = model.state_frac();
    let act = model.transfer();
    let mut s = Sums::new();
    let mut first = 0;
    for (cs, hs) in c.chunks_mut(CHUNK).zip(h_new.chunks_mut(CHUNK)) {
        let len = cs.len().min(hs.len());
        s.fill(model, 4, first, len, u, h);
        for (j, (ci, hi)) in cs.iter_mut().zip(hs.iter_mut()).enumerate() {
            let ig = sigmoid_s16(s.pre(model, 0, first, j), GATE_FRAC) as i64;
            let fg = sigmoid_s16(s.pre(model, 1, first, j), GATE_FRAC) as i64;
            let gg = tanh_s16(s.pre(model, 2, first, j), GATE_FRAC) as i64;
            let og = sigmoid_s16(s.pre(model, 3, first, j), GATE_FRAC) as i32;
            let sum = ((fg * *ci as i64) << 15) + ((ig * gg) << fx);
            *ci = sat_i16(shift_round(sum, 30));
            let a = act.apply_s16(*ci, fx) as i32;
            *hi = ((og * a + (1 << 14)) >> 15) as i16;
        }
        first += len;
    }
    for (hi, &v) in h.iter_mut().zip(&*h_new) {
        *hi = v;
    }
    super::leaky::outputs(model, h, y);
}
