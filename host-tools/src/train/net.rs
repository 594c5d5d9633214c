//! The leaky rate RNN in trainable form: raw parameters, their constrained (effective)
//! weights, and hand-derived BPTT over a chunk of trials.
//!
//! Forward (PsychRNN `Basic`, α = dt/τ, `s₀` = `init_state` for every trial):
//!
//! ```text
//! s_{t+1} = (1−α)·s_t + α·(W_rec·f(s_t) + W_in·u_{t+1} + b_rec) + √(2α)·σ·ξ
//! y_{t+1} = W_out·f(s_{t+1}) + b_out                       t = 0 … T−1
//! ```
//!
//! Effective weights: `W_eff = c ⊙ W` without Dale's law and `W_eff = c ⊙ |W|` with it,
//! where `c` folds the connectivity mask, the diagonal cleared by `autapses = false` and
//! the Dale sign of the presynaptic unit — the same numbers `FloatModel::effective` builds.
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
//! sequential work; every weight gradient is one large GEMM over all `T × batch` rows.
//! Buffers are time-major (`step, trial, unit`) and allocated once per [`Workspace`].

use super::kernel::{BwdStep, FwdStep};
use super::real::Real;
use crate::model::{FloatModel, Transfer};
use rand::Rng;
use rand_distr::StandardNormal;

/// The six trainable tensors, PsychRNN names and shapes (row-major).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params<T> {
    /// `W_in`, n_rec × n_in.
    pub w_in: Vec<T>,
    /// `W_rec`, n_rec × n_rec.
    pub w_rec: Vec<T>,
    /// `W_out`, n_out × n_rec.
    pub w_out: Vec<T>,
    /// `b_rec`, n_rec.
    pub b_rec: Vec<T>,
    /// `b_out`, n_out.
    pub b_out: Vec<T>,
    /// `init_state`, n_rec.
    pub init_state: Vec<T>,
}

/// PsychRNN names of the tensors, in [`Params::tensors`] order.
pub const TENSOR_NAMES: [&str; 6] = ["W_in", "W_rec", "W_out", "b_rec", "b_out", "init_state"];

impl<T: Real> Params<T> {
    /// Zeros with the shapes of `other`.
    pub fn zeros_like(other: &Params<T>) -> Self {
        let z = |v: &Vec<T>| vec![T::ZERO; v.len()];
        Params {
            w_in: z(&other.w_in),
            w_rec: z(&other.w_rec),
            w_out: z(&other.w_out),
            b_rec: z(&other.b_rec),
            b_out: z(&other.b_out),
            init_state: z(&other.init_state),
        }
    }

    /// The tensors in [`TENSOR_NAMES`] order.
    pub fn tensors(&self) -> [&Vec<T>; 6] {
        [
            &self.w_in,
            &self.w_rec,
            &self.w_out,
            &self.b_rec,
            &self.b_out,
            &self.init_state,
        ]
    }

    /// The tensors in [`TENSOR_NAMES`] order, mutable.
    pub fn tensors_mut(&mut self) -> [&mut Vec<T>; 6] {
        [
            &mut self.w_in,
            &mut self.w_rec,
            &mut self.w_out,
            &mut self.b_rec,
            &mut self.b_out,
            &mut self.init_state,
        ]
    }

    /// Set every element to zero.
    pub fn fill_zero(&mut self) {
        for t in self.tensors_mut() {
            t.iter_mut().for_each(|v| *v = T::ZERO);
        }
    }

    /// `self += other`.
    pub fn add_assign(&mut self, other: &Params<T>) {
        for (a, b) in self.tensors_mut().into_iter().zip(other.tensors()) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += *y;
            }
        }
    }
}

/// Zeros after each effective matrix buffer (read, never used, by padded kernel tiles).
pub const SLACK: usize = 16;

