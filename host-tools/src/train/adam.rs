//! Adam as TensorFlow 1's `AdamOptimizer` (PsychRNN's default), with PsychRNN's gradient
//! handling before it: fixed-weight masks (`grad ·= 1 − fixed`), then per-tensor clipping
//! to L2 norm 1 (`tf.clip_by_norm(grad, 1.0)`).
//!
//! `t += 1; lr_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ); m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²;
//! θ −= lr_t·m/(√v + ε)`.

use super::net::{Params, N_TENSORS};
use serde::{Deserialize, Serialize};

/// Adam moments and step count.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub epsilon: f64,
    /// Steps taken.
    pub t: u64,
    /// First moments.
    pub m: Params<f32>,
    /// Second moments.
    pub v: Params<f32>,
}

/// Scale `g` to L2 norm `max` if it is longer (`tf.clip_by_norm`).
pub fn clip_by_norm(g: &mut [f32], max: f64) {
    let norm = g
        .iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum::<f64>()
        .sqrt();
    if norm > max {
        let s = (max / norm) as f32;
        g.iter_mut().for_each(|x| *x *= s);
    }
}

impl Adam {
    /// Fresh state for parameters shaped like `p`.
    pub fn new(p: &Params<f32>, lr: f64, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        Adam {
            lr,
            beta1,
            beta2,
            epsilon,
            t: 0,
            m: Params::zeros_like(p),
            v: Params::zeros_like(p),
        }
    }

    /// One update of the tensors whose `train` flag is set.
    pub fn step(&mut self, p: &mut Params<f32>, g: &Params<f32>, train: &[bool; N_TENSORS]) {
        self.t += 1;
        let t = self.t as i32;
        let lr_t =
            (self.lr * (1.0 - self.beta2.powi(t)).sqrt() / (1.0 - self.beta1.powi(t))) as f32;
        let (b1, b2, eps) = (self.beta1 as f32, self.beta2 as f32, self.epsilon as f32);
        for (k, (((pt, gt), mt), vt)) in p
            .tensors_mut()
            .into_iter()
            .zip(g.tensors())
            .zip(self.m.tensors_mut())
            .zip(self.v.tensors_mut())
            .enumerate()
        {
            if !train[k] {
                continue;
            }
            for (((w, &gi), mi), vi) in pt
                .iter_mut()
                .zip(gt.iter())
                .zip(mt.iter_mut())
                .zip(vt.iter_mut())
            {
                *mi = b1 * *mi + (1.0 - b1) * gi;
                *vi = b2 * *vi + (1.0 - b2) * gi * gi;
                *w -= lr_t * *mi / (vi.sqrt() + eps);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_by_norm_scales_long_only() {
        let mut g = vec![3.0, 4.0];
        clip_by_norm(&mut g, 1.0);
        assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
        let mut h = vec![0.3, 0.4];
        clip_by_norm(&mut h, 1.0);
        assert_eq!(h, vec![0.3, 0.4]);
    }

    #[test]
    fn adam_first_step_is_lr_sign() {
        let p0 = Params {
            w_in: vec![1.0, 1.0],
            ..Default::default()
        };
        let mut p = p0.clone();
        let g = Params {
            w_in: vec![0.5, -2.0],
            ..Default::default()
        };
        let mut a = Adam::new(&p, 1e-3, 0.9, 0.999, 1e-8);
        a.step(&mut p, &g, &[true; N_TENSORS]);
        assert!((p.w_in[0] - (1.0 - 1e-3)).abs() < 1e-6);
        assert!((p.w_in[1] - (1.0 + 1e-3)).abs() < 1e-6);
    }
}
