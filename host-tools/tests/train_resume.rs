//! Durability: SIGKILL a training process, resume it, finish with an intact checkpoint;
//! a resumed run equals an uninterrupted one; NaN stops with the batch named; bad configs
//! name the key.

use neuroloop::train::checkpoint::Checkpoint;
use neuroloop::train::config::TrainConfig;
use neuroloop::train::{TrainError, Trainer};
use std::process::Command;
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuroloop"))
}

#[cfg(unix)]
#[test]
fn train_sigkill_then_resume_finishes_intact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let ckpt = dir.path().join("m.json.ckpt.json");
    // Long enough that it is still running when killed: 100 000 batches.
    let mut child = bin()
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
            "800000",
            "--checkpoint-every",
            "3",
            "--threads",
            "1",
            "-o",
        ])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut seen = 0;
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(c) = Checkpoint::load(&ckpt) {
            if c.batches_done >= 9 {
                seen = c.batches_done;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(seen >= 9, "no checkpoint appeared");
    let at_kill = Checkpoint::load(&ckpt).expect("checkpoint intact after SIGKILL");
    assert!(!at_kill.finished, "the run was interrupted, not finished");
    assert!(!out.exists(), "the model is written only at the end");
    // Resume with a nearer end so the test is short; the run continues from the checkpoint.
    let target = (at_kill.batches_done + 20 + 1) * 8;
    let st = bin()
        .args(["train", "--resume", "--trials", &target.to_string(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let done = Checkpoint::load(&ckpt).unwrap();
    assert!(done.finished);
    assert_eq!(done.batches_done, at_kill.batches_done + 20);
    let m = neuroloop::model::load(&out).unwrap();
    assert_eq!(
        m, done.model,
        "model file equals the final checkpoint's model"
    );
}

#[test]
fn train_resume_equals_uninterrupted() {
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.model.n_rec = 12;
    cfg.train.batch = 6;
    cfg.train.trials = 6 * 13;
    cfg.train.threads = 2;
    let mut a = Trainer::new(cfg.clone()).unwrap();
    a.run(None, &mut |_| {}).unwrap();
    let mut b = Trainer::new(cfg.clone()).unwrap();
    for _ in 0..5 {
        b.step().unwrap();
    }
    let ck: Checkpoint =
        serde_json::from_slice(&serde_json::to_vec(&b.checkpoint()).unwrap()).unwrap();
    let mut cfg1 = cfg.clone();
    cfg1.train.checkpoint_every = 7; // may change on resume
    let mut c = Trainer::resume(ck, Some(cfg1)).unwrap();
    c.run(None, &mut |_| {}).unwrap();
    assert_eq!(a.model(), c.model());
}

#[test]
fn train_resume_rejects_changed_config() {
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.model.n_rec = 8;
    cfg.train.batch = 4;
    let t = Trainer::new(cfg.clone()).unwrap();
    let mut other = cfg.clone();
    other.train.learning_rate = 0.5;
    let e = Trainer::resume(t.checkpoint(), Some(other))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("train.learning_rate"), "{e}");
}

#[test]
fn train_nan_names_the_batch() {
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.model.n_rec = 8;
    cfg.train.batch = 4;
    cfg.train.learning_rate = 1e30;
    cfg.init.spec_rad = 1e18;
    let mut t = Trainer::new(cfg).unwrap();
    let e = (0..50)
        .map(|_| t.step())
        .find_map(Result::err)
        .expect("diverges");
    match &e {
        TrainError::NonFinite { batch, .. } => assert!(*batch >= 1),
        other => panic!("unexpected {other}"),
    }
    assert!(e.to_string().contains("at batch"), "{e}");
}

#[test]
fn train_cli_bad_config_names_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[task]\nname = \"perceptual-discrimination\"\n[model]\nn_rec = 0\n",
    )
    .unwrap();
    let o = bin()
        .args(["train", "--config"])
        .arg(&cfg)
        .args(["-o"])
        .arg(dir.path().join("m.json"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("model.n_rec"));
    let o = bin()
        .args(["train", "--task", "nope", "-o"])
        .arg(dir.path().join("m.json"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("perceptual-discrimination"));
}
