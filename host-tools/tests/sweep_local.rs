//! `neuroloop sweep` on this machine: a 2-axis × 3-seed sweep with quantize + eval in one
//! command; SIGKILL midway and a rerun give every run exactly once with the results of an
//! uninterrupted sweep (a killed run resumes from its checkpoint); a bad value at one
//! grid point fails that run only, reported by `status` and `collect`; `sweep slurm
//! --dry-run` puts only the runs not done in the array.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuroloop"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("neuroloop runs")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A small perceptual-discrimination sweep: `axes` (TOML lines), `seeds`, `trials`
/// training trials in batches of 10, a checkpoint every 5 batches, int8 and int16 blobs,
/// 40 eval trials.
fn sweep_file(dir: &Path, axes: &str, seeds: &str, trials: u64) -> String {
    let p = dir.join("sweep.toml");
    std::fs::write(
        &p,
        format!(
            "seeds = {seeds}\n\n[base.task]\nname = \"perceptual-discrimination\"\n[base.model]\nn_rec = 8\n\
             [base.train]\nbatch = 10\ntrials = {trials}\ncheckpoint_every = 5\n\n[axes]\n{axes}\n\
             [quantize]\nweights = [\"i8\", \"i16\"]\ncalibration_trials = 16\n\n[eval]\ntrials = 40\n"
        ),
    )
    .unwrap();
    p.display().to_string()
}

fn results(dir: &Path) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir.join("runs")).unwrap() {
        let e = e.unwrap();
        let id = e.file_name().to_string_lossy().into_owned();
        let p = e.path().join("result.json");
        if p.exists() {
            let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            m.insert(id, v);
        }
    }
    m
}

/// What must be equal between two sweeps: training outcome, accuracies, blobs.
fn outcome(v: &Value) -> Value {
    serde_json::json!({
        "status": v["status"], "error": v["error"], "params": v["params"],
        // (`train.stopped` says "already finished" for a run killed in the instant between
        // its last checkpoint and its train.json)
        "loss": v["train"]["loss"], "accuracy": v["train"]["accuracy"], "batches": v["train"]["batches"],
        "float_accuracy": v["float_accuracy"], "fixed": v["fixed"], "model_bytes": v["model_bytes"],
    })
}

