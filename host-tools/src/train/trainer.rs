//! [`Trainer`]: one training run in memory — task(s), model, Adam state, workers — and its
//! loop with curriculum, performance cutoff and checkpoints.
//!
//! One batch = generate `batch` trials, forward, loss, backward, PsychRNN's gradient
//! handling (fixed-weight masks, per-tensor clip to norm 1), Adam. The batch is split into
//! one chunk per worker thread ([`super::parallel`]); the gradients are summed.
//!
//! Loop semantics follow PsychRNN `RNN.train`: batches run while `k·batch < trials`
//! (k = 1, 2, …); every `metric_epoch` batches a fresh batch is tested for the curriculum
//! (advance when accuracy ≥ the stage threshold, stop after the last stage) and for
//! `performance_cutoff`.

use super::adam::{clip_by_norm, Adam};
use super::checkpoint::{
    resume_diff, Checkpoint, CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION,
};
use super::config::{ConfigError, TrainConfig};
use super::net::{Eff, Net, Params, N_TENSORS, TENSOR_NAMES};
use super::objective::Objective;
use super::parallel::{chunk_sizes, run_chunks, thread_count};
use super::workspace::Workspace;
use crate::model::init::{init_model, Arch};
use crate::model::{Constraints, FloatModel};
use crate::task::{build, stream, trial_rng, AnyTask, Batch};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Training errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Checkpoint I/O or format.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Loss, gradient or weights became NaN/Inf.
    #[error("training diverged at batch {batch}: {what} is not finite (try a lower train.learning_rate, keep train.clip_grads = true, or check the task inputs)")]
    NonFinite {
        /// 1-based batch number.
        batch: u64,
        /// What went bad (e.g. `loss`, `gradient of W_rec`).
        what: String,
    },
    /// A stop was requested (Ctrl-C) between two batches; the checkpoint, if any, holds
    /// every batch done.
    #[error("interrupted after batch {batch} of {total}{}", match checkpoint { Some(p) => format!("; checkpoint saved to {}", p.display()), None => String::new() })]
    Interrupted {
        /// Batches done.
        batch: u64,
        /// Batches the run would have done.
        total: u64,
        /// Where the state was saved.
        checkpoint: Option<std::path::PathBuf>,
    },
    /// The checkpoint belongs to another configuration.
    #[error("cannot resume: checkpoint config differs at `{key}` (checkpoint: {ckpt}, now: {now}); only train.trials, train.checkpoint_every and train.threads may change")]
    ResumeMismatch {
        /// Differing key.
        key: String,
        /// Value in the checkpoint.
        ckpt: String,
        /// Value now.
        now: String,
    },
}

/// What a progress callback sees after each batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainProgress {
    /// Batches done (1-based count).
    pub batch: u64,
    /// Batches this run will do at most.
    pub total_batches: u64,
    /// Loss + regularisation of the last batch.
    pub loss: f64,
    /// Accuracy on the last training batch (before its update).
    pub accuracy: f64,
    /// Trials per second since this process started training.
    pub trials_per_sec: f64,
    /// Curriculum stage.
    pub stage: usize,
}

/// Outcome of [`Trainer::run`].
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TrainSummary {
    /// Batches done in total (including before a resume).
    pub batches: u64,
    /// Trials trained on.
    pub trials: u64,
    /// Last loss.
    pub loss: f64,
    /// Last training-batch accuracy.
    pub accuracy: f64,
    /// Wall seconds of this process's training loop.
    pub seconds: f64,
    /// Why it stopped.
    pub stopped: String,
}

fn flat(
    key: &str,
    rows: &Option<Vec<Vec<f32>>>,
    r: usize,
    c: usize,
) -> Result<Option<Vec<f32>>, ConfigError> {
    let Some(rows) = rows else { return Ok(None) };
    if rows.len() != r || rows.iter().any(|row| row.len() != c) {
        return Err(ConfigError::Field {
            key: key.into(),
            reason: format!(
                "must be {r} rows of {c} values, got {} rows (lengths {:?})",
                rows.len(),
                rows.iter().map(Vec::len).collect::<Vec<_>>()
            ),
        });
    }
    let v: Vec<f32> = rows.concat();
    if let Some(x) = v.iter().find(|x| !x.is_finite()) {
        return Err(ConfigError::Field {
            key: key.into(),
            reason: format!("contains {x}"),
        });
    }
    Ok(Some(v))
}

