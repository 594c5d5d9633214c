//! The training objective: PsychRNN's loss functions ([`LossKind`]) and weight
//! regularisers ([`Objective`]); the loss itself is computed per chunk by
//! [`super::workspace::Workspace`].

use super::net::{Eff, Params};
use crate::linalg::Real;

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
