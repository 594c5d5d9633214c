//! The GRU cell in the trainer: forward pass and hand-derived BPTT over a chunk of trials
//! ([`GruBufs`]), PyTorch `nn.GRU`'s equations and gate layout (`r, z, n` row blocks of
//! `W_in` = `weight_ih`, `W_rec` = `weight_hh`):
//!
//! ```text
//! r = σ(W_ir x + W_hr h + b_r)          b_r = b_ir + b_hr  (b_rec's r block)
//! z = σ(W_iz x + W_hz h + b_z)          b_z = b_iz + b_hz  (b_rec's z block)
//! n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h              y = W_out h' + b_out
//! ```
//!
//! No leak (`dt`/`tau` only set the task's step) and no recurrent noise: see
//! [`crate::model::cell`]. Backward, with `δ = ∂L/∂h'` (the direct gradient from the
//! output and the firing-rate regulariser plus what flows back from the next step):
//!
//! ```text
//! ∂n̂ = δ ⊙ (1−z) ⊙ (1−n²)        ∂ẑ = δ ⊙ (h − n) ⊙ z(1−z)      ∂r̂ = ∂n̂ ⊙ (W_hn h + b_hn) ⊙ r(1−r)
//! input side  ∂gi = [∂r̂, ∂ẑ, ∂n̂]        recurrent side  ∂gh = [∂r̂, ∂ẑ, r ⊙ ∂n̂]
//! ∂L/∂h = δ ⊙ z + W_recᵀ ∂gh
//! ∂W_in = Σ ∂gi xᵀ,  ∂W_rec = Σ ∂gh hᵀ,  ∂b_rec = Σ ∂gi,  ∂b_hn = Σ (r ⊙ ∂n̂)
//! ```
//!
//! The input projection of all steps is one GEMM before the loop; the per-step recurrent
//! products (forward `h·W_recᵀ`, backward `∂gh·W_rec`) are the only sequential work; the
//! weight gradients are one GEMM each over all `T × trials` rows. Written by hand like the
//! leaky cell's BPTT ([`super::workspace`]): the trainer has no autodiff dependency.

use super::gated::{input_projection, sum_rows, weight_grads};
use super::net::{Eff, Net, Params, SLACK};
use crate::linalg::{transfer, Kernel, Real};
use neuroloop_core::Transfer;

/// Buffers of the GRU over a chunk of `bc` trials and `steps` steps (time-major).
#[derive(Clone, Debug)]
pub struct GruBufs<T> {
    /// Input-side pre-activations, then the gates `r, z, n` of each step, steps × bc × 3n.
    act: Vec<T>,
    /// `W_hn h + b_hn` of each step, steps × bc × n.
    hn: Vec<T>,
    /// Recurrent product of one step, bc × 3n.
    gh: Vec<T>,
    /// `∂gi`, steps × bc × 3n.
    dgi: Vec<T>,
    /// `∂gh`, steps × bc × 3n.
    dgh: Vec<T>,
    /// `∂L/∂h` flowing back, bc × n.
    carry: Vec<T>,
    /// `∂W_inᵀ`, n_in × 3n.
    gint: Vec<T>,
}

fn sigmoid<T: Real>(x: T) -> T {
    transfer::apply(Transfer::Sigmoid, x)
}

impl<T: Real> GruBufs<T> {
    /// Buffers for `bc` trials of `steps` steps of a GRU with `n` units and `n_in` inputs.
    pub fn new(bc: usize, steps: usize, n: usize, n_in: usize) -> Self {
        let z = |len: usize| vec![T::ZERO; len];
        let g = 3 * n;
        GruBufs {
            act: z(steps * bc * g + SLACK),
            hn: z(steps * bc * n),
            gh: z(bc * g),
            dgi: z(steps * bc * g + SLACK),
            dgh: z(steps * bc * g + SLACK),
            carry: z(bc * n),
            gint: z(n_in * g),
        }
    }

