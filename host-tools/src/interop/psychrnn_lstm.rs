//! PsychRNN 1.0.0 `LSTM` saves (`model.save(path)` → `.npz`) to and from an
//! `lstm-psychrnn` [`FloatModel`].
//!
//! # Layout (what PsychRNN's `LSTM.get_weights` + `np.savez` write)
//!
//! | key | shape | meaning |
//! |---|---|---|
//! | `W_f`, `W_i`, `W_c`, `W_o` | (N_rec + N_in, N_rec) | gate weights over `concat(hidden, x)` |
//! | `b_f`, `b_i`, `b_c`, `b_o` | (N_rec,) | gate biases |
//! | `init_hidden`, `init_cell` | (N_batch, N_rec) | trainable initial states, **one per batch row** |
//! | `W_out`, `b_out` | (N_out, N_rec), (N_out,) | readout `y = W_out h + b_out` |
//! | `W_in`, `W_rec`, `b_rec`, `init_state`, `Dale_*`, `*_connectivity`, `dale_ratio` | | the Basic RNN's variables, which the LSTM never uses: ignored |
//! | `*/Adam*` | | optimizer slots: ignored |
//!
//! PsychRNN's step (`psychrnn/backend/models/lstm.py`) is `f, i, o = σ(·)`, `c̃ = tanh(·)`
//! of `concat(h, x) · W_· + b_·`, `c' = f·c + i·c̃`, `h' = o·σ(c')`: neuroloop's
//! `lstm-psychrnn` cell. Gate `x` maps to neuroloop's row blocks `i, f, g, o` (←
//! `W_i, W_f, W_c, W_o`) as `w_rec[block] = W_x[..N_rec]ᵀ`, `w_in[block] = W_x[N_rec..]ᵀ`,
//! `b_rec[block] = b_x` (docs/cells.md).
//!
//! # The initial state
//!
//! PsychRNN trains `init_hidden`/`init_cell` as `[N_batch, N_rec]` variables: in
//! `model.test`, trial `b` of a batch starts from row `b`, while its `LSTMSimulator` starts
//! every trial from row 0. A deployed network has one initial state, so the import takes
//! one row, [`ImportOptions::init_row`] (default 0, as `LSTMSimulator`), and its note says
//! how far the other rows are from it. With row 0 the imported model reproduces
//! `LSTMSimulator` on every trial and `model.test` on trial 0 (on trial `b`, with
//! `init_row = b`).
//!
//! # Export
//!
//! Writes the gate tensors, `init_hidden`/`init_cell` as `(1, N_rec)`, `W_out`, `b_out`, and
//! zero `W_in`, `W_rec`, `b_rec`, `init_state` plus `dale_ratio = None`, which
//! `LSTMSimulator(weights_path=…)` requires although the LSTM does not use them (PsychRNN's
//! `LSTM(load_weights_path=…)` cannot load any LSTM save: it re-initialises its gates).
//! Every tensor is a transpose of the model's, so `export → import` gives the model's
//! tensors back bit for bit.

use super::arrays::{
    check_options, conversion_notes, f32_array, model_name, transpose, validated, ImportOptions,
    Imported, InteropError, Source,
};
use super::npy::{Array, Data};
use super::pickle;
use crate::model::{Cell, FloatModel};

/// Keys only PsychRNN 1.0.0's `LSTM` saves: a file with any of them is read as one.
pub const KEYS: [&str; 10] = [
    "W_f",
    "W_i",
    "W_c",
    "W_o",
    "b_f",
    "b_i",
    "b_c",
    "b_o",
    "init_hidden",
    "init_cell",
];

/// The gates of a PsychRNN LSTM save in neuroloop's block order `i, f, g, o`.
const GATES: [(&str, &str); 4] = [
    ("W_i", "b_i"),
    ("W_f", "b_f"),
    ("W_c", "b_c"),
    ("W_o", "b_o"),
];

/// PsychRNN's Basic variables, saved beside the LSTM's and unused by it.
const UNUSED: [&str; 10] = [
    "W_in",
    "W_rec",
    "b_rec",
    "init_state",
    "Dale_rec",
    "Dale_out",
    "input_connectivity",
    "rec_connectivity",
    "output_connectivity",
    "dale_ratio",
];

/// Refuse a save whose `W_out` has Dale's law or an output mask applied: PsychRNN saves the
/// effective `W_out`, while its LSTM reads out with the raw one.
fn check_readout_unconstrained(src: &Source, o: usize, n: usize) -> Result<(), InteropError> {
    if let Some(r) = src.dale_ratio()? {
        if r > 0.0 {
            return Err(src.unsupported(
                "dale_ratio",
                format!(
                    "is {r}: PsychRNN saved W_out with Dale's law applied, but its LSTM reads \
                     out with the raw W_out, so the file does not hold the readout the \
                     network used"
                ),
            ));
        }
    }
    if let Some(a) = src.arrays.get("output_connectivity") {
        let key = "output_connectivity";
        let (v, _) = src.floats(key, a, &[vec![o, n]], format!("({o}, {n})"), true)?;
        if let Some(k) = v.iter().position(|&x| x != 1.0) {
            return Err(src.unsupported(
                key,
                format!(
                    "element {k} is {}: PsychRNN saved W_out masked, but its LSTM reads out \
                     with the unmasked W_out, so the file does not hold the readout the \
                     network used",
                    v[k]
                ),
            ));
        }
    }
    Ok(())
}