/// A training run in memory.
pub struct Trainer {
    /// Configuration.
    pub config: TrainConfig,
    tasks: Vec<Box<dyn AnyTask>>,
    thresholds: Vec<f64>,
    model: FloatModel,
    /// Network being trained.
    pub net: Net<f32>,
    eff: Eff<f32>,
    adam: Adam,
    train_flags: [bool; N_TENSORS],
    keep: [Option<Vec<f32>>; N_TENSORS],
    obj: Objective,
    workers: Vec<Workspace<f32>>,
    batch: Batch,
    out: Vec<f32>,
    grads: Params<f32>,
    /// Batches completed.
    pub batches_done: u64,
    /// Curriculum stage.
    pub stage: usize,
    /// Training finished.
    pub finished: bool,
    last_loss: f64,
    last_accuracy: f64,
    stopped: String,
    stop: Option<Arc<AtomicBool>>,
}

impl Trainer {
    /// A new run: check the config, build the task(s), initialise the model.
    pub fn new(config: TrainConfig) -> Result<Self, TrainError> {
        config.validate()?;
        let stages = match &config.curriculum {
            Some(c) => c.stages.clone(),
            None => vec![config.task.clone()],
        };
        let first = build(&stages[0]).map_err(ConfigError::from)?;
        let d = first.dims();
        let m = &config.model;
        let (n, i, o) = (m.n_rec, d.n_in, d.n_out);
        let constraints = Constraints {
            dale_ratio: m.dale_ratio,
            input_connectivity: flat("model.input_connectivity", &m.input_connectivity, n, i)?,
            rec_connectivity: flat("model.rec_connectivity", &m.rec_connectivity, n, n)?,
            output_connectivity: flat("model.output_connectivity", &m.output_connectivity, o, n)?,
            autapses: m.autapses,
        };
        let arch = Arch {
            name: m.name.clone().unwrap_or_else(|| first.name().to_string()),
            n_in: i,
            n_rec: n,
            n_out: o,
            dt: d.dt,
            tau: d.tau,
            rec_noise: m.rec_noise,
            transfer: config.transfer()?,
            cell: m.cell,
            constraints,
        };
        let mut rng = trial_rng(config.seed, stream::INIT, 0, 0);
        let mut model = init_model(&arch, &config.init, &mut rng);
        model.task = first.name().to_string();
        model.task_file = config.task.file.clone();
        let net = Net::from_model(&model);
        let t = &config.train;
        let adam = Adam::new(&net.params, t.learning_rate, t.beta1, t.beta2, t.epsilon);
        Self::assemble(config, model, net, adam, 0, 0, false)
    }

    /// Continue from a checkpoint. `config`, if given, must equal the checkpoint's except
    /// `train.trials`, `train.checkpoint_every` and `train.threads`.
    pub fn resume(ckpt: Checkpoint, config: Option<TrainConfig>) -> Result<Self, TrainError> {
        let config = match config {
            None => ckpt.config.clone(),
            Some(now) => {
                now.validate()?;
                if let Some((key, a, b)) = resume_diff(&ckpt.config, &now) {
                    return Err(TrainError::ResumeMismatch {
                        key,
                        ckpt: a,
                        now: b,
                    });
                }
                now
            }
        };
        let net = Net::from_model(&ckpt.model);
        if ckpt
            .adam
            .m
            .tensors()
            .iter()
            .zip(net.params.tensors())
            .any(|(a, b)| a.len() != b.len())
        {
            return Err(CheckpointError::Format {
                path: "checkpoint".into(),
                reason: "Adam state shapes do not match the model".into(),
            }
            .into());
        }
        let mut t = Self::assemble(
            config,
            ckpt.model,
            net,
            ckpt.adam,
            ckpt.batches_done,
            ckpt.stage,
            false,
        )?;
        t.last_loss = ckpt.last_loss;
        t.last_accuracy = ckpt.last_accuracy;
        // A finished run may be extended by raising train.trials.
        t.finished = ckpt.finished && t.batches_done >= t.total_batches();
        Ok(t)
    }

