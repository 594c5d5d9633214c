//! `neuroloop run` on native, PsychRNN and blob models: output layout, time alignment,
//! and input errors that name the key and write nothing.

use assert_cmd::Command;
use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use neuroloop::model::FloatModel;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/psychrnn")
        .join(name)
}

fn f32s(a: &Array) -> &[f32] {
    match &a.data {
        Data::F32(v) => v,
        d => panic!("dtype {}", d.type_name()),
    }
}

/// A small native model with distinct weights.
fn tiny() -> FloatModel {
    let mut m = FloatModel::zeros("tiny", 2, 3, 1);
    m.w_in = vec![0.5, -0.2, 0.1, 0.3, -0.4, 0.2];
    m.w_rec = vec![0.1, 0.2, -0.3, 0.0, 0.4, 0.1, -0.2, 0.1, 0.3];
    m.w_out = vec![1.0, -0.5, 0.25];
    m.b_rec = vec![0.05, -0.05, 0.0];
    m.b_out = vec![0.1];
    m.init_state = vec![0.1, 0.2, 0.3];
    m
}

fn write_x(path: &Path, shape: Vec<usize>, data: Data) {
    std::fs::write(path, npz::write([("x", &Array { shape, data })])).unwrap();
}

/// `neuroloop run --model MODEL --inputs INPUTS -o OUTPUT`.
fn run_files(model: &Path, inputs: &Path, output: &Path) -> assert_cmd::assert::Assert {
    run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "--inputs".as_ref(),
        inputs.as_os_str(),
        "-o".as_ref(),
        output.as_os_str(),
    ])
}

fn run(args: &[&std::ffi::OsStr]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("neuroloop")
        .unwrap()
        .arg("run")
        .args(args)
        .assert()
}

#[test]
fn run_native_model_psychrnn_alignment_first_entry_is_after_one_update() {
    let d = tempfile::tempdir().unwrap();
    let (mp, xp, yp) = (
        d.path().join("m.json"),
        d.path().join("x.npz"),
        d.path().join("y.npz"),
    );
    let m = tiny();
    m.save(&mp).unwrap();
    let x: Vec<f32> = (0..2 * 4 * 2).map(|k| (k as f32 * 0.37).sin()).collect();
    write_x(&xp, vec![2, 4, 2], Data::F32(x.clone()));
    run_files(&mp, &xp, &yp).success();
    let y = npz::read(&std::fs::read(&yp).unwrap()).unwrap();
    assert_eq!(y["outputs"].shape, vec![2, 4, 1]);
    assert_eq!(y["states"].shape, vec![2, 4, 3]);
    // Entry 0 of trial 1 = s₀ after one update with u = x[1, 0, :] (s₀ itself is not stored).
    let a = m.alpha();
    let u = &x[8..10];
    let r: Vec<f64> = m.init_state.iter().map(|&s| (s as f64).max(0.0)).collect();
    let s1: Vec<f64> = (0..3)
        .map(|i| {
            let rec: f64 = (0..3).map(|j| m.w_rec[i * 3 + j] as f64 * r[j]).sum();
            let inp: f64 = (0..2).map(|j| m.w_in[i * 2 + j] as f64 * u[j] as f64).sum();
            (1.0 - a) * m.init_state[i] as f64 + a * (rec + inp + m.b_rec[i] as f64)
        })
        .collect();
    let y1: f64 = (0..3)
        .map(|j| m.w_out[j] as f64 * s1[j].max(0.0))
        .sum::<f64>()
        + m.b_out[0] as f64;
    let st = f32s(&y["states"]);
    for i in 0..3 {
        assert!((st[12 + i] as f64 - s1[i]).abs() < 1e-6, "state {i}");
    }
    assert!((f32s(&y["outputs"])[4] as f64 - y1).abs() < 1e-6);
}

