//! PyTorch `state_dict`s of a single-layer `nn.GRU` or `nn.LSTM` with an `nn.Linear`
//! readout, saved as `.npz`, to and from a `gru` / `lstm` [`FloatModel`].
//!
//! # Layout
//!
//! What `np.savez(f, **{k: v.detach().numpy() for k, v in model.state_dict().items()})`
//! writes for a module holding an `nn.GRU`/`nn.LSTM` (`G` = 3 or 4 gate blocks of `H` rows:
//! `r, z, n` or `i, f, g, o`) and an `nn.Linear(H, N_out)`:
//!
//! | key | shape | meaning |
//! |---|---|---|
//! | `Pweight_ih_l0`, `Pweight_hh_l0` | (G·H, N_in), (G·H, H) | gate weights; `G` tells GRU (3) from LSTM (4) |
//! | `Pbias_ih_l0`, `Pbias_hh_l0` | (G·H,) | gate biases (both required) |
//! | `Qweight`, `Qbias` | (N_out, H), (N_out,) | the readout `y = W h + b` |
//! | `h0`, `c0` (optional) | (H,), (1, H) or (1, 1, H) | initial hidden / cell state (default 0) |
//!
//! `P` and `Q` are any key prefixes, e.g. `rnn.` and `fc.` for attributes `self.rnn` and
//! `self.fc`, or empty for a bare `nn.GRU`. The recurrent module is the one key ending in
//! `weight_ih_l0`; the readout is the one other key ending in `weight` (or `Qweight` for a
//! given prefix `Q` when there are several). Every key must be one of these: a second layer
//! (`_l1`, …), a reverse direction (`_reverse`, `bidirectional=True`), an LSTM projection
//! (`weight_hr_l0`, `proj_size > 0`) or any other tensor (e.g. an input layer) is refused by
//! name, as neuroloop would otherwise run a different network. `batch_first` does not
//! change the weights. float64 is rounded to float32 (with a note); integer or half-precision
//! arrays are refused.
//!
//! # Mapping
//!
//! `w_in = weight_ih`, `w_rec = weight_hh` (same gate order), `w_out`, `b_out` from the
//! readout. PyTorch adds `bias_ih` and `bias_hh` for every gate except the GRU's candidate,
//! where `b_hn` sits inside `r ⊙ (W_hn h + b_hn)`: `b_rec = bias_ih + bias_hh` (in f32)
//! except the GRU's `n` block, `b_rec[n] = bias_ih[n]`, `b_hn = bias_hh[n]`
//! (docs/cells.md). `init_state` = `h0` (then `c0`). A PyTorch RNN has no time step or
//! leak: the caller gives `dt` (the task's time step the network was trained at) and `tau`
//! (only used by the task's input noise, `σ·√(2·dt/τ)`, as in PsychRNN).
//!
//! # Export
//!
//! Writes the keys above with prefixes `P`, `Q` of the caller's choice ([`ExportPrefixes`],
//! default `rnn.`, `fc.`), `bias_ih = b_rec` and `bias_hh = −0.0` for the summed blocks
//! (the GRU's `n` block: `b_hn`), so `export → import` gives every tensor back bit for bit
//! (`x + (−0.0) = x` for every `x`, the sign of zero included). `h0`/`c0` are written as
//! `(1, 1, H)` when the initial state is not all `+0.0`; they are no module parameters, so
//! pop them before `load_state_dict` and pass them as the RNN's `hx`.

use super::arrays::{
    check_options, conversion_notes, f32_array, model_name, validated, ImportOptions, Imported,
    InteropError, Source,
};
use super::npy::Array;
use crate::model::{Cell, FloatModel};
use std::path::Path;

/// What the file does not say and the caller must.
#[derive(Clone, Debug, PartialEq)]
pub struct TorchOptions {
    /// Time step the network was trained at, ms.
    pub dt: f32,
    /// Time constant, ms: only scales the task's input noise (a PyTorch RNN has no leak).
    pub tau: f32,
    /// Model name; the file stem when `None`.
    pub name: Option<String>,
    /// Task the weights were trained on, recorded in the model.
    pub task: Option<String>,
    /// Key prefix of the readout (`fc.` for `fc.weight`), when the file has several
    /// candidate `…weight` keys.
    pub readout: Option<String>,
}

impl TorchOptions {
    /// Options with `dt` and `tau`, no name, task or readout prefix.
    pub fn new(dt: f32, tau: f32) -> Self {
        TorchOptions {
            dt,
            tau,
            name: None,
            task: None,
            readout: None,
        }
    }
}

/// Key prefixes written by [`export`].
#[derive(Clone, Debug, PartialEq)]
pub struct ExportPrefixes {
    /// Prefix of the recurrent module's keys (`rnn.` → `rnn.weight_ih_l0`).
    pub rnn: String,
    /// Prefix of the readout's keys (`fc.` → `fc.weight`).
    pub readout: String,
}