    fn assemble(
        config: TrainConfig,
        model: FloatModel,
        net: Net<f32>,
        adam: Adam,
        batches_done: u64,
        stage: usize,
        finished: bool,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let specs = match &config.curriculum {
            Some(c) => c.stages.clone(),
            None => vec![config.task.clone()],
        };
        let mut tasks = Vec::new();
        let mut steps0 = None;
        for (k, s) in specs.iter().enumerate() {
            let t = build(s).map_err(ConfigError::from)?;
            let steps = t.dims().n_steps;
            let first_steps = *steps0.get_or_insert(steps);
            if steps != first_steps || (t.dims().n_in, t.dims().n_out) != (model.n_in, model.n_out)
            {
                return Err(ConfigError::Field {
                    key: if config.curriculum.is_some() { format!("curriculum.stages[{k}]") } else { "task".into() },
                    reason: format!(
                        "has {} inputs, {} outputs, {} steps; the model has {} inputs, {} outputs (and all stages need equal steps)",
                        t.dims().n_in,
                        t.dims().n_out,
                        t.dims().n_steps,
                        model.n_in,
                        model.n_out
                    ),
                }
                .into());
            }
            tasks.push(t);
        }
        let thresholds = config
            .curriculum
            .as_ref()
            .map(|c| {
                c.thresholds
                    .clone()
                    .unwrap_or_else(|| vec![0.9; c.stages.len()])
            })
            .unwrap_or_default();
        let t = &config.train;
        let mut train_flags = [true; N_TENSORS];
        for (k, name) in TENSOR_NAMES.iter().enumerate() {
            if let Some(&f) = t.trainable.get(*name) {
                train_flags[k] = f;
            }
        }
        let (cell, n) = (model.cell, model.n_rec);
        let gn = cell.gates() * n;
        let shapes = [
            (gn, model.n_in),
            (gn, n),
            (model.n_out, n),
            (1, gn),
            (1, model.n_out),
            (1, cell.states() * n),
            (1, cell.b_hn_len(n)),
        ];
        let mut keep: [Option<Vec<f32>>; N_TENSORS] = Default::default();
        for (k, name) in TENSOR_NAMES.iter().enumerate() {
            let rows = t.fixed_weights.get(*name).cloned();
            let (r, c) = shapes[k];
            if let Some(v) = flat(&format!("train.fixed_weights.{name}"), &rows, r, c)? {
                keep[k] = Some(v.iter().map(|f| 1.0 - f).collect());
            }
        }
        let obj = Objective {
            loss: t.loss,
            l1_in: t.l1_in,
            l1_rec: t.l1_rec,
            l1_out: t.l1_out,
            l2_in: t.l2_in,
            l2_rec: t.l2_rec,
            l2_out: t.l2_out,
            l2_firing_rate: t.l2_firing_rate,
        };
        let stage = stage.min(tasks.len() - 1);
        let d = tasks[stage].dims();
        let workers = chunk_sizes(t.batch, thread_count(t.threads))
            .into_iter()
            .map(|bc| Workspace::new(&net, bc, d.n_steps))
            .collect();
        let batch = Batch::new(d, t.batch);
        let out = vec![0.0; batch.y.len()];
        let grads = Params::zeros_like(&net.params);
        let mut eff = Eff::default();
        net.effective(&mut eff);
        Ok(Trainer {
            config,
            tasks,
            thresholds,
            model,
            net,
            eff,
            adam,
            train_flags,
            keep,
            obj,
            workers,
            batch,
            out,
            grads,
            batches_done,
            stage,
            finished,
            last_loss: f64::NAN,
            last_accuracy: f64::NAN,
            stopped: String::new(),
            stop: None,
        })
    }

    /// Stop [`Trainer::run`] between two batches once `flag` is set (a Ctrl-C handler sets
    /// it): the run saves its checkpoint and returns [`TrainError::Interrupted`].
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Batches the run does in total: PsychRNN's `while k·batch < trials`.
    pub fn total_batches(&self) -> u64 {
        let b = self.config.train.batch as u64;
        self.config.train.trials.div_ceil(b).saturating_sub(1)
    }

    /// The current task.
    pub fn task(&self) -> &dyn AnyTask {
        &*self.tasks[self.stage]
    }

    /// One training batch. Returns (loss + regularisation, training-batch accuracy).
    pub fn step(&mut self) -> Result<(f64, f64), TrainError> {
        let k = self.batches_done + 1;
        self.net.effective(&mut self.eff);
        let task = &*self.tasks[self.stage];
        let loss = run_chunks(
            &mut self.workers,
            &self.net,
            &self.eff,
            &self.obj,
            task,
            &mut self.batch,
            &mut self.out,
            self.config.seed,
            stream::TRAIN,
            k,
            true,
        );
        let acc = task.accuracy(&self.batch, &self.out);
        let g = &mut self.grads;
        g.fill_zero();
        for w in &self.workers {
            g.add_assign(&w.grads);
        }
        let reg = self.obj.weight_reg(&self.eff, Some(g));
        let total = loss + reg;
        if !total.is_finite() {
            return Err(TrainError::NonFinite {
                batch: k,
                what: "loss".into(),
            });
        }
        self.net.chain_to_raw(g);
        for (k_t, (gt, keep)) in g.tensors_mut().into_iter().zip(&self.keep).enumerate() {
            if let Some(keep) = keep {
                gt.iter_mut().zip(keep).for_each(|(a, b)| *a *= b);
            }
            if gt.iter().any(|x| !x.is_finite()) {
                return Err(TrainError::NonFinite {
                    batch: k,
                    what: format!("gradient of {}", TENSOR_NAMES[k_t]),
                });
            }
            if self.config.train.clip_grads {
                clip_by_norm(gt, 1.0);
            }
        }
        self.adam
            .step(&mut self.net.params, &self.grads, &self.train_flags);
        for (k_t, p) in self.net.params.tensors().iter().enumerate() {
            if p.iter().any(|x| !x.is_finite()) {
                return Err(TrainError::NonFinite {
                    batch: k,
                    what: format!("weights {}", TENSOR_NAMES[k_t]),
                });
            }
        }
        self.batches_done = k;
        self.last_loss = total;
        self.last_accuracy = acc;
        Ok((total, acc))
    }

