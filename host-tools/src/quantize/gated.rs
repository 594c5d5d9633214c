//! Quantizing a GRU or LSTM: the same per-row weight scales, calibration and bias
//! correction as the leaky cell (see the parent module), on the gated blob layout of
//! `docs/blob-v1.md` ("Gated cells").
//!
//! - Hidden states are Q15 (`|h| < 1`); the GRU's `state_frac` is therefore 15. The LSTM's
//!   cell state gets the largest `fx ≤ 15` with `max|c| · headroom · 2^fx ≤ 32767`, `max|c|`
//!   over the calibration trials and `c₀`.
//! - Gate biases are `i32` at `GATE_FRAC + G` fractional bits: `b_rec` is the gates' biases
//!   then, for the GRU, `b_hn`.
//! - Bias correction folds `(W − Ŵ)·mean(h)` and `(W_in − Ŵ_in)·mean(u)` into each gate's
//!   bias; for the GRU's candidate gate the recurrent part goes into `b_hn` (it sits inside
//!   `r ⊙ (…)`) and the input part into `b_in`.

use super::{
    calibrate, frac_for, quantize_matrix, vector_i16, vector_i32, Parts, QuantConfig, QuantError,
    QuantReport, Quantized,
};
use crate::model::{Cell, Effective, FloatModel};
use neuroloop_core::blob::{self, QuantParams, GUARD_BITS};
use neuroloop_core::cell::GATE_FRAC;

/// Quantize a validated gated model (`eff` its effective parameters).
pub(super) fn quantize(
    model: &FloatModel,
    eff: &Effective,
    cfg: &QuantConfig,
    calib_inputs: &[Vec<f32>],
) -> Result<Quantized, QuantError> {
    let ranges = calibrate(eff, calib_inputs)?;
    let n = eff.n_rec;
    let hr = cfg.headroom.max(1.0);
    let fx = if eff.cell == Cell::Gru {
        15
    } else {
        frac_for(ranges.state * hr, 32767.0, blob::MAX_FRAC)
    };
    let fu = frac_for(ranges.input * hr, 32767.0, blob::MAX_FRAC);
    let fy = frac_for(ranges.output * hr, 32767.0, blob::MAX_FRAC);
    let g = GUARD_BITS as i32;
    let w_in = quantize_matrix(&eff.w_in, eff.n_in, cfg.weights);
    let w_rec = quantize_matrix(&eff.w_rec, n, cfg.weights);
    let w_out = quantize_matrix(&eff.w_out, n, cfg.weights);
    let mut b = eff.b_rec.clone();
    let mut b_hn = eff.b_hn.clone();
    let mut b_out = eff.b_out.clone();
    if cfg.bias_correction {
        let rec = w_rec.error_times(&ranges.mean_rate);
        let inp = w_in.error_times(&ranges.mean_input);
        for (j, bj) in b.iter_mut().enumerate() {
            let candidate = eff.cell == Cell::Gru && j >= 2 * n;
            *bj += inp[j] + if candidate { 0.0 } else { rec[j] };
        }
        for (i, bh) in b_hn.iter_mut().enumerate() {
            *bh += rec[2 * n + i];
        }
        for (bo, e) in b_out.iter_mut().zip(w_out.error_times(&ranges.mean_rate)) {
            *bo += e;
        }
    }
    b.extend_from_slice(&b_hn);
    let t = GATE_FRAC as i32 + g;
    let mut init = vector_i16(&eff.init_state[..n], 15);
    init.extend(vector_i16(&eff.init_state[n..], fx as i32));
    let parts = Parts {
        cell: if eff.cell == Cell::Gru { 1 } else { 2 },
        // The LSTM's output nonlinearity: tanh, or PsychRNN's sigmoid.
        transfer: if eff.cell == Cell::LstmPsychrnn { 2 } else { 1 },
        quant: QuantParams {
            state_frac: fx,
            input_frac: fu,
            output_frac: fy,
            alpha_q15: 32768,
            noise_mul: 0,
            seed: cfg.seed,
        },
        w: [&w_in, &w_rec, &w_out],
        b_rec: vector_i32(&b, t),
        b_out: vector_i32(&b_out, fy as i32 + g),
        init,
    };
    let (bytes, param_bytes) = parts.encode(model, cfg, eff)?;
    let report = QuantReport {
        weights: cfg.weights,
        ranges,
        state_frac: fx,
        input_frac: fu,
        output_frac: fy,
        alpha_q15: 32768,
        saturated_weights: w_in.saturated + w_rec.saturated + w_out.saturated,
        param_bytes,
        blob_bytes: bytes.len(),
        max_weight_error: w_in.max_err.max(w_rec.max_err).max(w_out.max_err),
    };
    Ok(Quantized { bytes, report })
}
