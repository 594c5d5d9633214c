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
use crate::linalg::{Kernel, Real};

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

/// One trial's gates of one step: `(r, z, n)` enter as the input-side pre-activations and
/// leave as the gate values; `gh` is the recurrent product (its `n` block with `b_hn`).
/// Slices of one length, one loop without bounds checks or library calls.
#[inline(always)]
fn gate_fwd<T: Real>(
    (ar, az, an): (&mut [T], &mut [T], &mut [T]),
    (gr, gz, gn): (&[T], &[T], &[T]),
    h_prev: &[T],
    h_next: &mut [T],
    hn: &mut [T],
) {
    let n = h_prev.len();
    let ar = &mut ar[..n];
    let az = &mut az[..n];
    let an = &mut an[..n];
    let h_next = &mut h_next[..n];
    let hn = &mut hn[..n];
    let gr = &gr[..n];
    let gz = &gz[..n];
    let gn = &gn[..n];
    let h_prev = &h_prev[..n];
    for j in 0..n {
        let r = (ar[j] + gr[j]).gate_sigmoid();
        let z = (az[j] + gz[j]).gate_sigmoid();
        let c = (an[j] + r * gn[j]).gate_tanh();
        h_next[j] = (T::ONE - z) * c + z * h_prev[j];
        ar[j] = r;
        az[j] = z;
        an[j] = c;
        hn[j] = gn[j];
    }
}

/// One trial's gate gradients of one step (module docs): from the gates `(r, z, n)`,
/// `W_hn h + b_hn`, `h`, the direct gradient `dh` and the carried `∂L/∂h'` (replaced by
/// `δ ⊙ z`, to which the caller adds `W_recᵀ ∂gh`).
#[inline(always)]
fn gate_bwd<T: Real>(
    (ar, az, an): (&[T], &[T], &[T]),
    hn: &[T],
    h_prev: &[T],
    dh: &[T],
    carry: &mut [T],
    (ir, iz, inn): (&mut [T], &mut [T], &mut [T]),
    (rr, rz, rn): (&mut [T], &mut [T], &mut [T]),
) {
    let n = carry.len();
    let carry = &mut carry[..n];
    let ir = &mut ir[..n];
    let iz = &mut iz[..n];
    let inn = &mut inn[..n];
    let rr = &mut rr[..n];
    let rz = &mut rz[..n];
    let rn = &mut rn[..n];
    let ar = &ar[..n];
    let az = &az[..n];
    let an = &an[..n];
    let hn = &hn[..n];
    let h_prev = &h_prev[..n];
    let dh = &dh[..n];
    for j in 0..n {
        let d = dh[j] + carry[j];
        let (r, z, c) = (ar[j], az[j], an[j]);
        let dn = d * (T::ONE - z) * (T::ONE - c * c);
        let dz = d * (h_prev[j] - c) * z * (T::ONE - z);
        let drr = dn * hn[j] * r * (T::ONE - r);
        ir[j] = drr;
        iz[j] = dz;
        inn[j] = dn;
        rr[j] = drr;
        rz[j] = dz;
        rn[j] = dn * r;
        carry[j] = d * z;
    }
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
    /// (steps × bc × n_in). Inlined into the caller's ISA-specific wrapper, so the gate
    /// loops vectorize for its instruction set.
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
                let (ar, rest) = act[b * g..(b + 1) * g].split_at_mut(n);
                let (az, an) = rest.split_at_mut(n);
                let (gr, rest) = self.gh[b * g..(b + 1) * g].split_at(n);
                let (gz, gn) = rest.split_at(n);
                let rows = b * n..(b + 1) * n;
                gate_fwd(
                    (ar, az, &mut an[..n]),
                    (gr, gz, &gn[..n]),
                    &h_prev[rows.clone()],
                    &mut h_next[rows.clone()],
                    &mut hn[rows],
                );
            }
        }
    }

    /// BPTT after [`GruBufs::forward`]: `dh` (steps × bc × n) holds the direct gradient on
    /// `h₁ … h_T`; fills `W_in`, `W_rec`, `b_rec`, `b_hn` and `init_state` of `g`.
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
                let (ar, rest) = act[b * gw..(b + 1) * gw].split_at(n);
                let (az, an) = rest.split_at(n);
                let (ir, rest) = dgi[b * gw..(b + 1) * gw].split_at_mut(n);
                let (iz, inn) = rest.split_at_mut(n);
                let (rr, rest) = dgh[b * gw..(b + 1) * gw].split_at_mut(n);
                let (rz, rn) = rest.split_at_mut(n);
                let rows = b * n..(b + 1) * n;
                gate_bwd(
                    (ar, az, &an[..n]),
                    &hn[rows.clone()],
                    &h_prev[rows.clone()],
                    &dh_t[rows.clone()],
                    &mut self.carry[rows],
                    (ir, iz, &mut inn[..n]),
                    (rr, rz, &mut rn[..n]),
                );
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
