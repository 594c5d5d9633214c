//! Malformed PsychRNN files: every class of fault gives an error naming the key, and
//! nothing is written (`neuroloop import psychrnn`, `neuroloop run`).

use assert_cmd::Command;
use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use std::path::{Path, PathBuf};

mod common;

fn fixture(name: &str) -> PathBuf {
    common::fixture("psychrnn", name)
}

/// The Dale fixture's arrays, changed by `edit`, written to `dir/bad.npz`.
fn bad_npz(dir: &Path, edit: impl FnOnce(&mut npz::Arrays)) -> PathBuf {
    common::edited_npz(&fixture("dale_weights.npz"), dir, edit)
}

/// `import psychrnn` and `run` on `bad` both fail, name `key` and leave no output behind.
fn assert_rejected(dir: &Path, bad: &Path, key: &str, also: &str) {
    let err = common::import_refused("psychrnn", bad, &["--dt", "10", "--tau", "100"], dir);
    assert!(
        err.contains(&format!("`{key}`")) && err.contains("bad.npz") && err.contains(also),
        "{err}"
    );

    let x = dir.join("x.npz");
    let xa = Array {
        shape: vec![1, 3, 2],
        data: Data::F32(vec![0.5; 6]),
    };
    std::fs::write(&x, npz::write([("x", &xa)])).unwrap();
    let y = dir.join("y.npz");
    let a = Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["run", "--dt", "10", "--tau", "100", "--model"])
        .arg(bad)
        .arg("--inputs")
        .arg(&x)
        .arg("-o")
        .arg(&y)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains(&format!("`{key}`")), "{err}");
    assert!(!y.exists(), "run wrote {y:?}");
    // No temp files left either.
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn missing_key_is_named() {
    let d = tempfile::tempdir().unwrap();
    let bad = bad_npz(d.path(), |a| {
        a.remove("W_rec");
    });
    assert_rejected(d.path(), &bad, "W_rec", "missing");
}

#[test]
fn wrong_shape_is_named() {
    let d = tempfile::tempdir().unwrap();
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "b_out".into(),
            Array {
                shape: vec![3],
                data: Data::F32(vec![0.0; 3]),
            },
        );
    });
    assert_rejected(d.path(), &bad, "b_out", "shape [3]");
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "W_in".into(),
            Array {
                shape: vec![2, 20],
                data: Data::F32(vec![0.0; 40]),
            },
        );
    });
    assert_rejected(d.path(), &bad, "W_in", "(N_rec=20, N_in)");
}

#[test]
fn wrong_dtype_is_named() {
    let d = tempfile::tempdir().unwrap();
    // Integers are not weights.
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "W_out".into(),
            Array {
                shape: vec![2, 20],
                data: Data::I64(vec![0; 40]),
            },
        );
    });
    assert_rejected(d.path(), &bad, "W_out", "dtype int64");
    // An unsupported NumPy dtype (complex64) fails in the .npy reader, still naming the key.
    let bad = bad_npz(d.path(), |a| {
        a.remove("b_rec");
    });
    let others = npz::read(&std::fs::read(&bad).unwrap()).unwrap();
    let b_rec = Array {
        shape: vec![20],
        data: Data::F64(vec![0.0; 20]),
    }
    .to_npy();
    let at = b_rec.windows(3).position(|w| w == b"<f8").unwrap();
    let mut c8 = b_rec.clone();
    c8[at + 1..at + 3].copy_from_slice(b"c8");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (k, v) in &others {
        zip.start_file(format!("{k}.npy"), zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &v.to_npy()).unwrap();
    }
    zip.start_file("b_rec.npy", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, &c8).unwrap();
    std::fs::write(&bad, zip.finish().unwrap().into_inner()).unwrap();
    assert_rejected(d.path(), &bad, "b_rec", "<c8");
    // An object array where a matrix should be.
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "W_rec".into(),
            Array {
                shape: vec![],
                data: Data::Object(b"\x80\x02N.".to_vec()),
            },
        );
    });
    assert_rejected(d.path(), &bad, "W_rec", "shape");
}

#[test]
fn pickle_other_than_none_or_float_is_refused() {
    let d = tempfile::tempdir().unwrap();
    // pickle of os.system('touch PWNED'): must be refused, never run.
    let evil =
        b"\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00touch PWNEDq\x01\x85q\x02Rq\x03.".to_vec();
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "dale_ratio".into(),
            Array {
                shape: vec![],
                data: Data::Object(evil),
            },
        );
    });
    assert_rejected(d.path(), &bad, "dale_ratio", "pickle refused");
    assert!(!Path::new("PWNED").exists() && !d.path().join("PWNED").exists());
    // A pickled string inside an otherwise valid object array.
    let s = b"\x80\x03X\x03\x00\x00\x000.8.".to_vec();
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "dale_ratio".into(),
            Array {
                shape: vec![],
                data: Data::Object(s),
            },
        );
    });
    assert_rejected(d.path(), &bad, "dale_ratio", "pickle refused");
    // A float out of range.
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "dale_ratio".into(),
            Array {
                shape: vec![],
                data: Data::F64(vec![1.5]),
            },
        );
    });
    assert_rejected(d.path(), &bad, "dale_ratio", "1.5");
}

#[test]
fn non_finite_weight_is_named() {
    let d = tempfile::tempdir().unwrap();
    let bad = bad_npz(d.path(), |a| {
        let mut v = vec![0.0f32; 20];
        v[7] = f32::NAN;
        a.insert(
            "init_state".into(),
            Array {
                shape: vec![1, 20],
                data: Data::F32(v),
            },
        );
    });
    assert_rejected(d.path(), &bad, "init_state", "element 7 is NaN");
}

#[test]
fn corrupt_archive_is_rejected_without_output() {
    let d = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("dale_weights.npz")).unwrap();
    let bad = d.path().join("bad.npz");
    std::fs::write(&bad, &good[..good.len() / 2]).unwrap();
    let out = d.path().join("model.json");
    let a = Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["import", "psychrnn"])
        .arg(&bad)
        .args(["--dt", "10", "--tau", "100", "-o"])
        .arg(&out)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("bad.npz") && err.contains("zip"), "{err}");
    assert!(!out.exists());
}

#[test]
fn bad_options_are_named() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("model.json");
    let a = Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["import", "psychrnn"])
        .arg(fixture("dale_weights.npz"))
        .args(["--dt", "10", "--tau", "5", "-o"])
        .arg(&out)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("--tau"), "{err}");
    assert!(!out.exists());
}

/// A PsychRNN LSTM save also holds the (unused) Basic matrices: a file with any LSTM key
/// is read as an LSTM save (by content, not name), so a partial one is refused naming the
/// missing gate key instead of silently importing the Basic matrices.
#[test]
fn partial_psychrnn_lstm_save_is_refused_naming_the_missing_gate_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = bad_npz(dir.path(), |a| {
        let (n, i) = (a["W_rec"].shape[0], a["W_in"].shape[1]);
        let mat = |r: usize, c: usize| Array {
            shape: vec![r, c],
            data: Data::F32(vec![0.1; r * c]),
        };
        for k in ["W_f", "W_i", "W_c", "W_o"] {
            a.insert(k.into(), mat(n + i, n));
        }
        for k in ["b_f", "b_i", "b_c"] {
            a.insert(
                k.into(),
                Array {
                    shape: vec![n],
                    data: Data::F32(vec![1.0; n]),
                },
            );
        }
        a.insert("init_hidden".into(), mat(1, n));
        a.insert("init_cell".into(), mat(1, n));
    });
    assert_rejected(dir.path(), &bad, "b_o", "LSTM");
}