#[test]
fn run_psychrnn_npz_needs_dt_tau_and_matches_reference() {
    let d = tempfile::tempdir().unwrap();
    let yp = d.path().join("y.npz");
    let (w, x) = (fixture("dale_weights.npz"), fixture("dale_reference.npz"));
    let a = run_files(&w, &x, &yp).failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("--dt") && err.contains("dale_weights.npz"),
        "{err}"
    );
    assert!(!yp.exists());
    run(&[
        "--model".as_ref(),
        w.as_os_str(),
        "--dt".as_ref(),
        "10".as_ref(),
        "--tau".as_ref(),
        "100".as_ref(),
        "--inputs".as_ref(),
        x.as_os_str(),
        "-o".as_ref(),
        yp.as_os_str(),
    ])
    .success();
    let y = npz::read(&std::fs::read(&yp).unwrap()).unwrap();
    let r = npz::read(&std::fs::read(&x).unwrap()).unwrap();
    let err = f32s(&y["outputs"])
        .iter()
        .zip(f32s(&r["outputs"]))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err <= 1e-4, "{err}");
}

#[test]
fn run_blob_outputs_dequantized_states_and_outputs() {
    let d = tempfile::tempdir().unwrap();
    let (mp, bp, xp) = (
        d.path().join("m.json"),
        d.path().join("m.nlb"),
        d.path().join("x.npz"),
    );
    let (yf, yb) = (d.path().join("yf.npz"), d.path().join("yb.npz"));
    let m = tiny();
    m.save(&mp).unwrap();
    let x: Vec<f32> = (0..3 * 20 * 2)
        .map(|k| 0.5 + 0.5 * (k as f32 * 0.11).sin())
        .collect();
    let calib: Vec<Vec<f32>> = x.chunks(40).map(|c| c.to_vec()).collect();
    let q = neuroloop::quantize::quantize(&m, &Default::default(), &calib).unwrap();
    std::fs::write(&bp, &q.bytes).unwrap();
    write_x(
        &xp,
        vec![3, 20, 2],
        Data::F64(x.iter().map(|&v| v as f64).collect()),
    );
    for (model, out) in [(&mp, &yf), (&bp, &yb)] {
        run_files(model, &xp, out).success();
    }
    let f = npz::read(&std::fs::read(&yf).unwrap()).unwrap();
    let b = npz::read(&std::fs::read(&yb).unwrap()).unwrap();
    for k in ["outputs", "states"] {
        assert_eq!(f[k].shape, b[k].shape);
        let err = f32s(&f[k])
            .iter()
            .zip(f32s(&b[k]))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-2, "{k}: int16 blob vs float {err}");
    }
}

/// Each malformed input names file and key `x`, and no output appears.
#[test]
fn run_rejects_bad_inputs_naming_key_x() {
    let d = tempfile::tempdir().unwrap();
    let (mp, xp, yp) = (
        d.path().join("m.json"),
        d.path().join("x.npz"),
        d.path().join("y.npz"),
    );
    tiny().save(&mp).unwrap();
    // (key written, shape, data, expected message)
    let cases = [
        (
            "x",
            vec![4, 10],
            Data::F32(vec![0.0; 40]),
            "has shape [4, 10] but must be [batch, steps, N_in=2]",
        ),
        ("x", vec![1, 5, 3], Data::F32(vec![0.0; 15]), "N_in=2"),
        ("x", vec![1, 2, 2], Data::I64(vec![0; 4]), "dtype int64"),
        (
            "x",
            vec![1, 2, 2],
            Data::F32(vec![0.0, 0.0, f32::INFINITY, 0.0]),
            "element [0, 1, 0] is inf",
        ),
        (
            "inputs",
            vec![1, 2, 2],
            Data::F32(vec![0.0; 4]),
            "is missing",
        ),
    ];
    for (key, shape, data, msg) in cases {
        std::fs::write(&xp, npz::write([(key, &Array { shape, data })])).unwrap();
        let a = run_files(&mp, &xp, &yp).failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains("x.npz: key `x`") && err.contains(msg), "{err}");
        assert!(!yp.exists());
    }
    // A model file of no known kind.
    std::fs::write(&mp, b"hello").unwrap();
    write_x(&xp, vec![1, 2, 2], Data::F32(vec![0.0; 4]));
    let a = run_files(&mp, &xp, &yp).failure();
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("m.json"));
    assert!(!yp.exists());
}
