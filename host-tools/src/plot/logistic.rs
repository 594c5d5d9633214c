//! The psychometric function and its maximum-likelihood fit on single-trial choices:
//! `P(choose 1 | x) = γ + (1 − γ − λ) · σ(k·(x − μ))` with bias `μ` (the point of
//! subjective equality), slope `k`, and optional lapse rates `γ` (low) and `λ` (high).
//!
//! Written by hand: a Bernoulli likelihood over 2–4 parameters needs only a small
//! Nelder–Mead search (restarted from its own optimum until it stops improving), which is
//! shorter than wiring an optimisation crate. Parameters are searched through bounded
//! transforms: `|k| ≤ k_max` (so perfectly separated choices give a finite slope, flagged
//! by [`Logistic::at_bound`]) and `γ, λ ∈ [0, 0.25]`.

/// A fitted (or known) psychometric function.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Logistic {
    /// Bias: the `x` where the logistic part is at one half.
    pub bias: f64,
    /// Slope `k` (per unit of `x`).
    pub slope: f64,
    /// Low lapse rate γ (0 without lapses).
    pub lapse_low: f64,
    /// High lapse rate λ (0 without lapses).
    pub lapse_high: f64,
    /// The slope reached its bound: the choices separate perfectly (slope ≥ this value).
    pub at_bound: bool,
}

impl Logistic {
    /// `P(choose 1 | x)`.
    pub fn p(&self, x: f64) -> f64 {
        let s = 1.0 / (1.0 + (-self.slope * (x - self.bias)).exp());
        self.lapse_low + (1.0 - self.lapse_low - self.lapse_high) * s
    }

    /// The parameters as one line (`bias 0.012, slope 8.1, lapses 0.02 / 0.01`).
    pub fn describe(&self) -> String {
        let slope = if self.at_bound {
            let sign = if self.slope < 0.0 { "≤" } else { "≥" };
            format!("{sign} {:.3}", self.slope)
        } else {
            format!("{:.3}", self.slope)
        };
        let mut s = format!("bias {:.4}, slope {slope}", self.bias);
        if self.lapse_low != 0.0 || self.lapse_high != 0.0 {
            s += &format!(", lapses {:.3} / {:.3}", self.lapse_low, self.lapse_high);
        }
        s
    }
}

