//! `neuroloop sweep`: populations of networks ([`crate::sweep`]).
//!
//! `plan` prints the grid; `run` runs it on this machine (`-j` runs at once, one progress
//! bar, resumable, a failing run recorded without stopping the others); `run-one` runs one
//! grid index (a Slurm array task); `slurm` writes and submits the array for what is not
//! done; `status` and `collect` read the output folder.

use super::report::accuracy;
use crate::cost::{bytes, memory_limit};
use crate::progress::Progress;
use crate::sweep::collect::{rows, write_tables};
use crate::sweep::plan::PlanRecord;
use crate::sweep::result::{plan_path, read_plan, states, write_json, RunState};
use crate::sweep::runner::{core_sets, run_local, run_one, Interrupted, RunContext};
use crate::sweep::slurm::{job_active, script, submit, ScriptJob, SlurmOptions};
use crate::sweep::{Plan, SweepFile};
use crate::train::estimate::TrainEstimate;
use anyhow::Context;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Most concurrent local runs.
pub const MAX_JOBS: usize = 1024;

/// `neuroloop sweep slurm`.
#[derive(Clone, Debug, PartialEq)]
pub struct SlurmCmd {
    /// Sweep file.
    pub file: PathBuf,
    /// Output folder.
    pub output: PathBuf,
    /// `#SBATCH` settings.
    pub options: SlurmOptions,
    /// Write and print the script, do not submit.
    pub dry_run: bool,
}

/// Typed config of `neuroloop sweep …`.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepCmd {
    /// Print the runs.
    Plan {
        /// Sweep file.
        file: PathBuf,
        /// JSON on stdout.
        json: bool,
    },
    /// Run locally.
    Run {
        /// Sweep file.
        file: PathBuf,
        /// Output folder.
        output: PathBuf,
        /// Concurrent runs.
        jobs: usize,
    },
    /// Run one grid index.
    RunOne {
        /// Sweep file.
        file: PathBuf,
        /// Grid index.
        index: usize,
        /// Output folder.
        output: PathBuf,
        /// Training threads (0 = all).
        threads: usize,
        /// Expected plan fingerprint.
        plan: Option<String>,
    },
    /// Slurm array.
    Slurm(SlurmCmd),
    /// What landed.
    Status {
        /// Output folder.
        dir: PathBuf,
        /// JSON on stdout.
        json: bool,
    },
    /// The table.
    Collect {
        /// Output folder.
        dir: PathBuf,
        /// JSON on stdout.
        json: bool,
    },
}

/// An output folder must be a folder (or not exist yet, with an existing parent).
fn check_out_dir(flag: &str, dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("{flag} {} exists and is not a folder", dir.display());
    }
    if !dir.exists() {
        let parent = std::path::absolute(dir)?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if !parent.is_dir() {
            anyhow::bail!(
                "{flag} {}: the folder {} does not exist",
                dir.display(),
                parent.display()
            );
        }
    }
    Ok(())
}

fn check_input_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a folder (give a sweep's output folder)",
            dir.display()
        );
    }
    Ok(())
}

impl SweepCmd {
    /// Check the flags before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        match self {
            SweepCmd::Plan { .. } => Ok(()),
            SweepCmd::Run { output, jobs, .. } => {
                if !(1..=MAX_JOBS).contains(jobs) {
                    anyhow::bail!("-j is {jobs}, must be in 1..={MAX_JOBS}");
                }
                check_out_dir("-o", output)
            }
            SweepCmd::RunOne {
                output, threads, ..
            } => {
                if *threads > MAX_JOBS {
                    anyhow::bail!("--threads is {threads}, must be in 0..={MAX_JOBS}");
                }
                check_out_dir("-o", output)
            }
            SweepCmd::Slurm(c) => {
                let o = &c.options;
                if !(1..=MAX_JOBS).contains(&o.cpus_per_task) {
                    anyhow::bail!(
                        "--cpus-per-task is {}, must be in 1..={MAX_JOBS}",
                        o.cpus_per_task
                    );
                }
                if o.max_parallel == Some(0) {
                    anyhow::bail!("--max-parallel is 0, must be at least 1");
                }
                for (flag, v) in [
                    ("--partition", &o.partition),
                    ("--time", &o.time),
                    ("--mem", &o.mem),
                    ("--account", &o.account),
                    ("--job-name", &Some(o.job_name.clone())),
                ] {
                    if let Some(v) = v {
                        if v.is_empty() || v.chars().any(|ch| ch.is_whitespace() || ch == '#') {
                            anyhow::bail!("{flag} is {v:?}: must be one word without spaces or #");
                        }
                    }
                }
                check_out_dir("-o", &c.output)
            }
            SweepCmd::Status { dir, .. } | SweepCmd::Collect { dir, .. } => check_input_dir(dir),
        }
    }
}

