//! The float reference: PsychRNN's `Basic` forward pass in f64, and the GRU's and LSTM's
//! (equations in [`super::cell`]'s docs and `docs/cells.md`).
//!
//! `s_t = (1−α)·s_{t−1} + α·(W_rec·f(s_{t−1}) + W_in·u_t + b_rec) + sqrt(2α)·σ·ξ_t`,
//! `y_t = W_out·f(s_t) + b_out`, with PsychRNN's time alignment: entry `t` of a
//! [`Trace`] holds the state and output after the `t`-th update (`s₀` is not stored).
//! A gated cell's "state" is what its blob keeps as state (`neuroloop_core::Network::state`):
//! the hidden `h` for the GRU, the cell state `c` for the LSTM.
//!
//! Written plainly (one unit at a time, f64) rather than through the trainer's batched
//! workspace: this is what calibration and `eval --compare` measure fixed point against.

use super::cell::Cell;
use crate::linalg::transfer;
use neuroloop_core::Transfer;
use rand::Rng;
use rand_distr::StandardNormal;

/// Effective (constrained) parameters in f64; matrices row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Effective {
    /// Inputs.
    pub n_in: usize,
    /// Recurrent units.
    pub n_rec: usize,
    /// Outputs.
    pub n_out: usize,
    /// α = dt/τ.
    pub alpha: f64,
    /// Recurrent noise σ.
    pub rec_noise: f64,
    /// Transfer function (leaky cell only).
    pub transfer: Transfer,
    /// Recurrent cell; a gated one stacks its gates along the rows of `w_in`, `w_rec`,
    /// `b_rec` and keeps `h₀` then (LSTM) `c₀` in `init_state`.
    pub cell: Cell,
    /// The GRU's `b_hn` (n_rec; empty for the other cells).
    pub b_hn: Vec<f64>,
    /// n_rec × n_in.
    pub w_in: Vec<f64>,
    /// n_rec × n_rec.
    pub w_rec: Vec<f64>,
    /// n_out × n_rec.
    pub w_out: Vec<f64>,
    /// n_rec.
    pub b_rec: Vec<f64>,
    /// n_out.
    pub b_out: Vec<f64>,
    /// n_rec.
    pub init_state: Vec<f64>,
}

/// States and outputs of one trial, `steps` rows each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// Number of time steps.
    pub steps: usize,
    /// steps × n_rec.
    pub states: Vec<f64>,
    /// steps × n_out.
    pub outputs: Vec<f64>,
}

fn matvec(w: &[f64], x: &[f64], out: &mut [f64]) {
    let cols = x.len();
    for (o, row) in out.iter_mut().zip(w.chunks_exact(cols)) {
        *o = row.iter().zip(x).map(|(a, b)| a * b).sum();
    }
}

impl Effective {
    /// Run one trial on `inputs` (steps × n_in, row-major). Noise is added only when
    /// `rng` is given and `rec_noise > 0`.
    pub fn run(&self, inputs: &[f32], mut rng: Option<&mut dyn rand::RngCore>) -> Trace {
        if !self.cell.is_leaky() {
            return self.run_gated(inputs).0;
        }
        let steps = inputs.len() / self.n_in.max(1);
        let mut s = self.init_state.clone();
        let mut r = vec![0.0; self.n_rec];
        let mut rec = vec![0.0; self.n_rec];
        let mut inp = vec![0.0; self.n_rec];
        let mut y = vec![0.0; self.n_out];
        let mut u = vec![0.0; self.n_in];
        let noise_amp = (2.0 * self.alpha).sqrt() * self.rec_noise;
        let mut trace = Trace {
            steps,
            states: Vec::with_capacity(steps * self.n_rec),
            outputs: Vec::with_capacity(steps * self.n_out),
        };
        for t in 0..steps {
            for (ui, &v) in u
                .iter_mut()
                .zip(&inputs[t * self.n_in..(t + 1) * self.n_in])
            {
                *ui = v as f64;
            }
            for (ri, &si) in r.iter_mut().zip(&s) {
                *ri = transfer::apply(self.transfer, si);
            }
            matvec(&self.w_rec, &r, &mut rec);
            matvec(&self.w_in, &u, &mut inp);
            for i in 0..self.n_rec {
                s[i] = (1.0 - self.alpha) * s[i] + self.alpha * (rec[i] + inp[i] + self.b_rec[i]);
                if let Some(g) = rng.as_deref_mut() {
                    if noise_amp > 0.0 {
                        let xi: f64 = g.sample(StandardNormal);
                        s[i] += noise_amp * xi;
                    }
                }
            }
            for (ri, &si) in r.iter_mut().zip(&s) {
                *ri = transfer::apply(self.transfer, si);
            }
            matvec(&self.w_out, &r, &mut y);
            for (yo, b) in y.iter_mut().zip(&self.b_out) {
                *yo += b;
            }
            trace.states.extend_from_slice(&s);
            trace.outputs.extend_from_slice(&y);
        }
        trace
    }

    /// One trial of a gated cell (no noise: gated cells have none): the [`Trace`] (states
    /// `h` for the GRU, `c` for the LSTM) and the hidden states `h` (steps × n_rec).
    pub fn run_gated(&self, inputs: &[f32]) -> (Trace, Vec<f64>) {
        let (n, n_in) = (self.n_rec, self.n_in.max(1));
        let steps = inputs.len() / n_in;
        let g = self.cell.gates();
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut h = self.init_state[..n].to_vec();
        let mut c = if self.cell.states() == 2 {
            self.init_state[n..2 * n].to_vec()
        } else {
            vec![]
        };
        let (mut rec, mut inp) = (vec![0.0; g * n], vec![0.0; g * n]);
        let mut u = vec![0.0; self.n_in];
        let mut y = vec![0.0; self.n_out];
        let mut trace = Trace {
            steps,
            states: Vec::with_capacity(steps * n),
            outputs: Vec::with_capacity(steps * self.n_out),
        };
        let mut hidden = Vec::with_capacity(steps * n);
        for t in 0..steps {
            for (ui, &v) in u.iter_mut().zip(&inputs[t * n_in..(t + 1) * n_in]) {
                *ui = v as f64;
            }
            matvec(&self.w_rec, &h, &mut rec);
            matvec(&self.w_in, &u, &mut inp);
            let b = &self.b_rec;
            for i in 0..n {
                let pre = |k: usize| rec[k * n + i] + inp[k * n + i] + b[k * n + i];
                if self.cell == Cell::Gru {
                    let (r, z) = (sig(pre(0)), sig(pre(1)));
                    let nn = (inp[2 * n + i] + b[2 * n + i] + r * (rec[2 * n + i] + self.b_hn[i]))
                        .tanh();
                    h[i] = (1.0 - z) * nn + z * h[i];
                } else {
                    let (ig, fg, gg, og) = (sig(pre(0)), sig(pre(1)), pre(2).tanh(), sig(pre(3)));
                    c[i] = fg * c[i] + ig * gg;
                    let act = if self.cell == Cell::Lstm {
                        c[i].tanh()
                    } else {
                        sig(c[i])
                    };
                    h[i] = og * act;
                }
            }
            matvec(&self.w_out, &h, &mut y);
            for (yo, b) in y.iter_mut().zip(&self.b_out) {
                *yo += b;
            }
            trace
                .states
                .extend_from_slice(if c.is_empty() { &h } else { &c });
            trace.outputs.extend_from_slice(&y);
            hidden.extend_from_slice(&h);
        }
        (trace, hidden)
    }
}
