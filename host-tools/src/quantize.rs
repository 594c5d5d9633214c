//! Float model → fixed-point blob (`.nlb`), with scales calibrated on input trials.
//!
//! Calibration runs the float reference ([`Effective::run`]) over the calibration
//! trials and records max |state|, |input| and |output|. Each gets the largest number of
//! fractional bits `f ≤ 15` with `max · headroom · 2^f ≤ 32767` (power-of-two scales, so
//! every rescale in the core is a shift). Weight matrices get one scale per row: the
//! largest `f ≤ 30` with `max|row| · 2^f ≤ 127` (i8) or `32767` (i16). Values are
//! rounded to nearest. Biases are `i32` at `f + G` (see [`neuroloop_core::blob`]).
//!
//! ```no_run
//! use neuroloop::model::FloatModel;
//! use neuroloop::quantize::{quantize, QuantConfig, WeightFormat};
//! let model = FloatModel::zeros("demo", 2, 8, 1);
//! let trials = vec![vec![0.5f32; 2 * 100]];
//! let q = quantize(&model, &QuantConfig { weights: WeightFormat::I8, ..Default::default() }, &trials).unwrap();
//! std::fs::write("demo.nlb", &q.bytes).unwrap();
//! ```

use crate::linalg::transfer;
use crate::model::{Effective, FloatModel};
use neuroloop_core::blob::{
    self, Body, DType, Meta, QuantParams, Tensor, Tensors, Topology, GUARD_BITS,
};
use neuroloop_core::fixed::{pow2, round_f64};
use serde::Serialize;

mod gated;

/// Weight element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WeightFormat {
    /// 8-bit weights: a quarter of f32's size.
    I8,
    /// 16-bit weights.
    #[default]
    I16,
}

impl WeightFormat {
    fn qmax(self) -> f64 {
        match self {
            WeightFormat::I8 => 127.0,
            WeightFormat::I16 => 32767.0,
        }
    }
    fn dtype(self) -> DType {
        match self {
            WeightFormat::I8 => DType::I8,
            WeightFormat::I16 => DType::I16,
        }
    }
    /// `i8` / `i16`.
    pub fn name(self) -> &'static str {
        self.dtype().name()
    }
}

/// Quantizer settings.
#[derive(Clone, Debug)]
pub struct QuantConfig {
    /// Weight element type.
    pub weights: WeightFormat,
    /// Range margin over the calibrated maxima (≥ 1).
    pub headroom: f64,
    /// Noise PRNG seed stored in the blob.
    pub seed: u32,
    /// Text stored in the blob's `summary` (truncated to the format's limit).
    pub summary: String,
    /// Fold the mean weight-rounding error (`(W − Ŵ)·mean rates/inputs`) into the biases.
    pub bias_correction: bool,
}

impl Default for QuantConfig {
    fn default() -> Self {
        QuantConfig {
            weights: WeightFormat::I16,
            headroom: 1.5,
            seed: 1,
            summary: String::new(),
            bias_correction: true,
        }
    }
}

/// Ranges seen on the calibration trials.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Ranges {
    /// max |state| (including the initial state).
    pub state: f64,
    /// max |input|.
    pub input: f64,
    /// max |output|.
    pub output: f64,
    /// Calibration trials used.
    pub trials: usize,
    /// Mean rate of each unit over the calibration trials (for bias correction).
    #[serde(skip)]
    pub mean_rate: Vec<f64>,
    /// Mean of each input over the calibration trials (for bias correction).
    #[serde(skip)]
    pub mean_input: Vec<f64>,
}

/// Fixed-point formats chosen and what they cost.
#[derive(Clone, Debug, Serialize)]
pub struct QuantReport {
    /// Weight element type.
    pub weights: WeightFormat,
    /// Calibrated ranges.
    pub ranges: Ranges,
    /// State fractional bits.
    pub state_frac: u8,
    /// Input fractional bits.
    pub input_frac: u8,
    /// Output fractional bits.
    pub output_frac: u8,
    /// α in Q15.
    pub alpha_q15: u16,
    /// Weights that did not fit their format and were saturated.
    pub saturated_weights: usize,
    /// Bytes of the parameter tensors as stored.
    pub param_bytes: usize,
    /// Total blob bytes.
    pub blob_bytes: usize,
    /// Largest |w − dequantized w| over all weight matrices.
    pub max_weight_error: f64,
}

/// A quantized model: the blob and its report.
#[derive(Clone, Debug)]
pub struct Quantized {
    /// The `.nlb` bytes.
    pub bytes: Vec<u8>,
    /// What was chosen.
    pub report: QuantReport,
}