/// Negative log-likelihood of choices `c` (0/1) at `x` under `f`.
pub fn nll(f: &Logistic, x: &[f64], c: &[bool]) -> f64 {
    x.iter()
        .zip(c)
        .map(|(&x, &c)| {
            let p = f.p(x).clamp(1e-12, 1.0 - 1e-12);
            -if c { p.ln() } else { (1.0 - p).ln() }
        })
        .sum()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Fit by maximum likelihood: 2 parameters (bias, slope), or 4 with `lapses`. `x` and `c`
/// must have the same length, at least 2 distinct `x`.
pub fn fit(x: &[f64], c: &[bool], lapses: bool) -> Logistic {
    let lo = x.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let range = (hi - lo).max(1e-12);
    // Steepest slope allowed: a rise from 0.27 to 0.73 over 1/500 of the range.
    let k_max = 1000.0 / range;
    let decode = |t: &[f64]| Logistic {
        bias: lo + range * t[0],
        slope: k_max * t[1].tanh(),
        lapse_low: if lapses { 0.25 * sigmoid(t[2]) } else { 0.0 },
        lapse_high: if lapses { 0.25 * sigmoid(t[3]) } else { 0.0 },
        at_bound: false,
    };
    // Start: bias at the mean x, slope 4 per range in the direction of the correlation,
    // lapses near 0.
    let n = x.len() as f64;
    let (mx, mc) = (
        x.iter().sum::<f64>() / n,
        c.iter().filter(|&&c| c).count() as f64 / n,
    );
    let cov: f64 = x
        .iter()
        .zip(c)
        .map(|(&x, &c)| (x - mx) * (c as u8 as f64 - mc))
        .sum();
    let k0 = (8.0 / range).copysign(if cov == 0.0 { 1.0 } else { cov });
    let mut t = vec![(mx - lo) / range, (k0 / k_max).atanh()];
    if lapses {
        t.extend([-4.0, -4.0]);
    }
    let f = |t: &[f64]| nll(&decode(t), x, c);
    let mut best = f(&t);
    for _ in 0..20 {
        let (t2, v) = nelder_mead(&f, &t, 0.3, 4000);
        let improved = best - v > 1e-9 * (1.0 + best.abs());
        t = t2;
        best = v.min(best);
        if !improved {
            break;
        }
    }
    let mut l = decode(&t);
    l.at_bound = l.slope.abs() > 0.99 * k_max;
    l
}

/// Minimise `f` from `x0` (simplex of side `step`); returns the best point and value.
fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], step: f64, iters: usize) -> (Vec<f64>, f64) {
    let d = x0.len();
    let mut pts: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..d {
        let mut p = x0.to_vec();
        p[i] += step;
        pts.push(p);
    }
    let mut vals: Vec<f64> = pts.iter().map(|p| f(p)).collect();
    for _ in 0..iters {
        let mut idx: Vec<usize> = (0..=d).collect();
        idx.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        pts = idx.iter().map(|&i| pts[i].clone()).collect();
        vals = idx.iter().map(|&i| vals[i]).collect();
        if (vals[d] - vals[0]).abs() <= 1e-12 * (1.0 + vals[0].abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| pts[..d].iter().map(|p| p[j]).sum::<f64>() / d as f64)
            .collect();
        let along = |a: f64| -> Vec<f64> {
            (0..d)
                .map(|j| centroid[j] + a * (pts[d][j] - centroid[j]))
                .collect()
        };
        let r = along(-1.0);
        let fr = f(&r);
        if fr < vals[0] {
            let e = along(-2.0);
            let fe = f(&e);
            if fe < fr {
                (pts[d], vals[d]) = (e, fe);
            } else {
                (pts[d], vals[d]) = (r, fr);
            }
        } else if fr < vals[d - 1] {
            (pts[d], vals[d]) = (r, fr);
        } else {
            let k = if fr < vals[d] {
                along(-0.5)
            } else {
                along(0.5)
            };
            let fk = f(&k);
            if fk < vals[d].min(fr) {
                (pts[d], vals[d]) = (k, fk);
            } else {
                for i in 1..=d {
                    pts[i] = (0..d)
                        .map(|j| pts[0][j] + 0.5 * (pts[i][j] - pts[0][j]))
                        .collect();
                    vals[i] = f(&pts[i]);
                }
            }
        }
    }
    let i = (0..=d)
        .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
        .unwrap_or(0);
    (pts[i].clone(), vals[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Choices drawn from `truth` at 9 levels of x in [-1, 1], `per` trials each.
    fn synth(truth: &Logistic, per: usize, seed: u64) -> (Vec<f64>, Vec<bool>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::new();
        let mut c = Vec::new();
        for i in 0..9 {
            let xi = -1.0 + 0.25 * i as f64;
            for _ in 0..per {
                x.push(xi);
                c.push(rng.gen::<f64>() < truth.p(xi));
            }
        }
        (x, c)
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    #[test]
    fn recovers_a_known_logistic_within_5_percent() {
        let truth = Logistic {
            bias: 0.2,
            slope: 5.0,
            lapse_low: 0.0,
            lapse_high: 0.0,
            at_bound: false,
        };
        let (x, c) = synth(&truth, 4000, 7);
        let f = fit(&x, &c, false);
        eprintln!("2-parameter fit: {f:?}");
        assert!(rel(f.bias, truth.bias) < 0.05, "{f:?}");
        assert!(rel(f.slope, truth.slope) < 0.05, "{f:?}");
        assert_eq!((f.lapse_low, f.lapse_high, f.at_bound), (0.0, 0.0, false));
    }

    #[test]
    fn recovers_lapses_within_5_percent_of_the_curve() {
        let truth = Logistic {
            bias: -0.3,
            slope: 6.0,
            lapse_low: 0.05,
            lapse_high: 0.1,
            at_bound: false,
        };
        let (x, c) = synth(&truth, 8000, 11);
        let f = fit(&x, &c, true);
        eprintln!("4-parameter fit: {f:?}");
        assert!(rel(f.bias, truth.bias) < 0.05, "{f:?}");
        assert!(rel(f.slope, truth.slope) < 0.05, "{f:?}");
        // lapses: within 5 percentage points... of the curve: every p within 0.05 · range
        for i in 0..=40 {
            let xi = -1.0 + 0.05 * i as f64;
            assert!((f.p(xi) - truth.p(xi)).abs() < 0.05 * 0.85, "x {xi}: {f:?}");
        }
        assert!(
            (f.lapse_low - 0.05).abs() < 0.02 && (f.lapse_high - 0.1).abs() < 0.02,
            "{f:?}"
        );
        // the 2-parameter fit of the same choices is worse in likelihood
        assert!(nll(&fit(&x, &c, false), &x, &c) > nll(&f, &x, &c));
    }

    #[test]
    fn decreasing_and_separated_choices() {
        let x: Vec<f64> = (0..200).map(|i| i as f64 / 199.0 * 2.0 - 1.0).collect();
        let c: Vec<bool> = x.iter().map(|&x| x < 0.1).collect();
        let f = fit(&x, &c, false);
        assert!(f.slope < 0.0 && f.at_bound, "{f:?}");
        assert!((f.bias - 0.1).abs() < 0.011, "{f:?}");
        assert!(f.describe().contains("≤ -"), "{}", f.describe());
    }
}
