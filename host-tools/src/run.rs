//! `neuroloop run`: run any model on recorded inputs, PsychRNN-style.
//!
//! The model file is recognised by content ([`detect_kind`]): a native float model or
//! PsychRNN weights (`.npz`, which need `dt`/`tau` from the caller) run in the f64 float
//! reference ([`Effective::run`](crate::model::Effective::run); a GRU or LSTM in the
//! trainer's forward pass in f64, [`run_gated`]); an `.nlb` blob runs in the
//! fixed-point core ([`crate::sim::run_blob`]) and its states and outputs are dequantized.
//!
//! Inputs: an `.npz` with key `x`, float32/float64 `[batch, steps, N_in]`. Output: an
//! `.npz` with `outputs` `[batch, steps, N_out]` and `states` `[batch, steps, N_rec]`
//! (float32), with PsychRNN's time alignment: entry `t` holds the state and output after
//! the `t`-th update; `s₀ = init_state` is not stored. Recurrent noise is on or off as the
//! config says ([`Noise`]; a float model draws it from the given seed, a blob from its
//! own). A blob's saturation counts are reported; a NaN or infinite output is an error
//! naming the trial and step, and then nothing is written. The output is written
//! atomically, only after every trial ran.

use crate::interop::npy::{Array, Data};
use crate::interop::npz::{self, NpzError};
use crate::interop::psychrnn::{self, ImportOptions, InteropError};
use crate::model::{detect_kind, FileKind, FloatModel, ModelError, Trace};
use crate::noise::{blob_has_noise, blob_with, float_has_noise, Noise};
use crate::sim::Saturation;
use crate::train::{Eff, Net, Workspace};
use std::path::{Path, PathBuf};

/// Input key.
pub const INPUT_KEY: &str = "x";

/// What to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Model file (native float model, PsychRNN `.npz` or `.nlb`).
    pub model: PathBuf,
    /// Inputs `.npz` (key `x`).
    pub inputs: PathBuf,
    /// Output `.npz`.
    pub output: PathBuf,
    /// How to read a PsychRNN `.npz` model (`dt`, `tau`, ...); required for that kind only.
    pub psychrnn: Option<ImportOptions>,
    /// Recurrent noise on or off.
    pub noise: Noise,
    /// Seed of a float model's recurrent noise (a blob uses its own).
    pub noise_seed: u64,
}

/// What ran.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RunSummary {
    /// Model kind (human name).
    pub kind: &'static str,
    /// Trials.
    pub batch: usize,
    /// Steps per trial.
    pub steps: usize,
    /// Inputs.
    pub n_in: usize,
    /// Recurrent units.
    pub n_rec: usize,
    /// Outputs.
    pub n_out: usize,
    /// Recurrent noise setting of the run.
    pub noise: Noise,
    /// Whether the model has recurrent noise at all.
    pub has_noise: bool,
    /// Saturated inputs, states and outputs (blobs only).
    pub saturation: Option<Saturation>,
}

