//! PsychRNN 1.0.0 weight files (`model.save(path)` → `.npz`) to and from [`FloatModel`].
//!
//! # Layout (what `RNN.get_weights` + `np.savez` write)
//!
//! | key | shape | meaning |
//! |---|---|---|
//! | `W_in` | (N_rec, N_in) | **effective** input weights (mask and Dale's `abs` applied) |
//! | `W_rec` | (N_rec, N_rec) | effective recurrent weights, `|W ⊙ M| · Dale_rec` under Dale |
//! | `W_out` | (N_out, N_rec) | effective output weights, `|W ⊙ M| · Dale_out` under Dale |
//! | `b_rec`, `b_out` | (N_rec,), (N_out,) | biases |
//! | `init_state` | (1, N_rec) | s₀ (broadcast over the batch) |
//! | `Dale_rec`, `Dale_out` | (N_rec, N_rec) | diagonal sign matrices (identity without Dale) |
//! | `*_connectivity` | like the weights | 0/1 masks (`autapses=False` is folded into `rec_connectivity`) |
//! | `dale_ratio` | 0-d | `float64`, or an object array pickling `None` (see [`super::pickle`]) |
//! | `*/Adam*` | | optimizer slots: ignored |
//!
//! `dt`, `tau`, the transfer function and `rec_noise` are not in the file: the caller gives
//! them ([`ImportOptions`]).
//!
//! A save of PsychRNN's `LSTM` model is recognised by its gate keys (`W_f`, …, `init_cell`)
//! whatever the file is called, and read by [`super::psychrnn_lstm`] into an
//! `lstm-psychrnn` model; its Basic matrices (`W_in`, `W_rec`, `b_rec`, `init_state`),
//! which PsychRNN's LSTM never uses, are ignored.
//!
//! # Import: exact by construction
//!
//! The saved matrices already are the effective ones, so the imported model stores them
//! **as its raw weights**. The constraints (Dale ratio, masks) are kept in
//! [`Constraints`] only when re-applying them with [`FloatModel::effective`] gives back
//! exactly the same matrices (value equality; for 0/1 masks and sign-consistent columns
//! applying them twice is a no-op). Otherwise they are dropped, the weights stay exact, and a
//! note says why. The usual reason: PsychRNN 1.0.0's `WeightInitializer` builds `Dale_out`
//! from `Dale_rec` (diag ±1, not the documented diag 1/0), so a PsychRNN Dale model lets
//! inhibitory units drive the outputs with negative weights, which neuroloop's Dale rule
//! (inhibitory units do not reach the outputs) would zero. Masks that are all ones are
//! stored as "no mask".
//!
//! # Export
//!
//! Writes `effective()` in f32 plus `Dale_rec`/`Dale_out` (neuroloop's rule: diag ±1 and
//! diag 1/0), the masks (`autapses = false` folded into `rec_connectivity`) and
//! `dale_ratio` (float64 of the f32's shortest decimal, so 0.8 stays 0.8). Where an effective weight equals the stored one, the stored f32 bits are
//! written (this keeps the sign of zeros), so `import → export` reproduces every array of a
//! PsychRNN file bit for bit and `export → import → export` is a fixed point. PsychRNN's
//! `BasicSimulator(weights_path=...)` and `Basic(load_weights_path=...)` both load the result.

use super::arrays::{check_options, conversion_notes, model_name, validated, Source};
use super::npy::{Array, Data};
use super::npz;
use super::pickle;
use super::psychrnn_lstm;
use crate::model::{Cell, Constraints, FloatModel};
use std::path::Path;

pub use super::arrays::{ImportOptions, Imported, InteropError};

/// Keys every PsychRNN Basic weight file must have.
pub const REQUIRED: [&str; 6] = ["W_in", "W_rec", "W_out", "b_rec", "b_out", "init_state"];

