//! The LSTM cell in the trainer: forward pass and hand-derived BPTT over a chunk of trials
//! ([`LstmBufs`]), in two variants. Gates `i, f, g, o` are row blocks of `W_in`
//! (PyTorch `weight_ih`), `W_rec` (`weight_hh`) and `b_rec` (`bias_ih + bias_hh`):
//!
//! ```text
//! i = σ(W_ii x + W_hi h + b_i)   f = σ(W_if x + W_hf h + b_f)
//! g = tanh(W_ig x + W_hg h + b_g) o = σ(W_io x + W_ho h + b_o)
//! c' = f ⊙ c + i ⊙ g
//! h' = o ⊙ tanh(c')   (lstm: PyTorch nn.LSTM)
//! h' = o ⊙ σ(c')      (lstm-psychrnn: PsychRNN 1.0.0)      y = W_out h' + b_out
//! ```
//!
//! The `lstm-psychrnn` variant reproduces PsychRNN 1.0.0's `LSTM.recurrent_timestep`
//! (`psychrnn/backend/models/lstm.py`, github.com/murraylab/PsychRNN): its gates are
//! `f, i, c, o = act(concat(hidden, x) · W_· + b_·)` with `W_f, W_i, W_c, W_o` each
//! `(N_rec + N_in) × N_rec`, σ for `f, i, o`, tanh for the candidate `c`, then
//! `new_cell = f·cell + i·c` and `new_hidden = o·sigmoid(new_cell)`. Its `W_x` maps to
//! neuroloop's layout as `W_rec[block x] = W_x[..N_rec]ᵀ`, `W_in[block x] = W_x[N_rec..]ᵀ`,
//! `b_rec[block x] = b_x` (blocks `i, f, g, o` ← `W_i, W_f, W_c, W_o`). Like PsychRNN it
//! starts from a trainable initial hidden and cell state (`init_state` = `h₀` then `c₀`),
//! has no leak (its `recurrent_timestep` ignores `alpha = dt/tau`) and no recurrent noise.
//! PsychRNN's initialisation (weights `N(0, 0.1²)`, every gate bias 1, `h₀`, `c₀`
//! `N(0, 0.1²)`) is in [`crate::model::init`]. PsychRNN trains one `h₀`/`c₀` per batch row;
//! neuroloop trains one shared by every trial, as a deployed network has one.
//!
//! Backward, with `δ = ∂L/∂h'` and `a = act(c')`:
//!
//! ```text
//! ∂o = δ ⊙ a        ∂c' = ∂c'_next + δ ⊙ o ⊙ act'(a)
//! ∂i = ∂c' ⊙ g      ∂g = ∂c' ⊙ i      ∂f = ∂c' ⊙ c      ∂c = ∂c' ⊙ f
//! ∂pre = [∂i·i(1−i), ∂f·f(1−f), ∂g·(1−g²), ∂o·o(1−o)]
//! ∂L/∂h = W_recᵀ ∂pre,  ∂W_in = Σ ∂pre xᵀ,  ∂W_rec = Σ ∂pre hᵀ,  ∂b_rec = Σ ∂pre
//! ```
//!
//! Same structure as the GRU ([`super::gru`]): one input GEMM, per-step recurrent
//! products, one GEMM per weight gradient; written by hand like the leaky cell's BPTT.

use super::gated::{input_projection, sum_rows, weight_grads};
use super::net::{Eff, Net, Params, SLACK};
use crate::linalg::{Kernel, Real};
use crate::model::Cell;

/// Buffers of the LSTM over a chunk of `bc` trials and `steps` steps (time-major).
#[derive(Clone, Debug)]
pub struct LstmBufs<T> {
    /// `h' = o ⊙ σ(c')` (PsychRNN) instead of `o ⊙ tanh(c')`.
    psychrnn: bool,
    /// Pre-activations, then the gates `i, f, g, o` of each step, steps × bc × 4n.
    act: Vec<T>,
    /// Cell states `c₀ … c_T`, (steps+1) × bc × n.
    pub c: Vec<T>,
    /// `act(c')` of each step, steps × bc × n.
    ac: Vec<T>,
    /// `∂pre`, steps × bc × 4n.
    dpre: Vec<T>,
    /// `∂L/∂h` flowing back, bc × n.
    dh: Vec<T>,
    /// `∂L/∂c` flowing back, bc × n.
    dc: Vec<T>,
    /// `∂W_inᵀ`, n_in × 4n.
    gint: Vec<T>,
}

