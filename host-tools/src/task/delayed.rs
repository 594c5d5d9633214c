//! Delayed discrimination, Romo's vibrotactile task (PsychRNN `DelayedDiscrimination`).
//!
//! Two frequencies `f1`, `f2` from the pairs (18,10) (22,14) (26,18) (30,22) (34,26), in
//! either order, are shown one after the other with a delay between; each drives channel 0
//! with `0.4 + 0.8·(f−10)/24` and channel 1 with `0.4 + 0.8·(34−f)/24`. During the decision
//! period the target is 1.0 on output 0 if `f1 > f2` (else output 1) and 0.2 on the other,
//! and only there is the mask 1. Periods (ms): onset `U·T/8`, stimulus 1 `U·T/4`, delay
//! `U·T/4`, stimulus 2 `U·T/4`, decision `U·T/8`; noise as in perceptual discrimination.

use super::spec::TaskSpec;
use super::{Task, TaskDims, TaskRng, TrialVars};
use rand::Rng;
use rand_distr::StandardNormal;

/// PsychRNN `DelayedDiscrimination`.
#[derive(Clone, Debug)]
pub struct DelayedDiscrimination {
    dims: TaskDims,
    onset_time: Option<f32>,
    stim_duration_1: Option<f32>,
    delay_duration: Option<f32>,
    stim_duration_2: Option<f32>,
    decision_duration: Option<f32>,
}

/// One trial's parameters (period boundaries in ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Start of stimulus 1.
    pub stimulus_1: f32,
    /// Start of the delay.
    pub delay: f32,
    /// Start of stimulus 2.
    pub stimulus_2: f32,
    /// Start of the decision period.
    pub decision: f32,
    /// End of the decision period.
    pub end: f32,
    /// Stimulus noise scale (0.1).
    pub stim_noise: f32,
    /// First frequency, Hz.
    pub f1: f32,
    /// Second frequency, Hz.
    pub f2: f32,
    /// Correct output: 0 if f1 > f2, else 1.
    pub choice: usize,
}

const PAIRS: [(f32, f32); 5] = [
    (18.0, 10.0),
    (22.0, 14.0),
    (26.0, 18.0),
    (30.0, 22.0),
    (34.0, 26.0),
];

fn scale_p(f: f32) -> f32 {
    0.4 + 0.8 * (f - 10.0) / (34.0 - 10.0)
}

fn scale_n(f: f32) -> f32 {
    0.4 + 0.8 * (34.0 - f) / (34.0 - 10.0)
}

impl DelayedDiscrimination {
    /// From a spec (dt, τ, T, optional fixed period lengths).
    pub fn new(spec: &TaskSpec) -> Self {
        DelayedDiscrimination {
            dims: TaskDims::new(2, 2, spec.dt, spec.tau, spec.t),
            onset_time: spec.onset_time,
            stim_duration_1: spec.stim_duration_1,
            delay_duration: spec.delay_duration,
            stim_duration_2: spec.stim_duration_2,
            decision_duration: spec.decision_duration,
        }
    }
}

impl Task for DelayedDiscrimination {
    type Params = Params;

    fn name(&self) -> &'static str {
        "delayed-discrimination"
    }

    fn dims(&self) -> TaskDims {
        self.dims
    }

    fn vars(&self, p: &Params) -> TrialVars {
        vec![
            ("f1".into(), f64::from(p.f1)),
            ("f2".into(), f64::from(p.f2)),
            // evidence for output channel 1 (f2 > f1)
            ("f2_minus_f1".into(), f64::from(p.f2 - p.f1)),
            ("choice".into(), p.choice as f64),
        ]
    }

    fn sample_params(&self, rng: &mut TaskRng) -> Params {
        let t = self.dims.t_ms;
        let mut draw =
            |fixed: Option<f32>, frac: f32| fixed.unwrap_or_else(|| rng.gen::<f32>() * t * frac);
        let onset = draw(self.onset_time, 1.0 / 8.0);
        let s1 = draw(self.stim_duration_1, 1.0 / 4.0);
        let delay = draw(self.delay_duration, 1.0 / 4.0);
        let s2 = draw(self.stim_duration_2, 1.0 / 4.0);
        let decision = draw(self.decision_duration, 1.0 / 8.0);
        let (a, b) = PAIRS[rng.gen_range(0..PAIRS.len())];
        let (f1, f2, choice) = if rng.gen_range(0..2) == 0 {
            (a, b, 0)
        } else {
            (b, a, 1)
        };
        Params {
            stimulus_1: onset,
            delay: onset + s1,
            stimulus_2: onset + s1 + delay,
            decision: onset + s1 + delay + s2,
            end: onset + s1 + delay + s2 + decision,
            stim_noise: 0.1,
            f1,
            f2,
            choice,
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
        let dt = self.dims.dt as f64;
        let sn = p.stim_noise as f64;
        let amp = (2.0 * 0.01 * 10f64.sqrt() * dt.sqrt() * sn * sn).sqrt() as f32;
        for k in 0..self.dims.n_steps {
            let t = k as f32 * self.dims.dt;
            let (xk, yk, mk) = (
                &mut x[2 * k..2 * k + 2],
                &mut y[2 * k..2 * k + 2],
                &mut mask[2 * k..2 * k + 2],
            );
            xk[0] = amp * rng.sample::<f32, _>(StandardNormal);
            xk[1] = amp * rng.sample::<f32, _>(StandardNormal);
            if p.stimulus_1 <= t && t < p.delay {
                xk[0] += scale_p(p.f1);
                xk[1] += scale_n(p.f1);
            }
            if p.stimulus_2 <= t && t < p.decision {
                xk[0] += scale_p(p.f2);
                xk[1] += scale_n(p.f2);
            }
            if p.decision <= t && t < p.end {
                yk[p.choice] = 1.0;
                yk[1 - p.choice] = 0.2;
                mk[0] = 1.0;
                mk[1] = 1.0;
            } else {
                yk.fill(0.0);
                mk.fill(0.0);
            }
        }
    }
}
