//! PsychRNN 1.0.0 interop against fixtures made by PsychRNN itself
//! (`tools/psychrnn/make_fixtures.py`; no Python needed here).

use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use neuroloop::interop::pickle::{self, Scalar};
use neuroloop::interop::psychrnn::{self, ImportOptions};
use neuroloop::model::{FloatModel, Trace};
use neuroloop::quantize::{quantize, QuantConfig, WeightFormat};
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
        Data::I32(v) => v.iter().map(|&x| x as f32).collect(),
        Data::I64(v) => v.iter().map(|&x| x as f32).collect(),
        Data::Object(_) => panic!("object array"),
    }
}

fn import(name: &str) -> psychrnn::Imported {
    let mut o = ImportOptions::new(10.0, 100.0);
    o.name = Some("m".into());
    psychrnn::import(&fixture(name), &o).unwrap()
}

/// Run every trial of `x` ([batch, steps, n_in]) in the float reference.
fn run_float(m: &FloatModel, x: &Array) -> Vec<Trace> {
    let eff = m.effective();
    f32s(x)
        .chunks_exact(x.shape[1] * x.shape[2])
        .map(|t| eff.run(t, None))
        .collect()
}

fn max_abs_outputs(traces: &[Trace], reference: &Array) -> f64 {
    let r = f32s(reference);
    let ours: Vec<f64> = traces
        .iter()
        .flat_map(|t| t.outputs.iter().copied())
        .collect();
    assert_eq!(ours.len(), r.len());
    ours.iter()
        .zip(&r)
        .map(|(a, &b)| (a - b as f64).abs())
        .fold(0.0, f64::max)
}

/// PerceptualDiscrimination.accuracy_function's choice: argmax_c mean_t(output·mask).
fn decisions(outputs: &[f64], mask: &[f32], batch: usize, n_out: usize) -> Vec<usize> {
    let per = outputs.len() / batch;
    (0..batch)
        .map(|b| {
            let mut sums = vec![0.0; n_out];
            for (k, (o, m)) in outputs[b * per..(b + 1) * per]
                .iter()
                .zip(&mask[b * per..(b + 1) * per])
                .enumerate()
            {
                sums[k % n_out] += o * *m as f64;
            }
            (0..n_out).fold(0, |best, c| if sums[c] > sums[best] { c } else { best })
        })
        .collect()
}

#[test]
fn psychrnn_trained_model_runs_like_psychrnn_and_int16_blob_keeps_every_decision() {
    let imp = import("basic_weights.npz");
    let m = &imp.model;
    assert_eq!((m.n_in, m.n_rec, m.n_out), (2, 50, 2));
    assert_eq!(
        m.constraints,
        neuroloop::model::Constraints::default(),
        "{:?}",
        imp.notes
    );
    let r = arrays("basic_reference.npz");
    let (x, batch) = (&r["x"], r["x"].shape[0]);
    let traces = run_float(m, x);
    let err = max_abs_outputs(&traces, &r["outputs"]);
    eprintln!("float vs PsychRNN model.test: max abs output error {err:.3e} over {batch} trials");
    assert!(err <= 1e-4, "{err}");
    // States too (first trials), PsychRNN time alignment: entry t = after the t-th update.
    let sh = f32s(&r["states_head"]);
    let ours: Vec<f64> = traces
        .iter()
        .take(r["states_head"].shape[0])
        .flat_map(|t| t.states.clone())
        .collect();
    let serr = ours
        .iter()
        .zip(&sh)
        .map(|(a, &b)| (a - b as f64).abs())
        .fold(0.0, f64::max);
    assert!(serr <= 1e-4, "{serr}");

    // PsychRNN's decisions are reproduced by the float model.
    let mask = f32s(&r["mask"]);
    let flat = |ts: &[Trace]| {
        ts.iter()
            .flat_map(|t| t.outputs.clone())
            .collect::<Vec<f64>>()
    };
    let float_dec = decisions(&flat(&traces), &mask, batch, 2);
    let psychrnn_dec: Vec<usize> = match &r["decisions"].data {
        Data::I32(v) => v.iter().map(|&d| d as usize).collect(),
        Data::I64(v) => v.iter().map(|&d| d as usize).collect(),
        d => panic!("decisions dtype {}", d.type_name()),
    };
    assert_eq!(float_dec, psychrnn_dec);

    // int16 blob, calibrated on the fixture's inputs: same decision on every trial.
    let calib: Vec<Vec<f32>> = f32s(x)
        .chunks_exact(x.shape[1] * 2)
        .map(|t| t.to_vec())
        .collect();
    let cfg = QuantConfig {
        weights: WeightFormat::I16,
        ..Default::default()
    };
    let q = quantize(m, &cfg, &calib).unwrap();
    let blob = neuroloop_core::Model::from_bytes(&q.bytes).unwrap();
    let fixed: Vec<Trace> = calib
        .iter()
        .map(|t| neuroloop::sim::run_blob(&blob, t))
        .collect();
    let fixed_dec = decisions(&flat(&fixed), &mask, batch, 2);
    let agree = fixed_dec
        .iter()
        .zip(&psychrnn_dec)
        .filter(|(a, b)| a == b)
        .count();
    let ferr = max_abs_outputs(&fixed, &r["outputs"]);
    eprintln!("int16 blob: decisions agree on {agree}/{batch} trials; max abs output error vs PsychRNN {ferr:.3e}");
    assert_eq!(fixed_dec, psychrnn_dec);
}

