//! Issue 9, evaluate/deploy side: one test per item (2, 4, 5, 6, 7, 8, 11, 15, 16), each
//! failing on the CLI before the change (the behaviour it pins was absent or different)
//! and passing after. Tiny models and few trials keep each test fast.

use assert_cmd::Command;
use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use neuroloop::model::FloatModel;
use std::path::{Path, PathBuf};
use std::process::Output;

const TASK: &str = "perceptual-discrimination";

/// Run `neuroloop ARGS` (paths as strings).
fn nl(args: &[&str]) -> Output {
    Command::cargo_bin("neuroloop")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", err(&o));
    o
}

/// Fails, with every needle in stderr.
fn fails(o: Output, needles: &[&str]) -> String {
    let e = err(&o);
    assert!(!o.status.success(), "succeeded: {e}");
    assert!(needles.iter().all(|n| e.contains(n)), "{e}");
    e
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A 2-in, `n_rec`, 2-out relu model on the perceptual-discrimination task.
fn model(n_rec: usize, rec_noise: f32) -> FloatModel {
    let mut m = FloatModel::zeros("t", 2, n_rec, 2);
    m.task = TASK.into();
    m.rec_noise = rec_noise;
    for (k, w) in m.w_in.iter_mut().enumerate() {
        *w = ((k * 11 % 7) as f32 - 3.0) / 3.0;
    }
    for (k, w) in m.w_rec.iter_mut().enumerate() {
        *w = ((k * 37 % 17) as f32 - 8.0) / 60.0;
    }
    for (k, w) in m.w_out.iter_mut().enumerate() {
        *w = ((k * 5 % 9) as f32 - 4.0) / 4.0;
    }
    m.init_state.iter_mut().for_each(|v| *v = 0.1);
    m
}

fn save(dir: &Path, name: &str, m: &FloatModel) -> PathBuf {
    let p = dir.join(name);
    m.save(&p).unwrap();
    p
}

/// Quantize `model` to `out` (no held-out check) and return `out`.
fn blob(model: &Path, out: &Path) -> PathBuf {
    ok(nl(&[
        "quantize",
        s(model),
        "-o",
        s(out),
        "--eval-trials",
        "0",
    ]));
    out.into()
}

fn write_x(path: &Path, batch: usize, steps: usize, v: f32) -> PathBuf {
    let a = Array {
        shape: vec![batch, steps, 2],
        data: Data::F32(vec![v; batch * steps * 2]),
    };
    std::fs::write(path, npz::write([("x", &a)])).unwrap();
    path.into()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Item 2: output = input is refused for every writing command, the input is untouched;
/// an existing output needs --force.
#[test]
fn item2_output_same_as_input_refused_and_existing_needs_force() {
    let d = tempfile::tempdir().unwrap();
    let m = save(d.path(), "m.json", &model(4, 0.0));
    let before = std::fs::read(&m).unwrap();
    let x = write_x(&d.path().join("x.npz"), 1, 5, 0.5);
    let npz = d.path().join("w.npz");
    ok(nl(&["export", "psychrnn", s(&m), "-o", s(&npz)]));
    let npz_before = std::fs::read(&npz).unwrap();
    let same = "is the input file";
    fails(nl(&["quantize", s(&m), "-o", s(&m)]), &[same]);
    fails(
        nl(&["run", "--model", s(&m), "--inputs", s(&x), "-o", s(&m)]),
        &[same],
    );
    fails(
        nl(&["run", "--model", s(&m), "--inputs", s(&x), "-o", s(&x)]),
        &[same],
    );
    fails(nl(&["export", "psychrnn", s(&m), "-o", s(&m)]), &[same]);
    let imp = [
        "import",
        "psychrnn",
        s(&npz),
        "--dt",
        "10",
        "--tau",
        "100",
        "-o",
    ];
    fails(nl(&[&imp[..], &[s(&npz)]].concat()), &[same]);
    assert_eq!(std::fs::read(&m).unwrap(), before);
    assert_eq!(std::fs::read(&npz).unwrap(), npz_before);
    // Existing output: refused without --force, overwritten with it.
    let b = blob(&m, &d.path().join("b.nlb"));
    fails(
        nl(&["quantize", s(&m), "-o", s(&b), "--eval-trials", "0"]),
        &["already exists", "--force"],
    );
    ok(nl(&[
        "quantize",
        s(&m),
        "-o",
        s(&b),
        "--eval-trials",
        "0",
        "--force",
    ]));
    fails(
        nl(&["export", "psychrnn", s(&m), "-o", s(&npz)]),
        &["--force"],
    );
}

/// Item 4: noise is stated and the same on both sides; accuracy noise-off by default with
/// the noisy figure beside it; quantization error measured noise-off; a blob runs noise-off.
#[test]
fn item4_noise_is_stated_same_on_both_sides_and_rmse_is_noise_off() {
    let d = tempfile::tempdir().unwrap();
    let noisy = save(d.path(), "noisy.json", &model(6, 0.3));
    let quiet = save(d.path(), "quiet.json", &model(6, 0.0));
    let bn = blob(&noisy, &d.path().join("noisy.nlb"));
    let bq = blob(&quiet, &d.path().join("quiet.nlb"));
    let cmp = |b: &Path, f: &Path, noise: &str| {
        json(&ok(nl(&[
            "eval",
            "--model",
            s(b),
            "--compare",
            s(f),
            "--trials",
            "50",
            "--noise",
            noise,
            "--json",
        ])))
    };
    let off = cmp(&bn, &noisy, "off");
    assert_eq!(off["noise"], "off");
    assert_eq!(off["other_noise"]["noise"], "on");
    // The quantization error of the noisy model is that of the same weights without noise.
    let q = cmp(&bq, &quiet, "off");
    assert_eq!(off["output_rmse"], q["output_rmse"]);
    assert_eq!(off["float_accuracy"], q["float_accuracy"]);
    assert!(q["other_noise"].is_null());
    let on = cmp(&bn, &noisy, "on");
    assert_eq!(on["noise"], "on");
    assert_eq!(on["other_noise"]["fixed_accuracy"], off["fixed_accuracy"]);
    // A float model's eval: noise off by default, the noisy figure beside it.
    let e = json(&ok(nl(&[
        "eval",
        "--model",
        s(&noisy),
        "--trials",
        "50",
        "--json",
    ])));
    assert_eq!(e["noise"], "off");
    assert_eq!(e["other_noise"]["noise"], "on");
    assert_eq!(e["accuracy"], off["float_accuracy"]);
    let h = err(&ok(nl(&["eval", "--model", s(&noisy), "--trials", "20"])));
    assert!(
        h.contains("recurrent noise off") && h.contains("with noise on"),
        "{h}"
    );
    // A blob with noise runs deterministic with --noise off (two runs, same bytes), and
    // differently with --noise on.
    let x = write_x(&d.path().join("x.npz"), 1, 30, 0.5);
    let run = |noise: &str, out: &str| {
        let o = d.path().join(out);
        let r = ok(nl(&[
            "run",
            "--model",
            s(&bn),
            "--inputs",
            s(&x),
            "-o",
            s(&o),
            "--noise",
            noise,
            "--json",
        ]));
        assert_eq!(json(&r)["noise"], noise);
        npz::read_filtered(&std::fs::read(&o).unwrap(), |_| true).unwrap()
    };
    let (a, b, c) = (run("off", "a.npz"), run("off", "b.npz"), run("on", "c.npz"));
    assert_eq!(a, b);
    assert_ne!(a["states"], c["states"]);
    let q_run = ok(nl(&[
        "run",
        "--model",
        s(&bq),
        "--inputs",
        s(&x),
        "-o",
        s(&d.path().join("q.npz")),
    ]));
    let q_states =
        npz::read_filtered(&std::fs::read(d.path().join("q.npz")).unwrap(), |_| true).unwrap();
    assert!(q_run.status.success());
    assert_eq!(
        a["states"], q_states["states"],
        "noise off = the noise-free blob"
    );
}

/// Item 5: comparing models of different shape or kind is refused, naming both values.
#[test]
fn item5_compare_refuses_different_models() {
    let d = tempfile::tempdir().unwrap();
    let m = save(d.path(), "m.json", &model(4, 0.0));
    let b = blob(&m, &d.path().join("m.nlb"));
    let big = save(d.path(), "big.json", &model(6, 0.0));
    fails(
        nl(&[
            "eval",
            "--model",
            s(&b),
            "--compare",
            s(&big),
            "--trials",
            "5",
        ]),
        &["n_rec", "float 6", "blob 4"],
    );
    let mut t = model(4, 0.0);
    t.transfer = neuroloop::Transfer::Tanh;
    let t = save(d.path(), "tanh.json", &t);
    fails(
        nl(&[
            "eval",
            "--model",
            s(&b),
            "--compare",
            s(&t),
            "--trials",
            "5",
        ]),
        &["transfer", "float tanh", "blob relu"],
    );
    let mut slow = model(4, 0.0);
    slow.tau = 60.0;
    let slow = save(d.path(), "slow.json", &slow);
    fails(
        nl(&[
            "eval",
            "--model",
            s(&b),
            "--compare",
            s(&slow),
            "--trials",
            "5",
        ]),
        &["tau", "float 60 ms", "blob 100 ms"],
    );
}

/// Item 6: saturation counts reported by run; NaN outputs are an error naming trial/step,
/// with nothing written; eval refuses a diverging model too.
#[test]
fn item6_saturation_counts_and_nan_exit_nonzero() {
    let d = tempfile::tempdir().unwrap();
    let m = save(d.path(), "m.json", &model(4, 0.0));
    let b = blob(&m, &d.path().join("m.nlb"));
    let huge = write_x(&d.path().join("huge.npz"), 2, 10, 1e6);
    let o = ok(nl(&[
        "run",
        "--model",
        s(&b),
        "--inputs",
        s(&huge),
        "-o",
        s(&d.path().join("o.npz")),
        "--json",
    ]));
    let sat = &json(&o)["saturation"];
    assert_eq!(sat["inputs"], 2 * 10 * 2, "every input value is clipped");
    let h = err(&ok(nl(&[
        "run",
        "--model",
        s(&b),
        "--inputs",
        s(&huge),
        "-o",
        s(&d.path().join("o2.npz")),
    ])));
    assert!(h.contains("warning: saturation: 40 inputs clipped"), "{h}");
    // Diverging float model: W_rec = 100·I.
    let mut div = model(4, 0.0);
    div.transfer = neuroloop::Transfer::Identity;
    div.w_rec = vec![0.0; 16];
    for i in 0..4 {
        div.w_rec[i * 4 + i] = 100.0;
    }
    let div = save(d.path(), "div.json", &div);
    let x = write_x(&d.path().join("x.npz"), 1, 400, 0.5);
    let out = d.path().join("nan.npz");
    fails(
        nl(&["run", "--model", s(&div), "--inputs", s(&x), "-o", s(&out)]),
        &["trial 0, step", "diverges", "nothing written"],
    );
    assert!(!out.exists());
    fails(
        nl(&["eval", "--model", s(&div), "--trials", "3"]),
        &["trial 0, step", "diverges"],
    );
}

/// Item 7: flags that do not apply to the model are refused, naming flag and model kind.
#[test]
fn item7_flags_that_do_not_apply_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let m = save(d.path(), "pd.json", &model(4, 0.0));
    let b = blob(&m, &d.path().join("pd.nlb"));
    let x = write_x(&d.path().join("x.npz"), 1, 5, 0.5);
    let o = d.path().join("o.npz");
    let base = |model: &Path| {
        vec![
            "run".to_string(),
            "--model".into(),
            s(model).into(),
            "--inputs".into(),
            s(&x).into(),
            "-o".into(),
            s(&o).into(),
        ]
    };
    let with = |model: &Path, extra: &[&str]| {
        let mut a = base(model);
        a.extend(extra.iter().map(|e| e.to_string()));
        nl(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    fails(
        with(&m, &["--transfer", "tanh"]),
        &[
            "--transfer applies only to PsychRNN .npz",
            "pd.json",
            "float model",
            "relu",
        ],
    );
    fails(
        with(&m, &["--dt", "50", "--tau", "60"]),
        &["--dt applies only"],
    );
    fails(
        with(&m, &["--rec-noise", "0.1"]),
        &["--rec-noise applies only"],
    );
    fails(
        with(&b, &["--noise-seed", "3"]),
        &[
            "--noise-seed applies only to float models",
            "pd.nlb",
            "stored in the blob",
        ],
    );
    assert!(!o.exists());
    ok(with(&m, &["--noise-seed", "3"]));
}

/// Item 8: calibration minimums, absurd rec_noise, and the held-out drop threshold.
#[test]
fn item8_quantize_minimums_noise_limit_and_max_drop() {
    let d = tempfile::tempdir().unwrap();
    let mut plain = model(4, 0.0);
    plain.task = String::new();
    let plain = save(d.path(), "plain.json", &plain);
    let out = d.path().join("o.nlb");
    fails(
        nl(&["quantize", s(&plain), "-o", s(&out), "--steps", "0"]),
        &["--steps is 0", "at least 20"],
    );
    fails(
        nl(&["quantize", s(&plain), "-o", s(&out), "--trials", "0"]),
        &["--trials is 0", "at least 8"],
    );
    let loud = save(d.path(), "loud.json", &model(4, 1e30));
    fails(
        nl(&["quantize", s(&loud), "-o", s(&out)]),
        &[
            "`rec_noise` is 1000000015",
            "largest rec_noise this model can carry",
        ],
    );
    assert!(!out.exists());
    // No task: the report says there was no check.
    let h = err(&ok(nl(&["quantize", s(&plain), "-o", s(&out)])));
    assert!(h.contains("no held-out check"), "{h}");
    // A model whose decision lives below the state resolution: float ≈ 1, fixed ≈ 0.5.
    let mut f = FloatModel::zeros("fragile", 2, 2, 2);
    f.task = TASK.into();
    f.transfer = neuroloop::Transfer::Identity;
    f.w_in = vec![1e-6, 0.0, 0.0, 1e-6];
    f.w_out = vec![1e6, 0.0, 0.0, 1e6];
    let f = save(d.path(), "fragile.json", &f);
    let fo = d.path().join("f.nlb");
    let q = ["quantize", s(&f), "-o", s(&fo), "--eval-trials", "100"];
    fails(
        nl(&q),
        &[
            "accuracy drops",
            "--max-drop 2",
            "nothing written",
            "--allow-drop",
        ],
    );
    assert!(!fo.exists());
    ok(nl(&[&q[..], &["--allow-drop"]].concat()));
    assert!(fo.exists());
    ok(nl(&[&q[..], &["--max-drop", "100", "--force"]].concat()));
}

/// Item 11: absurd sizes are refused before any allocation, naming the value and estimate.
#[test]
fn item11_absurd_sizes_refused_with_estimate() {
    let d = tempfile::tempdir().unwrap();
    let m = save(d.path(), "m.json", &model(4, 0.0));
    let b = blob(&m, &d.path().join("m.nlb"));
    let out = d.path().join("o.nlb");
    fails(
        nl(&["quantize", s(&m), "-o", s(&out), "--trials", "100000000"]),
        &["--trials 100000000", "GiB of memory", "GiB, 80 % of"],
    );
    let mut plain = model(4, 0.0);
    plain.task = String::new();
    let plain = save(d.path(), "plain.json", &plain);
    fails(
        nl(&[
            "quantize",
            s(&plain),
            "-o",
            s(&out),
            "--steps",
            "4000000000",
        ]),
        &["4000000000 steps", "GiB of memory"],
    );
    fails(
        nl(&["eval", "--model", s(&b), "--trials", "10000000000"]),
        &["--trials 10000000000", "days (limits"],
    );
    fails(
        nl(&["eval", "--model", s(&m), "--t", "4000000"]),
        // The task's own step limit refuses it first, naming the value and the limit.
        &["task.t", "4000000 ms", "100000 steps"],
    );
}

/// Item 15: each cause once; NaN in JSON names the field; npz dtype named right and once;
/// inspect describes a float model as such; inspect's human output is on stderr.
#[test]
fn item15_error_text_and_inspect() {
    let d = tempfile::tempdir().unwrap();
    let e = fails(
        nl(&[
            "quantize",
            s(&d.path().join("missing.json")),
            "-o",
            s(&d.path().join("o.nlb")),
        ]),
        &["missing.json"],
    );
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
    let m = save(d.path(), "m.json", &model(4, 0.0));
    let text = std::fs::read_to_string(&m).unwrap();
    let nan = d.path().join("nan.json");
    std::fs::write(&nan, text.replacen("\"w_out\":[", "\"w_out\":[NaN,", 1)).unwrap();
    fails(
        nl(&["quantize", s(&nan), "-o", s(&d.path().join("o.nlb"))]),
        &["`w_out` holds NaN at element 0", "must be finite"],
    );
    // int32 where float is required (run's inputs and import's weights).
    let x = d.path().join("x.npz");
    let a = Array {
        shape: vec![1, 2, 2],
        data: Data::I32(vec![0; 4]),
    };
    std::fs::write(&x, npz::write([("x", &a)])).unwrap();
    let e = fails(
        nl(&[
            "run",
            "--model",
            s(&m),
            "--inputs",
            s(&x),
            "-o",
            s(&d.path().join("o.npz")),
        ]),
        &["dtype int32"],
    );
    assert_eq!(e.matches("dtype").count(), 1, "{e}");
    // inspect: a float model is described as one; human output on stderr only.
    let o = ok(nl(&["inspect", s(&m)]));
    assert!(o.stdout.is_empty());
    assert!(err(&o).contains("neuroloop float model (JSON)") && err(&o).contains("n_rec 4"));
    assert_eq!(json(&ok(nl(&["inspect", s(&m), "--json"])))["n_rec"], 4);
    let b = blob(&m, &d.path().join("m.nlb"));
    let o = ok(nl(&["inspect", s(&b)]));
    assert!(
        o.stdout.is_empty() && err(&o).contains("NLRN"),
        "{}",
        err(&o)
    );
}

/// Item 16: import --task records the task (eval then needs no --task); accuracy is
/// printed as a 4-decimal fraction everywhere.
#[test]
fn item16_import_records_task_and_one_accuracy_format() {
    let d = tempfile::tempdir().unwrap();
    let m = save(d.path(), "m.json", &model(4, 0.0));
    let w = d.path().join("w.npz");
    ok(nl(&["export", "psychrnn", s(&m), "-o", s(&w)]));
    let imp = d.path().join("imp.json");
    ok(nl(&[
        "import",
        "psychrnn",
        s(&w),
        "--dt",
        "10",
        "--tau",
        "100",
        "--task",
        TASK,
        "-o",
        s(&imp),
    ]));
    assert_eq!(neuroloop::model::load(&imp).unwrap().task, TASK);
    let h = err(&ok(nl(&["eval", "--model", s(&imp), "--trials", "20"])));
    let acc = h.split("accuracy ").nth(1).unwrap();
    assert!(
        acc.len() > 6
            && acc.as_bytes()[1] == b'.'
            && acc[2..6].bytes().all(|c| c.is_ascii_digit())
            && acc.as_bytes()[6] == b',',
        "{h}"
    );
    let b = d.path().join("b.nlb");
    let h = err(&ok(nl(&[
        "quantize",
        s(&imp),
        "-o",
        s(&b),
        "--eval-trials",
        "20",
    ])));
    assert!(
        !h.contains('%') || h.contains("% of the float output range"),
        "{h}"
    );
    assert!(
        h.contains("accuracy      float 0.") || h.contains("accuracy      float 1."),
        "{h}"
    );
}