/// `out (cols × rows) = inᵀ` for a row-major `rows × cols` matrix.
pub fn transpose<T: Copy>(input: &[T], rows: usize, cols: usize, out: &mut Vec<T>) {
    out.clear();
    out.reserve(rows * cols);
    for c in 0..cols {
        out.extend((0..rows).map(|r| input[r * cols + c]));
    }
}

/// Effective (constrained) weights for one training step.
#[derive(Clone, Debug, Default)]
pub struct Eff<T> {
    /// n_rec × n_in.
    pub w_in: Vec<T>,
    /// n_rec × n_rec.
    pub w_rec: Vec<T>,
    /// `w_rec` followed by [`SLACK`] zeros (for the backward step product).
    pub w_rec_p: Vec<T>,
    /// `w_rec` transposed (for the forward step product).
    pub w_rec_t: Vec<T>,
    /// `w_in` transposed.
    pub w_in_t: Vec<T>,
    /// `w_out` transposed.
    pub w_out_t: Vec<T>,
    /// `w_out` followed by [`SLACK`] zeros (for the backward step product).
    pub w_out_p: Vec<T>,
    /// n_out × n_rec.
    pub w_out: Vec<T>,
}

/// A leaky rate RNN with raw parameters and constraint coefficients.
#[derive(Clone, Debug)]
pub struct Net<T> {
    /// Inputs.
    pub n_in: usize,
    /// Recurrent units.
    pub n_rec: usize,
    /// Outputs.
    pub n_out: usize,
    /// α = dt/τ.
    pub alpha: T,
    /// Noise amplitude √(2α)·σ (0 = no noise).
    pub noise: T,
    /// Transfer function.
    pub transfer: Transfer,
    /// Dale's law on (weights enter through |W|).
    pub dale: bool,
    /// Constraint coefficients (mask × Dale sign), same shapes as the weights.
    pub c_in: Vec<T>,
    /// See `c_in`.
    pub c_rec: Vec<T>,
    /// See `c_in`.
    pub c_out: Vec<T>,
    /// Raw parameters.
    pub params: Params<T>,
}

/// `f(x)`.
#[inline(always)]
pub fn act<T: Real>(tf: Transfer, x: T) -> T {
    match tf {
        Transfer::Relu => {
            if x > T::ZERO {
                x
            } else {
                T::ZERO
            }
        }
        Transfer::Tanh => x.tanh(),
        Transfer::Sigmoid => T::ONE / (T::ONE + (-x).exp()),
        Transfer::Identity => x,
    }
}

/// `f'(x)` from `x` and `r = f(x)`.
#[inline(always)]
pub fn act_grad<T: Real>(tf: Transfer, x: T, r: T) -> T {
    match tf {
        Transfer::Relu => {
            if x > T::ZERO {
                T::ONE
            } else {
                T::ZERO
            }
        }
        Transfer::Tanh => T::ONE - r * r,
        Transfer::Sigmoid => r * (T::ONE - r),
        Transfer::Identity => T::ONE,
    }
}

fn conv<T: Real>(v: &[f32]) -> Vec<T> {
    v.iter().map(|&x| T::from_f32(x)).collect()
}

