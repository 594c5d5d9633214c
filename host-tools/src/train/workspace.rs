//! BPTT over a chunk of trials in preallocated buffers ([`Workspace`]): forward pass with
//! noise, loss, hand-derived backward pass into effective-weight gradients. The loss, the
//! readout and the leaky cell are here; a gated cell's recurrence is in [`super::gru`] or
//! [`super::lstm`] (its hidden state `h` takes the place of the rates `f(s)`).
//!
//! Forward (PsychRNN `Basic`, α = dt/τ, `s₀` = `init_state` for every trial):
//!
//! ```text
//! s_{t+1} = (1−α)·s_t + α·(W_rec·f(s_t) + W_in·u_{t+1} + b_rec) + √(2α)·σ·ξ
//! y_{t+1} = W_out·f(s_{t+1}) + b_out                       t = 0 … T−1
//! ```
//!
//! Backward, with `δ_t = ∂L/∂s_t` and `ρ_t` the direct gradient on the rates `f(s_t)`:
//!
//! ```text
//! δ_T = f'(s_T) ⊙ ρ_T
//! δ_t = (1−α)·δ_{t+1} + f'(s_t) ⊙ (W_recᵀ·(α δ_{t+1}) + ρ_t)
//! ∂L/∂W_rec_eff = Σ_t (α δ_{t+1}) f(s_t)ᵀ,  ∂L/∂W_in_eff = Σ_t (α δ_{t+1}) u_{t+1}ᵀ
//! ```
//!
//! The two per-step products (forward `R_t·W_recᵀ`, backward `Δ·W_rec`) are the only
//! sequential work ([`crate::linalg::kernel`]'s fused steps); every weight gradient is one
//! large GEMM over all `T × batch` rows. Buffers are time-major (`step, trial, unit`) and
//! allocated once per [`Workspace`].

use super::gru::GruBufs;
use super::lstm::LstmBufs;
use super::net::{transpose, Eff, Net, Params, SLACK};
use super::objective::{LossKind, Objective};
use crate::linalg::{transfer, BwdStep, FwdStep, Kernel, Real};
use crate::model::Cell;
use rand::Rng;
use rand_distr::StandardNormal;

/// The buffers of a gated cell's recurrence (none for the leaky cell).
#[derive(Clone, Debug)]
enum CellBufs<T> {
    Leaky,
    Gru(GruBufs<T>),
    Lstm(LstmBufs<T>),
}

/// Buffers for forward and backward passes over a chunk of `bc` trials.
#[derive(Clone, Debug)]
pub struct Workspace<T> {
    /// Trials in this chunk.
    pub bc: usize,
    /// Steps per trial.
    pub steps: usize,
    n_in: usize,
    n_rec: usize,
    n_out: usize,
    /// Inputs, time-major steps × bc × n_in.
    pub x: Vec<T>,
    /// Targets, time-major steps × bc × n_out.
    pub y: Vec<T>,
    /// Mask, time-major steps × bc × n_out.
    pub mask: Vec<T>,
    /// States s_0 … s_T, (steps+1) × bc × n_rec (leaky cell; empty for a gated one).
    pub s: Vec<T>,
    /// Rates f(s_0) … f(s_T) (a gated cell: its hidden states h_0 … h_T).
    pub r: Vec<T>,
    /// Pre-activation gradients `α·δ_{t+1}` (backward), steps × bc × n_rec; for a gated
    /// cell the direct gradient on h_1 … h_T.
    pre: Vec<T>,
    /// Outputs ŷ_1 … ŷ_T, time-major steps × bc × n_out.
    pub out: Vec<T>,
    dy: Vec<T>,
    delta: Vec<T>,
    tmp: Vec<T>,
    gint: Vec<T>,
    /// Gradients of this chunk (weights: with respect to the effective weights).
    pub grads: Params<T>,
    /// Kernel path of the f32 products and steps (default: the fastest this CPU has).
    kernel: Kernel,
    /// The gated cell's buffers.
    cell: CellBufs<T>,
}

