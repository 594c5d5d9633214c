//! Trial streams: every trial draws from its own generator, seeded by
//! `(seed, kind, batch, trial)` ([`trial_rng`]), so runs are reproducible for any thread
//! count, a resumed run continues exactly where it stopped, and two models evaluated with
//! the same seed see the very same trials. The [`stream`] kinds keep training, testing,
//! evaluation, calibration and initialisation apart.

use super::{AnyTask, Batch, TaskRng};
use rand::SeedableRng;

/// The generator of one trial: stream = (kind, batch, trial) under `seed`.
pub fn trial_rng(seed: u64, kind: u64, batch: u64, trial: u64) -> TaskRng {
    let mut r = TaskRng::seed_from_u64(seed);
    r.set_stream((kind << 60) ^ (batch << 24) ^ trial);
    r
}

/// Stream kinds of [`trial_rng`].
pub mod stream {
    /// Training batches.
    pub const TRAIN: u64 = 1;
    /// Curriculum / cutoff test batches.
    pub const METRIC: u64 = 2;
    /// Evaluation.
    pub const EVAL: u64 = 3;
    /// Calibration trials (quantizer).
    pub const CALIB: u64 = 4;
    /// Weight initialisation.
    pub const INIT: u64 = 5;
}

/// `n` trials of `task` from stream `kind` under `seed`, 1 000 trials a batch index, as
/// `neuroloop eval` and the comparison draw them.
pub fn task_trials(task: &dyn AnyTask, n: usize, seed: u64, kind: u64) -> Batch {
    let d = task.dims();
    let mut batch = Batch::new(d, n);
    let (xi, yo) = (d.n_steps * d.n_in, d.n_steps * d.n_out);
    for i in 0..n {
        let mut rng = trial_rng(seed, kind, (i / 1000) as u64, (i % 1000) as u64);
        batch.vars[i] = task.trial(
            &mut rng,
            &mut batch.x[i * xi..(i + 1) * xi],
            &mut batch.y[i * yo..(i + 1) * yo],
            &mut batch.mask[i * yo..(i + 1) * yo],
        );
    }
    batch
}

/// Calibration inputs for the quantizer: `n` trials from the `CALIB` stream (never the
/// trials accuracy is measured on).
pub fn calibration_inputs(task: &dyn AnyTask, n: usize, seed: u64) -> Vec<Vec<f32>> {
    let b = task_trials(task, n, seed, stream::CALIB);
    (0..n).map(|i| b.trial_inputs(i).to_vec()).collect()
}
