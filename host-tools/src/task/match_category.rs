//! Match to category (PsychRNN `MatchToCategory`).
//!
//! An angle `θ ~ U(0, 2π)` is shown from 200 ms to 1200 ms as a Gaussian bump over
//! `n_in` channels at `linspace(0, 2π, n_in)` (σ = 1 rad, wrapped, height `1/√(2π)`);
//! from 1200 to 2000 ms the target is 1 on output `⌊θ / (2π/n_out)⌋` (0 elsewhere) and
//! the mask is 1. Input noise `0.1/(2·dt)·N(0,1)` per channel and step.

use super::spec::TaskSpec;
use super::{Task, TaskDims, TaskRng, TrialVars};
use rand::Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// PsychRNN `MatchToCategory`.
#[derive(Clone, Debug)]
pub struct MatchToCategory {
    dims: TaskDims,
}

/// One trial's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Stimulus angle, rad.
    pub angle: f64,
    /// Correct category.
    pub category: usize,
    /// Stimulus onset, ms (200).
    pub onset_time: f32,
    /// Stimulus duration, ms (1000).
    pub input_dur: f32,
    /// Response period, ms (800).
    pub output_dur: f32,
    /// Stimulus noise scale (0.1).
    pub stim_noise: f32,
}

impl MatchToCategory {
    /// From a spec and the channel counts.
    pub fn new(spec: &TaskSpec, n_in: usize, n_out: usize) -> Self {
        MatchToCategory {
            dims: TaskDims::new(n_in, n_out, spec.dt, spec.tau, spec.t),
        }
    }

    /// PsychRNN `_gaussian_input(angle, scale = 1)`.
    pub fn gaussian_input(&self, angle: f64, g: &mut [f32]) {
        let n = self.dims.n_in;
        for (ii, gi) in g.iter_mut().enumerate().take(n) {
            let map = 2.0 * PI * ii as f64 / (n - 1) as f64; // np.linspace(0, 2π, n)
            let mut e = map - angle;
            if e > PI {
                e -= 2.0 * PI;
            } else if e < -PI {
                e += 2.0 * PI;
            }
            *gi = ((-e * e / 2.0).exp() / (2.0 * PI).sqrt()) as f32;
        }
    }
}

impl Task for MatchToCategory {
    type Params = Params;

    fn name(&self) -> &'static str {
        "match-to-category"
    }

    fn dims(&self) -> TaskDims {
        self.dims
    }

    fn vars(&self, p: &Params) -> TrialVars {
        vec![
            ("angle".into(), p.angle),
            ("category".into(), p.category as f64),
        ]
    }

    fn sample_params(&self, rng: &mut TaskRng) -> Params {
        let angle = 2.0 * PI * rng.gen::<f64>();
        let category =
            ((angle / (2.0 * PI / self.dims.n_out as f64)) as usize).min(self.dims.n_out - 1);
        Params {
            angle,
            category,
            onset_time: 200.0,
            input_dur: 1000.0,
            output_dur: 800.0,
            stim_noise: 0.1,
        }
    }

    fn fill_trial(
        &self,
        p: &Params,
        rng: &mut TaskRng,
        x: &mut [f32],
        y: &mut [f32],
        mask: &mut [f32],
    ) {
        let (ni, no) = (self.dims.n_in, self.dims.n_out);
        let amp = 1.0 / (2.0 * self.dims.dt) * p.stim_noise;
        let mut g = vec![0.0f32; ni];
        self.gaussian_input(p.angle, &mut g);
        let stim_end = p.onset_time + p.input_dur;
        for k in 0..self.dims.n_steps {
            let t = k as f32 * self.dims.dt;
            let xk = &mut x[k * ni..(k + 1) * ni];
            for v in xk.iter_mut() {
                *v = amp * rng.sample::<f32, _>(StandardNormal);
            }
            if p.onset_time <= t && t < stim_end {
                for (v, gi) in xk.iter_mut().zip(&g) {
                    *v += gi;
                }
            }
            let yk = &mut y[k * no..(k + 1) * no];
            let mk = &mut mask[k * no..(k + 1) * no];
            yk.fill(0.0);
            if stim_end <= t && t < stim_end + p.output_dur {
                yk[p.category] = 1.0;
                mk.fill(1.0);
            } else {
                mk.fill(0.0);
            }
        }
    }
}
