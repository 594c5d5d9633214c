//! Running sweep runs: one run ([`run_one`], what a Slurm array task does) and the whole
//! grid on this machine ([`run_local`]).
//!
//! A run trains (resuming from `DIR/runs/ID/checkpoint.json` if a killed attempt left
//! one), saves the float model, quantizes it to each asked weight format (calibrated on
//! task trials), evaluates the float model and each blob on the same eval trials, and
//! writes its [`RunResult`] last, atomically. Any error, or a panic, becomes a `failed`
//! result naming the error; it never stops the other runs. Ctrl-C (the stop flag) stops
//! runs between two batches with their checkpoints saved and no result, so the next
//! `sweep run` continues them.
//!
//! Locally, `jobs` runs go at once, each on its own worker thread pinned (Linux:
//! `sched_setaffinity`) to its share of the cores this process may use; the trainer's
//! and the evaluation's worker threads inherit the pinning, and `train.threads` is set
//! to the share's size.

use super::file::Steps;
use super::plan::{batches, Plan, Run};
use super::result::{
    checkpoint_path, host_name, read_json, result_path, run_dir, run_state, write_json,
    FixedOutcome, Outcome, ResultError, RunResult, RunState, TrainOutcome,
};
use crate::compare::compare;
use crate::eval::evaluate;
use crate::noise::Noise;
use crate::quantize::{quantize, QuantConfig};
use crate::task::calibration_inputs;
use crate::train::checkpoint::Checkpoint;
use crate::train::{TrainError, Trainer};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A run was stopped by the stop flag (Ctrl-C): its checkpoint holds its batches, no
/// result was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stopped by Ctrl-C between two batches; the runs keep their checkpoints: run the same command again to continue")]
pub struct Interrupted;

/// How one run runs.
pub struct RunContext<'a> {
    /// The sweep's output folder.
    pub dir: &'a Path,
    /// Worker threads for training (`train.threads`).
    pub threads: usize,
    /// Set to stop between two batches (Ctrl-C).
    pub stop: Option<Arc<AtomicBool>>,
    /// Called with the number of batches trained since the last call.
    pub on_batches: &'a (dyn Fn(u64) + Sync),
}

/// Run `run` of `plan` into `ctx.dir`; the result is written to
/// `DIR/runs/ID/result.json` and returned. Failures are results, not errors; only a stop
/// request returns `Err`.
pub fn run_one(plan: &Plan, run: &Run, ctx: &RunContext) -> Result<RunResult, Interrupted> {
    let start = Instant::now();
    let steps = &plan.file.steps;
    let mut res = RunResult {
        id: run.id.clone(),
        index: run.index,
        status: Outcome::Ok,
        error: None,
        params: run.params.clone(),
        steps: steps.clone(),
        train: None,
        resumed_from_batch: None,
        float_accuracy: None,
        eval_loss: None,
        fixed: Vec::new(),
        model_bytes: None,
        wall_seconds: 0.0,
        host: host_name(),
        threads: ctx.threads,
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        attempt(run, steps, ctx, &mut res)
    }));
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(Failure::Interrupted)) => return Err(Interrupted),
        Ok(Err(Failure::Error(e))) => Some(e),
        Err(panic) => Some(format!(
            "panicked: {}",
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into())
        )),
    };
    if let Some(e) = error {
        res.status = Outcome::Failed;
        res.error = Some(e);
    }
    res.wall_seconds = start.elapsed().as_secs_f64();
    let path = result_path(ctx.dir, &run.id);
    if let Err(e) = write_json(&path, &res) {
        res.status = Outcome::Failed;
        res.error = Some(format!("writing the result: {e}"));
    }
    Ok(res)
}

enum Failure {
    Interrupted,
    Error(String),
}

fn fail<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> Failure + '_ {
    move |e| Failure::Error(format!("{what}: {e}"))
}