impl<T: Real> Workspace<T> {
    /// Buffers for `bc` trials of `steps` steps on `net`.
    pub fn new(net: &Net<T>, bc: usize, steps: usize) -> Self {
        let (i, n, o) = (net.n_in, net.n_rec, net.n_out);
        let z = |len: usize| vec![T::ZERO; len];
        let cell = match net.cell {
            Cell::Leaky => CellBufs::Leaky,
            Cell::Gru => CellBufs::Gru(GruBufs::new(bc, steps, n, i)),
            Cell::Lstm | Cell::LstmPsychrnn => {
                CellBufs::Lstm(LstmBufs::new(net.cell, bc, steps, n, i))
            }
        };
        let s_len = if net.cell.is_leaky() {
            (steps + 1) * bc * n
        } else {
            0
        };
        Workspace {
            bc,
            steps,
            n_in: i,
            n_rec: n,
            n_out: o,
            x: z(steps * bc * i),
            y: z(steps * bc * o),
            mask: z(steps * bc * o),
            s: z(s_len),
            r: z((steps + 1) * bc * n + SLACK),
            pre: z(steps * bc * n + SLACK),
            out: z(steps * bc * o),
            dy: z(steps * bc * o),
            delta: z(bc * n),
            tmp: z(bc * n),
            gint: z(i * n),
            grads: Params::zeros_like(&net.params),
            kernel: Kernel::best(),
            cell,
        }
    }

    /// Copy trials `first .. first+bc` of batch-major arrays into the time-major buffers.
    pub fn load(&mut self, x: &[f32], y: &[f32], mask: &[f32], first: usize) {
        let (bc, st, i, o) = (self.bc, self.steps, self.n_in, self.n_out);
        for b in 0..bc {
            let tb = first + b;
            for t in 0..st {
                let src = (tb * st + t) * i;
                let dst = (t * bc + b) * i;
                for k in 0..i {
                    self.x[dst + k] = T::from_f32(x[src + k]);
                }
                let src = (tb * st + t) * o;
                let dst = (t * bc + b) * o;
                for k in 0..o {
                    self.y[dst + k] = T::from_f32(y[src + k]);
                    self.mask[dst + k] = T::from_f32(mask[src + k]);
                }
            }
        }
    }

    /// Copy the outputs of this chunk into batch-major `out` at trial `first`.
    pub fn store_outputs(&self, out: &mut [f32], first: usize) {
        let (bc, st, o) = (self.bc, self.steps, self.n_out);
        for b in 0..bc {
            for t in 0..st {
                let src = (t * bc + b) * o;
                let dst = ((first + b) * st + t) * o;
                for k in 0..o {
                    out[dst + k] = self.out[src + k].to_f64() as f32;
                }
            }
        }
    }

    /// The kernel path this workspace runs (f32; f64 has one path).
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Run on `kernel` from now on: the f32 products and steps, and the code around them
    /// compiled for its ISA (panics if the CPU lacks it). Tests force every path this way.
    pub fn set_kernel(&mut self, kernel: Kernel) {
        kernel.assert_supported();
        self.kernel = kernel;
    }