/// `act(c')` (σ for PsychRNN's variant, tanh otherwise).
#[inline(always)]
fn out_act<T: Real>(psychrnn: bool, c: T) -> T {
    if psychrnn {
        c.gate_sigmoid()
    } else {
        c.gate_tanh()
    }
}

/// `act'` from `a = act(c')`.
#[inline(always)]
fn out_act_grad<T: Real>(psychrnn: bool, a: T) -> T {
    if psychrnn {
        a * (T::ONE - a)
    } else {
        T::ONE - a * a
    }
}

/// One trial's step: the gates `[i, f, g, o]` (`a`, 4n: pre-activations in, gate values
/// out), cell and hidden state, `act(c')` kept for the backward pass.
#[inline(always)]
fn gate_fwd<T: Real, const PS: bool>(
    a: &mut [T],
    c_prev: &[T],
    c_next: &mut [T],
    h_next: &mut [T],
    ac: &mut [T],
) {
    let n = c_prev.len();
    let (ai, rest) = a[..4 * n].split_at_mut(n);
    let (af, rest) = rest.split_at_mut(n);
    let (ag, ao) = rest.split_at_mut(n);
    let ai = &mut ai[..n];
    let af = &mut af[..n];
    let ag = &mut ag[..n];
    let ao = &mut ao[..n];
    let c_next = &mut c_next[..n];
    let h_next = &mut h_next[..n];
    let ac = &mut ac[..n];
    let c_prev = &c_prev[..n];
    for j in 0..n {
        let ig = ai[j].gate_sigmoid();
        let fg = af[j].gate_sigmoid();
        let gg = ag[j].gate_tanh();
        let og = ao[j].gate_sigmoid();
        let c = fg * c_prev[j] + ig * gg;
        let a = out_act(PS, c);
        c_next[j] = c;
        ac[j] = a;
        h_next[j] = og * a;
        ai[j] = ig;
        af[j] = fg;
        ag[j] = gg;
        ao[j] = og;
    }
}

/// One trial's gate gradients of one step (module docs) into `d` (4n): `dh` is the
/// direct gradient on `h'`, `dh_c` the carried one (zeroed: the caller adds `W_recᵀ ∂pre`),
/// `dc` the carried `∂L/∂c'` (replaced by `∂L/∂c`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gate_bwd<T: Real, const PS: bool>(
    a: &[T],
    c_prev: &[T],
    ac: &[T],
    dh: &[T],
    dh_c: &mut [T],
    dc: &mut [T],
    d: &mut [T],
) {
    let n = c_prev.len();
    let (ai, rest) = a[..4 * n].split_at(n);
    let (af, rest) = rest.split_at(n);
    let (ag, ao) = rest.split_at(n);
    let (di, rest) = d[..4 * n].split_at_mut(n);
    let (df, rest) = rest.split_at_mut(n);
    let (dg, d_o) = rest.split_at_mut(n);
    let di = &mut di[..n];
    let df = &mut df[..n];
    let dg = &mut dg[..n];
    let d_o = &mut d_o[..n];
    let dh_c = &mut dh_c[..n];
    let dc = &mut dc[..n];
    let ai = &ai[..n];
    let af = &af[..n];
    let ag = &ag[..n];
    let ao = &ao[..n];
    let c_prev = &c_prev[..n];
    let ac = &ac[..n];
    let dh = &dh[..n];
    for j in 0..n {
        let (ig, fg, gg, og) = (ai[j], af[j], ag[j], ao[j]);
        let dhk = dh[j] + dh_c[j];
        let a = ac[j];
        let dcn = dc[j] + dhk * og * out_act_grad(PS, a);
        di[j] = dcn * gg * ig * (T::ONE - ig);
        df[j] = dcn * c_prev[j] * fg * (T::ONE - fg);
        dg[j] = dcn * ig * (T::ONE - gg * gg);
        d_o[j] = dhk * a * og * (T::ONE - og);
        dc[j] = dcn * fg;
        dh_c[j] = T::ZERO;
    }
}

impl<T: Real> LstmBufs<T> {
    /// Buffers for `bc` trials of `steps` steps of an LSTM (`cell` picks the variant).
    pub fn new(cell: Cell, bc: usize, steps: usize, n: usize, n_in: usize) -> Self {
        let z = |len: usize| vec![T::ZERO; len];
        let g = 4 * n;
        LstmBufs {
            psychrnn: cell == Cell::LstmPsychrnn,
            act: z(steps * bc * g + SLACK),
            c: z((steps + 1) * bc * n),
            ac: z(steps * bc * n),
            dpre: z(steps * bc * g + SLACK),
            dh: z(bc * n),
            dc: z(bc * n),
            gint: z(n_in * g),
        }
    }

