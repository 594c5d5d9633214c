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
//! Fixed point (`pre_k` the gate sums of [`super::gate`] at [`GATE_FRAC`](super::gate::GATE_FRAC)):
//!
//! 1. `i, f, o = sigmoid_s16(pre, GATE_FRAC)`, `g = tanh_s16(pre_g, GATE_FRAC)` (Q15);
//! 2. `c' = sat16(rs(f·c·2^15 + i·g·2^fx, 30))` (exact in `i64`, one rounding);
//! 3. `h' = rs(o·act(c'), 15)` with `act` = [`crate::Transfer::apply_s16`] at `fx` (the
//!    tanh or sigmoid table; `|o·act| < 2^30`, so `|h'| ≤ 32767` needs no clamp);
//! 4. outputs as the leaky cell's ([`crate::cell::leaky::outputs`], rates format Q15).
//!
//! How: the gate sums come from `Gates::fill`, `pre` and σ/tanh from [`super::gate`]
//! (equal to the definition, see there). Step 2 runs in `i32`: with `A = f·c` and `B =
//! i·g` (both `|·| < 2^30`) and `k = 15 − fx`, `rs(A·2^15 + B·2^fx, 30) = (A + (B >> k) +
//! 2^14) >> 15` exactly: writing `B = (B >> k)·2^k + b` with `0 ≤ b < 2^k`, the
//! definition is `⌊(N + b/2^k) / 2^15⌋` for the integer `N = A + (B >> k) + 2^14`, and
//! `0 ≤ b/2^k < 1` cannot change that floor; `|N| < 2^31`.

use super::gate::{self, Gates, CHUNK};
use crate::kernel;
use crate::{Model, Transfer};

/// One step: cell state `c` updated in place, the new hidden state written to `h_new`
/// (scratch) while every unit still reads the old `h`, then copied into `h`; outputs `y`.
///
/// Slices must have the model's lengths (`n_in`, `n_rec`, `n_rec`, `n_out`, `n_rec`):
/// debug builds assert it; release builds process other lengths as far as they go (never
/// a panic).
// Not inlined into `Network::step`: its stack frame (scratch rows, prepared rates) is
// then only there while this cell steps, not added to every other cell's.
#[inline(never)]
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
    // The decoder keeps fx ≤ 15.
    let k = 15 - fx.min(15) as u32;
    let act = model.transfer();
    let mut g = Gates::new(model);
    let mut first = 0;
    // The old `h` prepared once for every gate's row groups (the DSP path's `i8` permutation).
    let (cm, hm) = (&mut *c, &mut *h_new);
    kernel::with_acts(h, model.w_rec().dtype(), |acts| {
        for (cs, hs) in cm.chunks_mut(CHUNK).zip(hm.chunks_mut(CHUNK)) {
            let len = cs.len().min(hs.len());
            g.fill(4, None, first, len, u, acts);
            let gates = g.s[0].iter().zip(&g.s[1]).zip(g.s[2].iter().zip(&g.s[3]));
            for ((ci, hi), ((&si, &sf), (&sg, &so))) in cs.iter_mut().zip(hs.iter_mut()).zip(gates)
            {
                let ig = gate::sigmoid(gate::rs_g(si));
                let fg = gate::sigmoid(gate::rs_g(sf));
                let gg = gate::tanh(gate::rs_g(sg));
                let og = gate::sigmoid(gate::rs_g(so));
                let sum = fg * *ci as i32 + ((ig * gg) >> k) + (1 << 14);
                *ci = (sum >> 15).clamp(-32768, 32767) as i16;
                let a = match act {
                    Transfer::Tanh => gate::tanh_at(*ci, fx),
                    Transfer::Sigmoid => gate::sigmoid_at(*ci, fx),
                    // Not a valid LSTM blob (the decoder allows tanh and sigmoid only).
                    other => other.apply_s16(*ci, fx) as i32,
                };
                *hi = ((og * a + (1 << 14)) >> 15) as i16;
            }
            first += len;
        }
    });
    for (hi, &v) in h.iter_mut().zip(&*h_new) {
        *hi = v;
    }
    super::leaky::outputs(model, h, y);
}
