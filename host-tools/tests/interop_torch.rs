//! PyTorch `nn.GRU`/`nn.LSTM` + `nn.Linear` state_dict npz interop against fixtures made
//! by torch itself (`tools/torch/make_fixtures.py`; no Python needed here): outputs and
//! states match torch, `export → import` is bit-exact, torch loads the export, and every
//! malformed file gives an error naming the key.

use assert_cmd::Command;
use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use neuroloop::interop::torch::{self, ExportPrefixes, TorchOptions};
use neuroloop::model::{Cell, FloatModel};
use std::path::{Path, PathBuf};

mod common;

use common::f32_array;

fn fixture(name: &str) -> PathBuf {
    common::fixture("torch", name)
}

fn arrays(name: &str) -> npz::Arrays {
    common::arrays("torch", name)
}

fn f32s(a: &Array) -> Vec<f32> {
    match &a.data {
        Data::F32(v) => v.clone(),
        d => panic!("dtype {}", d.type_name()),
    }
}

fn import(name: &str) -> FloatModel {
    torch::import(&fixture(name), &TorchOptions::new(10.0, 100.0))
        .unwrap()
        .model
}

/// Max |ours − torch| of outputs and of hidden states over every trial of `x`, by the
/// forward pass `neuroloop run` and `eval` use for gated float models.
fn max_errors(m: &FloatModel, r: &npz::Arrays, outputs_key: &str) -> (f64, f64) {
    let x = &r["x"];
    let per = x.shape[1] * x.shape[2];
    let (mut out, mut st) = (Vec::new(), Vec::new());
    for t in f32s(x).chunks_exact(per) {
        let tr = neuroloop::run::run_gated(m, t);
        out.extend(tr.outputs);
        st.extend(tr.states);
    }
    let err = |ours: &[f64], theirs: &[f32]| {
        assert_eq!(ours.len(), theirs.len());
        ours.iter()
            .zip(theirs)
            .map(|(a, &b)| (a - b as f64).abs())
            .fold(0.0, f64::max)
    };
    let eo = err(&out, &f32s(&r[outputs_key]));
    let es = r.get("states").map_or(0.0, |s| err(&st, &f32s(s)));
    (eo, es)
}

#[test]
fn torch_gru_and_lstm_fixtures_match_torch_outputs_and_states() {
    for (name, cell, h) in [("gru", Cell::Gru, 16), ("lstm", Cell::Lstm, 20)] {
        let m = import(&format!("{name}_weights.npz"));
        assert_eq!((m.cell, m.n_in, m.n_rec, m.n_out), (cell, 3, h, 2));
        let r = arrays(&format!("{name}_reference.npz"));
        let (eo, es) = max_errors(&m, &r, "outputs");
        eprintln!(
            "{name}: neuroloop vs torch, max abs error: outputs {eo:.3e}, hidden states {es:.3e}"
        );
        assert!(eo <= 1e-5 && es <= 1e-5, "{name}: {eo} {es}");
        // The comparison can fail: the model without its initial state / with a GRU bias
        // moved between b_rec and b_hn is far off.
        let mut wrong = m.clone();
        if cell == Cell::Gru {
            let n = m.n_rec;
            for k in 0..n {
                wrong.b_rec[2 * n + k] += wrong.b_hn[k];
                wrong.b_hn[k] = 0.0;
            }
        } else {
            wrong.init_state.fill(0.0);
        }
        let (wo, _) = max_errors(&wrong, &r, "outputs");
        assert!(wo > 1e-3, "{name}: a wrong model gives {wo}");
    }
}

