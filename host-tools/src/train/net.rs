//! The RNN in trainable form: raw parameters, their constrained (effective) weights
//! ([`Net`], [`Params`], [`Eff`]). The leaky cell is described here; a gated cell
//! ([`Cell`]) has the same tensors with its gates stacked along the rows (and the GRU's
//! `b_hn`), no constraints, and its equations in [`super::gru`] / [`super::lstm`].
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
//! BPTT over these weights is in [`super::workspace`].

use crate::linalg::Real;
use crate::model::{Cell, FloatModel};
use neuroloop_core::Transfer;

/// The trainable tensors, PsychRNN names and shapes (row-major; a gated cell stacks its
/// gates along the rows of `w_in`, `w_rec`, `b_rec`, see [`Cell`]).
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
    /// `init_state`, n_rec (an LSTM: 2·n_rec, `h₀` then `c₀`).
    pub init_state: Vec<T>,
    /// `b_hn`, n_rec for the GRU, empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub b_hn: Vec<T>,
}

/// Number of trainable tensors.
pub const N_TENSORS: usize = 7;

/// Names of the tensors, in [`Params::tensors`] order (PsychRNN's, and the GRU's `b_hn`).
pub const TENSOR_NAMES: [&str; N_TENSORS] = [
    "W_in",
    "W_rec",
    "W_out",
    "b_rec",
    "b_out",
    "init_state",
    "b_hn",
];

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
            b_hn: z(&other.b_hn),
        }
    }

    /// The tensors in [`TENSOR_NAMES`] order.
    pub fn tensors(&self) -> [&Vec<T>; N_TENSORS] {
        [
            &self.w_in,
            &self.w_rec,
            &self.w_out,
            &self.b_rec,
            &self.b_out,
            &self.init_state,
            &self.b_hn,
        ]
    }

    /// The tensors in [`TENSOR_NAMES`] order, mutable.
    pub fn tensors_mut(&mut self) -> [&mut Vec<T>; N_TENSORS] {
        [
            &mut self.w_in,
            &mut self.w_rec,
            &mut self.w_out,
            &mut self.b_rec,
            &mut self.b_out,
            &mut self.init_state,
            &mut self.b_hn,
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
    /// n_rec × n_in (gates·n_rec × n_in for a gated cell).
    pub w_in: Vec<T>,
    /// n_rec × n_rec (gates·n_rec × n_rec).
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

/// An RNN with raw parameters and constraint coefficients.
#[derive(Clone, Debug)]
pub struct Net<T> {
    /// Recurrent cell.
    pub cell: Cell,
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
        // Gated cells take no constraints (FloatModel::validate refuses them): all ones.
        let g = m.cell.gates();
        let (c_in, c_rec, c_out) = if m.cell.is_leaky() {
            (c_in, c_rec, c_out)
        } else {
            let ones = |len: usize| vec![T::ONE; len];
            (ones(g * n * i), ones(g * n * n), ones(o * n))
        };
        Net {
            cell: m.cell,
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
                b_hn: conv(&m.b_hn),
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
        m.b_hn = back(&self.params.b_hn);
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
        let gn = self.cell.gates() * n;
        transpose(&eff.w_rec, gn, n, &mut eff.w_rec_t);
        transpose(&eff.w_in, gn, self.n_in, &mut eff.w_in_t);
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