/// Why a run failed; each names the file and, where it applies, the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The model file is bad.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The PsychRNN model file is bad.
    #[error(transparent)]
    Interop(#[from] InteropError),
    /// The blob does not decode.
    #[error("{path}: invalid blob: {source}")]
    Blob {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: neuroloop_core::Error,
    },
    /// A PsychRNN model was given without `dt`/`tau`.
    #[error("{path}: PsychRNN weights do not store dt and tau: give --dt MS and --tau MS")]
    NeedTiming {
        /// The file.
        path: PathBuf,
    },
    /// An output is NaN or infinite (nothing is written).
    #[error("output {value} at trial {trial}, step {step}, output {index}: the model diverges; nothing written")]
    NotFinite {
        /// Trial.
        trial: usize,
        /// Step.
        step: usize,
        /// Output unit.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The run would be too large.
    #[error(transparent)]
    TooLarge(#[from] crate::cost::TooLarge),
    /// The inputs archive is unreadable.
    #[error("{path}: {source}")]
    InputsNpz {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: NpzError,
    },
    /// The inputs array is missing or malformed.
    #[error("{path}: key `{key}` {reason}")]
    Inputs {
        /// The file.
        path: PathBuf,
        /// The key.
        key: &'static str,
        /// What is wrong, with the values.
        reason: String,
    },
}

/// A loaded model, ready to run trials.
pub enum Runner {
    /// Float reference.
    Float(Box<FloatModel>),
    /// Fixed-point blob bytes (validated).
    Blob(Vec<u8>),
}

impl Runner {
    /// Load a model of any kind from `path` (`psychrnn` options are needed for `.npz`).
    pub fn load(
        path: &Path,
        psychrnn: Option<&ImportOptions>,
    ) -> Result<(Runner, FileKind), RunError> {
        let bytes = std::fs::read(path).map_err(|source| RunError::Io {
            path: path.into(),
            source,
        })?;
        let kind = detect_kind(&bytes).ok_or_else(|| ModelError::Unknown {
            path: path.into(),
            start: bytes[..bytes.len().min(8)].to_vec(),
        })?;
        let runner = match kind {
            FileKind::Native => {
                Runner::Float(Box::new(crate::model::file::from_bytes(path, &bytes)?))
            }
            FileKind::Npz => {
                let opts = psychrnn.ok_or_else(|| RunError::NeedTiming { path: path.into() })?;
                Runner::Float(Box::new(psychrnn::import_bytes(path, &bytes, opts)?.model))
            }
            FileKind::Blob => {
                neuroloop_core::Model::from_bytes(&bytes).map_err(|source| RunError::Blob {
                    path: path.into(),
                    source,
                })?;
                Runner::Blob(bytes)
            }
        };
        Ok((runner, kind))
    }

    /// (n_in, n_rec, n_out).
    pub fn dims(&self) -> (usize, usize, usize) {
        match self {
            Runner::Float(m) => (m.n_in, m.n_rec, m.n_out),
            Runner::Blob(b) => match neuroloop_core::Model::from_bytes(b) {
                Ok(m) => (m.n_in(), m.n_rec(), m.n_out()),
                Err(_) => (0, 0, 0),
            },
        }
    }

    /// Whether the model has recurrent noise.
    pub fn has_noise(&self) -> bool {
        match self {
            Runner::Float(m) => float_has_noise(m),
            Runner::Blob(b) => blob_has_noise(b),
        }
    }

    /// Run `batch` trials (`x`: batch × steps × n_in, row-major) with noise as `noise` says
    /// (`seed`: a float model's noise seed). Blobs also count saturated values.
    pub fn run_batch(
        &self,
        x: &[f32],
        batch: usize,
        noise: Noise,
        seed: u64,
    ) -> (Vec<Trace>, Option<Saturation>) {
        let per = x.len() / batch.max(1);
        let trials = x.chunks_exact(per.max(1)).take(batch);
        match self {
            Runner::Float(m) if !m.cell.is_leaky() => {
                (trials.map(|t| run_gated(m, t)).collect(), None)
            }
            Runner::Float(m) => {
                let eff = m.effective();
                let traces = if noise.is_on() {
                    use rand::SeedableRng;
                    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                    trials.map(|t| eff.run(t, Some(&mut rng))).collect()
                } else {
                    trials.map(|t| eff.run(t, None)).collect()
                };
                (traces, None)
            }
            Runner::Blob(b) => {
                // Validated in `load`; re-encoding a valid blob cannot fail.
                let bytes = blob_with(b, noise).expect("validated blob");
                let model = neuroloop_core::Model::from_bytes(&bytes).expect("validated blob");
                let mut sat = Saturation::default();
                let traces = trials
                    .map(|t| {
                        let tr = crate::sim::run_blob(&model, t);
                        sat.add(Saturation::of_trial(&model, t, &tr));
                        tr
                    })
                    .collect();
                (traces, Some(sat))
            }
        }
    }
}

/// One trial (`x`: steps × n_in) of a gated float model in f64, by the trainer's forward
/// pass (gated cells have no recurrent noise): states are the hidden states `h`.
pub fn run_gated(m: &FloatModel, x: &[f32]) -> Trace {
    let net: Net<f64> = Net::from_model(m);
    let mut eff = Eff::default();
    net.effective(&mut eff);
    let (n, steps) = (m.n_rec, x.len() / m.n_in.max(1));
    let mut ws = Workspace::new(&net, 1, steps);
    let zeros = vec![0.0f32; steps * m.n_out];
    ws.load(x, &zeros, &zeros, 0);
    ws.forward::<rand::rngs::StdRng>(&net, &eff, None);
    Trace {
        steps,
        states: ws.r[n..(steps + 1) * n].to_vec(),
        outputs: ws.out.clone(),
    }
}

/// Read key `x` of an inputs archive: `(batch, steps, values)`; checks shape, dtype, finiteness.
pub fn load_inputs(path: &Path, n_in: usize) -> Result<(usize, usize, Vec<f32>), RunError> {
    let bytes = std::fs::read(path).map_err(|source| RunError::Io {
        path: path.into(),
        source,
    })?;
    let mut arrays =
        npz::read_filtered(&bytes, |k| k == INPUT_KEY).map_err(|source| RunError::InputsNpz {
            path: path.into(),
            source,
        })?;
    let bad = |reason: String| RunError::Inputs {
        path: path.into(),
        key: INPUT_KEY,
        reason,
    };
    let a: Array = arrays
        .remove(INPUT_KEY)
        .ok_or_else(|| bad("is missing (inputs must be float [batch, steps, N_in])".into()))?;
    let (batch, steps) = match a.shape[..] {
        [b, s, c] if c == n_in && b > 0 && s > 0 => (b, s),
        _ => {
            return Err(bad(format!(
                "has shape {:?} but must be [batch, steps, N_in={n_in}] with batch, steps > 0",
                a.shape
            )))
        }
    };
    let v: Vec<f32> = match a.data {
        Data::F32(v) => v,
        Data::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        d => {
            return Err(bad(format!(
                "has dtype {} but must be float32 or float64",
                d.type_name()
            )))
        }
    };
    if let Some(k) = v.iter().position(|x| !x.is_finite()) {
        let (b, t, c) = (k / (steps * n_in), k / n_in % steps, k % n_in);
        return Err(bad(format!("element [{b}, {t}, {c}] is {}", v[k])));
    }
    Ok((batch, steps, v))
}

/// Memory and time of running `batch` trials of `steps` steps (traces in f64 and the f32
/// output arrays held until the atomic write).
pub fn estimate(dims: (usize, usize, usize), batch: usize, steps: usize) -> crate::cost::Estimate {
    use crate::cost::{product, MACS_PER_SECOND};
    let (n_in, n_rec, n_out) = dims;
    crate::cost::Estimate {
        bytes: product(&[batch, steps, n_rec + n_out, 8 + 4 + 4]),
        seconds: product(&[batch, steps, n_rec * (n_rec + n_in + n_out)]) as f64 / MACS_PER_SECOND,
    }
}

/// Run a model on recorded inputs and write `outputs` and `states`; a size refused by
/// [`estimate`] is an error, a merely large one is passed to `warn` before the work.
pub fn run(cfg: &RunConfig, warn: impl FnOnce(String)) -> Result<RunSummary, RunError> {
    let (runner, kind) = Runner::load(&cfg.model, cfg.psychrnn.as_ref())?;
    let (n_in, n_rec, n_out) = runner.dims();
    let (batch, steps, x) = load_inputs(&cfg.inputs, n_in)?;
    let what = format!(
        "run on {batch} trials × {steps} steps of {}",
        cfg.inputs.display()
    );
    if let Some(w) = estimate((n_in, n_rec, n_out), batch, steps)
        .check(&what, "split the inputs into smaller files")?
    {
        warn(w);
    }
    let (traces, saturation) = runner.run_batch(&x, batch, cfg.noise, cfg.noise_seed);
    for (trial, t) in traces.iter().enumerate() {
        if let Some(i) = t.outputs.iter().position(|v| !v.is_finite()) {
            return Err(RunError::NotFinite {
                trial,
                step: i / n_out.max(1),
                index: i % n_out.max(1),
                value: t.outputs[i],
            });
        }
    }
    let mut outputs = Vec::with_capacity(batch * steps * n_out);
    let mut states = Vec::with_capacity(batch * steps * n_rec);
    for t in &traces {
        outputs.extend(t.outputs.iter().map(|&v| v as f32));
        states.extend(t.states.iter().map(|&v| v as f32));
    }
    let outputs = Array {
        shape: vec![batch, steps, n_out],
        data: Data::F32(outputs),
    };
    let states = Array {
        shape: vec![batch, steps, n_rec],
        data: Data::F32(states),
    };
    let bytes = npz::write([("outputs", &outputs), ("states", &states)]);
    crate::model::file::write_atomic(&cfg.output, &bytes)?;
    Ok(RunSummary {
        kind: kind.name(),
        batch,
        steps,
        n_in,
        n_rec,
        n_out,
        noise: cfg.noise,
        has_noise: runner.has_noise(),
        saturation,
    })
}