/// Train, save, quantize, evaluate: fills `res`.
fn attempt(run: &Run, steps: &Steps, ctx: &RunContext, res: &mut RunResult) -> Result<(), Failure> {
    let mut cfg = run.config.clone().map_err(Failure::Error)?;
    cfg.train.threads = ctx.threads;
    let dir = run_dir(ctx.dir, &run.id);
    std::fs::create_dir_all(&dir).map_err(fail(&format!("creating {}", dir.display())))?;
    crate::model::file::write_atomic_io(&dir.join("config.toml"), cfg.to_toml().as_bytes())
        .map_err(fail("writing config.toml"))?;
    let ckpt_path = checkpoint_path(ctx.dir, &run.id);
    let mut trainer = if ckpt_path.exists() {
        let k = Checkpoint::load(&ckpt_path).map_err(fail("reading the checkpoint"))?;
        res.resumed_from_batch = Some(k.batches_done);
        // The thread count it started with: the batch's gradient sum is split by thread,
        // so the same count makes the resumed run bit-identical to an uninterrupted one.
        if k.config.train.threads > 0 {
            cfg.train.threads = k.config.train.threads;
            res.threads = k.config.train.threads;
        }
        Trainer::resume(k, Some(cfg)).map_err(fail("resuming"))?
    } else {
        Trainer::new(cfg).map_err(fail("training"))?
    };
    if let Some(s) = &ctx.stop {
        trainer.set_stop_flag(s.clone());
    }
    let was_finished = trainer.finished;
    let mut last = trainer.batches_done;
    let summary = trainer
        .run(Some(&ckpt_path), &mut |p| {
            (ctx.on_batches)(p.batch.saturating_sub(last));
            last = p.batch;
        })
        .map_err(|e| match e {
            TrainError::Interrupted { .. } => Failure::Interrupted,
            e => Failure::Error(format!("training: {e}")),
        })?;
    // A run killed after training (while quantizing or evaluating) resumes from a finished
    // checkpoint; its training outcome, saved when training ended, says why it stopped.
    let outcome_path = dir.join("train.json");
    let saved: Option<TrainOutcome> = if was_finished {
        read_json(&outcome_path).ok()
    } else {
        None
    };
    let outcome = match saved {
        Some(o) if o.batches == summary.batches => o,
        _ => {
            let o = TrainOutcome {
                loss: summary.loss,
                accuracy: summary.accuracy,
                batches: summary.batches,
                stopped: summary.stopped,
            };
            write_json(&outcome_path, &o).map_err(fail("writing train.json"))?;
            o
        }
    };
    res.train = Some(outcome);
    let model = trainer.model();
    let model_path = dir.join("model.json");
    model.save(&model_path).map_err(fail("saving the model"))?;
    res.model_bytes = std::fs::metadata(&model_path).ok().map(|m| m.len());
    let task = trainer.task();
    let calib = if steps.quantize.is_empty() {
        Vec::new()
    } else {
        calibration_inputs(task, steps.calibration_trials, steps.eval_seed)
    };
    for &w in &steps.quantize {
        let q = quantize(
            &model,
            &QuantConfig {
                weights: w,
                ..QuantConfig::default()
            },
            &calib,
        )
        .map_err(fail(&format!("quantizing to {}", w.name())))?;
        let blob = dir.join(format!("{}.nlb", w.name()));
        crate::model::file::write_atomic_io(&blob, &q.bytes)
            .map_err(fail(&format!("writing {}", blob.display())))?;
        let mut fixed = FixedOutcome {
            weights: w.name().into(),
            accuracy: None,
            blob_bytes: q.report.blob_bytes,
            param_bytes: q.report.param_bytes,
            sha256: Sha256::digest(&q.bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        };
        if let Some(trials) = steps.eval_trials {
            let c = compare(
                Some(&model),
                &q.bytes,
                task,
                trials,
                steps.eval_seed,
                Noise::Off,
            )
            .map_err(fail(&format!("evaluating the {} blob", w.name())))?;
            res.float_accuracy = c.float_accuracy;
            fixed.accuracy = Some(c.fixed_accuracy);
        }
        res.fixed.push(fixed);
    }
    if let (Some(trials), None) = (steps.eval_trials, res.float_accuracy) {
        let e = evaluate(&model, task, trials, steps.eval_seed, Noise::Off)
            .map_err(fail("evaluating the float model"))?;
        res.float_accuracy = Some(e.accuracy);
        res.eval_loss = Some(e.loss);
    }
    Ok(())
}

/// Progress of a local sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepProgress {
    /// Runs finished in this invocation (ok or failed).
    pub finished: usize,
    /// Of those, failed.
    pub failed: usize,
    /// Runs this invocation runs.
    pub total: usize,
    /// Work units done (a batch each, plus one per run for quantize and eval).
    pub units: u64,
    /// Work units in all.
    pub units_total: u64,
    /// Seconds since the start.
    pub seconds: f64,
}

/// What a local sweep did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalReport {
    /// Runs already done, skipped.
    pub skipped: usize,
    /// Runs run now that ended ok.
    pub ok: usize,
    /// Runs run now that failed: (index, id, error).
    pub failed: Vec<(usize, String, String)>,
    /// Runs resumed from a checkpoint.
    pub resumed: usize,
    /// Stopped by the stop flag before every run finished.
    pub interrupted: bool,
}