impl<T: Real> Net<T> {
    /// Trainable form of a float model (raw parameters + its constraints).
    pub fn from_model(m: &FloatModel) -> Self {
        let (n, i, o) = (m.n_rec, m.n_in, m.n_out);
        let dale = m.constraints.dale_ratio.is_some();
        let signs = m.dale_signs();
        let mask = |mm: &Option<Vec<f32>>, len: usize| -> Vec<f64> {
            mm.as_ref()
                .map(|v| v.iter().map(|&x| x as f64).collect())
                .unwrap_or_else(|| vec![1.0; len])
        };
        let fold = |mv: f64| if dale { mv.abs() } else { mv };
        let c_in = mask(&m.constraints.input_connectivity, n * i)
            .into_iter()
            .map(|v| T::from_f64(fold(v)))
            .collect();
        let c_rec = m
            .rec_mask()
            .into_iter()
            .enumerate()
            .map(|(k, v)| T::from_f64(if dale { v.abs() * signs[k % n] } else { v }))
            .collect();
        let c_out = mask(&m.constraints.output_connectivity, o * n)
            .into_iter()
            .enumerate()
            .map(|(k, v)| {
                T::from_f64(if dale {
                    v.abs() * if signs[k % n] > 0.0 { 1.0 } else { 0.0 }
                } else {
                    v
                })
            })
            .collect();
        let alpha = m.alpha();
        Net {
            n_in: i,
            n_rec: n,
            n_out: o,
            alpha: T::from_f64(alpha),
            noise: T::from_f64((2.0 * alpha).sqrt() * m.rec_noise as f64),
            transfer: m.transfer,
            dale,
            c_in,
            c_rec,
            c_out,
            params: Params {
                w_in: conv(&m.w_in),
                w_rec: conv(&m.w_rec),
                w_out: conv(&m.w_out),
                b_rec: conv(&m.b_rec),
                b_out: conv(&m.b_out),
                init_state: conv(&m.init_state),
            },
        }
    }

    /// Copy the raw parameters back into `m` (as f32).
    pub fn write_to(&self, m: &mut FloatModel) {
        let back = |v: &Vec<T>| v.iter().map(|x| x.to_f64() as f32).collect::<Vec<f32>>();
        m.w_in = back(&self.params.w_in);
        m.w_rec = back(&self.params.w_rec);
        m.w_out = back(&self.params.w_out);
        m.b_rec = back(&self.params.b_rec);
        m.b_out = back(&self.params.b_out);
        m.init_state = back(&self.params.init_state);
    }

    /// Compute the effective weights into `eff`.
    pub fn effective(&self, eff: &mut Eff<T>) {
        let dale = self.dale;
        let map = |w: &[T], c: &[T], out: &mut Vec<T>| {
            out.clear();
            out.extend(
                w.iter()
                    .zip(c)
                    .map(|(&w, &c)| if dale { c * w.abs() } else { c * w }),
            );
        };
        map(&self.params.w_in, &self.c_in, &mut eff.w_in);
        map(&self.params.w_rec, &self.c_rec, &mut eff.w_rec);
        map(&self.params.w_out, &self.c_out, &mut eff.w_out);
        let n = self.n_rec;
        transpose(&eff.w_rec, n, n, &mut eff.w_rec_t);
        transpose(&eff.w_in, n, self.n_in, &mut eff.w_in_t);
        transpose(&eff.w_out, self.n_out, n, &mut eff.w_out_t);
        // Slack so the step kernel may read a padded tile past the last column.
        eff.w_rec_p.clear();
        eff.w_rec_p.extend_from_slice(&eff.w_rec);
        eff.w_out_p.clear();
        eff.w_out_p.extend_from_slice(&eff.w_out);
        for v in [
            &mut eff.w_rec_p,
            &mut eff.w_out_p,
            &mut eff.w_rec_t,
            &mut eff.w_in_t,
            &mut eff.w_out_t,
        ] {
            v.extend(std::iter::repeat_n(T::ZERO, SLACK));
        }
    }

    /// Turn gradients with respect to the effective weights (in `g.w_*`) into gradients
    /// with respect to the raw weights, in place (`∂W_eff/∂W = c` or `c·sign(W)`).
    pub fn chain_to_raw(&self, g: &mut Params<T>) {
        let dale = self.dale;
        let map = |w: &[T], c: &[T], g: &mut [T]| {
            for ((g, &w), &c) in g.iter_mut().zip(w).zip(c) {
                let s = if !dale || w > T::ZERO {
                    T::ONE
                } else if w < T::ZERO {
                    -T::ONE
                } else {
                    T::ZERO
                };
                *g = *g * c * s;
            }
        };
        map(&self.params.w_in, &self.c_in, &mut g.w_in);
        map(&self.params.w_rec, &self.c_rec, &mut g.w_rec);
        map(&self.params.w_out, &self.c_out, &mut g.w_out);
    }
}

