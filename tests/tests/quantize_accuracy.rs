//! Fixed point against the float reference: random networks (N_rec 16, 64, 256, spectral
//! radius ≈ 1.1, task-like inputs, 200 steps), output RMSE as a share of the float output
//! range. Bounds sit at about 2.5× the worst measured case (measured on these seeds:
//! i16 0.0056–0.0126 %, i8 0.166–0.331 %; sigmoid 0.0057 %, identity 0.0167 % with i16),
//! so a quantizer or runtime change that doubles the error fails.

use neuroloop::model::Cell;
use neuroloop::quantize::{quantize, QuantConfig, WeightFormat};
use neuroloop::sim::run_blob;
use neuroloop::Transfer;
use neuroloop_core::Model;
use neuroloop_tests::{random_gated_model, random_model, range, rmse, task_like_inputs};

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
fn int16_output_rmse_within_0_03_percent() {
    for (k, n) in [16, 64, 256].into_iter().enumerate() {
        for transfer in [Transfer::Relu, Transfer::Tanh] {
            let rel = relative_rmse(n, transfer, WeightFormat::I16, 10 + k as u64);
            assert!(
                rel <= 0.0003,
                "n_rec {n} {transfer} i16: {:.4} % > 0.03 %",
                100.0 * rel
            );
        }
    }
}

#[test]
fn int8_output_rmse_within_0_8_percent() {
    for (k, n) in [16, 64, 256].into_iter().enumerate() {
        for transfer in [Transfer::Relu, Transfer::Tanh] {
            let rel = relative_rmse(n, transfer, WeightFormat::I8, 20 + k as u64);
            assert!(
                rel <= 0.008,
                "n_rec {n} {transfer} i8: {:.3} % > 0.8 %",
                100.0 * rel
            );
        }
    }
}

#[test]
fn sigmoid_and_identity_also_track_the_float_model() {
    for (transfer, max) in [(Transfer::Sigmoid, 0.00015), (Transfer::Identity, 0.0004)] {
        let rel = relative_rmse(64, transfer, WeightFormat::I16, 31);
        assert!(
            rel <= max,
            "{transfer} i16: {:.4} % > {:.3} %",
            100.0 * rel,
            100.0 * max
        );
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
    // Measured: 0.00831 → 0.00630 (−24 %); require at least −10 %.
    assert!(
        with <= 0.9 * without,
        "bias correction gained too little: {with} vs {without} without"
    );
}

/// Output RMSE of a quantized random GRU/LSTM (N_rec 64, 2 in, 2 out, 200 task-like steps)
/// against its f64 float run, as a share of the float output range.
fn gated_relative_rmse(cell: Cell, weights: WeightFormat, bias_correction: bool, seed: u64) -> f64 {
    let model = random_gated_model(cell, 2, 64, 2, seed);
    let calib = task_like_inputs(2, 200, 32, seed + 100);
    let test = task_like_inputs(2, 200, 16, seed + 200);
    let cfg = QuantConfig {
        weights,
        bias_correction,
        ..Default::default()
    };
    let q = quantize(&model, &cfg, &calib).unwrap();
    let blob = Model::from_bytes(&q.bytes).unwrap();
    let eff = model.effective();
    let (mut f, mut x) = (Vec::new(), Vec::new());
    for t in &test {
        f.extend(eff.run(t, None).outputs);
        x.extend(run_blob(&blob, t).outputs);
    }
    let rel = rmse(&f, &x) / range(&f);
    eprintln!(
        "{cell:<13} {} bias correction {bias_correction}: output RMSE {:.4} % of range {:.3}",
        weights.name(),
        100.0 * rel,
        range(&f)
    );
    rel
}

/// Issue 12: the GRU and both LSTMs track their float model in fixed point. Bounds sit at
/// about 2.5× the error measured on these seeds (i16 / i8: GRU 0.0035 / 0.148 %, LSTM
/// 0.0147 / 0.118 %, PsychRNN LSTM 0.0178 / 0.0627 %), so a change that doubles it fails.
#[test]
fn gated_cells_track_the_float_model() {
    for (cell, seed, i16_max, i8_max) in [
        (Cell::Gru, 41, 0.00009, 0.0037),
        (Cell::Lstm, 42, 0.00037, 0.003),
        (Cell::LstmPsychrnn, 43, 0.00045, 0.0016),
    ] {
        for (weights, max) in [(WeightFormat::I16, i16_max), (WeightFormat::I8, i8_max)] {
            let rel = gated_relative_rmse(cell, weights, true, seed);
            assert!(
                rel <= max,
                "{cell} {}: {:.4} % > {:.3} %",
                weights.name(),
                100.0 * rel,
                100.0 * max
            );
        }
    }
}

/// Bias correction also pays for gated cells with i8 weights (the candidate gate's
/// recurrent part folded into `b_hn`, the rest into each gate's bias).
#[test]
fn gated_bias_correction_reduces_int8_error() {
    for (cell, seed) in [(Cell::Gru, 41), (Cell::Lstm, 42)] {
        let with = gated_relative_rmse(cell, WeightFormat::I8, true, seed);
        let without = gated_relative_rmse(cell, WeightFormat::I8, false, seed);
        assert!(
            with < without,
            "{cell}: bias correction did not help: {with} vs {without} without"
        );
    }
}
