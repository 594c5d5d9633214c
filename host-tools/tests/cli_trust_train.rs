//! Issue 9, train side: nothing overwritten without `--force`, a matching checkpoint
//! suggests `--resume`, paths checked before work, Ctrl-C saves and says how to resume,
//! too few trials refused, sizes estimated (warned, refused) before work, undeployable
//! sizes refused without `--float-only`, progress lines off a terminal, quickstart
//! re-runnable. Each test names the issue item it covers.

use neuroloop::train::checkpoint::{default_path, Checkpoint};
use neuroloop::train::{TrainConfig, Trainer};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuroloop"))
}

/// A tiny, fast training command: 4 units, batch 4, 10 batches, one thread.
const TINY: [&str; 12] = [
    "train",
    "--task",
    "perceptual-discrimination",
    "--n-rec",
    "4",
    "--batch",
    "4",
    "--trials",
    "44",
    "--threads",
    "1",
    "--seed",
];

fn tiny(out: &Path) -> Command {
    let mut c = bin();
    c.args(TINY).arg("5").arg("-o").arg(out);
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fails(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        !o.status.success(),
        "expected failure, got success: {}",
        stderr(&o)
    );
    stderr(&o)
}

fn succeeds(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

/// Item 1: the same command again refuses to overwrite model and checkpoint, names
/// `--resume` and `--force`, and leaves both files as they were; `--force` starts over.
#[test]
fn item1_rerun_never_overwrites_model_or_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("s.json");
    succeeds(&mut tiny(&out));
    let ckpt = default_path(&out);
    let (m0, c0) = (std::fs::read(&out).unwrap(), std::fs::read(&ckpt).unwrap());
    let e = fails(&mut tiny(&out));
    assert!(e.contains("--resume") && e.contains("--force"), "{e}");
    assert!(e.contains(&ckpt.display().to_string()), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), m0, "model untouched");
    assert_eq!(std::fs::read(&ckpt).unwrap(), c0, "checkpoint untouched");
    // a model file alone (checkpoint elsewhere) is not overwritten either
    let e = fails(
        tiny(&out)
            .arg("--checkpoint")
            .arg(d.path().join("other.ckpt")),
    );
    assert!(e.contains("already exists") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), m0);
    succeeds(tiny(&out).arg("--force"));
}

/// Item 1: an interrupted run's checkpoint (same config) makes the same command print the
/// exact command to resume; that command finishes the run.
#[test]
fn item1_matching_checkpoint_prints_the_resume_command() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("s.json");
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.model.n_rec = 4;
    cfg.train.batch = 4;
    cfg.train.trials = 44;
    cfg.train.threads = 1;
    cfg.seed = 5;
    let mut t = Trainer::new(cfg).unwrap();
    for _ in 0..3 {
        t.step().unwrap();
    }
    t.checkpoint().save(&default_path(&out)).unwrap();
    let e = fails(&mut tiny(&out));
    assert!(e.contains("holds 3 of 10 batches"), "{e}");
    let line = e
        .lines()
        .find(|l| l.contains("to continue it run:"))
        .unwrap();
    let cmd = line
        .split("to continue it run: ")
        .nth(1)
        .unwrap()
        .split(" ; ")
        .next()
        .unwrap();
    assert!(cmd.ends_with(" --resume"), "{cmd}");
    let args: Vec<&str> = cmd.split(' ').skip(1).collect();
    let mut expected: Vec<String> = TINY.iter().map(|s| s.to_string()).collect();
    expected.extend([
        "5".into(),
        "-o".into(),
        out.display().to_string(),
        "--resume".into(),
    ]);
    assert_eq!(args, expected);
    let log = succeeds(bin().args(&args));
    assert!(log.contains("resuming"), "{log}");
    let done = Checkpoint::load(&default_path(&out)).unwrap();
    assert!(done.finished && done.batches_done == 10);
}