/// Keys that are read when present.
pub const OPTIONAL: [&str; 6] = [
    "Dale_rec",
    "Dale_out",
    "input_connectivity",
    "rec_connectivity",
    "output_connectivity",
    "dale_ratio",
];

/// True when `effective()` reproduces the raw weights exactly (by value).
fn constraints_are_exact(m: &FloatModel) -> Result<(), String> {
    let e = m.effective();
    for (name, raw, eff) in [
        ("W_in", &m.w_in, &e.w_in),
        ("W_rec", &m.w_rec, &e.w_rec),
        ("W_out", &m.w_out, &e.w_out),
    ] {
        if let Some(k) = raw.iter().zip(eff).position(|(&r, &e)| r as f64 != e) {
            return Err(format!("{name}[{k}] = {} would become {}", raw[k], eff[k]));
        }
    }
    Ok(())
}

fn is_binary(v: &[f32]) -> bool {
    v.iter().all(|&x| x == 0.0 || x == 1.0)
}

/// Parse PsychRNN weights (bytes of `path`).
pub fn import_bytes(
    path: &Path,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<Imported, InteropError> {
    check_options(opts)?;
    let src = Source::read(
        path,
        bytes,
        |k| !k.contains("/Adam"),
        format!("PsychRNN 1.0.0 weights have {}", REQUIRED.join(", ")),
    )?;
    if psychrnn_lstm::KEYS
        .iter()
        .any(|k| src.arrays.contains_key(*k))
    {
        return psychrnn_lstm::import_source(src, opts);
    }
    let mut notes = Vec::new();
    for k in REQUIRED {
        src.get(k)?;
    }
    // Sizes: N_rec from W_rec, N_in from W_in, N_out from W_out.
    let w_rec_a = src.get("W_rec")?;
    let n = match w_rec_a.shape[..] {
        [r, c] if r == c && r > 0 => r,
        _ => {
            return Err(InteropError::Shape {
                path: path.into(),
                key: "W_rec".into(),
                found: w_rec_a.shape.clone(),
                expected: "(N_rec, N_rec), N_rec > 0".into(),
            })
        }
    };
    let w_in_a = src.get("W_in")?;
    let i = match w_in_a.shape[..] {
        [r, c] if r == n && c > 0 => c,
        _ => {
            return Err(InteropError::Shape {
                path: path.into(),
                key: "W_in".into(),
                found: w_in_a.shape.clone(),
                expected: format!("(N_rec={n}, N_in)"),
            })
        }
    };
    let w_out_a = src.get("W_out")?;
    let o = match w_out_a.shape[..] {
        [r, c] if c == n && r > 0 => r,
        _ => {
            return Err(InteropError::Shape {
                path: path.into(),
                key: "W_out".into(),
                found: w_out_a.shape.clone(),
                expected: format!("(N_out, N_rec={n})"),
            })
        }
    };
    let mut rounded = Vec::new();
    let mut float = |key: &str,
                     shapes: Vec<Vec<usize>>,
                     expected: String,
                     ints: bool|
     -> Result<Vec<f32>, InteropError> {
        let a = src.get(key)?;
        let (v, r) = src.floats(key, a, &shapes, expected, ints)?;
        if r {
            rounded.push(key.to_string());
        }
        Ok(v)
    };
    let w_in = float("W_in", vec![vec![n, i]], format!("({n}, {i})"), false)?;
    let w_rec = float("W_rec", vec![vec![n, n]], format!("({n}, {n})"), false)?;
    let w_out = float("W_out", vec![vec![o, n]], format!("({o}, {n})"), false)?;
    let b_rec = float("b_rec", vec![vec![n]], format!("(N_rec={n},)"), false)?;
    let b_out = float("b_out", vec![vec![o]], format!("(N_out={o},)"), false)?;
    let init_state = float(
        "init_state",
        vec![vec![1, n], vec![n]],
        format!("(1, N_rec={n})"),
        false,
    )?;
    let mut optional = |key: &str, shape: Vec<usize>| -> Result<Option<Vec<f32>>, InteropError> {
        if !src.arrays.contains_key(key) {
            return Ok(None);
        }
        let expected = format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        float(key, vec![shape], expected, true).map(Some)
    };
    let dale_rec = optional("Dale_rec", vec![n, n])?;
    let dale_out = optional("Dale_out", vec![n, n])?;
    let m_in = optional("input_connectivity", vec![n, i])?;
    let m_rec = optional("rec_connectivity", vec![n, n])?;
    let m_out = optional("output_connectivity", vec![o, n])?;
    let dale_ratio = src.dale_ratio()?;
    let ignored: Vec<&str> = src
        .arrays
        .keys()
        .map(|k| k.as_str())
        .filter(|k| !REQUIRED.contains(k) && !OPTIONAL.contains(k))
        .collect();
    conversion_notes(&rounded, &ignored, &mut notes);
    if !src.arrays.contains_key("dale_ratio") {
        notes.push(
            "no `dale_ratio` key (a pre-1.0 PsychRNN file): Dale's law is not recorded".into(),
        );
    }

    let name = model_name(opts, path, "psychrnn");
    let mut m = FloatModel::zeros(&name, i, n, o);
    m.dt = opts.dt;
    m.tau = opts.tau;
    m.transfer = opts.transfer;
    m.rec_noise = opts.rec_noise;
    m.task = opts.task.clone().unwrap_or_default();
    m.w_in = w_in;
    m.w_rec = w_rec;
    m.w_out = w_out;
    m.b_rec = b_rec;
    m.b_out = b_out;
    m.init_state = init_state;

    // Masks: all ones → none; non-0/1 values cannot be re-applied exactly → dropped.
    let mut mask = |key: &str, v: Option<Vec<f32>>| -> Option<Vec<f32>> {
        let v = v?;
        if v.iter().all(|&x| x == 1.0) {
            None
        } else if !is_binary(&v) {
            notes.push(format!(
                "`{key}` is not a 0/1 mask: not kept as a constraint (weights are exact)"
            ));
            None
        } else {
            Some(v)
        }
    };
    let wanted = Constraints {
        dale_ratio: None,
        input_connectivity: mask("input_connectivity", m_in),
        rec_connectivity: mask("rec_connectivity", m_rec),
        output_connectivity: mask("output_connectivity", m_out),
        autapses: true,
    };
    // Dale: only a positive ratio applies (PsychRNN tests `if self.dale_ratio:`).
    let dale = match dale_ratio {
        Some(r) if r > 0.0 => Some(r as f32),
        Some(_) => {
            notes.push("dale_ratio is 0: PsychRNN applies no Dale's law".into());
            None
        }
        None => None,
    };
    m.constraints = Constraints {
        dale_ratio: dale,
        ..wanted.clone()
    };
    if let Some(r) = dale {
        let signs = m.dale_signs();
        let diag_ok = |d: &Option<Vec<f32>>, inh: f32| {
            d.as_ref().is_none_or(|d| {
                (0..n).all(|k| d[k * n + k] == if signs[k] > 0.0 { 1.0 } else { inh })
            })
        };
        if !diag_ok(&dale_rec, -1.0) {
            notes.push(format!(
                "dale_ratio {r} not kept as a constraint: `Dale_rec` does not mark the first {} units excitatory",
                m.n_excitatory().unwrap_or(0)
            ));
            m.constraints = wanted.clone();
        } else if let Err(why) = constraints_are_exact(&m) {
            let psychrnn_bug = dale_out
                .as_ref()
                .is_some_and(|d| d == dale_rec.as_ref().unwrap_or(d))
                && diag_ok(&dale_out, -1.0);
            notes.push(format!(
                "dale_ratio {r} not kept as a constraint: re-applying it changes the weights ({why}){}; the effective weights are imported exactly",
                if psychrnn_bug {
                    " — PsychRNN 1.0.0 sets Dale_out = Dale_rec, so its inhibitory units reach the outputs"
                } else {
                    ""
                }
            ));
            m.constraints = wanted.clone();
        } else {
            notes.push(format!(
                "dale_ratio {r} kept as a constraint ({} excitatory units)",
                m.n_excitatory().unwrap_or(0)
            ));
        }
    }
    if m.constraints.dale_ratio.is_none() {
        if let Err(why) = constraints_are_exact(&m) {
            notes.push(format!("connectivity masks not kept as constraints: the weights are not zero where they mask ({why})"));
            m.constraints = Constraints::default();
        }
    }
    m.summary = format!("imported from PsychRNN weights {}", path.display());
    if !notes.is_empty() {
        m.summary.push_str("; ");
        m.summary.push_str(&notes.join("; "));
    }
    let m = validated(path, m)?;
    Ok(Imported { model: m, notes })
}

/// Read and import a PsychRNN weight file.
pub fn import(path: &Path, opts: &ImportOptions) -> Result<Imported, InteropError> {
    let bytes = std::fs::read(path).map_err(|source| InteropError::Io {
        path: path.into(),
        source,
    })?;
    import_bytes(path, &bytes, opts)
}

/// Effective weights as f32, keeping the stored bits where the value is unchanged.
fn eff_f32(raw: &[f32], eff: &[f64]) -> Vec<f32> {
    raw.iter()
        .zip(eff)
        .map(|(&r, &e)| if r as f64 == e { r } else { e as f32 })
        .collect()
}

fn diag(n: usize, d: impl Fn(usize) -> f32) -> Vec<f32> {
    let mut m = vec![0.0; n * n];
    for k in 0..n {
        m[k * n + k] = d(k);
    }
    m
}

/// The arrays of a PsychRNN weight file for `m`, by key: a Basic save for the leaky cell,
/// an LSTM save for `lstm-psychrnn` ([`psychrnn_lstm::export_arrays`]).
pub fn export_arrays(m: &FloatModel) -> Result<Vec<(&'static str, Array)>, InteropError> {
    m.validate()?;
    match m.cell {
        Cell::Leaky => {}
        Cell::LstmPsychrnn => return psychrnn_lstm::export_arrays(m),
        cell => {
            return Err(InteropError::CellFormat {
                format: "export psychrnn",
                cell,
                hint: "PsychRNN 1.0.0 has the leaky cell (Basic) and its own LSTM \
                       (lstm-psychrnn, h = o·σ(c)); export a gru or lstm model with \
                       `neuroloop export torch`",
            })
        }
    }
    let (n, i, o) = (m.n_rec, m.n_in, m.n_out);
    let e = m.effective();
    let f = |shape: Vec<usize>, v: Vec<f32>| Array {
        shape,
        data: Data::F32(v),
    };
    let signs = m.dale_signs();
    let dale = m.constraints.dale_ratio.is_some();
    let c = &m.constraints;
    let ones = |len| vec![1.0f32; len];
    let dale_ratio = match c.dale_ratio {
        // The shortest decimal of the f32 (0.8, not 0.800000011920929): what a Python user
        // wrote, and what a PsychRNN file holding a float64 ratio gives back after import.
        Some(r) => Array {
            shape: vec![],
            data: Data::F64(vec![r.to_string().parse().unwrap_or(r as f64)]),
        },
        None => Array {
            shape: vec![],
            data: Data::Object(pickle::none_object_array()),
        },
    };
    Ok(vec![
        ("init_state", f(vec![1, n], m.init_state.clone())),
        ("W_in", f(vec![n, i], eff_f32(&m.w_in, &e.w_in))),
        ("W_rec", f(vec![n, n], eff_f32(&m.w_rec, &e.w_rec))),
        ("W_out", f(vec![o, n], eff_f32(&m.w_out, &e.w_out))),
        ("b_rec", f(vec![n], m.b_rec.clone())),
        ("b_out", f(vec![o], m.b_out.clone())),
        ("Dale_rec", f(vec![n, n], diag(n, |k| signs[k] as f32))),
        (
            "Dale_out",
            f(
                vec![n, n],
                diag(n, |k| if !dale || signs[k] > 0.0 { 1.0 } else { 0.0 }),
            ),
        ),
        (
            "input_connectivity",
            f(
                vec![n, i],
                c.input_connectivity.clone().unwrap_or_else(|| ones(n * i)),
            ),
        ),
        (
            "rec_connectivity",
            f(vec![n, n], m.rec_mask().iter().map(|&x| x as f32).collect()),
        ),
        (
            "output_connectivity",
            f(
                vec![o, n],
                c.output_connectivity.clone().unwrap_or_else(|| ones(o * n)),
            ),
        ),
        ("dale_ratio", dale_ratio),
    ])
}

/// A PsychRNN weight file (npz bytes) for `m`.
pub fn export(m: &FloatModel) -> Result<Vec<u8>, InteropError> {
    let arrays = export_arrays(m)?;
    Ok(npz::write(arrays.iter().map(|(k, a)| (*k, a))))
}

/// Write a PsychRNN weight file for `m` atomically.
pub fn export_to(m: &FloatModel, path: &Path) -> Result<(), InteropError> {
    let bytes = export(m)?;
    crate::model::file::write_atomic(path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dale_model() -> FloatModel {
        let mut m = FloatModel::zeros("d", 2, 5, 1);
        for (k, w) in m.w_rec.iter_mut().enumerate() {
            *w = (k as f32 * 0.37).sin();
        }
        for (k, w) in m.w_in.iter_mut().enumerate() {
            *w = (k as f32 * 0.7).cos();
        }
        for (k, w) in m.w_out.iter_mut().enumerate() {
            *w = (k as f32 * 1.3).sin();
        }
        m.constraints.dale_ratio = Some(0.6);
        m.constraints.autapses = false;
        m.constraints.input_connectivity = Some(vec![1., 0., 1., 1., 0., 1., 1., 1., 1., 1.]);
        m
    }

    #[test]
    fn export_import_keeps_effective_weights_and_constraints() {
        let m = dale_model();
        let bytes = export(&m).unwrap();
        let back =
            import_bytes(Path::new("d.npz"), &bytes, &ImportOptions::new(10.0, 100.0)).unwrap();
        assert_eq!(back.model.effective(), m.effective());
        assert_eq!(
            back.model.constraints.dale_ratio,
            Some(0.6),
            "{:?}",
            back.notes
        );
        assert_eq!(
            back.model.constraints.input_connectivity,
            m.constraints.input_connectivity
        );
        // export → import → export is a fixed point, byte for byte.
        assert_eq!(export(&back.model).unwrap(), bytes);
    }

    #[test]
    fn import_drops_dale_when_psychrnn_dale_out_lets_inhibitory_units_reach_outputs() {
        let m = dale_model();
        let mut arrays = export_arrays(&m).unwrap();
        for (k, a) in arrays.iter_mut() {
            if *k == "W_out" {
                a.data = Data::F32(vec![0.5, 0.2, 0.1, -0.3, -0.4]);
            }
            if *k == "Dale_out" {
                a.data = Data::F32(diag(5, |k| if k < 3 { 1.0 } else { -1.0 }));
            }
        }
        let bytes = npz::write(arrays.iter().map(|(k, a)| (*k, a)));
        let back =
            import_bytes(Path::new("d.npz"), &bytes, &ImportOptions::new(10.0, 100.0)).unwrap();
        assert_eq!(back.model.constraints.dale_ratio, None);
        assert_eq!(back.model.w_out, vec![0.5, 0.2, 0.1, -0.3, -0.4]);
        assert!(
            back.notes.iter().any(|n| n.contains("Dale_out = Dale_rec")),
            "{:?}",
            back.notes
        );
    }
}
