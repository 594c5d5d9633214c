//! What the importers share: the caller's options ([`ImportOptions`]), the result
//! ([`Imported`]), the one error type ([`InteropError`], each variant naming the file and
//! the key) and typed reading of named arrays ([`Source`]: shape, dtype and finiteness
//! checked, float64 rounded to float32 with a note).
//!
//! Written by hand: it is the small layer between the `.npz` reader and each format's
//! layout ([`super::psychrnn`], [`super::psychrnn_lstm`], [`super::torch`]).

use super::npy::{Array, Data};
use super::npz::{self, NpzError};
use super::pickle::{self, PickleError, Scalar};
use crate::model::{Cell, FloatModel, ModelError, Transfer};
use std::path::{Path, PathBuf};

/// What the file does not say and the caller must.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportOptions {
    /// Time step, ms.
    pub dt: f32,
    /// Time constant, ms.
    pub tau: f32,
    /// Transfer function (PsychRNN default relu).
    pub transfer: Transfer,
    /// Recurrent noise σ (PsychRNN `rec_noise`).
    pub rec_noise: f32,
    /// Model name; the file stem when `None`.
    pub name: Option<String>,
    /// Task the weights were trained on, recorded in the model (PsychRNN files do not
    /// store it); `None` records none.
    pub task: Option<String>,
    /// PsychRNN LSTM saves only: which row of `init_hidden`/`init_cell` (`[N_batch,
    /// N_rec]`, one per batch row) becomes the model's one initial state. PsychRNN's own
    /// `LSTMSimulator` uses row 0.
    pub init_row: usize,
}

impl ImportOptions {
    /// PsychRNN's defaults besides `dt` and `tau`: relu, no noise.
    pub fn new(dt: f32, tau: f32) -> Self {
        ImportOptions {
            dt,
            tau,
            transfer: Transfer::Relu,
            rec_noise: 0.0,
            name: None,
            task: None,
            init_row: 0,
        }
    }
}

/// An imported model and what the import decided.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The model (raw weights = the file's effective weights).
    pub model: FloatModel,
    /// Human-readable notes: constraints kept or dropped, keys ignored, conversions.
    pub notes: Vec<String>,
}

/// Errors reading or writing weight files (PsychRNN, PyTorch); each names the file and the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InteropError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The archive or one of its members is unreadable.
    #[error("{path}: {source}")]
    Npz {
        /// The file.
        path: PathBuf,
        /// What is wrong (names the key for a bad member).
        source: NpzError,
    },
    /// A required key is absent.
    #[error("{path}: key `{key}` is missing ({wants})")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What the format holds (e.g. "PsychRNN 1.0.0 weights have W_in, …").
        wants: String,
    },
    /// An array has the wrong shape.
    #[error("{path}: key `{key}` has shape {found:?} but must be {expected}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Its shape.
        found: Vec<usize>,
        /// What it must be.
        expected: String,
    },
    /// An array has the wrong element type.
    #[error("{path}: key `{key}` has dtype {found} but must be {expected}")]
    DType {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Its dtype.
        found: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// `dale_ratio` holds a pickle other than `None` or a float.
    #[error("{path}: key `{key}`: {source}")]
    Pickle {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Why it was refused.
        source: PickleError,
    },
    /// A value is out of range (NaN, a dale_ratio outside [0, 1], ...).
    #[error("{path}: key `{key}` {reason}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What is wrong, with the value.
        reason: String,
    },
    /// The file holds something the format's importer does not read (a second layer, a
    /// bidirectional or projected RNN, an unknown key, an ambiguous readout).
    #[error("{path}: key `{key}`: {reason}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What it is and what is supported.
        reason: String,
    },
    /// The model's cell has no form in the target format.
    #[error("{format} has no {cell} cell: {hint}")]
    CellFormat {
        /// The format (`export torch`, ...).
        format: &'static str,
        /// The model's cell.
        cell: Cell,
        /// Which cells the format holds and where else to go.
        hint: &'static str,
    },
    /// An option given by the caller is invalid.
    #[error("{flag} {reason}")]
    Option {
        /// The flag (`--dt`, ...).
        flag: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The model to export is invalid, or writing a model failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Arrays of one file, with its name for errors.
pub(crate) struct Source<'a> {
    /// The file (for messages).
    pub path: &'a Path,
    /// Its arrays by key.
    pub arrays: npz::Arrays,
    /// What the format holds, for [`InteropError::Missing`].
    pub wants: String,
}

