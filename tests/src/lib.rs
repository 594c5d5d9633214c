//! Shared helpers for the end-to-end tests.

use neuroloop::model::FloatModel;
use neuroloop::Transfer;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// A random float leaky RNN like PsychRNN's GaussianSpectralRadius init: W_rec Gaussian
/// scaled to spectral radius ≈ `spec_rad` (σ = spec_rad/√N), W_in, W_out Gaussian,
/// init_state 0.1 + 0.01·N(0,1).
pub fn random_model(
    n_in: usize,
    n_rec: usize,
    n_out: usize,
    spec_rad: f64,
    transfer: Transfer,
    seed: u64,
) -> FloatModel {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut g = |s: f64| -> f32 { (s * rng.sample::<f64, _>(StandardNormal)) as f32 };
    let mut m = FloatModel::zeros("random", n_in, n_rec, n_out);
    m.transfer = transfer;
    let s_rec = spec_rad / (n_rec as f64).sqrt();
    m.w_rec.iter_mut().for_each(|w| *w = g(s_rec));
    m.w_in.iter_mut().for_each(|w| *w = g(1.0));
    let s_out = 1.0 / (n_rec as f64).sqrt();
    m.w_out.iter_mut().for_each(|w| *w = g(s_out));
    m.b_rec.iter_mut().for_each(|w| *w = g(0.1));
    m.b_out.iter_mut().for_each(|w| *w = g(0.1));
    m.init_state.iter_mut().for_each(|w| *w = 0.1 + g(0.01));
    m
}

/// Task-like inputs: per trial, a fixation period, then per-channel stimulus levels in
/// [0, 1] with Gaussian noise (σ 0.1), then silence (steps × n_in row-major).
pub fn task_like_inputs(n_in: usize, steps: usize, trials: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..trials)
        .map(|_| {
            let on = steps / 10;
            let off = steps * 7 / 10;
            let levels: Vec<f32> = (0..n_in).map(|_| rng.gen_range(0.0..1.0)).collect();
            let mut x = vec![0f32; steps * n_in];
            for t in on..off {
                for c in 0..n_in {
                    let n: f32 = rng.sample(StandardNormal);
                    x[t * n_in + c] = levels[c] + 0.1 * n;
                }
            }
            x
        })
        .collect()
}

/// Root-mean-square difference.
pub fn rmse(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// max − min.
pub fn range(a: &[f64]) -> f64 {
    let (lo, hi) = a
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    hi - lo
}

/// A random float GRU or LSTM (`cell`): gate weights Gaussian, `W_rec` with σ =
/// `1.5/√N` (so gates and the LSTM cell state move well away from 0), `W_in` σ 1, biases
/// σ 0.5, `h₀` σ 0.3 and (LSTM) `c₀` σ 1.
pub fn random_gated_model(
    cell: neuroloop::model::Cell,
    n_in: usize,
    n_rec: usize,
    n_out: usize,
    seed: u64,
) -> FloatModel {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut g = |s: f64| -> f32 { (s * rng.sample::<f64, _>(StandardNormal)) as f32 };
    let mut m = FloatModel::zeros_cell("random-gated", cell, n_in, n_rec, n_out);
    let s_rec = 1.5 / (n_rec as f64).sqrt();
    m.w_rec.iter_mut().for_each(|w| *w = g(s_rec));
    m.w_in.iter_mut().for_each(|w| *w = g(1.0));
    m.w_out
        .iter_mut()
        .for_each(|w| *w = g(1.0 / (n_rec as f64).sqrt()));
    m.b_rec.iter_mut().for_each(|w| *w = g(0.5));
    m.b_hn.iter_mut().for_each(|w| *w = g(0.5));
    m.b_out.iter_mut().for_each(|w| *w = g(0.1));
    let (h0, c0) = m.init_state.split_at_mut(n_rec);
    h0.iter_mut().for_each(|w| *w = g(0.3).clamp(-0.99, 0.99));
    c0.iter_mut().for_each(|w| *w = g(1.0));
    m
}