/// Import a PsychRNN LSTM save (its arrays already read; `opts` checked by the caller).
pub(crate) fn import_source(
    mut src: Source,
    opts: &ImportOptions,
) -> Result<Imported, InteropError> {
    check_options(opts)?;
    src.wants = format!(
        "a PsychRNN 1.0.0 LSTM save has {}, W_out, b_out",
        KEYS.join(", ")
    );
    let path = src.path;
    let n = match src.get("b_f")?.shape[..] {
        [n] if n > 0 => n,
        _ => return Err(src.bad_shape("b_f", "(N_rec,), N_rec > 0".into())),
    };
    let i = match src.get("W_f")?.shape[..] {
        [r, c] if c == n && r > n => r - n,
        _ => {
            return Err(src.bad_shape(
                "W_f",
                format!("(N_rec + N_in, N_rec) with N_rec = {n} (from b_f), N_in > 0"),
            ))
        }
    };
    let o = match src.get("W_out")?.shape[..] {
        [r, c] if c == n && r > 0 => r,
        _ => return Err(src.bad_shape("W_out", format!("(N_out, N_rec={n})"))),
    };
    let rows = match src.get("init_hidden")?.shape[..] {
        [r, c] if c == n && r > 0 => r,
        [c] if c == n => 1,
        _ => return Err(src.bad_shape("init_hidden", format!("(N_batch, N_rec={n})"))),
    };
    if opts.rec_noise != 0.0 {
        return Err(InteropError::Option {
            flag: "--rec-noise",
            reason: format!(
                "is {}: PsychRNN's LSTM (and neuroloop's lstm-psychrnn cell) has no recurrent noise",
                opts.rec_noise
            ),
        });
    }
    if opts.init_row >= rows {
        return Err(InteropError::Option {
            flag: "--init-row",
            reason: format!(
                "is {}, but `init_hidden` has {rows} row(s) (0..={})",
                opts.init_row,
                rows - 1
            ),
        });
    }

    let mut rounded = Vec::new();
    let mut m = FloatModel::zeros_cell(
        &model_name(opts, path, "psychrnn-lstm"),
        Cell::LstmPsychrnn,
        i,
        n,
        o,
    );
    let wx_shape = format!("(N_rec + N_in, N_rec) = ({}, {n})", n + i);
    for (k, (wk, bk)) in GATES.iter().enumerate() {
        let w = src.required(wk, &[vec![n + i, n]], wx_shape.clone(), &mut rounded)?;
        let b = src.required(bk, &[vec![n]], format!("(N_rec={n},)"), &mut rounded)?;
        // W_x is (N_rec + N_in) × N_rec; its transpose is N_rec × (N_rec + N_in): each row r
        // holds the recurrent weights (first N_rec columns) then the input weights.
        let t = transpose(&w, n + i, n);
        for r in 0..n {
            let row = &t[r * (n + i)..(r + 1) * (n + i)];
            let at = k * n + r;
            m.w_rec[at * n..(at + 1) * n].copy_from_slice(&row[..n]);
            m.w_in[at * i..(at + 1) * i].copy_from_slice(&row[n..]);
        }
        m.b_rec[k * n..(k + 1) * n].copy_from_slice(&b);
    }
    m.w_out = src.required("W_out", &[vec![o, n]], format!("({o}, {n})"), &mut rounded)?;
    m.b_out = src.required("b_out", &[vec![o]], format!("(N_out={o},)"), &mut rounded)?;
    let state_shapes = [vec![rows, n], vec![n]];
    let expected = format!("(N_batch, N_rec={n}) like init_hidden, ({rows}, {n})");
    let hidden = src.required("init_hidden", &state_shapes, expected.clone(), &mut rounded)?;
    let cell = src.required("init_cell", &state_shapes, expected, &mut rounded)?;
    check_readout_unconstrained(&src, o, n)?;
    let row = opts.init_row;
    m.init_state = [
        &hidden[row * n..(row + 1) * n],
        &cell[row * n..(row + 1) * n],
    ]
    .concat();

    let mut notes = vec![format!(
        "PsychRNN LSTM save: imported as the lstm-psychrnn cell (h = o·σ(c)); dt and tau only \
         set the task's time step and input noise (PsychRNN's LSTM has no leak)"
    )];
    if rows > 1 {
        let spread = |v: &[f32]| {
            let chosen = &v[row * n..(row + 1) * n];
            v.chunks_exact(n)
                .flat_map(|r| r.iter().zip(chosen).map(|(a, b)| (a - b).abs()))
                .fold(0.0f32, f32::max)
        };
        notes.push(format!(
            "initial state: row {row} of the {rows} rows of init_hidden/init_cell (PsychRNN \
             trains one per batch row; its model.test starts trial b from row b, its \
             LSTMSimulator every trial from row 0); the other rows differ from it by up to \
             {:.3e} (hidden) and {:.3e} (cell)",
            spread(&hidden),
            spread(&cell)
        ));
    }
    let ignored: Vec<&str> = src
        .arrays
        .keys()
        .map(|k| k.as_str())
        .filter(|k| !KEYS.contains(k) && *k != "W_out" && *k != "b_out" && !UNUSED.contains(k))
        .collect();
    conversion_notes(&rounded, &ignored, &mut notes);
    let unused: Vec<&str> = UNUSED
        .iter()
        .copied()
        .filter(|k| src.arrays.contains_key(*k))
        .collect();
    if !unused.is_empty() {
        notes.push(format!(
            "PsychRNN's Basic variables, unused by its LSTM, ignored: {}",
            unused.join(", ")
        ));
    }
    m.dt = opts.dt;
    m.tau = opts.tau;
    m.transfer = opts.transfer;
    m.task = opts.task.clone().unwrap_or_default();
    m.summary = format!(
        "imported from PsychRNN LSTM weights {}; {}",
        path.display(),
        notes.join("; ")
    );
    let m = validated(path, m)?;
    Ok(Imported { model: m, notes })
}