/// Why a model could not be quantized.
#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    /// The float model is invalid.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A calibration trial has the wrong length.
    #[error("calibration trial {trial} has {len} values, not a multiple of n_in = {n_in}")]
    TrialShape {
        /// Trial index.
        trial: usize,
        /// Its length.
        len: usize,
        /// n_in.
        n_in: usize,
    },
    /// No calibration data.
    #[error("no calibration trials given")]
    NoTrials,
    /// A calibration run produced NaN/∞.
    #[error("the float model diverges on calibration trial {trial} (state is not finite)")]
    Diverges {
        /// Trial index.
        trial: usize,
    },
    /// The recurrent noise does not fit the blob's noise multiplier.
    #[error("float model field `rec_noise` is {rec_noise}: its fixed-point multiplier {mul:.3e} exceeds the blob's limit {} (u32); the largest rec_noise this model can carry is {max:.4}", u32::MAX)]
    NoiseTooLarge {
        /// The model's σ.
        rec_noise: f64,
        /// The multiplier it needs.
        mul: f64,
        /// The largest σ that fits.
        max: f64,
    },
    /// The model does not fit blob format v1 (too large, bad α, ...).
    #[error("model does not fit the blob format: {0}")]
    Blob(neuroloop_core::Error),
}

/// Fractional bits `f ≤ max_frac` with `m · 2^f ≤ limit` (the largest such), `max_frac` for m = 0.
pub fn frac_for(m: f64, limit: f64, max_frac: u8) -> u8 {
    if m.is_nan() || m <= 0.0 {
        return max_frac;
    }
    let f = (limit / m).log2().floor();
    f.clamp(0.0, max_frac as f64) as u8
}

/// Run the float model over the trials and record the ranges. `state` is max |x| for the
/// leaky cell, max |h| for the GRU and max |c| for the LSTM (the blob's "state" half, with
/// its initial value); `mean_rate` is the mean rate (leaky `f(x)`, gated `h`) per unit.
pub fn calibrate(eff: &Effective, trials: &[Vec<f32>]) -> Result<Ranges, QuantError> {
    if trials.is_empty() {
        return Err(QuantError::NoTrials);
    }
    let n = eff.n_rec;
    let init = &eff.init_state[eff.init_state.len().saturating_sub(n)..];
    let mut r = Ranges {
        state: init.iter().fold(0.0, |a, v| a.max(v.abs())),
        trials: trials.len(),
        mean_rate: vec![0.0; n],
        mean_input: vec![0.0; eff.n_in],
        ..Default::default()
    };
    let mut n_steps = 0usize;
    for (k, t) in trials.iter().enumerate() {
        if t.len() % eff.n_in != 0 {
            return Err(QuantError::TrialShape {
                trial: k,
                len: t.len(),
                n_in: eff.n_in,
            });
        }
        r.input = t.iter().fold(r.input, |a, v| a.max(v.abs() as f64));
        let (tr, rates) = if eff.cell.is_leaky() {
            let tr = eff.run(t, None);
            let rates = tr.states.iter().map(|&x| transfer::apply(eff.transfer, x));
            let rates = rates.collect();
            (tr, rates)
        } else {
            eff.run_gated(t)
        };
        if tr.states.iter().chain(&tr.outputs).any(|v| !v.is_finite()) {
            return Err(QuantError::Diverges { trial: k });
        }
        r.state = tr.states.iter().fold(r.state, |a, v| a.max(v.abs()));
        for row in rates.chunks_exact(n) {
            for (m, &h) in r.mean_rate.iter_mut().zip(row) {
                *m += h;
            }
        }
        for row in t.chunks_exact(eff.n_in) {
            for (m, &u) in r.mean_input.iter_mut().zip(row) {
                *m += u as f64;
            }
        }
        n_steps += tr.steps;
        r.output = tr.outputs.iter().fold(r.output, |a, v| a.max(v.abs()));
    }
    let steps = n_steps.max(1) as f64;
    r.mean_rate
        .iter_mut()
        .chain(r.mean_input.iter_mut())
        .for_each(|m| *m /= steps);
    Ok(r)
}

struct QTensor {
    frac: Vec<u8>,
    data: Vec<u8>,
    saturated: usize,
    max_err: f64,
    /// W − Ŵ (rounding error per element).
    err: Vec<f64>,
}

impl QTensor {
    /// Row-wise `(W − Ŵ)·v`.
    fn error_times(&self, v: &[f64]) -> Vec<f64> {
        self.err
            .chunks_exact(v.len().max(1))
            .map(|row| row.iter().zip(v).map(|(e, x)| e * x).sum())
            .collect()
    }
}