#[test]
fn dale_model_imports_with_its_constraints_and_runs_like_psychrnn() {
    let imp = import("dale_weights.npz");
    let m = &imp.model;
    let w = arrays("dale_weights.npz");
    // PsychRNN 1.0.0 wrote Dale_out = Dale_rec; the output mask keeps inhibitory units out.
    assert_eq!(w["Dale_out"], w["Dale_rec"]);
    assert_eq!(m.constraints.dale_ratio, Some(0.8), "{:?}", imp.notes);
    assert_eq!(m.n_excitatory(), Some(16));
    assert!(m.constraints.rec_connectivity.is_some() && m.constraints.input_connectivity.is_some());
    assert!(m.constraints.output_connectivity.is_some());
    // Re-applying the constraints reproduces the file's effective weights exactly.
    let e = m.effective();
    for (key, eff) in [("W_in", &e.w_in), ("W_rec", &e.w_rec), ("W_out", &e.w_out)] {
        let file: Vec<f64> = f32s(&w[key]).iter().map(|&v| v as f64).collect();
        assert_eq!(&file, eff, "{key}");
    }
    let r = arrays("dale_reference.npz");
    let err = max_abs_outputs(&run_float(m, &r["x"]), &r["outputs"]);
    eprintln!("Dale model vs PsychRNN model.test: max abs output error {err:.3e}");
    assert!(err <= 1e-4, "{err}");
}

fn assert_same_arrays(a: &npz::Arrays, b: &npz::Arrays, keys: &[&str]) {
    for k in keys {
        let (x, y) = (&a[*k], &b[*k]);
        assert_eq!(x.shape, y.shape, "{k}");
        match (&x.data, &y.data) {
            (Data::F32(p), Data::F32(q)) => {
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(p), bits(q), "{k}: f32 bits differ");
            }
            (Data::F64(p), Data::F64(q)) => assert_eq!(p, q, "{k}"),
            (Data::Object(p), Data::Object(q)) => {
                assert_eq!(
                    pickle::object_scalar(p).unwrap(),
                    pickle::object_scalar(q).unwrap(),
                    "{k}"
                )
            }
            (p, q) => panic!("{k}: {} vs {}", p.type_name(), q.type_name()),
        }
    }
}

const ALL_KEYS: [&str; 12] = [
    "W_in",
    "W_rec",
    "W_out",
    "b_rec",
    "b_out",
    "init_state",
    "Dale_rec",
    "Dale_out",
    "input_connectivity",
    "rec_connectivity",
    "output_connectivity",
    "dale_ratio",
];