/// Item 2: `-o cm.json --checkpoint cm.json` is refused (even with --force), nothing written.
#[test]
fn item2_model_and_checkpoint_on_one_file_refused() {
    let d = tempfile::tempdir().unwrap();
    let cm = d.path().join("cm.json");
    let e = fails(tiny(&cm).arg("--checkpoint").arg(&cm).arg("--force"));
    assert!(e.contains("same file"), "{e}");
    assert!(!cm.exists());
    // the config file is not the checkpoint either
    let conf = d.path().join("c.toml");
    std::fs::write(&conf, "[task]\nname = \"perceptual-discrimination\"\n").unwrap();
    let e = fails(
        bin()
            .args(["train", "--config"])
            .arg(&conf)
            .arg("--checkpoint")
            .arg(&conf)
            .arg("-o")
            .arg(d.path().join("m.json")),
    );
    assert!(e.contains("destroy the config"), "{e}");
    assert!(std::fs::read_to_string(&conf).unwrap().contains("[task]"));
}

/// Item 3: an unwritable output fails before any training (no checkpoint written).
#[test]
fn item3_unwritable_output_fails_before_training() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("nodir").join("o.json");
    let ckpt = d.path().join("o.ckpt.json");
    let e = fails(tiny(&out).arg("--checkpoint").arg(&ckpt));
    assert!(e.contains("does not exist") && e.contains("nodir"), "{e}");
    assert!(!ckpt.exists(), "training ran before the output was checked");
}