#[test]
fn torch_loads_the_export_and_export_import_is_bit_exact() {
    for (name, prefixes) in [
        ("gru", ExportPrefixes::default()),
        (
            "lstm",
            ExportPrefixes {
                rnn: "lstm.".into(),
                readout: "out.".into(),
            },
        ),
    ] {
        let m = import(&format!("{name}_weights.npz"));
        // The committed export is what this build writes, byte for byte.
        let bytes = torch::export(&m, &prefixes).unwrap();
        assert_eq!(
            bytes,
            std::fs::read(fixture(&format!("{name}_exported.npz"))).unwrap(),
            "{name}"
        );
        // torch's outputs on that file (load_state_dict, strict) equal ours.
        let mut r = arrays(&format!("{name}_reference.npz"));
        r.remove("states");
        r.insert(
            "sim".into(),
            arrays(&format!("{name}_exported_sim.npz"))["outputs"].clone(),
        );
        let (e, _) = max_errors(&m, &r, "sim");
        eprintln!("{name}: torch on neuroloop's export vs neuroloop, max abs {e:.3e}");
        assert!(e <= 1e-5, "{name}: {e}");
        // export → import: every tensor bit for bit; export again: the same bytes.
        let back = torch::import_bytes(Path::new("x.npz"), &bytes, &TorchOptions::new(10.0, 100.0))
            .unwrap()
            .model;
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (a, b) in [
            (&back.w_in, &m.w_in),
            (&back.w_rec, &m.w_rec),
            (&back.b_rec, &m.b_rec),
            (&back.b_hn, &m.b_hn),
            (&back.w_out, &m.w_out),
            (&back.b_out, &m.b_out),
            (&back.init_state, &m.init_state),
        ] {
            assert_eq!(bits(a), bits(b), "{name}");
        }
        assert_eq!(torch::export(&back, &prefixes).unwrap(), bytes);
    }
}

#[test]
fn cli_import_run_export_round_trip() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("gru.json");
    Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["import", "torch"])
        .arg(fixture("gru_weights.npz"))
        .args(["--dt", "10", "-o"])
        .arg(&model)
        .assert()
        .success();
    // `neuroloop run` on the reference inputs gives torch's outputs.
    let x = d.path().join("x.npz");
    let r = arrays("gru_reference.npz");
    std::fs::write(&x, npz::write([("x", &r["x"])])).unwrap();
    let y = d.path().join("y.npz");
    Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["run", "--model"])
        .arg(&model)
        .arg("--inputs")
        .arg(&x)
        .arg("-o")
        .arg(&y)
        .assert()
        .success();
    let ours = npz::read(&std::fs::read(&y).unwrap()).unwrap();
    let key = ["outputs", "y"]
        .into_iter()
        .find(|k| ours.contains_key(*k))
        .expect("outputs key");
    let err = f32s(&ours[key])
        .iter()
        .zip(f32s(&r["outputs"]))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err <= 1e-5, "{err}");
    // export torch → the committed export; export psychrnn is refused naming the cell.
    let out = d.path().join("e.npz");
    Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["export", "torch"])
        .arg(&model)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(fixture("gru_exported.npz")).unwrap()
    );
    let bad = d.path().join("p.npz");
    let a = Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["export", "psychrnn"])
        .arg(&model)
        .arg("-o")
        .arg(&bad)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("gru") && err.contains("export torch"), "{err}");
    assert!(!bad.exists());
}

// ---- malformed files: each names the key (and the shape or value) and writes nothing ----

/// The GRU fixture's arrays changed by `edit`, written to `dir/bad.npz`.
fn bad_npz(dir: &Path, base: &str, edit: impl FnOnce(&mut npz::Arrays)) -> PathBuf {
    common::edited_npz(&fixture(base), dir, edit)
}

/// `import torch` on `bad` fails naming `` `key` `` and `also`, and writes nothing.
fn assert_rejected(dir: &Path, bad: &Path, key: &str, also: &str) {
    let err = common::import_refused("torch", bad, &["--dt", "10"], dir);
    assert!(
        err.contains(&format!("`{key}`")) && err.contains("bad.npz") && err.contains(also),
        "expected `{key}` and {also:?} in: {err}"
    );
}

#[test]
fn missing_key_is_named() {
    let d = tempfile::tempdir().unwrap();
    for key in ["rnn.bias_hh_l0", "fc.bias", "rnn.weight_hh_l0"] {
        let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
            a.remove(key);
        });
        assert_rejected(d.path(), &bad, key, "missing");
    }
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.remove("rnn.weight_ih_l0");
    });
    assert_rejected(d.path(), &bad, "weight_ih_l0", "missing");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.remove("fc.weight");
    });
    assert_rejected(d.path(), &bad, "weight", "readout");
}

