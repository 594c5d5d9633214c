//! `neuroloop eval` on a blob (fixed-point core) with `--compare FLOAT`, and
//! `neuroloop quantize --calibrate-task` with its held-out report.

use assert_cmd::Command;
use neuroloop::train::config::TrainConfig;
use neuroloop::train::Trainer;

fn neuroloop() -> Command {
    Command::cargo_bin("neuroloop").unwrap()
}

fn json(cmd: &mut Command) -> serde_json::Value {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn eval_blob_side_by_side_with_float() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.train.trials = 4000;
    let mut t = Trainer::new(cfg).unwrap();
    t.run(None, &mut |_| {}).unwrap();
    let model = dir.path().join("pd.json");
    t.model().save(&model).unwrap();
    let blob = dir.path().join("pd.nlb");
    let (m, b) = (model.to_str().unwrap(), blob.to_str().unwrap());

    let q = json(neuroloop().args([
        "quantize",
        m,
        "--weights",
        "i8",
        "--calibrate-task",
        "perceptual-discrimination",
        "--eval-trials",
        "200",
        "--json",
        "-o",
        b,
    ]));
    assert_eq!(q["comparison"]["trials"], 200);
    assert!(q["quantization"]["state_frac"].as_u64().unwrap() <= 15);

    let c = json(neuroloop().args([
        "eval",
        "--model",
        b,
        "--compare",
        m,
        "--trials",
        "300",
        "--json",
    ]));
    let (fa, xa) = (
        c["float_accuracy"].as_f64().unwrap(),
        c["fixed_accuracy"].as_f64().unwrap(),
    );
    assert_eq!(
        c["task"], "perceptual-discrimination",
        "task defaults to the blob's"
    );
    assert!(fa > 0.6, "float accuracy {fa}");
    assert!((fa - xa).abs() <= 0.02, "float {fa} vs fixed {xa}");
    assert!(
        c["output_rmse"].as_f64().unwrap() > 0.0,
        "int8 cannot be exact"
    );

    // The float accuracy is the one `eval` gives the float model on the same trials.
    let f = json(neuroloop().args(["eval", "--model", m, "--trials", "300", "--json"]));
    assert!((f["accuracy"].as_f64().unwrap() - fa).abs() <= 0.01);

    // Blob alone: no float columns.
    let x = json(neuroloop().args(["eval", "--model", b, "--trials", "300", "--json"]));
    assert_eq!(x["fixed_accuracy"], c["fixed_accuracy"]);
    assert!(x["float_accuracy"].is_null());

    // Two floats is a usage error naming the file.
    let o = neuroloop()
        .args(["eval", "--model", m, "--compare", m])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("pd.json"));
}