impl Default for ExportPrefixes {
    fn default() -> Self {
        ExportPrefixes {
            rnn: "rnn.".into(),
            readout: "fc.".into(),
        }
    }
}

const WANTS: &str = "a PyTorch state_dict of nn.GRU/nn.LSTM (PREFIXweight_ih_l0, \
                     PREFIXweight_hh_l0, PREFIXbias_ih_l0, PREFIXbias_hh_l0) and nn.Linear \
                     (PREFIXweight, PREFIXbias), see docs/cells.md";

/// The layer number `k` of a key ending in `_l{k}` (or `_l{k}_reverse`).
fn layer_of(key: &str) -> Option<u64> {
    let k = key.strip_suffix("_reverse").unwrap_or(key);
    let at = k.rfind("_l")?;
    k[at + 2..].parse().ok()
}

/// Refuse keys of what a single-layer, one-direction, unprojected RNN does not have.
fn check_single_layer(src: &Source) -> Result<(), InteropError> {
    for key in src.arrays.keys() {
        if key.ends_with("_reverse") {
            return Err(src.unsupported(
                key,
                "belongs to the reverse direction of a bidirectional RNN (bidirectional=True); \
                 neuroloop imports a single-layer, one-direction nn.GRU/nn.LSTM"
                    .into(),
            ));
        }
        if let Some(l) = layer_of(key).filter(|&l| l > 0) {
            return Err(src.unsupported(
                key,
                format!(
                    "belongs to layer {} of a multi-layer RNN (num_layers > 1); neuroloop \
                     imports a single-layer nn.GRU/nn.LSTM",
                    l + 1
                ),
            ));
        }
        if key.ends_with("weight_hr_l0") {
            return Err(src.unsupported(
                key,
                "is the projection of an LSTM with proj_size > 0; neuroloop imports \
                 nn.LSTM without projection"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// The readout's key prefix.
fn readout_prefix(src: &Source, given: Option<&str>) -> Result<String, InteropError> {
    if let Some(q) = given {
        return Ok(q.to_string());
    }
    let found: Vec<&str> = src
        .arrays
        .keys()
        .map(|k| k.as_str())
        // The recurrent module's keys end in `_l0`, never in `weight`.
        .filter(|k| k.ends_with("weight"))
        .collect();
    match found[..] {
        [k] => Ok(k[..k.len() - "weight".len()].to_string()),
        [] => Err(InteropError::Missing {
            path: src.path.into(),
            key: "weight".into(),
            wants: format!(
                "the nn.Linear readout, a key PREFIXweight of shape (N_out, H), e.g. fc.weight; {WANTS}"
            ),
        }),
        _ => Err(src.unsupported(
            found[1],
            format!(
                "several keys could be the readout's weight ({}); name it with --readout PREFIX",
                found.join(", ")
            ),
        )),
    }
}

/// Parse a PyTorch GRU/LSTM `state_dict` npz (bytes of `path`).
pub fn import_bytes(
    path: &Path,
    bytes: &[u8],
    opts: &TorchOptions,
) -> Result<Imported, InteropError> {
    let common = ImportOptions {
        name: opts.name.clone(),
        task: opts.task.clone(),
        ..ImportOptions::new(opts.dt, opts.tau)
    };
    check_options(&common)?;
    let src = Source::read(path, bytes, |_| true, WANTS.into())?;
    check_single_layer(&src)?;
    let ih: Vec<&str> = src
        .arrays
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.ends_with("weight_ih_l0"))
        .collect();
    let p = match ih[..] {
        [k] => k[..k.len() - "weight_ih_l0".len()].to_string(),
        [] => {
            return Err(InteropError::Missing {
                path: path.into(),
                key: "weight_ih_l0".into(),
                wants: format!("with any prefix; {WANTS}"),
            })
        }
        _ => {
            return Err(src.unsupported(
                ih[1],
                format!(
                    "a second recurrent module ({}); neuroloop imports one",
                    ih.join(", ")
                ),
            ))
        }
    };
    let key = |s: &str| format!("{p}{s}");
    let (k_ih, k_hh, k_bih, k_bhh) = (
        key("weight_ih_l0"),
        key("weight_hh_l0"),
        key("bias_ih_l0"),
        key("bias_hh_l0"),
    );
    let (gh, h) = match src.get(&k_hh)?.shape[..] {
        [r, c] if c > 0 && r == c => {
            return Err(src.unsupported(
                &k_hh,
                format!(
                    "has shape [{r}, {c}], one gate block: an nn.RNN, which neuroloop does not \
                     import (nn.GRU has 3·H rows, nn.LSTM 4·H)"
                ),
            ))
        }
        [r, c] if c > 0 && (r == 3 * c || r == 4 * c) => (r, c),
        _ => {
            return Err(src.bad_shape(
                &k_hh,
                "(3·H, H) for nn.GRU or (4·H, H) for nn.LSTM, H > 0".into(),
            ))
        }
    };
    let cell = if gh == 3 * h { Cell::Gru } else { Cell::Lstm };
    let i = match src.get(&k_ih)?.shape[..] {
        [r, c] if r == gh && c > 0 => c,
        _ => {
            return Err(src.bad_shape(
                &k_ih,
                format!("({gh}, N_in) like {k_hh}'s rows ({cell}, H = {h})"),
            ))
        }
    };
    let q = readout_prefix(&src, opts.readout.as_deref())?;
    let (k_w, k_b) = (format!("{q}weight"), format!("{q}bias"));
    let o = match src.get(&k_w)?.shape[..] {
        [r, c] if c == h && r > 0 => r,
        _ => return Err(src.bad_shape(&k_w, format!("(N_out, H={h}) (the nn.Linear readout)"))),
    };

    let mut rounded = Vec::new();
    let mut m = FloatModel::zeros_cell(&model_name(&common, path, "torch"), cell, i, h, o);
    m.w_in = src.required(&k_ih, &[vec![gh, i]], format!("({gh}, {i})"), &mut rounded)?;
    m.w_rec = src.required(&k_hh, &[vec![gh, h]], format!("({gh}, {h})"), &mut rounded)?;
    let b_ih = src.required(&k_bih, &[vec![gh]], format!("({gh},)"), &mut rounded)?;
    let b_hh = src.required(&k_bhh, &[vec![gh]], format!("({gh},)"), &mut rounded)?;
    m.w_out = src.required(&k_w, &[vec![o, h]], format!("({o}, {h})"), &mut rounded)?;
    m.b_out = src.required(&k_b, &[vec![o]], format!("(N_out={o},)"), &mut rounded)?;
    // Summed biases: every gate but the GRU's candidate (block 2), which keeps b_hn apart.
    let summed = if cell == Cell::Gru { 2 * h } else { gh };
    m.b_rec = b_ih
        .iter()
        .zip(&b_hh)
        .enumerate()
        .map(|(k, (&a, &b))| if k < summed { a + b } else { a })
        .collect();
    if cell == Cell::Gru {
        m.b_hn = b_hh[2 * h..].to_vec();
    }
    let state_shapes = [vec![h], vec![1, h], vec![1, 1, h]];
    let mut used = vec![k_ih, k_hh, k_bih, k_bhh, k_w, k_b];
    for (k, name) in ["h0", "c0"].into_iter().enumerate() {
        if !src.arrays.contains_key(name) {
            continue;
        }
        if cell == Cell::Gru && name == "c0" {
            return Err(src.unsupported(name, "is a cell state, and a GRU has none".into()));
        }
        let v = src.required(
            name,
            &state_shapes,
            format!("(H={h},), (1, {h}) or (1, 1, {h})"),
            &mut rounded,
        )?;
        m.init_state[k * h..(k + 1) * h].copy_from_slice(&v);
        used.push(name.into());
    }
    if let Some(k) = src.arrays.keys().find(|k| !used.contains(k)) {
        return Err(src.unsupported(
            k,
            format!(
                "is not part of a single-layer nn.GRU/nn.LSTM ({p}…) + nn.Linear ({q}…) \
                 state_dict (or h0/c0); neuroloop refuses it rather than run a network \
                 without it"
            ),
        ));
    }
    let mut notes = vec![format!(
        "PyTorch nn.{} ({p}weight_ih_l0 …, readout {q}weight): imported as the {cell} cell; dt {} ms sets \
         the task's time step (a PyTorch RNN has no leak), tau {} ms only its input noise",
        if cell == Cell::Gru { "GRU" } else { "LSTM" },
        opts.dt,
        opts.tau
    )];
    conversion_notes(&rounded, &[], &mut notes);
    m.dt = opts.dt;
    m.tau = opts.tau;
    m.task = opts.task.clone().unwrap_or_default();
    m.summary = format!(
        "imported from PyTorch weights {}; {}",
        path.display(),
        notes.join("; ")
    );
    let m = validated(path, m)?;
    Ok(Imported { model: m, notes })
}

/// Read and import a PyTorch `state_dict` npz.
pub fn import(path: &Path, opts: &TorchOptions) -> Result<Imported, InteropError> {
    let bytes = std::fs::read(path).map_err(|source| InteropError::Io {
        path: path.into(),
        source,
    })?;
    import_bytes(path, &bytes, opts)
}

/// The arrays of a PyTorch `state_dict` npz for a `gru` or `lstm` model, by key.
pub fn export_arrays(
    m: &FloatModel,
    prefixes: &ExportPrefixes,
) -> Result<Vec<(String, Array)>, InteropError> {
    m.validate()?;
    let hint = match m.cell {
        Cell::Gru | Cell::Lstm => "",
        Cell::Leaky => "PyTorch has no module for the leaky rate cell; use `export psychrnn`",
        Cell::LstmPsychrnn => {
            "nn.LSTM computes h = o·tanh(c), lstm-psychrnn h = o·σ(c); use `export psychrnn`"
        }
    };
    if !hint.is_empty() {
        return Err(InteropError::CellFormat {
            format: "export torch",
            cell: m.cell,
            hint,
        });
    }
    let (n, i, o) = (m.n_rec, m.n_in, m.n_out);
    let gh = m.cell.gates() * n;
    let summed = if m.cell == Cell::Gru { 2 * n } else { gh };
    let mut b_hh = vec![-0.0f32; gh];
    b_hh[summed..].copy_from_slice(&m.b_hn);
    let (p, q) = (&prefixes.rnn, &prefixes.readout);
    let mut out = vec![
        (
            format!("{p}weight_ih_l0"),
            f32_array(vec![gh, i], m.w_in.clone()),
        ),
        (
            format!("{p}weight_hh_l0"),
            f32_array(vec![gh, n], m.w_rec.clone()),
        ),
        (
            format!("{p}bias_ih_l0"),
            f32_array(vec![gh], m.b_rec.clone()),
        ),
        (format!("{p}bias_hh_l0"), f32_array(vec![gh], b_hh)),
        (format!("{q}weight"), f32_array(vec![o, n], m.w_out.clone())),
        (format!("{q}bias"), f32_array(vec![o], m.b_out.clone())),
    ];
    for (k, name) in ["h0", "c0"].into_iter().enumerate().take(m.cell.states()) {
        let v = &m.init_state[k * n..(k + 1) * n];
        if v.iter().any(|x| x.to_bits() != 0) {
            out.push((name.into(), f32_array(vec![1, 1, n], v.to_vec())));
        }
    }
    Ok(out)
}

/// A PyTorch `state_dict` npz (bytes) for `m`.
pub fn export(m: &FloatModel, prefixes: &ExportPrefixes) -> Result<Vec<u8>, InteropError> {
    let arrays = export_arrays(m, prefixes)?;
    Ok(super::npz::write(
        arrays.iter().map(|(k, a)| (k.as_str(), a)),
    ))
}

/// Write a PyTorch `state_dict` npz for `m` atomically.
pub fn export_to(
    m: &FloatModel,
    prefixes: &ExportPrefixes,
    path: &Path,
) -> Result<(), InteropError> {
    let bytes = export(m, prefixes)?;
    crate::model::file::write_atomic(path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(cell: Cell) -> FloatModel {
        let mut m = FloatModel::zeros_cell("t", cell, 2, 3, 2);
        for (s, v) in [
            (0.37, &mut m.w_in),
            (0.71, &mut m.w_rec),
            (1.3, &mut m.b_rec),
            (0.5, &mut m.w_out),
            (0.9, &mut m.b_out),
            (0.2, &mut m.init_state),
            (1.7, &mut m.b_hn),
        ] {
            for (k, w) in v.iter_mut().enumerate() {
                *w = ((k as f32 + 1.0) * s).sin();
            }
        }
        m.b_rec[0] = -0.0;
        m
    }

    #[test]
    fn export_import_is_bit_exact_for_both_cells_and_any_prefixes() {
        for cell in [Cell::Gru, Cell::Lstm] {
            for prefixes in [
                ExportPrefixes::default(),
                ExportPrefixes {
                    rnn: String::new(),
                    readout: "head.".into(),
                },
            ] {
                let m = model(cell);
                let bytes = export(&m, &prefixes).unwrap();
                let back =
                    import_bytes(Path::new("t.npz"), &bytes, &TorchOptions::new(10.0, 100.0))
                        .unwrap()
                        .model;
                assert_eq!(back.cell, cell);
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
                    assert_eq!(bits(a), bits(b), "{cell} {prefixes:?}");
                }
                assert_eq!(export(&back, &prefixes).unwrap(), bytes);
            }
        }
    }

    #[test]
    fn layer_suffixes_are_recognised() {
        assert_eq!(layer_of("rnn.weight_ih_l0"), Some(0));
        assert_eq!(layer_of("rnn.weight_ih_l12"), Some(12));
        assert_eq!(layer_of("rnn.bias_hh_l1_reverse"), Some(1));
        assert_eq!(layer_of("fc.weight"), None);
        assert_eq!(layer_of("my_layer.weight"), None);
    }
}
