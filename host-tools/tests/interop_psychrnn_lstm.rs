//! PsychRNN 1.0.0 LSTM saves against fixtures made by PsychRNN itself
//! (`tools/psychrnn/make_fixtures.py lstm`; no Python needed here): the imported
//! `lstm-psychrnn` model runs like PsychRNN's `LSTMSimulator` and `model.test`, the
//! initial-state row choice and its effect, `export → import` bit-exact, and malformed
//! LSTM saves named by key.

use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use neuroloop::interop::psychrnn::{self, ImportOptions};
use neuroloop::model::{Cell, FloatModel};
use std::path::{Path, PathBuf};

mod common;

fn fixture(name: &str) -> PathBuf {
    common::fixture("psychrnn", name)
}

fn arrays(name: &str) -> npz::Arrays {
    common::arrays("psychrnn", name)
}

fn f32s(a: &Array) -> Vec<f32> {
    match &a.data {
        Data::F32(v) => v.clone(),
        Data::F64(v) => v.iter().map(|&x| x as f32).collect(),
        d => panic!("dtype {}", d.type_name()),
    }
}

fn import(row: usize) -> psychrnn::Imported {
    let mut o = ImportOptions::new(10.0, 100.0);
    o.init_row = row;
    psychrnn::import(&fixture("lstm_weights.npz"), &o).unwrap()
}

/// Outputs and hidden states of every trial of `x` ([batch, steps, n_in]) by the forward
/// pass `neuroloop run` and `eval` use for gated float models.
fn run(m: &FloatModel, x: &Array) -> Vec<(Vec<f64>, Vec<f64>)> {
    f32s(x)
        .chunks_exact(x.shape[1] * x.shape[2])
        .map(|t| {
            let tr = neuroloop::run::run_gated(m, t);
            (tr.outputs, tr.states)
        })
        .collect()
}

fn max_abs(ours: &[f64], theirs: &[f32]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(theirs)
        .map(|(a, &b)| (a - b as f64).abs())
        .fold(0.0, f64::max)
}

/// PerceptualDiscrimination's choice of one trial: argmax_c mean_t(output·mask).
fn decision(outputs: &[f64], mask: &[f32], n_out: usize) -> usize {
    let mut sums = vec![0.0; n_out];
    for (k, (o, m)) in outputs.iter().zip(mask).enumerate() {
        sums[k % n_out] += o * *m as f64;
    }
    (0..n_out).fold(0, |best, c| if sums[c] > sums[best] { c } else { best })
}

#[test]
fn psychrnn_lstm_save_runs_like_psychrnn() {
    let imp = import(0);
    let m = &imp.model;
    assert_eq!(m.cell, Cell::LstmPsychrnn);
    let r = arrays("lstm_reference.npz");
    let (batch, steps) = (r["x"].shape[0], r["x"].shape[1]);
    assert_eq!(r["outputs"].shape, [batch, steps, m.n_out]);
    let (po, ps) = (steps * m.n_out, steps * m.n_rec);
    let ours = run(m, &r["x"]);
    // Row 0 for every trial: PsychRNN's LSTMSimulator, on every trial.
    let sim_o = f32s(&r["sim_outputs"]);
    let sim_s = f32s(&r["sim_states"]);
    let (mut eo, mut es) = (0.0f64, 0.0f64);
    for (b, (o, s)) in ours.iter().enumerate() {
        eo = eo.max(max_abs(o, &sim_o[b * po..(b + 1) * po]));
        es = es.max(max_abs(s, &sim_s[b * ps..(b + 1) * ps]));
    }
    eprintln!(
        "init row 0 vs LSTMSimulator, {batch} trials: max abs outputs {eo:.3e}, hidden {es:.3e}"
    );
    assert!(eo <= 1e-4 && es <= 1e-4, "{eo} {es}");

    // model.test starts trial b from row b: with init_row = b the import reproduces it.
    let test_o = f32s(&r["outputs"]);
    let test_s = f32s(&r["states"]);
    let mask = f32s(&r["mask"]);
    let mut worst = 0.0f64;
    for b in 0..batch {
        let mb = import(b).model;
        let (o, s) = &run(&mb, &r["x"])[b];
        worst = worst
            .max(max_abs(o, &test_o[b * po..(b + 1) * po]))
            .max(max_abs(s, &test_s[b * ps..(b + 1) * ps]));
    }
    eprintln!("init row b vs model.test trial b: max abs {worst:.3e}");
    assert!(worst <= 1e-4, "{worst}");

    // The effect of one initial state (row 0) on model.test's trials 1..: measured.
    let (mut diff, mut changed) = (0.0f64, 0);
    for (b, (o, _)) in ours.iter().enumerate().skip(1) {
        let t = &test_o[b * po..(b + 1) * po];
        diff = diff.max(max_abs(o, t));
        let theirs: Vec<f64> = t.iter().map(|&v| v as f64).collect();
        let mk = &mask[b * po..(b + 1) * po];
        changed += usize::from(decision(o, mk, m.n_out) != decision(&theirs, mk, m.n_out));
    }
    eprintln!(
        "row 0 instead of row b (trials 1..{batch} of model.test): outputs differ by up to \
         {diff:.3e}, {changed} of {} decisions change",
        batch - 1
    );
    // The note reports the spread of the rows.
    assert!(
        imp.notes
            .iter()
            .any(|n| n.contains(&format!("row 0 of the {batch} rows"))),
        "{:?}",
        imp.notes
    );
}

