//! [`FileTask`]: a [`TaskFile`] run as a [`Task`] — draws the variables, then the epoch
//! durations (rounded to dt, or kept as drawn with `timing = "exact"`), then fills inputs
//! (plus noise), targets and mask epoch by epoch, and scores trials by the file's rule.

use super::expr::r32;
use super::{Dist, Rule, Shape, Signal, TaskFile, Timing, VarDef};
use crate::task::{masked_argmax_accuracy, Batch, Task, TaskDims, TaskRng, TrialVars};
use rand::Rng;
use rand_distr::{Exp1, StandardNormal};
use std::f64::consts::PI;
use std::sync::Arc;

/// A task file as a task.
#[derive(Clone, Debug)]
pub struct FileTask {
    file: Arc<TaskFile>,
    dims: TaskDims,
    name: &'static str,
}

impl FileTask {
    /// The task of `file` at time step `dt` and time constant `tau` (ms).
    pub fn new(file: TaskFile, dt: f32, tau: f32) -> Self {
        let dims = TaskDims::new(file.n_in, file.n_out, dt, tau, file.t_ms as f32);
        // Task names are `&'static`: a task is built a handful of times per command.
        let name: &'static str = Box::leak(file.name.clone().into_boxed_str());
        FileTask {
            file: Arc::new(file),
            dims,
            name,
        }
    }

    /// The parsed file.
    pub fn file(&self) -> &TaskFile {
        &self.file
    }

    /// Step range `[start, end)` of epoch `i` for a trial's variables.
    fn epoch_steps(&self, v: &[f64], i: usize) -> (usize, usize) {
        let first = self.n_user();
        let n = self.dims.n_steps;
        if self.file.timing == Timing::Exact {
            let epochs = &self.file.epochs;
            // running sums in f32, as the ports add their period lengths
            let start = (0..i).fold(0.0f32, |a, j| a + v[first + j] as f32);
            let s = self.first_step(start, epochs[i].open_start);
            let e = if epochs[i].duration == Dist::Rest {
                n
            } else {
                let next_open = epochs.get(i + 1).is_some_and(|e| e.open_start);
                self.first_step(start + v[first + i] as f32, next_open)
            };
            return (s, e.max(s));
        }
        let dt = f64::from(self.dims.dt);
        let start: f64 = (0..i).map(|j| v[first + j]).sum();
        let s = (start / dt).round() as usize;
        let e = ((start + v[first + i]) / dt).round() as usize;
        (s.min(n), e.min(n))
    }

    /// First step whose time `f32(k·dt)` is at or after `at` (strictly after if `open`).
    fn first_step(&self, at: f32, open: bool) -> usize {
        let (dt, n) = (self.dims.dt, self.dims.n_steps);
        // start a step early (float rounding of at/dt), then walk to the edge
        let mut k = ((at / dt).floor().max(0.0) as usize)
            .saturating_sub(1)
            .min(n);
        while k < n {
            let t = k as f32 * dt;
            if t > at || (!open && t == at) {
                break;
            }
            k += 1;
        }
        k
    }

    fn n_user(&self) -> usize {
        self.file.var_names.len() - self.file.epochs.len()
    }

    /// Whether one trial (its variables `v`, outputs `out`: steps × n_out) is correct.
    fn correct(&self, v: &[f64], out: &[f32]) -> bool {
        if v.len() != self.file.var_names.len() {
            return false;
        }
        let (first, last) = self.file.accuracy_epochs;
        let (s, e) = (self.epoch_steps(v, first).0, self.epoch_steps(v, last).1);
        if e <= s {
            return false;
        }
        let no = self.dims.n_out;
        let mean =
            |c: usize| (s..e).map(|k| f64::from(out[k * no + c])).sum::<f64>() / (e - s) as f64;
        match &self.file.rule {
            // scored over the whole batch in `accuracy`
            Rule::MaskedArgmax => false,
            Rule::Argmax { channels, expect } => {
                let mut best = 0;
                let means: Vec<f64> = channels.iter().map(|&c| mean(c)).collect();
                for (i, &m) in means.iter().enumerate() {
                    if m > means[best] || (m.is_nan() && !means[best].is_nan()) {
                        best = i;
                    }
                }
                channels[best] as f64 == expect.eval(v).round()
            }
            Rule::Sign {
                channel,
                level,
                expect,
            } => (mean(*channel) > *level) == (expect.eval(v) > 0.0),
            Rule::Threshold {
                channel,
                level,
                expect,
                tolerance,
                slack,
            } => {
                let target = expect.eval(v);
                let dt = f64::from(self.dims.dt);
                (s..e)
                    .find(|&k| f64::from(out[k * no + channel]) >= *level)
                    .is_some_and(|k| {
                        ((k - s) as f64 * dt - target).abs() <= tolerance * target.abs() + slack
                    })
            }
        }
    }
}