/// Read and plan a sweep file.
fn load(file: &Path) -> anyhow::Result<Plan> {
    let f = SweepFile::load(file)?;
    Ok(Plan::new(&f)?)
}

/// Create the output folder and write its `plan.json`.
fn prepare(plan: &Plan, dir: &Path) -> anyhow::Result<PlanRecord> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let record = plan.record();
    write_json(&plan_path(dir), &record)?;
    Ok(record)
}

fn params_text(params: &[(String, serde_json::Value)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Run the command.
pub fn run(cmd: &SweepCmd) -> anyhow::Result<()> {
    match cmd {
        SweepCmd::Plan { file, json } => plan(file, *json),
        SweepCmd::Run { file, output, jobs } => run_here(file, output, *jobs),
        SweepCmd::RunOne {
            file,
            index,
            output,
            threads,
            plan,
        } => run_index(file, *index, output, *threads, plan.as_deref()),
        SweepCmd::Slurm(c) => slurm(c),
        SweepCmd::Status { dir, json } => status(dir, *json),
        SweepCmd::Collect { dir, json } => collect(dir, *json),
    }
}

fn plan(file: &Path, json: bool) -> anyhow::Result<()> {
    let p = load(file)?;
    if json {
        println!("{}", serde_json::to_string(&p.record())?);
    }
    for r in &p.runs {
        match &r.config {
            Ok(_) => eprintln!("{:>4}  {}  {}", r.index, r.id, params_text(&r.params)),
            Err(e) => eprintln!(
                "{:>4}  {}  {}  INVALID: {e}",
                r.index,
                r.id,
                params_text(&r.params)
            ),
        }
    }
    let bad = p.runs.iter().filter(|r| r.config.is_err()).count();
    let f = &p.file;
    eprintln!(
        "{} runs ({} seeds × {}){}; after training: {}",
        p.runs.len(),
        f.seeds.len(),
        if f.axes.is_empty() {
            "no axes".to_string()
        } else {
            f.axes
                .iter()
                .map(|a| format!("{} {}", a.values.len(), a.key))
                .collect::<Vec<_>>()
                .join(" × ")
        },
        if bad > 0 {
            format!(", {bad} with an invalid config (they will fail)")
        } else {
            String::new()
        },
        steps_text(&f.steps)
    );
    Ok(())
}

fn steps_text(s: &crate::sweep::file::Steps) -> String {
    let mut parts = Vec::new();
    if !s.quantize.is_empty() {
        let w: Vec<&str> = s.quantize.iter().map(|w| w.name()).collect();
        parts.push(format!(
            "quantize to {} ({} calibration trials)",
            w.join(", "),
            s.calibration_trials
        ));
    }
    if let Some(t) = s.eval_trials {
        parts.push(format!("eval on {t} trials (seed {})", s.eval_seed));
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    Ok(stop)
}

/// Refuse `jobs` concurrent runs whose largest members together need more memory than
/// the machine has (the `train` limit).
fn check_memory(p: &Plan, jobs: usize) -> anyhow::Result<()> {
    let mut need: Vec<u64> = p
        .runs
        .iter()
        .filter_map(|r| r.config.as_ref().ok())
        .map(|c| TrainEstimate::of(c).map(|e| e.memory_bytes).unwrap_or(0))
        .collect();
    need.sort_unstable_by(|a, b| b.cmp(a));
    let k = jobs.min(need.len());
    let total: u64 = need[..k].iter().sum();
    let (limit, why) = memory_limit();
    if total > limit {
        anyhow::bail!(
            "-j {jobs}: the {k} largest runs at once would need ~{} of memory, more than the limit of {} ({why}); use a smaller -j",
            bytes(total),
            bytes(limit)
        );
    }
    Ok(())
}

fn run_here(file: &Path, dir: &Path, jobs: usize) -> anyhow::Result<()> {
    let p = load(file)?;
    check_memory(&p, jobs)?;
    prepare(&p, dir)?;
    let stop = stop_flag()?;
    let sets = core_sets(jobs);
    eprintln!(
        "{} runs into {}: {jobs} at a time, {} thread(s) each (cores {})",
        p.runs.len(),
        dir.display(),
        sets.first().map(Vec::len).unwrap_or(1),
        sets.iter()
            .map(|s| s
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(","))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let terminal = std::io::stderr().is_terminal();
    let mut bar: Option<Progress> = None;
    let report = run_local(&p, dir, jobs, stop, &mut |s| {
        let bar = bar.get_or_insert_with(|| Progress::new(s.units_total, "sweep"));
        let eta = if terminal && s.units > 0 && s.units < s.units_total {
            format!(
                ", ETA {}",
                duration(s.seconds / s.units as f64 * (s.units_total - s.units) as f64)
            )
        } else {
            String::new()
        };
        bar.update(
            s.units,
            format!(
                "runs {}/{} done, {} failed{eta}",
                s.finished, s.total, s.failed
            ),
        );
    })?;
    if let Some(b) = &bar {
        b.finish();
    }
    if report.interrupted {
        eprintln!(
            "{} runs finished before the stop",
            report.ok + report.failed.len()
        );
        return Err(Interrupted.into());
    }
    eprintln!(
        "{} ok now ({} resumed from a checkpoint), {} failed, {} already done; results in {} (table: neuroloop sweep collect {})",
        report.ok,
        report.resumed,
        report.failed.len(),
        report.skipped,
        dir.display(),
        dir.display()
    );
    if !report.failed.is_empty() {
        for (i, id, e) in &report.failed {
            eprintln!("  run {i} ({id}) failed: {e}");
        }
        anyhow::bail!(
            "{} of {} runs failed (the others are unaffected; see neuroloop sweep status {})",
            report.failed.len(),
            p.runs.len(),
            dir.display()
        );
    }
    Ok(())
}

fn run_index(
    file: &Path,
    index: usize,
    dir: &Path,
    threads: usize,
    expect: Option<&str>,
) -> anyhow::Result<()> {
    let p = load(file)?;
    if let Some(f) = expect {
        if p.fingerprint() != f {
            anyhow::bail!(
                "{} has changed since the sbatch script was written (plan {} now, {f} then): grid indices would name other runs; run `neuroloop sweep slurm` again",
                file.display(),
                p.fingerprint()
            );
        }
    }
    let Some(run) = p.runs.get(index) else {
        anyhow::bail!(
            "--index is {index}, but {} has {} runs (0..={})",
            file.display(),
            p.runs.len(),
            p.runs.len().saturating_sub(1)
        );
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if !plan_path(dir).exists() {
        write_json(&plan_path(dir), &p.record())?;
    }
    let threads = crate::train::thread_count(threads);
    eprintln!(
        "run {index} ({}) {} with {threads} thread(s)",
        run.id,
        params_text(&run.params)
    );
    let stop = stop_flag()?;
    let none = |_: u64| {};
    let res = run_one(
        &p,
        run,
        &RunContext {
            dir,
            threads,
            stop: Some(stop),
            on_batches: &none,
        },
    )?;
    match &res.error {
        Some(e) => anyhow::bail!("run {index} ({}) failed: {e}", run.id),
        None => {
            eprintln!(
                "run {index} ({}) done in {:.1} s on {}: loss {:.6}{}",
                run.id,
                res.wall_seconds,
                res.host,
                res.train.as_ref().map(|t| t.loss).unwrap_or(f64::NAN),
                res.float_accuracy
                    .map(|a| format!(", float accuracy {}", accuracy(a)))
                    .unwrap_or_default()
            );
            Ok(())
        }
    }
}

fn slurm(c: &SlurmCmd) -> anyhow::Result<()> {
    let p = load(&c.file)?;
    let record = prepare(&p, &c.output)?;
    let dir = std::path::absolute(&c.output)?;
    let st = states(&dir, &record)?;
    let todo: Vec<usize> = st
        .iter()
        .zip(&record.runs)
        .filter(|(s, _)| !matches!(s, RunState::Done(_)))
        .map(|(_, r)| r.index)
        .collect();
    if todo.is_empty() {
        eprintln!(
            "all {} runs are done in {}; nothing to submit (table: neuroloop sweep collect {})",
            record.runs.len(),
            c.output.display(),
            c.output.display()
        );
        return Ok(());
    }
    let job_file = dir.join("slurm-job");
    if let Ok(prev) = std::fs::read_to_string(&job_file) {
        let prev = prev.trim();
        if !prev.is_empty() && job_active(prev) == Some(true) {
            let msg = format!(
                "job {prev} of this sweep is still queued or running; submitting again would run its tasks twice: wait for it (squeue -j {prev}) or cancel it (scancel {prev})"
            );
            if !c.dry_run {
                anyhow::bail!(msg);
            }
            eprintln!("warning: {msg}");
        }
    }
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("creating {}", dir.join("logs").display()))?;
    let exe = std::env::current_exe().context("finding the neuroloop binary")?;
    let text = script(
        &ScriptJob {
            exe: &exe,
            sweep_file: &record.sweep_file,
            dir: &dir,
            fingerprint: &record.fingerprint,
            indices: &todo,
            total: record.runs.len(),
        },
        &c.options,
    );
    let script_path = dir.join("sweep.sbatch");
    crate::model::file::write_atomic(&script_path, text.as_bytes())?;
    if c.dry_run {
        print!("{text}");
        eprintln!(
            "wrote {} ({} of {} runs); not submitted (--dry-run); submit with: sbatch {}",
            script_path.display(),
            todo.len(),
            record.runs.len(),
            script_path.display()
        );
        return Ok(());
    }
    let id = submit(&script_path)?;
    crate::model::file::write_atomic(&job_file, format!("{id}\n").as_bytes())?;
    println!("{id}");
    eprintln!(
        "submitted job {id}: an array of {} of the {} runs ({}); follow it with: squeue -j {id}; then: neuroloop sweep status {}",
        todo.len(),
        record.runs.len(),
        script_path.display(),
        c.output.display()
    );
    Ok(())
}

fn status(dir: &Path, json: bool) -> anyhow::Result<()> {
    let plan = read_plan(dir)?;
    let st = states(dir, &plan)?;
    if json {
        let v: Vec<serde_json::Value> = plan
            .runs
            .iter()
            .zip(&st)
            .map(|(r, s)| {
                serde_json::json!({
                    "index": r.index, "id": r.id, "state": s.name(),
                    "error": s.result().and_then(|x| x.error.clone()),
                    "batches": match s { RunState::Partial { batches } => Some(*batches), _ => None },
                })
            })
            .collect();
        println!("{}", serde_json::to_string(&v)?);
    }
    let count = |n: &str| st.iter().filter(|s| s.name() == n).count();
    for (r, s) in plan.runs.iter().zip(&st) {
        match s {
            RunState::Done(_) => {}
            RunState::Failed(x) => eprintln!(
                "{:>4}  {}  failed: {}",
                r.index,
                r.id,
                x.error.as_deref().unwrap_or("")
            ),
            RunState::Partial { batches } => eprintln!(
                "{:>4}  {}  partial: checkpoint at batch {batches} of {}",
                r.index, r.id, r.batches
            ),
            other => eprintln!("{:>4}  {}  {}", r.index, r.id, other.name()),
        }
    }
    eprintln!(
        "{} runs: {} done, {} failed, {} partial, {} missing, {} stale (other quantize/eval steps)",
        plan.runs.len(),
        count("done"),
        count("failed"),
        count("partial"),
        count("missing"),
        count("stale")
    );
    Ok(())
}

fn collect(dir: &Path, json: bool) -> anyhow::Result<()> {
    let plan = read_plan(dir)?;
    let st = states(dir, &plan)?;
    let rows = rows(&plan, &st);
    write_tables(dir, &plan, &rows)?;
    if json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    let count = |n: &str| rows.iter().filter(|r| r.status == n).count();
    eprintln!(
        "{} rows ({} done, {} failed, {} not finished) → {} and {}",
        rows.len(),
        count("done"),
        count("failed"),
        rows.len() - count("done") - count("failed"),
        dir.join("results.csv").display(),
        dir.join("results.json").display()
    );
    Ok(())
}