    /// Accuracy on a fresh test batch (stream `METRIC`, index = current batch).
    pub fn test_accuracy(&mut self) -> f64 {
        self.net.effective(&mut self.eff);
        let task = &*self.tasks[self.stage];
        run_chunks(
            &mut self.workers,
            &self.net,
            &self.eff,
            &self.obj,
            task,
            &mut self.batch,
            &mut self.out,
            self.config.seed,
            stream::METRIC,
            self.batches_done,
            false,
        );
        task.accuracy(&self.batch, &self.out)
    }

    /// The model with the current parameters and a training summary.
    pub fn model(&self) -> FloatModel {
        let mut m = self.model.clone();
        self.net.write_to(&mut m);
        m.summary = format!(
            "neuroloop train: task {}, {} batches x {} trials, seed {}, loss {:.6}, train-batch accuracy {:.4}",
            self.tasks[self.stage].name(),
            self.batches_done,
            self.config.train.batch,
            self.config.seed,
            self.last_loss,
            self.last_accuracy
        );
        m
    }

    /// A checkpoint of the current state.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            version: CHECKPOINT_VERSION,
            config: self.config.clone(),
            model: self.model(),
            adam: self.adam.clone(),
            batches_done: self.batches_done,
            stage: self.stage,
            finished: self.finished,
            last_loss: if self.last_loss.is_finite() {
                self.last_loss
            } else {
                0.0
            },
            last_accuracy: if self.last_accuracy.is_finite() {
                self.last_accuracy
            } else {
                0.0
            },
        }
    }

    /// Train to the end, checkpointing to `ckpt` every `train.checkpoint_every` batches
    /// and at the end; `progress` is called after every batch.
    pub fn run(
        &mut self,
        ckpt: Option<&Path>,
        progress: &mut dyn FnMut(&TrainProgress),
    ) -> Result<TrainSummary, TrainError> {
        let start = Instant::now();
        let first = self.batches_done;
        let total = self.total_batches();
        let every = self.config.train.checkpoint_every;
        let metric_epoch = self.config.train.metric_epoch;
        if self.finished {
            self.stopped = "already finished".into();
        }
        while !self.finished && self.batches_done < total {
            if self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)) {
                if let Some(p) = ckpt {
                    self.checkpoint().save(p)?;
                }
                return Err(TrainError::Interrupted {
                    batch: self.batches_done,
                    total,
                    checkpoint: ckpt.map(Path::to_path_buf),
                });
            }
            let (loss, acc) = self.step()?;
            let k = self.batches_done;
            let secs = start.elapsed().as_secs_f64();
            progress(&TrainProgress {
                batch: k,
                total_batches: total,
                loss,
                accuracy: acc,
                trials_per_sec: ((k - first) * self.config.train.batch as u64) as f64
                    / secs.max(1e-9),
                stage: self.stage,
            });
            let check = k % metric_epoch == 0;
            if check && self.config.curriculum.is_some() {
                let a = self.test_accuracy();
                if a >= self.thresholds[self.stage] {
                    if self.stage + 1 == self.tasks.len() {
                        self.finished = true;
                        self.stopped =
                            format!("curriculum complete at batch {k} (accuracy {a:.4})");
                    } else {
                        self.stage += 1;
                    }
                }
            }
            if check && !self.finished {
                if let Some(cut) = self.config.train.performance_cutoff {
                    let a = self.test_accuracy();
                    if a >= cut {
                        self.finished = true;
                        self.stopped = format!(
                            "performance cutoff {cut} reached at batch {k} (accuracy {a:.4})"
                        );
                    }
                }
            }
            if let Some(p) = ckpt {
                if every > 0 && k % every == 0 && !self.finished && k < total {
                    self.checkpoint().save(p)?;
                }
            }
        }
        if !self.finished {
            self.finished = true;
            if self.stopped.is_empty() {
                self.stopped = format!("{} trials reached", self.config.train.trials);
            }
        }
        if let Some(p) = ckpt {
            self.checkpoint().save(p)?;
        }
        Ok(TrainSummary {
            batches: self.batches_done,
            trials: self.batches_done * self.config.train.batch as u64,
            loss: self.last_loss,
            accuracy: self.last_accuracy,
            seconds: start.elapsed().as_secs_f64(),
            stopped: self.stopped.clone(),
        })
    }
}
