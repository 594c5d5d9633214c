//! Issue 9 item 10: TOML values range-checked before training, each error naming the key
//! and the value; `--task` fills in a config without `[task]`.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuroloop"))
}

/// Train with `toml` as the config; returns (success, stderr).
fn train_with(toml: &str, extra: &[&str]) -> (bool, String) {
    let d = tempfile::tempdir().unwrap();
    let conf = d.path().join("c.toml");
    std::fs::write(&conf, toml).unwrap();
    let o = bin()
        .args(["train", "--config"])
        .arg(&conf)
        .args([
            "--n-rec",
            "4",
            "--batch",
            "4",
            "--trials",
            "12",
            "--threads",
            "1",
        ])
        .args(extra)
        .arg("-o")
        .arg(d.path().join("m.json"))
        .output()
        .unwrap();
    let ok = o.status.success();
    assert_eq!(ok, d.path().join("m.json").exists());
    (ok, String::from_utf8_lossy(&o.stderr).into_owned())
}

fn refused(toml: &str, key: &str, value: &str) {
    let (ok, e) = train_with(toml, &[]);
    assert!(!ok, "accepted:\n{toml}");
    assert!(e.contains(key) && e.contains(value), "{key} = {value}: {e}");
    assert!(!e.contains("diverged"), "{e}");
}

#[test]
fn item10_out_of_range_values_are_named() {
    let pd = "[task]\nname = \"perceptual-discrimination\"\n";
    let dd = "[task]\nname = \"delayed-discrimination\"\n";
    refused(
        &format!("{dd}delay_duration = 5000.0\n"),
        "task.delay_duration",
        "5000",
    );
    refused(&format!("{pd}coherence = 5.0\n"), "task.coherence", "5");
    refused(
        &format!("{pd}[train]\nperformance_cutoff = 2.0\n"),
        "train.performance_cutoff",
        "2",
    );
    refused(
        &format!("{pd}[init]\ninit_minval = 0.5\ninit_maxval = 0.1\n"),
        "init.init_minval",
        "0.5",
    );
    refused(
        &format!("{pd}[init]\ninit_minval = nan\n"),
        "init.init_minval",
        "NaN",
    );
    refused(&format!("{pd}dt = 0.0\n"), "task.dt", "0");
    refused(&format!("{pd}tau = 5.0\n"), "task.tau", "5");
    refused(&format!("{pd}direction = 2\n"), "task.direction", "2");
    refused(&format!("{pd}t = 10000000.0\n"), "task.t", "steps");
    refused(
        &format!("{pd}[curriculum]\nstages = [{{ name = \"perceptual-discrimination\" }}]\nthresholds = [1.5]\n"),
        "curriculum.thresholds[0]",
        "1.5",
    );
}

#[test]
fn item10_task_flag_fills_a_config_without_task() {
    let (ok, e) = train_with("", &["--task", "perceptual-discrimination"]);
    assert!(ok, "{e}");
    let (ok, e) = train_with("[model]\nn_rec = 3\n", &["--task", "match-to-category"]);
    assert!(ok, "{e}");
    let (ok, e) = train_with("", &[]);
    assert!(!ok && e.contains("task"), "{e}");
}