    /// Forward pass: `h` ((steps+1) × bc × n) receives `h₀ … h_T` (and [`LstmBufs::c`]
    /// the cell states) from the inputs `x` (steps × bc × n_in). Inlined into the caller's
    /// ISA-specific wrapper, so the gate loops vectorize for its instruction set.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn forward(
        &mut self,
        kernel: Kernel,
        net: &Net<T>,
        eff: &Eff<T>,
        x: &[T],
        h: &mut [T],
        bc: usize,
        steps: usize,
    ) {
        let (i, n) = (net.n_in, net.n_rec);
        let g = 4 * n;
        let (bn, bg) = (bc * n, bc * g);
        let p = &net.params;
        input_projection(kernel, &p.b_rec, eff, x, steps * bc, i, &mut self.act);
        for b in 0..bc {
            h[b * n..(b + 1) * n].copy_from_slice(&p.init_state[..n]);
            self.c[b * n..(b + 1) * n].copy_from_slice(&p.init_state[n..]);
        }
        for t in 0..steps {
            let (h_prev, h_next) = h[t * bn..(t + 2) * bn].split_at_mut(bn);
            let a_t = &mut self.act[t * bg..(t + 1) * bg];
            T::gemm_acc(kernel, bc, g, n, h_prev, &eff.w_rec_t, a_t);
            let (c_prev, c_next) = self.c[t * bn..(t + 2) * bn].split_at_mut(bn);
            let ac = &mut self.ac[t * bn..(t + 1) * bn];
            for b in 0..bc {
                let a = &mut a_t[b * g..(b + 1) * g];
                let rows = b * n..(b + 1) * n;
                let args = (
                    &c_prev[rows.clone()],
                    &mut c_next[rows.clone()],
                    &mut h_next[rows.clone()],
                    &mut ac[rows],
                );
                if self.psychrnn {
                    gate_fwd::<T, true>(a, args.0, args.1, args.2, args.3);
                } else {
                    gate_fwd::<T, false>(a, args.0, args.1, args.2, args.3);
                }
            }
        }
    }

    /// BPTT after [`LstmBufs::forward`]: `dh` (steps × bc × n) holds the direct gradient
    /// on `h₁ … h_T`; fills `W_in`, `W_rec`, `b_rec` and `init_state` of `g`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn backward(
        &mut self,
        kernel: Kernel,
        net: &Net<T>,
        eff: &Eff<T>,
        x: &[T],
        h: &[T],
        dh: &[T],
        bc: usize,
        steps: usize,
        g: &mut Params<T>,
    ) {
        let (i, n) = (net.n_in, net.n_rec);
        let gw = 4 * n;
        let (bn, bg) = (bc * n, bc * gw);
        self.dh.iter_mut().for_each(|v| *v = T::ZERO);
        self.dc.iter_mut().for_each(|v| *v = T::ZERO);
        for t in (0..steps).rev() {
            let act = &self.act[t * bg..(t + 1) * bg];
            let c_prev = &self.c[t * bn..(t + 1) * bn];
            let ac = &self.ac[t * bn..(t + 1) * bn];
            let dh_t = &dh[t * bn..(t + 1) * bn];
            let dp = &mut self.dpre[t * bg..(t + 1) * bg];
            for b in 0..bc {
                let a = &act[b * gw..(b + 1) * gw];
                let d = &mut dp[b * gw..(b + 1) * gw];
                let rows = b * n..(b + 1) * n;
                let (cp, acb, dhb) = (
                    &c_prev[rows.clone()],
                    &ac[rows.clone()],
                    &dh_t[rows.clone()],
                );
                let (dh_c, dc) = (&mut self.dh[rows.clone()], &mut self.dc[rows]);
                if self.psychrnn {
                    gate_bwd::<T, true>(a, cp, acb, dhb, dh_c, dc, d);
                } else {
                    gate_bwd::<T, false>(a, cp, acb, dhb, dh_c, dc, d);
                }
            }
            T::gemm_acc(kernel, bc, n, gw, dp, &eff.w_rec_p, &mut self.dh);
        }
        let (gh0, gc0) = g.init_state.split_at_mut(n);
        sum_rows(&self.dh, gh0);
        sum_rows(&self.dc, gc0);
        weight_grads(
            kernel,
            &self.dpre,
            &self.dpre,
            x,
            h,
            steps * bc,
            (i, n),
            &mut self.gint,
            g,
        );
    }
}