fn quantize_matrix(w: &[f64], cols: usize, fmt: WeightFormat) -> QTensor {
    let qmax = fmt.qmax();
    let mut t = QTensor {
        frac: vec![],
        data: vec![],
        saturated: 0,
        max_err: 0.0,
        err: vec![],
    };
    for row in w.chunks_exact(cols) {
        let m = row.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let f = if m > 0.0 {
            frac_for(m, qmax, blob::MAX_WEIGHT_FRAC)
        } else {
            0
        };
        t.frac.push(f);
        let s = pow2(f as i32);
        for &v in row {
            let q = round_f64(v * s);
            let qc = q.clamp(-(qmax as i64) - 1, qmax as i64);
            t.saturated += (q != qc) as usize;
            t.max_err = t.max_err.max((qc as f64 / s - v).abs());
            t.err.push(v - qc as f64 / s);
            match fmt {
                WeightFormat::I8 => t.data.push(qc as i8 as u8),
                WeightFormat::I16 => t.data.extend_from_slice(&(qc as i16).to_le_bytes()),
            }
        }
    }
    t
}

fn vector_i32(v: &[f64], frac: i32) -> Vec<u8> {
    v.iter()
        .flat_map(|&x| {
            (round_f64(x * pow2(frac)).clamp(i32::MIN as i64, i32::MAX as i64) as i32).to_le_bytes()
        })
        .collect()
}