impl<'a> Source<'a> {
    /// Read the members of `bytes` whose key `keep` accepts.
    pub fn read(
        path: &'a Path,
        bytes: &[u8],
        keep: impl Fn(&str) -> bool,
        wants: String,
    ) -> Result<Self, InteropError> {
        let arrays = npz::read_filtered(bytes, keep).map_err(|source| InteropError::Npz {
            path: path.into(),
            source,
        })?;
        Ok(Source {
            path,
            arrays,
            wants,
        })
    }

    /// The array `key`, or [`InteropError::Missing`].
    pub fn get(&self, key: &str) -> Result<&Array, InteropError> {
        self.arrays.get(key).ok_or_else(|| InteropError::Missing {
            path: self.path.into(),
            key: key.into(),
            wants: self.wants.clone(),
        })
    }

    /// [`InteropError::Shape`] for `key`.
    pub fn bad_shape(&self, key: &str, expected: String) -> InteropError {
        InteropError::Shape {
            path: self.path.into(),
            key: key.into(),
            found: self
                .arrays
                .get(key)
                .map(|a| a.shape.clone())
                .unwrap_or_default(),
            expected,
        }
    }

    /// [`InteropError::Unsupported`] for `key`.
    pub fn unsupported(&self, key: &str, reason: String) -> InteropError {
        InteropError::Unsupported {
            path: self.path.into(),
            key: key.into(),
            reason,
        }
    }

    /// The float array `key` (required) of one of `shapes`, as f32, pushing its key onto
    /// `rounded` if float64 values were rounded.
    pub fn required(
        &self,
        key: &str,
        shapes: &[Vec<usize>],
        expected: String,
        rounded: &mut Vec<String>,
    ) -> Result<Vec<f32>, InteropError> {
        let a = self.get(key)?;
        let (v, r) = self.floats(key, a, shapes, expected, false)?;
        if r {
            rounded.push(key.to_string());
        }
        Ok(v)
    }

    /// A float array of one of the `shapes` (the first is the canonical one, for messages),
    /// as f32. `ints` also accepts integer arrays (masks, Dale matrices).
    pub fn floats(
        &self,
        key: &str,
        a: &Array,
        shapes: &[Vec<usize>],
        expected: String,
        ints: bool,
    ) -> Result<(Vec<f32>, bool), InteropError> {
        if !shapes.contains(&a.shape) {
            return Err(InteropError::Shape {
                path: self.path.into(),
                key: key.into(),
                found: a.shape.clone(),
                expected,
            });
        }
        let (v, rounded): (Vec<f32>, bool) = match &a.data {
            Data::F32(v) => (v.clone(), false),
            Data::F64(v) => {
                let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                let rounded = f
                    .iter()
                    .zip(v)
                    .any(|(&a, &b)| a as f64 != b && b.is_finite());
                (f, rounded)
            }
            Data::I32(v) if ints => (v.iter().map(|&x| x as f32).collect(), false),
            Data::I64(v) if ints => (v.iter().map(|&x| x as f32).collect(), false),
            d => {
                return Err(InteropError::DType {
                    path: self.path.into(),
                    key: key.into(),
                    found: d.type_name(),
                    expected: if ints {
                        "float32, float64 or an integer type"
                    } else {
                        "float32 or float64"
                    },
                })
            }
        };
        if let Some(k) = v.iter().position(|x| !x.is_finite()) {
            return Err(InteropError::Value {
                path: self.path.into(),
                key: key.into(),
                reason: format!("element {k} is {}", v[k]),
            });
        }
        Ok((v, rounded))
    }