fn draw(d: &Dist, rng: &mut TaskRng, v: &[f64]) -> f64 {
    match d {
        Dist::Const(x) => *x,
        Dist::Choice(c) => c[rng.gen_range(0..c.len())],
        Dist::Uniform(a, b) => a + (b - a) * rng.gen::<f64>(),
        Dist::UniformF32(a, b) => {
            let u = f64::from(rng.gen::<f32>());
            r32(r32(*a) + r32(r32(r32(*b) - r32(*a)) * u))
        }
        Dist::Categories(n) => rng.gen_range(0..*n) as f64,
        Dist::Exponential { mean, min, max } => {
            if min >= max {
                return *max;
            }
            // NeuroGym `trunc_exp`: redraw until below max (bounded here; then max).
            for _ in 0..1000 {
                let x = min + mean * rng.sample::<f64, _>(Exp1);
                if x < *max {
                    return x;
                }
            }
            *max
        }
        Dist::Expr(e, lo, hi) => {
            let x = e.eval(v);
            if x.is_nan() {
                if lo.is_finite() {
                    *lo
                } else {
                    0.0
                }
            } else {
                x.max(*lo).min(*hi)
            }
        }
        // the caller sets a rest epoch's length
        Dist::Rest => 0.0,
    }
}

/// Add `sig`'s values for variables `v` into `buf` (one epoch's constant inputs or targets).
fn add_signals(sigs: &[Signal], v: &[f64], buf: &mut [f64]) {
    for s in sigs {
        match s {
            Signal::Channel { channel, value } => buf[*channel] += value.eval(v),
            Signal::Ring {
                first,
                count,
                angle,
                scale,
                shape,
                linspace,
            } => {
                let (a, h) = (angle.eval(v), scale.eval(v));
                let step = 2.0 * PI / *count as f64;
                let nearest = ((a.rem_euclid(2.0 * PI) / step).round() as usize) % *count;
                for i in 0..*count {
                    let d = if *linspace {
                        // PsychRNN `_gaussian_input`: np.linspace(0, 2π, n), one wrap
                        let e = 2.0 * PI * i as f64 / (*count - 1) as f64 - a;
                        if e > PI {
                            e - 2.0 * PI
                        } else if e < -PI {
                            e + 2.0 * PI
                        } else {
                            e
                        }
                    } else {
                        (i as f64 * step - a + PI).rem_euclid(2.0 * PI) - PI
                    };
                    buf[first + i] += h * match shape {
                        Shape::Cosine => d.cos(),
                        Shape::Gaussian(w) => (-d * d / (2.0 * w * w)).exp(),
                        Shape::Normal(w) => {
                            (-d * d / (2.0 * w * w)).exp() / (w * (2.0 * PI).sqrt())
                        }
                        Shape::OneHot => f64::from(u8::from(i == nearest)),
                    };
                }
            }
        }
    }
}

impl Task for FileTask {
    /// All variables by slot ([`TaskFile::var_names`]).
    type Params = Vec<f64>;