#[test]
fn export_import_is_bit_exact_and_loads_in_lstm_simulator() {
    let m = import(0).model;
    let bytes = psychrnn::export(&m).unwrap();
    // The committed export (written by the CLI) is what this build writes.
    assert_eq!(bytes, std::fs::read(fixture("lstm_exported.npz")).unwrap());
    // PsychRNN's LSTMSimulator on that file gives our outputs.
    let r = arrays("lstm_reference.npz");
    let sim = f32s(&arrays("lstm_exported_sim.npz")["outputs"]);
    let ours: Vec<f64> = run(&m, &r["x"]).into_iter().flat_map(|(o, _)| o).collect();
    let e = max_abs(&ours, &sim);
    eprintln!("LSTMSimulator on neuroloop's export vs neuroloop: max abs {e:.3e}");
    assert!(e <= 1e-4, "{e}");
    let back = psychrnn::import_bytes(Path::new("x.npz"), &bytes, &ImportOptions::new(10.0, 100.0))
        .unwrap()
        .model;
    assert_eq!(back.cell, Cell::LstmPsychrnn);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (a, b) in [
        (&back.w_in, &m.w_in),
        (&back.w_rec, &m.w_rec),
        (&back.b_rec, &m.b_rec),
        (&back.w_out, &m.w_out),
        (&back.b_out, &m.b_out),
        (&back.init_state, &m.init_state),
    ] {
        assert_eq!(bits(a), bits(b));
    }
    assert_eq!(psychrnn::export(&back).unwrap(), bytes);
    // Import → export keeps every gate tensor of PsychRNN's own file bit for bit.
    let orig = arrays("lstm_weights.npz");
    let ours = npz::read(&bytes).unwrap();
    for k in [
        "W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o", "W_out", "b_out",
    ] {
        assert_eq!(ours[k], orig[k], "{k}");
    }
}

// ---- malformed LSTM saves: each names the key and writes nothing ----

fn bad_npz(dir: &Path, edit: impl FnOnce(&mut npz::Arrays)) -> PathBuf {
    common::edited_npz(&fixture("lstm_weights.npz"), dir, edit)
}

fn assert_rejected(dir: &Path, bad: &Path, extra: &[&str], key: &str, also: &str) {
    let args: Vec<&str> = ["--dt", "10", "--tau", "100"]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    let err = common::import_refused("psychrnn", bad, &args, dir);
    assert!(
        err.contains(key) && err.contains(also),
        "expected {key} and {also:?} in: {err}"
    );
}

use common::f32_array as mat;

#[test]
fn malformed_lstm_saves_are_named() {
    let d = tempfile::tempdir().unwrap();
    let n = arrays("lstm_weights.npz")["b_f"].shape[0];
    let bad = bad_npz(d.path(), |a| {
        a.remove("W_o");
    });
    assert_rejected(d.path(), &bad, &[], "`W_o`", "LSTM save has");
    let bad = bad_npz(d.path(), |a| {
        a.remove("init_cell");
    });
    assert_rejected(d.path(), &bad, &[], "`init_cell`", "missing");
    let bad = bad_npz(d.path(), |a| {
        a.insert("W_c".into(), mat(vec![n + 3, n], 0.1));
    });
    assert_rejected(
        d.path(),
        &bad,
        &[],
        "`W_c`",
        &format!("shape [{}, {n}]", n + 3),
    );
    let bad = bad_npz(d.path(), |a| {
        a.insert("b_f".into(), mat(vec![n, 1], 0.1));
    });
    assert_rejected(d.path(), &bad, &[], "`b_f`", "(N_rec,)");
    let bad = bad_npz(d.path(), |a| {
        a.insert("init_cell".into(), mat(vec![3, n], 0.1));
    });
    assert_rejected(d.path(), &bad, &[], "`init_cell`", "shape [3,");
    let bad = bad_npz(d.path(), |a| {
        if let Data::F32(v) = &mut a.get_mut("init_cell").unwrap().data {
            v[5] = f32::NAN;
        }
    });
    assert_rejected(d.path(), &bad, &[], "`init_cell`", "element 5 is NaN");
    let bad = bad_npz(d.path(), |a| {
        a.insert(
            "b_i".into(),
            Array {
                shape: vec![n],
                data: Data::I32(vec![1; n]),
            },
        );
    });
    assert_rejected(d.path(), &bad, &[], "`b_i`", "dtype int32");
    // A masked readout: PsychRNN saved the masked W_out but its LSTM uses the raw one.
    let bad = bad_npz(d.path(), |a| {
        let mut m = mat(vec![2, n], 1.0);
        if let Data::F32(v) = &mut m.data {
            v[3] = 0.0;
        }
        a.insert("output_connectivity".into(), m);
    });
    assert_rejected(
        d.path(),
        &bad,
        &[],
        "`output_connectivity`",
        "element 3 is 0",
    );
    // Options: a row PsychRNN did not train, recurrent noise.
    let good = fixture("lstm_weights.npz");
    let rows = arrays("lstm_weights.npz")["init_hidden"].shape[0];
    assert_rejected(
        d.path(),
        &good,
        &["--init-row", &rows.to_string()],
        "--init-row",
        &format!("{rows} row(s)"),
    );
    assert_rejected(
        d.path(),
        &good,
        &["--rec-noise", "0.1"],
        "--rec-noise",
        "no recurrent noise",
    );
}