    /// PsychRNN's `dale_ratio`: absent, `None` (a pickle) or a float in [0, 1].
    pub fn dale_ratio(&self) -> Result<Option<f64>, InteropError> {
        let key = "dale_ratio";
        let Some(a) = self.arrays.get(key) else {
            return Ok(None);
        };
        let bad_shape = || InteropError::Shape {
            path: self.path.into(),
            key: key.into(),
            found: a.shape.clone(),
            expected: "() (a scalar)".into(),
        };
        let r = match &a.data {
            Data::Object(p) => {
                if !a.shape.is_empty() {
                    return Err(bad_shape());
                }
                match pickle::object_scalar(p) {
                    Ok(Scalar::None) => None,
                    Ok(Scalar::Float(x)) => Some(x),
                    Err(source) => {
                        return Err(InteropError::Pickle {
                            path: self.path.into(),
                            key: key.into(),
                            source,
                        })
                    }
                }
            }
            Data::F64(v) if a.len() == 1 && a.shape.len() <= 1 => Some(v[0]),
            Data::F32(v) if a.len() == 1 && a.shape.len() <= 1 => Some(v[0] as f64),
            Data::F64(_) | Data::F32(_) => return Err(bad_shape()),
            d => {
                return Err(InteropError::DType {
                    path: self.path.into(),
                    key: key.into(),
                    found: d.type_name(),
                    expected: "float64, or object holding None",
                })
            }
        };
        if let Some(x) = r {
            if !(0.0..=1.0).contains(&x) {
                return Err(InteropError::Value {
                    path: self.path.into(),
                    key: key.into(),
                    reason: format!("is {x}, must be None or in [0, 1]"),
                });
            }
        }
        Ok(r)
    }
}

/// Check `dt`, `tau` and `rec_noise`, naming the flag.
pub(crate) fn check_options(o: &ImportOptions) -> Result<(), InteropError> {
    if !(o.dt.is_finite() && o.dt > 0.0) {
        return Err(InteropError::Option {
            flag: "--dt",
            reason: format!("is {}, must be > 0 (ms)", o.dt),
        });
    }
    if !(o.tau.is_finite() && o.tau >= o.dt) {
        return Err(InteropError::Option {
            flag: "--tau",
            reason: format!("is {}, must be >= dt = {} (ms)", o.tau, o.dt),
        });
    }
    if !(o.rec_noise.is_finite() && o.rec_noise >= 0.0) {
        return Err(InteropError::Option {
            flag: "--rec-noise",
            reason: format!("is {}, must be >= 0", o.rec_noise),
        });
    }
    Ok(())
}

/// Notes for float64 arrays rounded to float32 and for keys that were not read.
pub(crate) fn conversion_notes(rounded: &[String], ignored: &[&str], notes: &mut Vec<String>) {
    if !rounded.is_empty() {
        notes.push(format!(
            "float64 arrays rounded to float32: {}",
            rounded.join(", ")
        ));
    }
    if !ignored.is_empty() {
        notes.push(format!("ignored keys: {}", ignored.join(", ")));
    }
}

/// The model name: the option, else the file stem, else `fallback`.
pub(crate) fn model_name(opts: &ImportOptions, path: &Path, fallback: &str) -> String {
    opts.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| fallback.into())
    })
}

/// Validate an imported model, reporting a bad field as a bad key of `path`.
pub(crate) fn validated(path: &Path, m: FloatModel) -> Result<FloatModel, InteropError> {
    m.validate().map_err(|e| match e {
        ModelError::Field { field, reason } => InteropError::Value {
            path: path.into(),
            key: field,
            reason,
        },
        e => InteropError::Model(e),
    })?;
    Ok(m)
}

/// `v` (row-major `rows × cols`) transposed.
pub(crate) fn transpose(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; v.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = v[r * cols + c];
        }
    }
    t
}

/// An f32 array of `shape`.
pub(crate) fn f32_array(shape: Vec<usize>, v: Vec<f32>) -> Array {
    Array {
        shape,
        data: Data::F32(v),
    }
}
