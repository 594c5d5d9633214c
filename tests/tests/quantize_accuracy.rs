//! Fixed point against the float reference: random networks (N_rec 16, 64, 256, spectral
//! radius ≈ 1.1, task-like inputs, 200 steps). Output RMSE must stay ≤ 1 % of the float
//! output range with i16 weights and ≤ 5 % with i8.

use neuroloop::quantize::{quantize, QuantConfig, WeightFormat};
use neuroloop::sim::run_blob;
use neuroloop::Transfer;
use neuroloop_core::Model;
use neuroloop_tests::{random_model, range, rmse, task_like_inputs};

fn relative_rmse(n_rec: usize, transfer: Transfer, weights: WeightFormat, seed: u64) -> f64 {
    let model = random_model(2, n_rec, 2, 1.1, transfer, seed);
    let calib = task_like_inputs(2, 200, 32, seed + 100);
    let test = task_like_inputs(2, 200, 16, seed + 200);
    let q = quantize(
        &model,
        &QuantConfig {
            weights,
            ..Default::default()
        },
        &calib,
    )
    .unwrap();
    let blob = Model::from_bytes(&q.bytes).unwrap();
    let eff = model.effective();
    let (mut f, mut x) = (Vec::new(), Vec::new());
    for t in &test {
        f.extend(eff.run(t, None).outputs);
        x.extend(run_blob(&blob, t).outputs);
    }
    let rel = rmse(&f, &x) / range(&f);
    eprintln!(
        "n_rec {n_rec:>3} {:<8} {}: output RMSE {:.4} % of range {:.3}",
        transfer.name(),
        weights.name(),
        100.0 * rel,
        range(&f)
    );
    rel
}

#[test]
fn int16_output_rmse_within_1_percent() {
    for (k, n) in [16, 64, 256].into_iter().enumerate() {
        for transfer in [Transfer::Relu, Transfer::Tanh] {
            let rel = relative_rmse(n, transfer, WeightFormat::I16, 10 + k as u64);
            assert!(
                rel <= 0.01,
                "n_rec {n} {transfer} i16: {:.3} % > 1 %",
                100.0 * rel
            );
        }
    }
}

#[test]
fn int8_output_rmse_within_5_percent() {
    for (k, n) in [16, 64, 256].into_iter().enumerate() {
        for transfer in [Transfer::Relu, Transfer::Tanh] {
            let rel = relative_rmse(n, transfer, WeightFormat::I8, 20 + k as u64);
            assert!(
                rel <= 0.05,
                "n_rec {n} {transfer} i8: {:.3} % > 5 %",
                100.0 * rel
            );
        }
    }
}

#[test]
fn sigmoid_and_identity_also_track_the_float_model() {
    for transfer in [Transfer::Sigmoid, Transfer::Identity] {
        let rel = relative_rmse(64, transfer, WeightFormat::I16, 31);
        assert!(rel <= 0.01, "{transfer} i16: {:.3} %", 100.0 * rel);
    }
}

#[test]
fn bias_correction_reduces_int8_error() {
    let model = random_model(2, 64, 2, 1.1, Transfer::Relu, 77);
    let calib = task_like_inputs(2, 200, 32, 177);
    let test = task_like_inputs(2, 200, 16, 277);
    let eff = model.effective();
    let float: Vec<f64> = test.iter().flat_map(|t| eff.run(t, None).outputs).collect();
    let err = |bias_correction: bool| {
        let cfg = QuantConfig {
            weights: WeightFormat::I8,
            bias_correction,
            ..Default::default()
        };
        let q = quantize(&model, &cfg, &calib).unwrap();
        let blob = Model::from_bytes(&q.bytes).unwrap();
        let fixed: Vec<f64> = test
            .iter()
            .flat_map(|t| run_blob(&blob, t).outputs)
            .collect();
        rmse(&float, &fixed)
    };
    let (with, without) = (err(true), err(false));
    eprintln!("int8 output RMSE: {without:.5} without bias correction, {with:.5} with");
    assert!(
        with < without,
        "bias correction made it worse: {with} >= {without}"
    );
}