#[test]
fn wrong_shape_is_named() {
    let d = tempfile::tempdir().unwrap();
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("rnn.weight_ih_l0".into(), f32_array(vec![48, 4], 0.1));
        a.insert("rnn.weight_hh_l0".into(), f32_array(vec![40, 16], 0.1));
    });
    assert_rejected(d.path(), &bad, "rnn.weight_hh_l0", "shape [40, 16]");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("rnn.weight_ih_l0".into(), f32_array(vec![64, 3], 0.1));
    });
    assert_rejected(d.path(), &bad, "rnn.weight_ih_l0", "shape [64, 3]");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("rnn.bias_ih_l0".into(), f32_array(vec![16], 0.1));
    });
    assert_rejected(d.path(), &bad, "rnn.bias_ih_l0", "(48,)");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("fc.weight".into(), f32_array(vec![2, 15], 0.1));
    });
    assert_rejected(d.path(), &bad, "fc.weight", "(N_out, H=16)");
    let bad = bad_npz(d.path(), "lstm_weights.npz", |a| {
        a.insert("h0".into(), f32_array(vec![2, 1, 20], 0.1));
    });
    assert_rejected(d.path(), &bad, "h0", "shape [2, 1, 20]");
    // nn.RNN (one gate block) is named as such.
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("rnn.weight_ih_l0".into(), f32_array(vec![16, 3], 0.1));
        a.insert("rnn.weight_hh_l0".into(), f32_array(vec![16, 16], 0.1));
    });
    assert_rejected(d.path(), &bad, "rnn.weight_hh_l0", "nn.RNN");
}

#[test]
fn extra_layer_direction_projection_and_unknown_keys_are_named() {
    let d = tempfile::tempdir().unwrap();
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("rnn.weight_ih_l1".into(), f32_array(vec![48, 16], 0.1));
    });
    assert_rejected(d.path(), &bad, "rnn.weight_ih_l1", "layer 2");
    let bad = bad_npz(d.path(), "lstm_weights.npz", |a| {
        a.insert("bias_hh_l0_reverse".into(), f32_array(vec![80], 0.1));
    });
    assert_rejected(d.path(), &bad, "bias_hh_l0_reverse", "bidirectional");
    let bad = bad_npz(d.path(), "lstm_weights.npz", |a| {
        a.insert("weight_hr_l0".into(), f32_array(vec![10, 20], 0.1));
    });
    assert_rejected(d.path(), &bad, "weight_hr_l0", "proj_size");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("encoder.bias".into(), f32_array(vec![3], 0.1));
    });
    assert_rejected(d.path(), &bad, "encoder.bias", "not part of");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("head.weight".into(), f32_array(vec![2, 16], 0.1));
    });
    assert_rejected(d.path(), &bad, "head.weight", "--readout");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert("c0".into(), f32_array(vec![16], 0.1));
    });
    assert_rejected(d.path(), &bad, "c0", "GRU has none");
}

#[test]
fn non_finite_and_wrong_dtype_are_named() {
    let d = tempfile::tempdir().unwrap();
    let bad = bad_npz(d.path(), "lstm_weights.npz", |a| {
        if let Data::F32(v) = &mut a.get_mut("weight_hh_l0").unwrap().data {
            v[123] = f32::NAN;
        }
    });
    assert_rejected(d.path(), &bad, "weight_hh_l0", "element 123 is NaN");
    let bad = bad_npz(d.path(), "lstm_weights.npz", |a| {
        if let Data::F32(v) = &mut a.get_mut("out.bias").unwrap().data {
            v[1] = f32::INFINITY;
        }
    });
    assert_rejected(d.path(), &bad, "out.bias", "element 1 is inf");
    let bad = bad_npz(d.path(), "gru_weights.npz", |a| {
        a.insert(
            "fc.bias".into(),
            Array {
                shape: vec![2],
                data: Data::I64(vec![0, 1]),
            },
        );
    });
    assert_rejected(d.path(), &bad, "fc.bias", "dtype int64");
    // float16 (a half-precision state_dict) fails in the .npy reader, naming the key.
    let base = arrays("gru_weights.npz");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (k, v) in &base {
        let mut bytes = v.to_npy();
        if k == "rnn.bias_hh_l0" {
            let at = bytes.windows(3).position(|w| w == b"<f4").unwrap();
            bytes[at + 1..at + 3].copy_from_slice(b"f2");
        }
        zip.start_file(format!("{k}.npy"), zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &bytes).unwrap();
    }
    let bad = d.path().join("bad.npz");
    std::fs::write(&bad, zip.finish().unwrap().into_inner()).unwrap();
    assert_rejected(d.path(), &bad, "rnn.bias_hh_l0", "<f2");
}

#[test]
fn export_refuses_cells_torch_has_no_module_for() {
    for cell in [Cell::Leaky, Cell::LstmPsychrnn] {
        let m = FloatModel::zeros_cell("m", cell, 2, 3, 1);
        let e = torch::export(&m, &ExportPrefixes::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(cell.name()) && e.contains("export psychrnn"),
            "{e}"
        );
    }
}