    /// Forward pass on the loaded inputs. Noise is drawn when `net.noise > 0` and `rngs`
    /// (one generator per trial of the chunk) is given.
    pub fn forward<R: Rng>(&mut self, net: &Net<T>, eff: &Eff<T>, rngs: Option<&mut [R]>) {
        match self.kernel {
            // SAFETY: `set_kernel`/`new` only accept a kernel the CPU supports.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { self.forward_avx512(net, eff, rngs) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { self.forward_avx2(net, eff, rngs) },
            _ => self.forward_impl(net, eff, rngs),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn forward_avx512<R: Rng>(
        &mut self,
        net: &Net<T>,
        eff: &Eff<T>,
        rngs: Option<&mut [R]>,
    ) {
        self.forward_impl(net, eff, rngs)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_avx2<R: Rng>(&mut self, net: &Net<T>, eff: &Eff<T>, rngs: Option<&mut [R]>) {
        self.forward_impl(net, eff, rngs)
    }

    #[inline(always)]
    fn forward_impl<R: Rng>(&mut self, net: &Net<T>, eff: &Eff<T>, rngs: Option<&mut [R]>) {
        let (kernel, bc, st) = (self.kernel, self.bc, self.steps);
        match &mut self.cell {
            CellBufs::Leaky => self.leaky_forward(net, eff, rngs),
            CellBufs::Gru(g) => g.forward(kernel, net, eff, &self.x, &mut self.r, bc, st),
            CellBufs::Lstm(l) => l.forward(kernel, net, eff, &self.x, &mut self.r, bc, st),
        }
        // Outputs for all steps at once.
        let (n, o) = (self.n_rec, self.n_out);
        for row in self.out.chunks_exact_mut(o) {
            row.copy_from_slice(&net.params.b_out);
        }
        T::gemm_acc(
            kernel,
            st * bc,
            o,
            n,
            &self.r[bc * n..],
            &eff.w_out_t,
            &mut self.out,
        );
    }

    /// The leaky cell's recurrence (states and rates of every step).
    #[inline(always)]
    fn leaky_forward<R: Rng>(&mut self, net: &Net<T>, eff: &Eff<T>, rngs: Option<&mut [R]>) {
        let kernel = self.kernel;
        let (bc, st, i, n) = (self.bc, self.steps, self.n_in, self.n_rec);
        let p = &net.params;
        let (alpha, keep) = (net.alpha, T::ONE - net.alpha);
        let tf = net.transfer;
        for b in 0..bc {
            self.s[b * n..(b + 1) * n].copy_from_slice(&p.init_state);
        }
        for k in 0..bc * n {
            self.r[k] = transfer::apply(tf, self.s[k]);
        }
        let bn = bc * n;
        let bi = bc * i;
        let mut rngs = rngs.filter(|_| net.noise > T::ZERO);
        for t in 0..st {
            let (s_prev, s_next) = self.s[t * bn..(t + 2) * bn].split_at_mut(bn);
            let (r_prev, r_next) = self.r[t * bn..(t + 2) * bn].split_at_mut(bn);
            // Noise in the order each trial's generator has always drawn it.
            let noise = match rngs.as_deref_mut() {
                Some(gs) => {
                    for (row, g) in self.tmp.chunks_exact_mut(n).zip(gs.iter_mut()) {
                        for v in row {
                            let xi: f64 = g.sample(StandardNormal);
                            *v = net.noise * T::from_f64(xi);
                        }
                    }
                    Some(&self.tmp[..])
                }
                None => None,
            };
            T::fwd_step(
                kernel,
                FwdStep {
                    m: bc,
                    n,
                    n_in: i,
                    x: &self.x[t * bi..(t + 1) * bi],
                    w_in_t: &eff.w_in_t,
                    r_prev,
                    w_rec_t: &eff.w_rec_t,
                    b_rec: &p.b_rec,
                    s_prev,
                    noise,
                    s_next,
                    r_next,
                    alpha,
                    keep,
                    tf,
                },
            );
        }
    }

    /// Sum over this chunk of the loss terms (unnormalised: divide by `total_trials`-based
    /// counts happens here, so chunk sums add up to the batch mean), and `dy` if `grad`.
    fn loss_terms(&mut self, obj: &Objective, total_trials: usize, grad: bool) -> f64 {
        let (st, o, n) = (self.steps, self.n_out, self.n_rec);
        let norm = 1.0 / (total_trials * st * o) as f64;
        let tn = T::from_f64(norm);
        let mut loss = 0.0f64;
        match obj.loss {
            LossKind::MeanSquaredError => {
                for k in 0..self.out.len() {
                    let e = self.mask[k] * (self.out[k] - self.y[k]);
                    loss += (e * e).to_f64();
                    if grad {
                        self.dy[k] = T::from_f64(2.0) * e * self.mask[k] * tn;
                    }
                }
            }
            LossKind::BinaryCrossEntropy => {
                let eps = T::from_f64(1e-7);
                let hi = T::ONE - eps;
                for k in 0..self.out.len() {
                    let yh = self.out[k];
                    let inside = yh >= eps && yh <= hi;
                    let p = if yh < eps {
                        eps
                    } else if yh > hi {
                        hi
                    } else {
                        yh
                    };
                    let (y, m) = (self.y[k], self.mask[k]);
                    let l = -(y * (p + eps).ln() + (T::ONE - y) * (T::ONE - p + eps).ln());
                    loss += (m * l).to_f64();
                    if grad {
                        self.dy[k] = if inside {
                            -m * (y / (p + eps) - (T::ONE - y) / (T::ONE - p + eps)) * tn
                        } else {
                            T::ZERO
                        };
                    }
                }
            }
        }
        loss *= norm;
        if obj.l2_firing_rate != 0.0 {
            let bn = self.bc * n;
            let fr_norm = obj.l2_firing_rate / (total_trials * st * n) as f64;
            let rates = &self.r[bn..];
            loss += fr_norm * rates.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>();
        }
        loss
    }

    /// Loss of this chunk's share of the batch (forward must have run).
    pub fn loss(&mut self, obj: &Objective, total_trials: usize) -> f64 {
        self.loss_terms(obj, total_trials, false)
    }

    /// Backward pass after [`Workspace::forward`]: fills [`Workspace::grads`] (effective
    /// weight space; without the weight regularisers) and returns this chunk's share of the
    /// loss (a batch of `total_trials` trials).
    pub fn backward(
        &mut self,
        net: &Net<T>,
        eff: &Eff<T>,
        obj: &Objective,
        total_trials: usize,
    ) -> f64 {
        match self.kernel {
            // SAFETY: `set_kernel`/`new` only accept a kernel the CPU supports.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { self.backward_avx512(net, eff, obj, total_trials) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { self.backward_avx2(net, eff, obj, total_trials) },
            _ => self.backward_impl(net, eff, obj, total_trials),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn backward_avx512(
        &mut self,
        net: &Net<T>,
        eff: &Eff<T>,
        obj: &Objective,
        total_trials: usize,
    ) -> f64 {
        self.backward_impl(net, eff, obj, total_trials)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn backward_avx2(
        &mut self,
        net: &Net<T>,
        eff: &Eff<T>,
        obj: &Objective,
        total_trials: usize,
    ) -> f64 {
        self.backward_impl(net, eff, obj, total_trials)
    }

    #[inline(always)]
    fn backward_impl(
        &mut self,
        net: &Net<T>,
        eff: &Eff<T>,
        obj: &Objective,
        total_trials: usize,
    ) -> f64 {
        let kernel = self.kernel;
        let loss = self.loss_terms(obj, total_trials, true);
        let (bc, st, i, n, o) = (self.bc, self.steps, self.n_in, self.n_rec, self.n_out);
        let bn = bc * n;
        let tf = net.transfer;
        let (alpha, keep) = (net.alpha, T::ONE - net.alpha);
        let bo = bc * o;
        // ρ_t = dy_t·W_out + frc·r_t enters each step's fused product (dy_t stored at t−1).
        let frc = if obj.l2_firing_rate != 0.0 {
            T::from_f64(2.0 * obj.l2_firing_rate / (total_trials * st * n) as f64)
        } else {
            T::ZERO
        };
        let g = &mut self.grads;
        // Output weights and bias.
        g.w_out.iter_mut().for_each(|v| *v = T::ZERO);
        T::gemm_tn_acc(kernel, o, n, st * bc, &self.dy, &self.r[bn..], &mut g.w_out);
        g.b_out.iter_mut().for_each(|v| *v = T::ZERO);
        for row in self.dy.chunks_exact(o) {
            for (a, &b) in g.b_out.iter_mut().zip(row) {
                *a += b;
            }
        }
        // A gated cell: the direct gradient on h_1 … h_T (dy·W_out + frc·h), then its BPTT.
        let dh = &mut self.pre[..st * bn];
        if !matches!(self.cell, CellBufs::Leaky) {
            for (d, &h) in dh.iter_mut().zip(&self.r[bn..]) {
                *d = frc * h;
            }
            T::gemm_acc(kernel, st * bc, n, o, &self.dy, &eff.w_out_p, dh);
        }
        let g = &mut self.grads;
        match &mut self.cell {
            CellBufs::Leaky => {}
            CellBufs::Gru(c) => {
                c.backward(kernel, net, eff, &self.x, &self.r, dh, bc, st, g);
                return loss;
            }
            CellBufs::Lstm(c) => {
                c.backward(kernel, net, eff, &self.x, &self.r, dh, bc, st, g);
                return loss;
            }
        }
        // δ_T = f'(s_T) ⊙ ρ_T, and α·δ_T as the pre-activation gradient of step T−1.
        self.delta.iter_mut().for_each(|v| *v = T::ZERO);
        T::bwd_step(
            kernel,
            BwdStep {
                m: bc,
                n,
                n_out: o,
                dpre: None,
                w_rec: &eff.w_rec_p,
                dy: Some(&self.dy[(st - 1) * bo..st * bo]),
                w_out: &eff.w_out_p,
                frc,
                s: &self.s[st * bn..(st + 1) * bn],
                r: &self.r[st * bn..(st + 1) * bn],
                delta: &mut self.delta,
                dpre_out: Some(&mut self.pre[(st - 1) * bn..st * bn]),
                tmp: &mut self.tmp,
                alpha,
                keep: T::ZERO,
                tf,
            },
        );
        for t in (0..st).rev() {
            // δ holds δ_{t+1} and pre[t] holds α·δ_{t+1}; make δ_t (and α·δ_t in pre[t−1]).
            let (lo, hi) = self.pre.split_at_mut(t * bn);
            let (dy, dpre_out, frc_t) = if t >= 1 {
                (
                    Some(&self.dy[(t - 1) * bo..t * bo]),
                    Some(&mut lo[(t - 1) * bn..]),
                    frc,
                )
            } else {
                (None, None, T::ZERO)
            };
            T::bwd_step(
                kernel,
                BwdStep {
                    m: bc,
                    n,
                    n_out: o,
                    dpre: Some(&hi[..bn]),
                    w_rec: &eff.w_rec_p,
                    dy,
                    w_out: &eff.w_out_p,
                    frc: frc_t,
                    s: &self.s[t * bn..(t + 1) * bn],
                    r: &self.r[t * bn..(t + 1) * bn],
                    delta: &mut self.delta,
                    dpre_out,
                    tmp: &mut self.tmp,
                    alpha,
                    keep,
                    tf,
                },
            );
        }
        let g = &mut self.grads;
        // δ_0 → init_state (shared by all trials).
        g.init_state.iter_mut().for_each(|v| *v = T::ZERO);
        for row in self.delta.chunks_exact(n) {
            for (a, &b) in g.init_state.iter_mut().zip(row) {
                *a += b;
            }
        }
        // Recurrent and input weights, recurrent bias: one GEMM each over all rows.
        g.w_rec.iter_mut().for_each(|v| *v = T::ZERO);
        T::gemm_tn_acc(kernel, n, n, st * bc, &self.pre, &self.r, &mut g.w_rec);
        self.gint.iter_mut().for_each(|v| *v = T::ZERO);
        T::gemm_tn_acc(kernel, i, n, st * bc, &self.x, &self.pre, &mut self.gint);
        transpose(&self.gint, i, n, &mut g.w_in);
        g.b_rec.iter_mut().for_each(|v| *v = T::ZERO);
        for row in self.pre[..st * bn].chunks_exact(n) {
            for (a, &b) in g.b_rec.iter_mut().zip(row) {
                *a += b;
            }
        }
        loss
    }
}
