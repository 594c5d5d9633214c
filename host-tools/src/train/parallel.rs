//! The parallel split of a batch: one chunk of trials per worker thread, each worker
//! generating, running and differentiating its own trials in its own [`Workspace`], every
//! trial from its own stream ([`crate::task::trial_rng`]), so results are the same for any
//! thread count. Used by the trainer and by `eval`.

use super::net::{Eff, Net};
use super::objective::Objective;
use super::workspace::Workspace;
use crate::task::{trial_rng, AnyTask, Batch, TaskRng, TrialVars};

/// Worker threads to use (`0` = all cores).
pub fn thread_count(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }
}

/// Chunk sizes splitting `batch` trials over up to `threads` workers (each ≥ 1 trial).
pub fn chunk_sizes(batch: usize, threads: usize) -> Vec<usize> {
    let k = threads.clamp(1, batch.max(1));
    (0..k)
        .map(|i| batch / k + usize::from(i < batch % k))
        .collect()
}

/// Run one batch of `task` on the workers: generate trials (kind/batch streams), forward,
/// and backward if `backward`. Fills `batch` and `out` (batch-major). Returns the loss
/// (without weight regularisers).
#[allow(clippy::too_many_arguments)]
pub fn run_chunks(
    workers: &mut [Workspace<f32>],
    net: &Net<f32>,
    eff: &Eff<f32>,
    obj: &Objective,
    task: &dyn AnyTask,
    batch: &mut Batch,
    out: &mut [f32],
    seed: u64,
    kind: u64,
    batch_idx: u64,
    backward: bool,
) -> f64 {
    let total: usize = workers.iter().map(|w| w.bc).sum();
    let (st, ni, no) = (batch.n_steps, batch.n_in, batch.n_out);
    let job = |w: &mut Workspace<f32>,
               first: usize,
               x: &mut [f32],
               y: &mut [f32],
               m: &mut [f32],
               o: &mut [f32],
               v: &mut [TrialVars]| {
        let bc = w.bc;
        let mut rngs: Vec<TaskRng> = (0..bc)
            .map(|j| trial_rng(seed, kind, batch_idx, (first + j) as u64))
            .collect();
        for (j, r) in rngs.iter_mut().enumerate() {
            v[j] = task.trial(
                r,
                &mut x[j * st * ni..(j + 1) * st * ni],
                &mut y[j * st * no..(j + 1) * st * no],
                &mut m[j * st * no..(j + 1) * st * no],
            );
        }
        w.load(x, y, m, 0);
        w.forward(net, eff, Some(&mut rngs[..]));
        let loss = if backward {
            w.backward(net, eff, obj, total)
        } else {
            w.loss(obj, total)
        };
        w.store_outputs(o, 0);
        loss
    };
    std::thread::scope(|sc| {
        let (mut xs, mut ys, mut ms, mut os) = (
            &mut batch.x[..],
            &mut batch.y[..],
            &mut batch.mask[..],
            &mut out[..],
        );
        let mut vs = &mut batch.vars[..];
        let mut handles = Vec::new();
        let mut first = 0;
        let n = workers.len();
        let mut local = 0.0;
        for (k, w) in workers.iter_mut().enumerate() {
            let bc = w.bc;
            let (xa, xr) = std::mem::take(&mut xs).split_at_mut(bc * st * ni);
            let (ya, yr) = std::mem::take(&mut ys).split_at_mut(bc * st * no);
            let (ma, mr) = std::mem::take(&mut ms).split_at_mut(bc * st * no);
            let (oa, or) = std::mem::take(&mut os).split_at_mut(bc * st * no);
            let (va, vr) = std::mem::take(&mut vs).split_at_mut(bc);
            (xs, ys, ms, os, vs) = (xr, yr, mr, or, vr);
            let f = first;
            first += bc;
            if k + 1 == n {
                local = job(w, f, xa, ya, ma, oa, va);
            } else {
                let job = &job;
                handles.push(sc.spawn(move || job(w, f, xa, ya, ma, oa, va)));
            }
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .sum::<f64>()
            + local
    })
}
