//! Two-alternative forced choice (PsychRNN `PerceptualDiscrimination`, the Hello World).
//!
//! Two noisy input channels; during the stimulus (`onset < t < onset + dur`) both get +1
//! and the `direction` channel gets `+coherence` more. From `t > onset + dur + 20` the
//! target is 1.0 on the `direction` output and 0.2 on the other; the mask is 1 from
//! `t ≥ onset + dur` on. `coherence ∈ {0.1, 0.3, 0.5, 0.7}`, `onset ~ U(0, T/2)`,
//! `dur ~ U(T/8, 3T/8)`, input noise `√(2·0.01·√10·√dt·0.1²)·N(0,1)` per step.

use super::spec::TaskSpec;
use super::{Task, TaskDims, TaskRng, TrialVars};
use rand::Rng;
use rand_distr::StandardNormal;

/// PsychRNN `PerceptualDiscrimination`.
#[derive(Clone, Debug)]
pub struct PerceptualDiscrimination {
    dims: TaskDims,
    coherence: Option<f32>,
    direction: Option<u8>,
    lo: f32,
    hi: f32,
}

/// One trial's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Mean difference between the channels.
    pub coherence: f32,
    /// Channel with the higher mean (0 or 1).
    pub direction: usize,
    /// Stimulus noise scale (0.1).
    pub stim_noise: f32,
    /// Stimulus onset, ms.
    pub onset_time: f32,
    /// Stimulus duration, ms.
    pub stim_duration: f32,
}

impl PerceptualDiscrimination {
    /// From a spec (dt, τ, T, optional coherence/direction).
    pub fn new(spec: &TaskSpec) -> Self {
        PerceptualDiscrimination {
            dims: TaskDims::new(2, 2, spec.dt, spec.tau, spec.t),
            coherence: spec.coherence,
            direction: spec.direction,
            lo: 0.2,
            hi: 1.0,
        }
    }
}

impl Task for PerceptualDiscrimination {
    type Params = Params;

    fn name(&self) -> &'static str {
        "perceptual-discrimination"
    }

    fn dims(&self) -> TaskDims {
        self.dims
    }

    fn vars(&self, p: &Params) -> TrialVars {
        let signed = if p.direction == 1 {
            p.coherence
        } else {
            -p.coherence
        };
        vec![
            ("coherence".into(), f64::from(p.coherence)),
            ("direction".into(), p.direction as f64),
            // evidence for output channel 1: the psychometric curve's x axis
            ("signed_coherence".into(), f64::from(signed)),
            ("onset_time".into(), f64::from(p.onset_time)),
            ("stim_duration".into(), f64::from(p.stim_duration)),
        ]
    }

    fn sample_params(&self, rng: &mut TaskRng) -> Params {
        const COH: [f32; 4] = [0.1, 0.3, 0.5, 0.7];
        let t = self.dims.t_ms;
        Params {
            coherence: self.coherence.unwrap_or_else(|| COH[rng.gen_range(0..4)]),
            direction: match self.direction {
                Some(d) => d as usize,
                None => rng.gen_range(0..2),
            },
            stim_noise: 0.1,
            onset_time: rng.gen::<f32>() * t / 2.0,
            stim_duration: rng.gen::<f32>() * t / 4.0 + t / 8.0,
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
        let (dir, other) = (p.direction, 1 - p.direction);
        let end = p.onset_time + p.stim_duration;
        for k in 0..self.dims.n_steps {
            let t = k as f32 * self.dims.dt;
            let (xk, yk, mk) = (
                &mut x[2 * k..2 * k + 2],
                &mut y[2 * k..2 * k + 2],
                &mut mask[2 * k..2 * k + 2],
            );
            xk[0] = amp * rng.sample::<f32, _>(StandardNormal);
            xk[1] = amp * rng.sample::<f32, _>(StandardNormal);
            if p.onset_time < t && t < end {
                xk[dir] += 1.0 + p.coherence;
                xk[other] += 1.0;
            }
            if t > end + 20.0 {
                yk[dir] = self.hi;
                yk[other] = self.lo;
            } else {
                yk[0] = 0.0;
                yk[1] = 0.0;
            }
            let m = if t < end { 0.0 } else { 1.0 };
            mk[0] = m;
            mk[1] = m;
        }
    }
}