fn vector_i16(v: &[f64], frac: i32) -> Vec<u8> {
    v.iter()
        .flat_map(|&x| {
            (round_f64(x * pow2(frac)).clamp(i16::MIN as i64, i16::MAX as i64) as i16).to_le_bytes()
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Everything of a blob but the metadata, as the quantizer made it.
struct Parts<'a> {
    cell: u8,
    transfer: u8,
    quant: QuantParams,
    /// `w_in`, `w_rec`, `w_out`.
    w: [&'a QTensor; 3],
    b_rec: Vec<u8>,
    b_out: Vec<u8>,
    init: Vec<u8>,
}

impl<'a> Parts<'a> {
    /// The validated blob bytes and the bytes of its parameter tensors.
    fn encode(
        &'a self,
        model: &FloatModel,
        cfg: &QuantConfig,
        eff: &Effective,
    ) -> Result<(Vec<u8>, usize), QuantError> {
        let dims = |v: usize| u16::try_from(v).unwrap_or(u16::MAX);
        let (n_in, n_rec, n_out) = (dims(eff.n_in), dims(eff.n_rec), dims(eff.n_out));
        let dt = cfg.weights.dtype() as u8;
        let k = dims(eff.cell.gates() * eff.n_rec);
        let tensor = |t: &'a QTensor, rows: u16, cols: u16| Tensor {
            dtype: dt,
            rows,
            cols,
            frac: &t.frac,
            data: &t.data,
        };
        let vector = |dtype: DType, size: usize, data: &'a [u8]| Tensor {
            dtype: dtype as u8,
            rows: dims(data.len() / size),
            cols: 1,
            frac: &[],
            data,
        };
        let body = Body {
            meta: Meta {
                name: truncate(&model.name, blob::MAX_NAME_LEN),
                task: truncate(&model.task, blob::MAX_NAME_LEN),
                dt: model.dt,
                tau: model.tau,
                summary: truncate(&cfg.summary, blob::MAX_SUMMARY_LEN),
            },
            topology: Topology {
                cell: self.cell,
                transfer: self.transfer,
                n_in,
                n_rec,
                n_out,
            },
            quant: self.quant,
            tensors: Tensors {
                w_in: tensor(self.w[0], k, n_in),
                w_rec: tensor(self.w[1], k, n_rec),
                w_out: tensor(self.w[2], n_out, n_rec),
                b_rec: vector(DType::I32, 4, &self.b_rec),
                b_out: vector(DType::I32, 4, &self.b_out),
                init_state: vector(DType::I16, 2, &self.init),
            },
        };
        let bytes = blob::encode_to_vec_aligned(&body).map_err(QuantError::Blob)?;
        let param_bytes = body.tensors.iter().iter().map(|(_, t)| t.data.len()).sum();
        Ok((bytes, param_bytes))
    }
}

/// Quantize `model`, calibrating on `calib_inputs` (each one trial, steps × n_in row-major).
pub fn quantize(
    model: &FloatModel,
    cfg: &QuantConfig,
    calib_inputs: &[Vec<f32>],
) -> Result<Quantized, QuantError> {
    model.validate()?;
    let eff = model.effective();
    if !eff.cell.is_leaky() {
        return gated::quantize(model, &eff, cfg, calib_inputs);
    }
    let ranges = calibrate(&eff, calib_inputs)?;
    let h = cfg.headroom.max(1.0);
    let fx = frac_for(ranges.state * h, 32767.0, blob::MAX_FRAC);
    let fu = frac_for(ranges.input * h, 32767.0, blob::MAX_FRAC);
    let fy = frac_for(ranges.output * h, 32767.0, blob::MAX_FRAC);
    let g = GUARD_BITS as i32;
    let alpha_q15 = round_f64(eff.alpha * 32768.0).clamp(1, 32768) as u16;
    let t = (fx as i32 + g) as f64;
    let noise_amp = (2.0 * eff.alpha).sqrt() * eff.rec_noise * 2f64.powf(t);
    let mul = noise_amp * 65536.0 / neuroloop_core::rng::GAUSS_STD;
    if mul.is_nan() || mul >= u32::MAX as f64 {
        return Err(QuantError::NoiseTooLarge {
            rec_noise: eff.rec_noise,
            mul,
            max: eff.rec_noise * (u32::MAX as f64 - 1.0) / mul,
        });
    }
    let noise_mul = round_f64(mul).clamp(0, u32::MAX as i64) as u32;

    let w_in = quantize_matrix(&eff.w_in, eff.n_in, cfg.weights);
    let w_rec = quantize_matrix(&eff.w_rec, eff.n_rec, cfg.weights);
    let w_out = quantize_matrix(&eff.w_out, eff.n_rec, cfg.weights);
    let (mut b_rec_f, mut b_out_f) = (eff.b_rec.clone(), eff.b_out.clone());
    if cfg.bias_correction {
        let rec = w_rec.error_times(&ranges.mean_rate);
        let inp = w_in.error_times(&ranges.mean_input);
        for (b, (a, c)) in b_rec_f.iter_mut().zip(rec.iter().zip(&inp)) {
            *b += a + c;
        }
        for (b, a) in b_out_f.iter_mut().zip(w_out.error_times(&ranges.mean_rate)) {
            *b += a;
        }
    }
    let parts = Parts {
        cell: 0,
        transfer: model.transfer as u8,
        quant: QuantParams {
            state_frac: fx,
            input_frac: fu,
            output_frac: fy,
            alpha_q15,
            noise_mul,
            seed: cfg.seed,
        },
        w: [&w_in, &w_rec, &w_out],
        b_rec: vector_i32(&b_rec_f, fx as i32 + g),
        b_out: vector_i32(&b_out_f, fy as i32 + g),
        init: vector_i16(&eff.init_state, fx as i32),
    };
    let (bytes, param_bytes) = parts.encode(model, cfg, &eff)?;
    let report = QuantReport {
        weights: cfg.weights,
        ranges,
        state_frac: fx,
        input_frac: fu,
        output_frac: fy,
        alpha_q15,
        saturated_weights: w_in.saturated + w_rec.saturated + w_out.saturated,
        param_bytes,
        blob_bytes: bytes.len(),
        max_weight_error: w_in.max_err.max(w_rec.max_err).max(w_out.max_err),
    };
    Ok(Quantized { bytes, report })
}

/// Task-like calibration inputs when no task is given: per trial and channel, a few
/// piecewise-constant levels in [0, 1] plus Gaussian noise (σ 0.1), seeded.
pub fn default_calibration(n_in: usize, trials: usize, steps: usize, seed: u64) -> Vec<Vec<f32>> {
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..trials)
        .map(|_| {
            let mut x = vec![0f32; steps * n_in];
            for c in 0..n_in {
                let mut level = 0f32;
                for t in 0..steps {
                    if t % 50 == 0 {
                        level = rng.gen_range(0.0..1.0);
                    }
                    let n: f32 = rng.sample(StandardNormal);
                    x[t * n_in + c] = level + 0.1 * n;
                }
            }
            x
        })
        .collect()
}

/// Memory and time of calibrating on `trials` trials of `steps` steps (inputs held in
/// memory, one f64 reference run per trial).
pub fn estimate_calibration(
    model: &FloatModel,
    trials: usize,
    steps: usize,
) -> crate::cost::Estimate {
    use crate::cost::{product, MACS_PER_SECOND};
    let inputs = product(&[trials, steps, model.n_in, 4]);
    let trace = product(&[steps, model.n_rec + model.n_out, 8, 2]);
    let macs = product(&[
        trials,
        steps,
        model.n_rec * (model.n_rec + model.n_in + model.n_out),
    ]);
    crate::cost::Estimate {
        bytes: inputs.saturating_add(trace),
        seconds: macs as f64 / MACS_PER_SECOND,
    }
}