/// Loss function (PsychRNN `loss_function`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// `mean((mask·(ŷ−y))²)` over trials × steps × outputs (PsychRNN `mean_squared_error`).
    MeanSquaredError,
    /// `mean(mask·−(y·ln(p+ε) + (1−y)·ln(1−p+ε)))`, `p = clip(ŷ, ε, 1−ε)`, ε = 1e-7.
    BinaryCrossEntropy,
}

/// The training objective: loss plus PsychRNN's regularisers (all weights default 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// Loss function.
    pub loss: LossKind,
    /// `L1_in · mean|W_in_eff|`.
    pub l1_in: f64,
    /// `L1_rec · mean|W_rec_eff|`.
    pub l1_rec: f64,
    /// `L1_out · mean|W_out_eff|`.
    pub l1_out: f64,
    /// `L2_in · mean(W_in_eff²)`.
    pub l2_in: f64,
    /// `L2_rec · mean(W_rec_eff²)`.
    pub l2_rec: f64,
    /// `L2_out · mean(W_out_eff²)`.
    pub l2_out: f64,
    /// `L2_firing_rate · mean(f(s)²)` over trials × steps × units.
    pub l2_firing_rate: f64,
}

impl Default for Objective {
    fn default() -> Self {
        Objective {
            loss: LossKind::MeanSquaredError,
            l1_in: 0.0,
            l1_rec: 0.0,
            l1_out: 0.0,
            l2_in: 0.0,
            l2_rec: 0.0,
            l2_out: 0.0,
            l2_firing_rate: 0.0,
        }
    }
}

impl Objective {
    /// Weight-regulariser value on `eff`; adds its gradient to `g` (effective space) if given.
    pub fn weight_reg<T: Real>(&self, eff: &Eff<T>, g: Option<&mut Params<T>>) -> f64 {
        let mut total = 0.0;
        let mut parts: [(f64, f64, &Vec<T>); 3] = [
            (self.l1_in, self.l2_in, &eff.w_in),
            (self.l1_rec, self.l2_rec, &eff.w_rec),
            (self.l1_out, self.l2_out, &eff.w_out),
        ];
        for (l1, l2, w) in parts.iter_mut() {
            if w.is_empty() {
                continue;
            }
            let n = w.len() as f64;
            if *l1 != 0.0 {
                total += *l1 * w.iter().map(|x| x.to_f64().abs()).sum::<f64>() / n;
            }
            if *l2 != 0.0 {
                total += *l2 * w.iter().map(|x| x.to_f64() * x.to_f64()).sum::<f64>() / n;
            }
        }
        if let Some(g) = g {
            for ((l1, l2, w), gw) in parts.iter().zip([&mut g.w_in, &mut g.w_rec, &mut g.w_out]) {
                if *l1 == 0.0 && *l2 == 0.0 {
                    continue;
                }
                let n = w.len() as f64;
                let (a, b) = (T::from_f64(*l1 / n), T::from_f64(2.0 * *l2 / n));
                for (gv, &wv) in gw.iter_mut().zip(w.iter()) {
                    let s = if wv > T::ZERO {
                        T::ONE
                    } else if wv < T::ZERO {
                        -T::ONE
                    } else {
                        T::ZERO
                    };
                    *gv += a * s + b * wv;
                }
            }
        }
        total
    }
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
    /// States s_0 … s_T, (steps+1) × bc × n_rec.
    pub s: Vec<T>,
    /// Rates f(s_0) … f(s_T).
    pub r: Vec<T>,
    /// Pre-activation gradients `α·δ_{t+1}` (backward), steps × bc × n_rec.
    pre: Vec<T>,
    /// Outputs ŷ_1 … ŷ_T, time-major steps × bc × n_out.
    pub out: Vec<T>,
    dy: Vec<T>,
    delta: Vec<T>,
    tmp: Vec<T>,
    gint: Vec<T>,
    /// Gradients of this chunk (weights: with respect to the effective weights).
    pub grads: Params<T>,
}