fn csv_rows(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("results.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

const AXES: &str = "\"model.n_rec\" = [8, 12]\n\"train.learning_rate\" = [0.001, 0.003]\n";

#[cfg(unix)]
#[test]
fn sigkill_midway_then_rerun_equals_an_uninterrupted_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let file = sweep_file(tmp.path(), AXES, "3", 3000);
    let plan = run(&["sweep", "plan", &file]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(
        String::from_utf8_lossy(&plan.stderr)
            .contains("12 runs (3 seeds × 2 model.n_rec × 2 train.learning_rate)"),
        "{}",
        text(&plan)
    );

    // Uninterrupted, in one command.
    let a = tmp.path().join("a");
    let o = run(&["sweep", "run", &file, "-o", a.to_str().unwrap(), "-j", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    let ra = results(&a);
    assert_eq!(ra.len(), 12);

    // Killed midway: once one run has a result and another has a checkpoint but no result.
    let b = tmp.path().join("b");
    let mut child = bin()
        .args(["sweep", "run", &file, "-o", b.to_str().unwrap(), "-j", "2"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let give_up = Instant::now() + Duration::from_secs(600);
    let midway = || {
        let runs = b.join("runs");
        let Ok(rd) = std::fs::read_dir(&runs) else {
            return false;
        };
        let (mut done, mut partial) = (0, 0);
        for e in rd.flatten() {
            let p = e.path();
            if p.join("result.json").exists() {
                done += 1;
            } else if p.join("checkpoint.json").exists() {
                partial += 1;
            }
        }
        done >= 1 && partial >= 1
    };
    while !midway() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it could be killed midway"
        );
        assert!(Instant::now() < give_up, "no run landed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = results(&b);
    assert!(
        before.len() < 12,
        "killed after the end: {} results",
        before.len()
    );

    let st = run(&["sweep", "status", b.to_str().unwrap()]);
    assert!(st.status.success(), "{}", text(&st));
    let st_text = String::from_utf8_lossy(&st.stderr);
    assert!(
        st_text.contains("partial: checkpoint at batch"),
        "{st_text}"
    );

    let o = run(&["sweep", "run", &file, "-o", b.to_str().unwrap(), "-j", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{} already done", before.len())),
        "{err}"
    );
    let rb = results(&b);
    assert_eq!(
        rb.keys().collect::<Vec<_>>(),
        ra.keys().collect::<Vec<_>>(),
        "the same 12 run ids"
    );
    let resumed = rb
        .values()
        .filter(|v| v["resumed_from_batch"].as_u64().is_some_and(|k| k > 0))
        .count();
    assert!(resumed >= 1, "no run resumed from its checkpoint");
    for (id, v) in &ra {
        assert_eq!(v["status"], "ok", "{id}: {v}");
        assert_eq!(v["fixed"].as_array().unwrap().len(), 2);
        assert!(v["float_accuracy"].is_number());
        assert_eq!(
            outcome(v),
            outcome(&rb[id]),
            "run {id} differs after kill + rerun"
        );
    }
    // The runs already done were not run again.
    for (id, v) in &before {
        assert_eq!(v, &rb[id], "run {id} was rewritten");
    }

    // One row per run, each index once.
    let c = run(&["sweep", "collect", b.to_str().unwrap()]);
    assert!(c.status.success(), "{}", text(&c));
    let rows = csv_rows(&b);
    assert_eq!(rows.len(), 12);
    let mut idx: Vec<usize> = rows.iter().map(|r| r["index"].parse().unwrap()).collect();
    idx.sort();
    assert_eq!(idx, (0..12).collect::<Vec<_>>());
    for r in &rows {
        assert_eq!(r["status"], "done", "{r:?}");
        let v = &rb[&r["id"]];
        assert_eq!(
            r["final_loss"].parse::<f64>().unwrap(),
            v["train"]["loss"].as_f64().unwrap()
        );
        assert_eq!(
            r["fixed_accuracy_i8"].parse::<f64>().unwrap(),
            v["fixed"][0]["accuracy"].as_f64().unwrap()
        );
        assert_eq!(r["blob_bytes_i16"], v["fixed"][1]["blob_bytes"].to_string());
        assert!(!r["host"].is_empty() && r["wall_seconds"].parse::<f64>().unwrap() > 0.0);
        assert_eq!(r["seed"], v["params"][2][1].to_string());
    }
    // A second run does nothing.
    let o = run(&["sweep", "run", &file, "-o", b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("0 ok now (0 resumed from a checkpoint), 0 failed, 12 already done"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_bad_value_at_one_grid_point_fails_only_that_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = sweep_file(tmp.path(), "\"model.n_rec\" = [8, 0, 12]\n", "1", 200);
    let out = tmp.path().join("out");
    let o = run(&[
        "sweep",
        "run",
        &file,
        "-o",
        out.to_str().unwrap(),
        "-j",
        "2",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 of 3 runs failed"), "{err}");
    assert!(
        err.contains("run 1 (") && err.contains("model.n_rec"),
        "{err}"
    );

    let st = run(&["sweep", "status", out.to_str().unwrap()]);
    let st_err = String::from_utf8_lossy(&st.stderr);
    assert!(st_err.contains("3 runs: 2 done, 1 failed"), "{st_err}");
    assert!(
        st_err.contains("failed: config key `model.n_rec`"),
        "{st_err}"
    );

    let c = run(&["sweep", "collect", out.to_str().unwrap()]);
    assert!(c.status.success(), "{}", text(&c));
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1]["status"], "failed");
    assert!(
        rows[1]["error"].contains("model.n_rec") && rows[1]["error"].contains('0'),
        "{:?}",
        rows[1]
    );
    assert!(rows[1]["final_loss"].is_empty());
    for i in [0, 2] {
        assert_eq!(rows[i]["status"], "done", "{:?}", rows[i]);
        assert!(rows[i]["error"].is_empty());
        let acc: f64 = rows[i]["float_accuracy"].parse().unwrap();
        assert!((0.0..=1.0).contains(&acc));
    }
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json[1]["status"], "failed");
    assert!(json[1]["error"].as_str().unwrap().contains("model.n_rec"));
    assert_eq!(json[2]["params"]["model.n_rec"], 12);

    // The good runs equal the same runs swept alone (with the same thread count: the
    // trainer's gradient sum is split by thread).
    let alone = sweep_file(tmp.path(), "\"model.n_rec\" = [12]\n", "1", 200);
    let out2 = tmp.path().join("alone");
    let o = run(&[
        "sweep",
        "run",
        &alone,
        "-o",
        out2.to_str().unwrap(),
        "-j",
        "2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (r1, r2) = (results(&out), results(&out2));
    let (id, v) = r2.iter().next().unwrap();
    assert_eq!(outcome(v), outcome(&r1[id]));
}

#[test]
fn slurm_dry_run_arrays_only_the_runs_not_done() {
    let tmp = tempfile::tempdir().unwrap();
    let file = sweep_file(tmp.path(), "\"model.n_rec\" = [8, 12]\n", "2", 100);
    let out = tmp.path().join("out");
    let o_str = out.to_str().unwrap();
    let dry = |extra: &[&str]| {
        let mut args = vec!["sweep", "slurm", &file, "-o", o_str, "--dry-run"];
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = dry(&[
        "--max-parallel",
        "3",
        "--partition",
        "short",
        "--time",
        "0:10:00",
        "--mem",
        "1G",
        "--cpus-per-task",
        "2",
        "--account",
        "lab",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let script = String::from_utf8_lossy(&o.stdout).into_owned();
    for line in [
        "#SBATCH --array=0-3%3\n",
        "#SBATCH --partition=short\n",
        "#SBATCH --time=0:10:00\n",
        "#SBATCH --mem=1G\n",
        "#SBATCH --cpus-per-task=2\n",
        "#SBATCH --account=lab\n",
        "sweep run-one \"$SWEEP\" --index \"$SLURM_ARRAY_TASK_ID\" -o \"$OUT\"",
    ] {
        assert!(script.contains(line), "{line:?} missing:\n{script}");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("sweep.sbatch")).unwrap(),
        script
    );

    // Run tasks 0, 2 and 3 as Slurm would (bash runs the script with the task id).
    for i in ["0", "2", "3"] {
        let o = Command::new("bash")
            .arg(out.join("sweep.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", i)
            .output()
            .unwrap();
        assert!(o.status.success(), "task {i}: {}", text(&o));
    }
    let o = dry(&[]);
    let script = String::from_utf8_lossy(&o.stdout);
    assert!(script.contains("#SBATCH --array=1\n"), "{script}");
    let o = Command::new("bash")
        .arg(out.join("sweep.sbatch"))
        .env("SLURM_ARRAY_TASK_ID", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = dry(&[]);
    assert!(o.stdout.is_empty(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("all 4 runs are done"),
        "{}",
        text(&o)
    );

    // A changed sweep file is refused by the old script's tasks.
    let file2 = sweep_file(tmp.path(), "\"model.n_rec\" = [8, 10, 12]\n", "2", 100);
    assert_eq!(file2, file);
    let o = Command::new("bash")
        .arg(out.join("sweep.sbatch"))
        .env("SLURM_ARRAY_TASK_ID", "1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("has changed since the sbatch script was written"),
        "{}",
        text(&o)
    );
}

#[test]
fn sweep_file_errors_name_the_key_and_value() {
    let tmp = tempfile::tempdir().unwrap();
    for (axes, want) in [
        (
            "\"model.n_recc\" = [8]\n",
            "axes.\"model.n_recc\"` is not a train config key",
        ),
        (
            "\"model.n_rec\" = []\n",
            "axes.\"model.n_rec\"` is an empty list",
        ),
        (
            "\"train.learning_rate\" = { start = 0.1, stop = 0.3, step = -1 }\n",
            "range `step` is -1",
        ),
    ] {
        let file = sweep_file(tmp.path(), axes, "2", 100);
        let o = run(&["sweep", "plan", &file]);
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(want),
            "{want}: {}",
            text(&o)
        );
    }
    let file = sweep_file(tmp.path(), "", "0", 100);
    let o = run(&["sweep", "plan", &file]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("sweep key `seeds` is 0"),
        "{}",
        text(&o)
    );
    let file = sweep_file(tmp.path(), "", "2", 100);
    let o = run(&["sweep", "run", &file, "-o", "/nonexistent-dir/x"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("/nonexistent-dir does not exist"),
        "{}",
        text(&o)
    );
    let o = run(&[
        "sweep",
        "run",
        &file,
        "-o",
        tmp.path().to_str().unwrap(),
        "-j",
        "0",
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("-j is 0"),
        "{}",
        text(&o)
    );
}