#[test]
fn import_export_round_trip_is_bit_exact() {
    for name in ["basic_weights.npz", "dale_weights.npz"] {
        let imp = import(name);
        let exported = psychrnn::export(&imp.model).unwrap();
        let back = npz::read(&exported).unwrap();
        let orig = arrays(name);
        // Every array of the PsychRNN file comes back bit for bit (Dale_out aside: neuroloop
        // writes its own diag 1/0 rule, which gives the same W_out here).
        let keys: Vec<&str> = ALL_KEYS
            .iter()
            .copied()
            .filter(|k| *k != "Dale_out")
            .collect();
        assert_same_arrays(&orig, &back, &keys);
        // export → import is exact: the same model, field for field, bit for bit.
        let again = psychrnn::import_bytes(Path::new(name), &exported, &{
            let mut o = ImportOptions::new(10.0, 100.0);
            o.name = Some("m".into());
            o
        })
        .unwrap();
        let mut a = again.model.clone();
        a.summary = imp.model.summary.clone();
        assert_eq!(a, imp.model, "{name}");
        let bits = |m: &FloatModel| {
            [
                &m.w_in,
                &m.w_rec,
                &m.w_out,
                &m.b_rec,
                &m.b_out,
                &m.init_state,
            ]
            .iter()
            .flat_map(|v| v.iter().map(|f| f.to_bits()))
            .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&imp.model), "{name}");
        assert_eq!(
            psychrnn::export(&a).unwrap(),
            exported,
            "{name}: export is a fixed point"
        );
    }
    // The checked-in export (run through BasicSimulator) is what export writes today.
    let exported = psychrnn::export(&import("basic_weights.npz").model).unwrap();
    assert_same_arrays(
        &arrays("basic_exported.npz"),
        &npz::read(&exported).unwrap(),
        &ALL_KEYS,
    );
    match &arrays("basic_exported.npz")["dale_ratio"].data {
        Data::Object(p) => assert_eq!(pickle::object_scalar(p).unwrap(), Scalar::None),
        d => panic!("dale_ratio is {}", d.type_name()),
    }
}

#[test]
fn exported_files_reproduce_in_psychrnn_basic_simulator() {
    // basic: BasicSimulator on our export vs our float run of the imported model.
    let imp = import("basic_weights.npz");
    let r = arrays("basic_reference.npz");
    let err = max_abs_outputs(
        &run_float(&imp.model, &r["x"]),
        &arrays("basic_exported_sim.npz")["outputs"],
    );
    eprintln!("basic export: BasicSimulator vs neuroloop max abs {err:.3e}");
    assert!(err <= 1e-4, "{err}");

    // A native model with raw weights, Dale 0.75, masks and autapses off.
    let native = neuroloop::model::load(&fixture("native_dale.json")).unwrap();
    assert!(native.constraints.dale_ratio.is_some() && !native.constraints.autapses);
    let exported = psychrnn::export(&native).unwrap();
    assert_same_arrays(
        &arrays("native_dale_exported.npz"),
        &npz::read(&exported).unwrap(),
        &ALL_KEYS,
    );
    let sim = arrays("native_dale_sim.npz");
    let traces = run_float(&native, &sim["x"]);
    let err = max_abs_outputs(&traces, &sim["outputs"]);
    let st = f32s(&sim["states"]);
    let serr = traces
        .iter()
        .flat_map(|t| t.states.clone())
        .zip(&st)
        .map(|(a, &b)| (a - b as f64).abs())
        .fold(0.0, f64::max);
    eprintln!("native Dale export: BasicSimulator vs neuroloop max abs outputs {err:.3e}, states {serr:.3e}");
    assert!(err <= 1e-4 && serr <= 1e-4, "{err} {serr}");
    // And it imports back to the same effective network (Dale + masks kept).
    let mut o = ImportOptions::new(native.dt, native.tau);
    o.name = Some(native.name.clone());
    let back =
        psychrnn::import_bytes(Path::new("native_dale_exported.npz"), &exported, &o).unwrap();
    assert_eq!(back.model.effective(), native.effective());
    assert_eq!(
        back.model.constraints.dale_ratio, native.constraints.dale_ratio,
        "{:?}",
        back.notes
    );
}
