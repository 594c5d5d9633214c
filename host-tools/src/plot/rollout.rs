//! Trials for the plots: a model (float or blob, told apart by content) and its task
//! (the model's own unless named), trials drawn from the evaluation stream, run without
//! recurrent noise, with each trial's condition variables ([`crate::task::TrialVars`]) and
//! choice; and the default variables when the user names none.

use super::PlotError;
use crate::model::Trace;
use crate::noise::Noise;
use crate::run::Runner;
use crate::task::{stream, task_trials, AnyTask, Batch};

/// Trials run through a model.
pub struct Rollout {
    /// Task name.
    pub task: String,
    /// Time step, ms.
    pub dt: f32,
    /// Inputs, targets, mask and variables.
    pub batch: Batch,
    /// One trace (states, outputs) per trial.
    pub traces: Vec<Trace>,
}

/// Run `n` evaluation-stream trials of `task` (seed `seed`) through `runner`, noise off.
pub fn rollout(runner: &Runner, task: &dyn AnyTask, n: usize, seed: u64) -> Rollout {
    let batch = task_trials(task, n, seed, stream::EVAL);
    let (traces, _) = runner.run_batch(&batch.x, n, Noise::Off, seed);
    Rollout {
        task: task.name().to_string(),
        dt: task.dims().dt,
        batch,
        traces,
    }
}

impl Rollout {
    /// The values of variable `name` over the trials.
    pub fn var(&self, name: &str) -> Result<Vec<f64>, PlotError> {
        let names = self.var_names();
        if !names.iter().any(|n| n == name) {
            return Err(PlotError::UnknownVar {
                name: name.into(),
                available: names.join(", "),
            });
        }
        Ok(self
            .batch
            .vars
            .iter()
            .map(|v| v.iter().find(|(n, _)| n == name).map_or(f64::NAN, |p| p.1))
            .collect())
    }

    /// The task's variable names, in its order.
    pub fn var_names(&self) -> Vec<String> {
        self.batch
            .vars
            .first()
            .map(|v| v.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    /// Each trial's choice: the output channel with the largest masked sum (PsychRNN's
    /// accuracy rule; ties → the first).
    pub fn choices(&self) -> Vec<usize> {
        let (steps, n_out) = (self.batch.n_steps, self.batch.n_out);
        self.traces
            .iter()
            .enumerate()
            .map(|(b, tr)| {
                let mut s = vec![0.0f64; n_out];
                for t in 0..steps.min(tr.steps) {
                    for (o, so) in s.iter_mut().enumerate() {
                        let m = self.batch.mask[(b * steps + t) * n_out + o] as f64;
                        *so += tr.outputs[t * n_out + o] * m;
                    }
                }
                let mut best = 0;
                for o in 1..n_out {
                    if s[o] > s[best] {
                        best = o;
                    }
                }
                best
            })
            .collect()
    }

    /// Default x of a psychometric curve: of the variables with at least 3 distinct
    /// values, the one whose values correlate most (in absolute value) with choosing
    /// `channel` (e.g. `signed_coherence`, `f2_minus_f1`).
    pub fn default_x(&self, channel: usize) -> Result<String, PlotError> {
        let chose: Vec<f64> = self
            .choices()
            .iter()
            .map(|&c| (c == channel) as u8 as f64)
            .collect();
        let mut best: Option<(f64, String)> = None;
        for name in self.var_names() {
            let v = self.var(&name)?;
            if distinct(&v).len() < 3 {
                continue;
            }
            let r = correlation(&v, &chose).abs();
            let r = if r.is_finite() { r } else { 0.0 };
            if best.as_ref().is_none_or(|(b, _)| r > *b) {
                best = Some((r, name));
            }
        }
        best.map(|b| b.1).ok_or_else(|| {
            PlotError::NoData(format!(
                "no trial variable takes 3 or more values (variables: {}); pass --x VAR",
                self.var_names().join(", ")
            ))
        })
    }

    /// Default condition: of the variables with 2 to 8 distinct values, the one with the
    /// most (the first on a tie).
    pub fn default_by(&self) -> Result<String, PlotError> {
        let mut best: Option<(usize, String)> = None;
        for name in self.var_names() {
            let k = distinct(&self.var(&name)?).len();
            if (2..=MAX_CONDITIONS).contains(&k) && best.as_ref().is_none_or(|(b, _)| k > *b) {
                best = Some((k, name));
            }
        }
        best.map(|b| b.1).ok_or_else(|| {
            PlotError::NoData(format!(
                "no trial variable takes 2 to {MAX_CONDITIONS} values (variables: {}); pass --by VAR",
                self.var_names().join(", ")
            ))
        })
    }

    /// The conditions of variable `name`: its distinct values (sorted) and, per value,
    /// the trials that have it; more than [`MAX_CONDITIONS`] values are cut into that many
    /// equal-count bins, each labelled by its mean.
    pub fn conditions(&self, name: &str) -> Result<Vec<(f64, Vec<usize>)>, PlotError> {
        let v = self.var(name)?;
        let values = distinct(&v);
        if values.len() <= MAX_CONDITIONS {
            return Ok(values
                .iter()
                .map(|&x| (x, (0..v.len()).filter(|&i| v[i] == x).collect()))
                .collect());
        }
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let per = order.len().div_ceil(MAX_CONDITIONS);
        Ok(order
            .chunks(per)
            .map(|c| {
                (
                    c.iter().map(|&i| v[i]).sum::<f64>() / c.len() as f64,
                    c.to_vec(),
                )
            })
            .collect())
    }
}

/// Most conditions a plot shows apart (more are binned).
pub const MAX_CONDITIONS: usize = 8;

/// The distinct finite values, sorted.
pub fn distinct(v: &[f64]) -> Vec<f64> {
    let mut d: Vec<f64> = v.iter().cloned().filter(|x| x.is_finite()).collect();
    d.sort_by(f64::total_cmp);
    d.dedup();
    d
}

/// Pearson correlation (NaN when either side is constant).
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}