    /// Forward pass: `h` ((steps+1) × bc × n) receives `h₀ … h_T` from the inputs `x`
    /// (steps × bc × n_in).
    #[allow(clippy::too_many_arguments)]
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
        let g = 3 * n;
        let (bn, bg) = (bc * n, bc * g);
        let p = &net.params;
        input_projection(kernel, &p.b_rec, eff, x, steps * bc, i, &mut self.act);
        for b in 0..bc {
            h[b * n..(b + 1) * n].copy_from_slice(&p.init_state);
        }
        for t in 0..steps {
            for row in self.gh.chunks_exact_mut(g) {
                row[..2 * n].iter_mut().for_each(|v| *v = T::ZERO);
                row[2 * n..].copy_from_slice(&p.b_hn);
            }
            let (h_prev, h_next) = h[t * bn..(t + 2) * bn].split_at_mut(bn);
            T::gemm_acc(kernel, bc, g, n, h_prev, &eff.w_rec_t, &mut self.gh);
            let act = &mut self.act[t * bg..(t + 1) * bg];
            let hn = &mut self.hn[t * bn..(t + 1) * bn];
            for b in 0..bc {
                let a = &mut act[b * g..(b + 1) * g];
                let gh = &self.gh[b * g..(b + 1) * g];
                for j in 0..n {
                    let r = sigmoid(a[j] + gh[j]);
                    let z = sigmoid(a[n + j] + gh[n + j]);
                    let hnj = gh[2 * n + j];
                    let c = (a[2 * n + j] + r * hnj).tanh();
                    let k = b * n + j;
                    h_next[k] = (T::ONE - z) * c + z * h_prev[k];
                    a[j] = r;
                    a[n + j] = z;
                    a[2 * n + j] = c;
                    hn[k] = hnj;
                }
            }
        }
    }

    /// BPTT after [`GruBufs::forward`]: `dh` (steps × bc × n) holds the direct gradient on
    /// `h₁ … h_T`; fills `W_in`, `W_rec`, `b_rec`, `b_hn` and `init_state` of `g`.
    #[allow(clippy::too_many_arguments)]
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
        let gw = 3 * n;
        let (bn, bg) = (bc * n, bc * gw);
        self.carry.iter_mut().for_each(|v| *v = T::ZERO);
        for t in (0..steps).rev() {
            let act = &self.act[t * bg..(t + 1) * bg];
            let hn = &self.hn[t * bn..(t + 1) * bn];
            let h_prev = &h[t * bn..(t + 1) * bn];
            let dh_t = &dh[t * bn..(t + 1) * bn];
            let dgi = &mut self.dgi[t * bg..(t + 1) * bg];
            let dgh = &mut self.dgh[t * bg..(t + 1) * bg];
            for b in 0..bc {
                let a = &act[b * gw..(b + 1) * gw];
                let (di, dr) = (
                    &mut dgi[b * gw..(b + 1) * gw],
                    &mut dgh[b * gw..(b + 1) * gw],
                );
                for j in 0..n {
                    let k = b * n + j;
                    let d = dh_t[k] + self.carry[k];
                    let (r, z, c) = (a[j], a[n + j], a[2 * n + j]);
                    let dn = d * (T::ONE - z) * (T::ONE - c * c);
                    let dz = d * (h_prev[k] - c) * z * (T::ONE - z);
                    let drr = dn * hn[k] * r * (T::ONE - r);
                    di[j] = drr;
                    di[n + j] = dz;
                    di[2 * n + j] = dn;
                    dr[j] = drr;
                    dr[n + j] = dz;
                    dr[2 * n + j] = dn * r;
                    self.carry[k] = d * z;
                }
            }
            T::gemm_acc(kernel, bc, n, gw, dgh, &eff.w_rec_p, &mut self.carry);
        }
        sum_rows(&self.carry, &mut g.init_state);
        weight_grads(
            kernel,
            &self.dgi,
            &self.dgh,
            x,
            h,
            steps * bc,
            (i, n),
            &mut self.gint,
            g,
        );
        g.b_hn.iter_mut().for_each(|v| *v = T::ZERO);
        for row in self.dgh[..steps * bg].chunks_exact(gw) {
            for (a, &b) in g.b_hn.iter_mut().zip(&row[2 * n..]) {
                *a += b;
            }
        }
    }
}