impl<T: Real> Workspace<T> {
    /// Buffers for `bc` trials of `steps` steps on `net`.
    pub fn new(net: &Net<T>, bc: usize, steps: usize) -> Self {
        let (i, n, o) = (net.n_in, net.n_rec, net.n_out);
        let z = |len: usize| vec![T::ZERO; len];
        Workspace {
            bc,
            steps,
            n_in: i,
            n_rec: n,
            n_out: o,
            x: z(steps * bc * i),
            y: z(steps * bc * o),
            mask: z(steps * bc * o),
            s: z((steps + 1) * bc * n),
            r: z((steps + 1) * bc * n + SLACK),
            pre: z(steps * bc * n + SLACK),
            out: z(steps * bc * o),
            dy: z(steps * bc * o),
            delta: z(bc * n),
            tmp: z(bc * n),
            gint: z(i * n),
            grads: Params::zeros_like(&net.params),
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

    /// Forward pass on the loaded inputs. Noise is drawn when `net.noise > 0` and `rngs`
    /// (one generator per trial of the chunk) is given.
    pub fn forward<R: Rng>(&mut self, net: &Net<T>, eff: &Eff<T>, rngs: Option<&mut [R]>) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
                // SAFETY: features detected just above.
                return unsafe { self.forward_avx512(net, eff, rngs) };
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: features detected just above.
                return unsafe { self.forward_avx2(net, eff, rngs) };
            }
        }
        self.forward_impl(net, eff, rngs)
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
        let (bc, st, i, n, o) = (self.bc, self.steps, self.n_in, self.n_rec, self.n_out);
        let p = &net.params;
        let (alpha, keep) = (net.alpha, T::ONE - net.alpha);
        let tf = net.transfer;
        for b in 0..bc {
            self.s[b * n..(b + 1) * n].copy_from_slice(&p.init_state);
        }
        for k in 0..bc * n {
            self.r[k] = act(tf, self.s[k]);
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
            T::fwd_step(FwdStep {
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
            });
        }
        // Outputs for all steps at once.
        for row in self.out.chunks_exact_mut(o) {
            row.copy_from_slice(&p.b_out);
        }
        T::gemm_acc(st * bc, o, n, &self.r[bn..], &eff.w_out_t, &mut self.out);
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
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
                // SAFETY: features detected just above.
                return unsafe { self.backward_avx512(net, eff, obj, total_trials) };
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: features detected just above.
                return unsafe { self.backward_avx2(net, eff, obj, total_trials) };
            }
        }
        self.backward_impl(net, eff, obj, total_trials)
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
        T::gemm_tn_acc(o, n, st * bc, &self.dy, &self.r[bn..], &mut g.w_out);
        g.b_out.iter_mut().for_each(|v| *v = T::ZERO);
        for row in self.dy.chunks_exact(o) {
            for (a, &b) in g.b_out.iter_mut().zip(row) {
                *a += b;
            }
        }
        // δ_T = f'(s_T) ⊙ ρ_T, and α·δ_T as the pre-activation gradient of step T−1.
        self.delta.iter_mut().for_each(|v| *v = T::ZERO);
        T::bwd_step(BwdStep {
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
        });
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
            T::bwd_step(BwdStep {
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
            });
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
        T::gemm_tn_acc(n, n, st * bc, &self.pre, &self.r, &mut g.w_rec);
        self.gint.iter_mut().for_each(|v| *v = T::ZERO);
        T::gemm_tn_acc(i, n, st * bc, &self.x, &self.pre, &mut self.gint);
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