/// Item 3: SIGINT during training saves a checkpoint, exits 130 and prints the command to
/// resume; resuming (with a nearer end) finishes.
#[cfg(unix)]
#[test]
fn item3_ctrl_c_checkpoints_and_prints_resume() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m.json");
    let ckpt = default_path(&out);
    let child = bin()
        .args([
            "train",
            "--task",
            "perceptual-discrimination",
            "--n-rec",
            "16",
            "--batch",
            "8",
        ])
        .args([
            "--trials",
            "8000000",
            "--checkpoint-every",
            "3",
            "--threads",
            "1",
            "-o",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if Checkpoint::load(&ckpt).is_ok_and(|c| c.batches_done >= 3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{e}");
    assert!(
        e.contains("--resume") && e.contains("interrupted after batch"),
        "{e}"
    );
    let at_stop = Checkpoint::load(&ckpt).expect("checkpoint after Ctrl-C");
    assert!(!at_stop.finished && at_stop.batches_done >= 3);
    assert!(
        e.contains(&format!(
            "interrupted after batch {} ",
            at_stop.batches_done
        )),
        "{e}"
    );
    let target = (at_stop.batches_done + 5 + 1) * 8;
    succeeds(
        bin()
            .args(["train", "--resume", "--trials", &target.to_string(), "-o"])
            .arg(&out),
    );
    let done = Checkpoint::load(&ckpt).unwrap();
    assert!(done.finished && done.batches_done == at_stop.batches_done + 5);
    assert!(out.exists());
}

/// Item 9: fewer than two batches' worth of trials is refused, naming the flag/key and the
/// minimum; no model is written.
#[test]
fn item9_too_few_trials_refused() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m.json");
    for trials in ["0", "1", "50", "99"] {
        let e = fails(
            bin()
                .args([
                    "train",
                    "--task",
                    "perceptual-discrimination",
                    "--trials",
                    trials,
                ])
                .arg("-o")
                .arg(&out),
        );
        assert!(e.contains("train.trials") && e.contains("--trials"), "{e}");
        assert!(
            e.contains(&format!("is {trials},")) && e.contains("2 batches") && e.contains("100"),
            "{e}"
        );
        assert!(!out.exists());
    }
}

/// Run `train` until a stderr line contains `needle`, then kill it; returns that line.
fn line_before_work(args: &[&str], needle: &str) -> String {
    let mut child = bin().args(args).stderr(Stdio::piped()).spawn().unwrap();
    let err = child.stderr.take().unwrap();
    let mut found = None;
    for line in BufReader::new(err).lines() {
        let line = line.unwrap();
        if line.contains(needle) {
            found = Some(line);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    found.unwrap_or_else(|| panic!("no line with {needle:?}"))
}

/// Item 12: a 4096-unit run prints its memory, checkpoint size and time estimate before
/// it starts.
#[test]
fn item12_large_run_prints_estimate_first() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m.json");
    let o = out.to_str().unwrap();
    let l = line_before_work(
        &[
            "train",
            "--task",
            "perceptual-discrimination",
            "--n-rec",
            "4096",
            "--float-only",
            "-o",
            o,
        ],
        "warning",
    );
    assert!(
        l.contains("large run") && l.contains("memory") && l.contains("checkpoint"),
        "{l}"
    );
    assert!(
        l.contains("MB per checkpoint") && l.contains("batches"),
        "{l}"
    );
    // an absurd size is refused before any allocation, naming the memory and the limit
    let e = fails(
        bin()
            .args([
                "train",
                "--task",
                "perceptual-discrimination",
                "--n-rec",
                "16384",
            ])
            .args([
                "--batch",
                "1000000",
                "--trials",
                "2000000",
                "--float-only",
                "-o",
                o,
            ]),
    );
    assert!(e.contains("GiB of memory") && e.contains("limit"), "{e}");
    assert!(!out.exists());
}

/// Item 13: `bench train --n-rec 16384 --batch 1000000` is refused at once, naming the
/// estimated memory and the machine's limit.
#[test]
fn item13_bench_estimates_memory_first() {
    let e = fails(bin().args([
        "bench",
        "train",
        "--n-rec",
        "16384",
        "--batch",
        "1000000",
        "--no-peak",
    ]));
    assert!(
        e.contains("this benchmark would need") && e.contains("GiB of memory"),
        "{e}"
    );
    assert!(e.contains("MemTotal") || e.contains("assumed"), "{e}");
    let e = fails(bin().args(["bench", "train", "--n-rec", "0"]));
    assert!(e.contains("--n-rec is 0"), "{e}");
}

/// Item 14: a size no blob can hold is refused unless --float-only, naming the limit.
#[test]
fn item14_undeployable_size_needs_float_only() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m.json");
    let e = fails(
        bin()
            .args([
                "train",
                "--task",
                "perceptual-discrimination",
                "--n-rec",
                "1025",
                "-o",
            ])
            .arg(&out),
    );
    assert!(
        e.contains("model.n_rec") && e.contains("1025") && e.contains("1024"),
        "{e}"
    );
    assert!(e.contains("--float-only"), "{e}");
    let e = fails(
        bin()
            .args([
                "train",
                "--task",
                "perceptual-discrimination",
                "--n-rec",
                "4",
                "--trials",
                "8",
            ])
            .arg("--float-only")
            .arg("-o")
            .arg(&out),
    );
    assert!(
        !e.contains("float-only") && e.contains("train.trials"),
        "--float-only only lifts the blob limits: {e}"
    );
}

/// Item 16: plain progress lines (batch, loss, accuracy, ETA) when stderr is not a terminal.
#[test]
fn item16_progress_lines_off_a_terminal() {
    let d = tempfile::tempdir().unwrap();
    let e = succeeds(&mut tiny(&d.path().join("m.json")));
    let lines: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("train batches: "))
        .collect();
    assert!(lines.len() >= 2, "{e}");
    assert!(
        lines.iter().any(|l| l.contains("10/10 (100 %) 40 trials")),
        "{e}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.contains("loss") && l.contains("acc") && l.contains("ETA")),
        "{e}"
    );
}