    fn name(&self) -> &'static str {
        self.name
    }

    fn dims(&self) -> TaskDims {
        self.dims
    }

    fn sample_params(&self, rng: &mut TaskRng) -> Vec<f64> {
        let f = &*self.file;
        let mut v = vec![0.0; f.var_names.len()];
        for def in &f.vars {
            match def {
                VarDef::One(slot, d) => v[*slot] = draw(d, rng, &v),
                VarDef::Pairs {
                    a,
                    b,
                    pairs,
                    shuffle,
                } => {
                    let (mut x, mut y) = pairs[rng.gen_range(0..pairs.len())];
                    if *shuffle && rng.gen_range(0..2) == 1 {
                        std::mem::swap(&mut x, &mut y);
                    }
                    v[*a] = x;
                    v[*b] = y;
                }
            }
        }
        let dt = f64::from(self.dims.dt);
        let first = self.n_user();
        let mut start = 0.0;
        for (i, e) in f.epochs.iter().enumerate() {
            let (lo, hi) = e.duration.range();
            let d = if e.duration == Dist::Rest {
                (f.t_ms - start).max(0.0)
            } else {
                draw(&e.duration, rng, &v).max(lo.max(0.0)).min(hi)
            };
            v[first + i] = match f.timing {
                Timing::Rounded => (d / dt).round() * dt,
                Timing::Exact => d,
            };
            start += v[first + i];
        }
        v
    }

    fn vars(&self, p: &Vec<f64>) -> TrialVars {
        self.file
            .var_names
            .iter()
            .cloned()
            .zip(p.iter().copied())
            .collect()
    }

    fn fill_trial(
        &self,
        p: &Vec<f64>,
        rng: &mut TaskRng,
        x: &mut [f32],
        y: &mut [f32],
        mask: &mut [f32],
    ) {
        let (ni, no, n) = (self.dims.n_in, self.dims.n_out, self.dims.n_steps);
        let f = &*self.file;
        let (dt, tau) = (f64::from(self.dims.dt), f64::from(self.dims.tau));
        let amp = f.noise * (2.0 * dt / tau).sqrt();
        x.fill(0.0);
        y.fill(0.0);
        mask.fill(0.0);
        let (mut bi, mut bt) = (vec![0.0f64; ni], vec![0.0f64; no]);
        for (i, e) in f.epochs.iter().enumerate() {
            let (s, end) = self.epoch_steps(p, i);
            bi.fill(0.0);
            bt.fill(0.0);
            add_signals(&e.inputs, p, &mut bi);
            add_signals(&e.targets, p, &mut bt);
            for k in s..end {
                for (d, &v) in x[k * ni..(k + 1) * ni].iter_mut().zip(&bi) {
                    *d = v as f32;
                }
                for (d, &v) in y[k * no..(k + 1) * no].iter_mut().zip(&bt) {
                    *d = v as f32;
                }
                mask[k * no..(k + 1) * no].fill(e.mask as f32);
            }
        }
        if let Some(a) = &f.noise_amp {
            // f32(amp)·f32(N(0,1)) in single precision, as the PsychRNN ports
            let a = a.eval(&[dt, tau]) as f32;
            for v in x[..n * ni].iter_mut() {
                *v += a * rng.sample::<f32, _>(StandardNormal);
            }
        } else if amp > 0.0 {
            for v in x[..n * ni].iter_mut() {
                *v += (amp * rng.sample::<f64, _>(StandardNormal)) as f32;
            }
        }
    }

    fn accuracy(&self, batch: &Batch, out: &[f32]) -> f64 {
        let per = batch.n_steps * batch.n_out;
        if batch.n_trials == 0
            || batch.n_out != self.dims.n_out
            || batch.n_steps != self.dims.n_steps
            || out.len() < batch.n_trials * per
            || batch.vars.len() < batch.n_trials
        {
            return 0.0;
        }
        if self.file.rule == Rule::MaskedArgmax {
            let (n, no) = (batch.n_trials, batch.n_out);
            return masked_argmax_accuracy(&batch.y, out, &batch.mask, n, batch.n_steps, no);
        }
        let (mut scored, mut correct) = (0usize, 0usize);
        for b in 0..batch.n_trials {
            let v: Vec<f64> = batch.vars[b].iter().map(|(_, x)| *x).collect();
            if self.file.only.as_ref().is_some_and(|o| o.eval(&v) == 0.0) {
                continue;
            }
            scored += 1;
            correct += usize::from(self.correct(&v, &out[b * per..(b + 1) * per]));
        }
        if scored == 0 {
            return 0.0;
        }
        correct as f64 / scored as f64
    }
}