/// Run every run of `plan` that is not done in `dir`, `jobs` at a time, each pinned to its
/// share of the cores. `progress` is called on this thread about 4 times a second.
pub fn run_local(
    plan: &Plan,
    dir: &Path,
    jobs: usize,
    stop: Arc<AtomicBool>,
    progress: &mut dyn FnMut(&SweepProgress),
) -> Result<LocalReport, ResultError> {
    let record = plan.record();
    let mut pending = Vec::new();
    let mut report = LocalReport::default();
    for (run, rec) in plan.runs.iter().zip(&record.runs) {
        match run_state(dir, rec, &plan.file.steps)? {
            RunState::Done(_) => report.skipped += 1,
            _ => pending.push(run),
        }
    }
    let units_total: u64 = pending
        .iter()
        .map(|r| r.config.as_ref().map(batches).unwrap_or(0) + 1)
        .sum();
    let sets = core_sets(jobs.max(1));
    let next = AtomicUsize::new(0);
    let units = AtomicU64::new(0);
    let finished = AtomicUsize::new(0);
    let workers_left = AtomicUsize::new(sets.len());
    let outcomes: Mutex<Vec<(usize, Result<RunResult, Interrupted>)>> = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|sc| {
        for cores in &sets {
            let (pending, next, units, finished, outcomes, stop, workers_left) = (
                &pending,
                &next,
                &units,
                &finished,
                &outcomes,
                &stop,
                &workers_left,
            );
            sc.spawn(move || {
                pin(cores);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= pending.len() || stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let run = pending[i];
                    let weight = run.config.as_ref().map(batches).unwrap_or(0) + 1;
                    let done_here = AtomicU64::new(0);
                    let on = |n: u64| {
                        done_here.fetch_add(n, Ordering::Relaxed);
                        units.fetch_add(n, Ordering::Relaxed);
                    };
                    let ctx = RunContext {
                        dir,
                        threads: cores.len(),
                        stop: Some(stop.clone()),
                        on_batches: &on,
                    };
                    let r = run_one(plan, run, &ctx);
                    if r.is_ok() {
                        let rest = weight.saturating_sub(done_here.load(Ordering::Relaxed));
                        units.fetch_add(rest, Ordering::Relaxed);
                        finished.fetch_add(1, Ordering::SeqCst);
                    }
                    outcomes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, r));
                }
                workers_left.fetch_sub(1, Ordering::SeqCst);
            });
        }
        loop {
            let failed = outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .filter(|(_, r)| matches!(r, Ok(x) if x.status == Outcome::Failed))
                .count();
            progress(&SweepProgress {
                finished: finished.load(Ordering::SeqCst),
                failed,
                total: pending.len(),
                units: units.load(Ordering::Relaxed),
                units_total,
                seconds: start.elapsed().as_secs_f64(),
            });
            if workers_left.load(Ordering::SeqCst) == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    outcomes.sort_by_key(|(i, _)| *i);
    for (_, r) in outcomes {
        match r {
            Ok(res) => {
                if res.resumed_from_batch.is_some_and(|b| b > 0) {
                    report.resumed += 1;
                }
                match res.status {
                    Outcome::Ok => report.ok += 1,
                    Outcome::Failed => report.failed.push((
                        res.index,
                        res.id.clone(),
                        res.error.clone().unwrap_or_default(),
                    )),
                }
            }
            Err(Interrupted) => report.interrupted = true,
        }
    }
    if report.ok + report.failed.len() < pending.len() {
        report.interrupted = true;
    }
    Ok(report)
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_getaffinity, CpuSet};
        use nix::unistd::Pid;
        if let Ok(set) = sched_getaffinity(Pid::from_raw(0)) {
            let cpus: Vec<usize> = (0..CpuSet::count())
                .filter(|&c| set.is_set(c).unwrap_or(false))
                .collect();
            if !cpus.is_empty() {
                return cpus;
            }
        }
    }
    (0..crate::train::thread_count(0)).collect()
}

/// `jobs` sets of CPUs: the allowed CPUs split into `jobs` contiguous shares (one CPU
/// each, shared round-robin, when there are more jobs than CPUs).
pub fn core_sets(jobs: usize) -> Vec<Vec<usize>> {
    let cpus = allowed_cpus();
    let n = cpus.len();
    (0..jobs)
        .map(|s| {
            if jobs <= n {
                cpus[s * n / jobs..(s + 1) * n / jobs].to_vec()
            } else {
                vec![cpus[s % n]]
            }
        })
        .collect()
}

/// Pin the calling thread (and the threads it starts) to `cpus`; a no-op where the OS
/// cannot.
fn pin(cpus: &[usize]) {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_setaffinity, CpuSet};
        use nix::unistd::Pid;
        let mut set = CpuSet::new();
        for &c in cpus {
            let _ = set.set(c);
        }
        // Best effort: a refused pinning leaves the run on every core, still correct.
        let _ = sched_setaffinity(Pid::from_raw(0), &set);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpus;
}