/// Item 16: --print-config prints the resolved config (file + flags + defaults) as TOML
/// and trains nothing.
#[test]
fn item16_print_config() {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("c.toml");
    std::fs::write(&conf, "[model]\nn_rec = 9\n[train]\nbatch = 7\n").unwrap();
    let o = bin()
        .args(["train", "--config"])
        .arg(&conf)
        .args([
            "--task",
            "delayed-discrimination",
            "--batch",
            "5",
            "--print-config",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let c = TrainConfig::from_toml(&String::from_utf8(o.stdout).unwrap(), "stdout").unwrap();
    assert_eq!(c.task.name, "delayed-discrimination");
    assert_eq!((c.model.n_rec, c.train.batch), (9, 5));
    assert_eq!(c.train.learning_rate, 1e-3);
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        1,
        "nothing written"
    );
}

/// A config file without `train.trials` trains for the task's own length, as `--task`
/// alone does (`gated_trials` for a gated cell); the file's `trials` and `--trials` win.
#[test]
fn config_without_trials_takes_the_task_length() {
    let d = tempfile::tempdir().unwrap();
    let resolved = |conf: &str, extra: &[&str]| -> u64 {
        let p = d.path().join("c.toml");
        std::fs::write(&p, conf).unwrap();
        let o = bin()
            .args(["train", "--config"])
            .arg(&p)
            .args(extra)
            .arg("--print-config")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        TrainConfig::from_toml(&String::from_utf8(o.stdout).unwrap(), "stdout")
            .unwrap()
            .train
            .trials
    };
    // anti-reach.toml: trials = 60000, gated_trials = 120000.
    let task = ["--task", "anti-reach"];
    assert_eq!(resolved("[model]\nn_rec = 9\n", &task), 60_000);
    assert_eq!(resolved("[task]\nname = \"anti-reach\"\n", &[]), 60_000);
    assert_eq!(resolved("[model]\ncell = \"gru\"\n", &task), 120_000);
    assert_eq!(
        resolved(
            "[model]\nn_rec = 9\n",
            &[&task[..], &["--cell", "lstm"]].concat()
        ),
        120_000
    );
    assert_eq!(resolved("[train]\ntrials = 777\n", &task), 777);
    assert_eq!(
        resolved(
            "[model]\nn_rec = 9\n",
            &[&task[..], &["--trials", "555"]].concat()
        ),
        555
    );
}

/// A task file's `lstm_chrono_tmax` is the `lstm` cell's default `init.chrono_tmax`
/// (perceptual-dm-delay-response sets 20), for `--task` alone and for a config file that
/// does not set the key; other cells, and a config file or run that sets it, keep theirs.
#[test]
fn task_chrono_tmax_is_the_lstm_default() {
    let d = tempfile::tempdir().unwrap();
    let resolved = |conf: Option<&str>, extra: &[&str]| -> f64 {
        let mut c = bin();
        c.arg("train");
        if let Some(conf) = conf {
            let p = d.path().join("c.toml");
            std::fs::write(&p, conf).unwrap();
            c.arg("--config").arg(p);
        }
        let o = c.args(extra).arg("--print-config").output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        TrainConfig::from_toml(&String::from_utf8(o.stdout).unwrap(), "stdout")
            .unwrap()
            .init
            .chrono_tmax
    };
    let task = ["--task", "perceptual-dm-delay-response"];
    let lstm = [&task[..], &["--cell", "lstm"]].concat();
    assert_eq!(resolved(None, &lstm), 20.0);
    assert_eq!(resolved(Some("[model]\nn_rec = 9\n"), &lstm), 20.0);
    assert_eq!(resolved(Some("[model]\ncell = \"lstm\"\n"), &task), 20.0);
    assert_eq!(resolved(Some("[init]\nchrono_tmax = 0.0\n"), &lstm), 0.0);
    assert_eq!(resolved(Some("[init]\nchrono_tmax = 5.0\n"), &lstm), 5.0);
    for cell in ["gru", "leaky", "lstm-psychrnn"] {
        assert_eq!(
            resolved(None, &[&task[..], &["--cell", cell]].concat()),
            0.0
        );
    }
    // A task without the key.
    assert_eq!(
        resolved(None, &["--task", "context-dependent-dm", "--cell", "lstm"]),
        0.0
    );
}

/// quickstart (the README's first command) runs twice in a row in the same folder.
#[test]
fn quickstart_runs_twice() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("qs");
    let run = || {
        succeeds(
            bin()
                .args([
                    "quickstart",
                    "--train-trials",
                    "150",
                    "--trials",
                    "20",
                    "--dir",
                ])
                .arg(&dir),
        )
    };
    let first = run();
    assert!(!first.contains("replacing"), "{first}");
    let second = run();
    assert!(
        second.contains("replacing the previous quickstart outputs"),
        "{second}"
    );
    let e = fails(
        bin()
            .args(["quickstart", "--train-trials", "10", "--dir"])
            .arg(&dir),
    );
    assert!(e.contains("--train-trials"), "{e}");
}