/// The arrays of a PsychRNN LSTM save for an `lstm-psychrnn` model `m`, by key.
pub fn export_arrays(m: &FloatModel) -> Result<Vec<(&'static str, Array)>, InteropError> {
    m.validate()?;
    if m.cell != Cell::LstmPsychrnn {
        return Err(InteropError::CellFormat {
            format: "a PsychRNN LSTM save",
            cell: m.cell,
            hint: "PsychRNN's LSTM is neuroloop's lstm-psychrnn cell (h = o·σ(c))",
        });
    }
    let (n, i, o) = (m.n_rec, m.n_in, m.n_out);
    let mut out = Vec::with_capacity(16);
    for (k, (wk, bk)) in GATES.iter().enumerate() {
        // Row r of W_xᵀ: the recurrent then the input weights of unit r.
        let mut t = Vec::with_capacity(n * (n + i));
        for r in 0..n {
            let at = k * n + r;
            t.extend_from_slice(&m.w_rec[at * n..(at + 1) * n]);
            t.extend_from_slice(&m.w_in[at * i..(at + 1) * i]);
        }
        out.push((*wk, f32_array(vec![n + i, n], transpose(&t, n, n + i))));
        out.push((
            *bk,
            f32_array(vec![n], m.b_rec[k * n..(k + 1) * n].to_vec()),
        ));
    }
    out.extend([
        (
            "init_hidden",
            f32_array(vec![1, n], m.init_state[..n].to_vec()),
        ),
        (
            "init_cell",
            f32_array(vec![1, n], m.init_state[n..].to_vec()),
        ),
        ("W_out", f32_array(vec![o, n], m.w_out.clone())),
        ("b_out", f32_array(vec![o], m.b_out.clone())),
        // Required by PsychRNN's Simulator base class, unused by the LSTM.
        ("W_in", f32_array(vec![n, i], vec![0.0; n * i])),
        ("W_rec", f32_array(vec![n, n], vec![0.0; n * n])),
        ("b_rec", f32_array(vec![n], vec![0.0; n])),
        ("init_state", f32_array(vec![1, n], vec![0.0; n])),
        (
            "dale_ratio",
            Array {
                shape: vec![],
                data: Data::Object(pickle::none_object_array()),
            },
        ),
    ]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interop::npz;

    fn model() -> FloatModel {
        let mut m = FloatModel::zeros_cell("l", Cell::LstmPsychrnn, 2, 3, 2);
        let fill = |v: &mut Vec<f32>, s: f32| {
            for (k, w) in v.iter_mut().enumerate() {
                *w = ((k as f32 + 1.0) * s).sin();
            }
        };
        fill(&mut m.w_in, 0.37);
        fill(&mut m.w_rec, 0.71);
        fill(&mut m.b_rec, 1.3);
        fill(&mut m.w_out, 0.5);
        fill(&mut m.b_out, 0.9);
        fill(&mut m.init_state, 0.2);
        m.init_state[1] = -0.0;
        m
    }

    #[test]
    fn gate_blocks_map_to_psychrnn_keys_as_documented() {
        let m = model();
        let a: npz::Arrays = export_arrays(&m)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let (n, i) = (3, 2);
        let w = |k: &str| match &a[k].data {
            Data::F32(v) => v.clone(),
            _ => unreachable!(),
        };
        // W_f is block 1 (i, f, g, o): W_f[c][r] = w_rec[(n + r)·n + c] for c < n, and
        // W_f[n + c][r] = w_in[(n + r)·i + c].
        let wf = w("W_f");
        for r in 0..n {
            for c in 0..n {
                assert_eq!(wf[c * n + r], m.w_rec[(n + r) * n + c]);
            }
            for c in 0..i {
                assert_eq!(wf[(n + c) * n + r], m.w_in[(n + r) * i + c]);
            }
        }
        assert_eq!(w("b_c"), m.b_rec[2 * n..3 * n]);
    }
}
