//! [`FloatModel`]: a float rate RNN — PsychRNN's leaky `Basic` cell by default, or a GRU or
//! LSTM ([`Cell`], whose doc gives the gated tensors' layout) — with its biological
//! [`Constraints`], its validation and its effective (constrained) weights.

use super::cell::Cell;
use super::error::ModelError;
use super::forward::Effective;
use neuroloop_core::Transfer;
use serde::{Deserialize, Serialize};

/// `format` field of a native model file.
pub const FORMAT: &str = "neuroloop-float-model";
/// Native model file version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Biological constraints (PsychRNN names). All optional; defaults are "none".
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Constraints {
    /// Fraction of excitatory units (Dale's law), e.g. 0.8; `None` = no Dale's law.
    #[serde(default)]
    pub dale_ratio: Option<f32>,
    /// Input connectivity mask, n_rec × n_in row-major (1 = connection allowed).
    #[serde(default)]
    pub input_connectivity: Option<Vec<f32>>,
    /// Recurrent connectivity mask, n_rec × n_rec.
    #[serde(default)]
    pub rec_connectivity: Option<Vec<f32>>,
    /// Output connectivity mask, n_out × n_rec.
    #[serde(default)]
    pub output_connectivity: Option<Vec<f32>>,
    /// Whether units may connect to themselves (PsychRNN default true).
    #[serde(default = "yes")]
    pub autapses: bool,
}

fn yes() -> bool {
    true
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            dale_ratio: None,
            input_connectivity: None,
            rec_connectivity: None,
            output_connectivity: None,
            autapses: true,
        }
    }
}

/// A float rate RNN. Matrices are row-major `Vec<f32>`: `w_in` n_rec × n_in,
/// `w_rec` n_rec × n_rec, `w_out` n_out × n_rec for the leaky cell; a gated cell stacks its
/// gates along the rows of `w_in`, `w_rec` and `b_rec` (see [`Cell`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FloatModel {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`FORMAT_VERSION`].
    pub version: u32,
    /// Model name.
    pub name: String,
    /// Task the model was trained on ("" if none).
    #[serde(default)]
    pub task: String,
    /// The task file's TOML text when `task` is a user task file (docs/tasks.md), so
    /// `eval` and `quantize` rebuild the task without the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_file: Option<String>,
    /// Inputs.
    pub n_in: usize,
    /// Recurrent units.
    pub n_rec: usize,
    /// Outputs.
    pub n_out: usize,
    /// Time step, ms.
    pub dt: f32,
    /// Time constant, ms.
    pub tau: f32,
    /// Recurrent noise σ (PsychRNN `rec_noise`).
    #[serde(default)]
    pub rec_noise: f32,
    /// Transfer function (the leaky cell's; gated cells have their own σ and tanh).
    #[serde(with = "transfer_serde")]
    pub transfer: Transfer,
    /// Recurrent cell (absent in files written before gated cells existed: leaky).
    #[serde(default, skip_serializing_if = "Cell::is_leaky")]
    pub cell: Cell,
    /// Input weights (raw).
    pub w_in: Vec<f32>,
    /// Recurrent weights (raw).
    pub w_rec: Vec<f32>,
    /// Output weights (raw).
    pub w_out: Vec<f32>,
    /// Recurrent bias.
    pub b_rec: Vec<f32>,
    /// Output bias.
    pub b_out: Vec<f32>,
    /// Initial state s₀ (an LSTM: `h₀` then `c₀`).
    pub init_state: Vec<f32>,
    /// The GRU's recurrent bias of the candidate gate (`b_hn`, inside `r ⊙ (…)`); empty
    /// for the other cells.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub b_hn: Vec<f32>,
    /// Biological constraints.
    #[serde(default)]
    pub constraints: Constraints,
    /// Free-form training summary.
    #[serde(default)]
    pub summary: String,
}

mod transfer_serde {
    use super::Transfer;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Transfer, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Transfer, D::Error> {
        let name = String::deserialize(d)?;
        Transfer::from_name(&name).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown transfer function {name:?} (expected relu, tanh, sigmoid or identity)"
            ))
        })
    }
}

impl FloatModel {
    /// A zero leaky model with the given sizes (PsychRNN defaults dt 10, τ 100, relu).
    pub fn zeros(name: &str, n_in: usize, n_rec: usize, n_out: usize) -> Self {
        Self::zeros_cell(name, Cell::Leaky, n_in, n_rec, n_out)
    }

    /// A zero model of `cell` with the given sizes (dt 10, τ 100, relu).
    pub fn zeros_cell(name: &str, cell: Cell, n_in: usize, n_rec: usize, n_out: usize) -> Self {
        let g = cell.gates();
        FloatModel {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            name: name.into(),
            task: String::new(),
            task_file: None,
            n_in,
            n_rec,
            n_out,
            dt: 10.0,
            tau: 100.0,
            rec_noise: 0.0,
            transfer: Transfer::Relu,
            cell,
            w_in: vec![0.0; g * n_rec * n_in],
            w_rec: vec![0.0; g * n_rec * n_rec],
            w_out: vec![0.0; n_out * n_rec],
            b_rec: vec![0.0; g * n_rec],
            b_out: vec![0.0; n_out],
            init_state: vec![0.0; cell.states() * n_rec],
            b_hn: vec![0.0; cell.b_hn_len(n_rec)],
            constraints: Constraints::default(),
            summary: String::new(),
        }
    }

    /// α = dt / τ.
    pub fn alpha(&self) -> f64 {
        self.dt as f64 / self.tau as f64
    }

    /// Check sizes, finiteness and ranges; the error names the field and the value.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |field: &str, reason: String| {
            Err(ModelError::Field {
                field: field.into(),
                reason,
            })
        };
        if self.format != FORMAT {
            return bad(
                "format",
                format!("is {:?}, expected {FORMAT:?}", self.format),
            );
        }
        if self.version != FORMAT_VERSION {
            return bad(
                "version",
                format!(
                    "is {}, this build reads version {FORMAT_VERSION}",
                    self.version
                ),
            );
        }
        for (f, v) in [
            ("n_in", self.n_in),
            ("n_rec", self.n_rec),
            ("n_out", self.n_out),
        ] {
            if v == 0 {
                return bad(f, "is 0".into());
            }
        }
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return bad("dt", format!("is {}, must be > 0", self.dt));
        }
        if !(self.tau.is_finite() && self.tau >= self.dt) {
            return bad(
                "tau",
                format!(
                    "is {}, must be >= dt = {} (alpha = dt/tau <= 1)",
                    self.tau, self.dt
                ),
            );
        }
        if !(self.rec_noise.is_finite() && self.rec_noise >= 0.0) {
            return bad("rec_noise", format!("is {}, must be >= 0", self.rec_noise));
        }
        let (i, n, o) = (self.n_in, self.n_rec, self.n_out);
        let c = &self.constraints;
        let cell = self.cell;
        if !cell.is_leaky() {
            let refuse = |field: &str, value: String, feature: &str| {
                bad(
                    field,
                    format!(
                        "is {value}; the {cell} cell has no {feature} (only the leaky cell has)"
                    ),
                )
            };
            if self.rec_noise != 0.0 {
                return refuse("rec_noise", self.rec_noise.to_string(), "recurrent noise");
            }
            if let Some(r) = c.dale_ratio {
                return refuse("constraints.dale_ratio", r.to_string(), "Dale's law");
            }
            for (field, m) in [
                ("constraints.input_connectivity", &c.input_connectivity),
                ("constraints.rec_connectivity", &c.rec_connectivity),
                ("constraints.output_connectivity", &c.output_connectivity),
            ] {
                if m.is_some() {
                    return refuse(field, "set".into(), "connectivity masks");
                }
            }
            if !c.autapses {
                return refuse("constraints.autapses", "false".into(), "autapse constraint");
            }
        }
        let (g, gs) = (cell.gates(), cell.states());
        let rows = |what: &str| {
            if g == 1 {
                what.to_string()
            } else {
                format!("{g}·{what} ({cell} gates)")
            }
        };
        let mut tensors: Vec<(&str, &[f32], usize, String)> = vec![
            (
                "w_in",
                &self.w_in,
                g * n * i,
                format!("{}×n_in = {}×{i}", rows("n_rec"), g * n),
            ),
            (
                "w_rec",
                &self.w_rec,
                g * n * n,
                format!("{}×n_rec = {}×{n}", rows("n_rec"), g * n),
            ),
            (
                "w_out",
                &self.w_out,
                o * n,
                format!("n_out×n_rec = {o}×{n}"),
            ),
            (
                "b_rec",
                &self.b_rec,
                g * n,
                format!("{} = {}", rows("n_rec"), g * n),
            ),
            ("b_out", &self.b_out, o, format!("n_out = {o}")),
            (
                "init_state",
                &self.init_state,
                gs * n,
                if gs == 1 {
                    format!("n_rec = {n}")
                } else {
                    format!("2·n_rec = {} (h₀ then c₀)", 2 * n)
                },
            ),
            (
                "b_hn",
                &self.b_hn,
                cell.b_hn_len(n),
                if cell == Cell::Gru {
                    format!("n_rec = {n}")
                } else {
                    format!("none for the {cell} cell")
                },
            ),
        ];
        if let Some(m) = &c.input_connectivity {
            tensors.push((
                "constraints.input_connectivity",
                m,
                n * i,
                format!("n_rec×n_in = {n}×{i}"),
            ));
        }
        if let Some(m) = &c.rec_connectivity {
            tensors.push((
                "constraints.rec_connectivity",
                m,
                n * n,
                format!("n_rec×n_rec = {n}×{n}"),
            ));
        }
        if let Some(m) = &c.output_connectivity {
            tensors.push((
                "constraints.output_connectivity",
                m,
                o * n,
                format!("n_out×n_rec = {o}×{n}"),
            ));
        }
        for (field, v, len, shape) in tensors {
            if v.len() != len {
                return bad(
                    field,
                    format!("has {} values, expected {len} ({shape})", v.len()),
                );
            }
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                return bad(field, format!("element {k} is {}", v[k]));
            }
        }
        if let Some(r) = c.dale_ratio {
            if !(r > 0.0 && r <= 1.0) {
                return bad(
                    "constraints.dale_ratio",
                    format!("is {r}, must be in (0, 1]"),
                );
            }
        }
        Ok(())
    }

    /// Number of excitatory units under Dale's law (`⌊dale_ratio · n_rec⌋`, as PsychRNN).
    ///
    /// PsychRNN multiplies a Python float; the ratio is stored as f32, so it is widened
    /// through its shortest decimal form (0.7f32 → 0.7, not 0.699999988) to get the same
    /// count (e.g. 7 of 10 units, not 6).
    pub fn n_excitatory(&self) -> Option<usize> {
        self.constraints.dale_ratio.map(|r| {
            let r64 = r.to_string().parse::<f64>().unwrap_or(r as f64);
            (r64 * self.n_rec as f64) as usize
        })
    }

    /// Dale sign of each recurrent unit's outgoing weights (+1 / −1), or all +1 without Dale.
    pub fn dale_signs(&self) -> Vec<f64> {
        match self.n_excitatory() {
            Some(ne) => (0..self.n_rec)
                .map(|j| if j < ne { 1.0 } else { -1.0 })
                .collect(),
            None => vec![1.0; self.n_rec],
        }
    }

    /// The effective recurrent mask (connectivity with the diagonal cleared if no autapses).
    pub fn rec_mask(&self) -> Vec<f64> {
        let n = self.n_rec;
        let mut m: Vec<f64> = match &self.constraints.rec_connectivity {
            Some(v) => v.iter().map(|&x| x as f64).collect(),
            None => vec![1.0; n * n],
        };
        if !self.constraints.autapses {
            for k in 0..n {
                m[k * n + k] = 0.0;
            }
        }
        m
    }

    /// Effective (constrained) parameters in f64, ready to run.
    pub fn effective(&self) -> Effective {
        let f64s = |v: &[f32]| -> Vec<f64> { v.iter().map(|&x| x as f64).collect() };
        if !self.cell.is_leaky() {
            // Gated cells have no constraints (`validate` refuses them): weights as stored.
            return Effective {
                n_in: self.n_in,
                n_rec: self.n_rec,
                n_out: self.n_out,
                alpha: self.alpha(),
                rec_noise: self.rec_noise as f64,
                transfer: self.transfer,
                cell: self.cell,
                b_hn: f64s(&self.b_hn),
                w_in: f64s(&self.w_in),
                w_rec: f64s(&self.w_rec),
                w_out: f64s(&self.w_out),
                b_rec: f64s(&self.b_rec),
                b_out: f64s(&self.b_out),
                init_state: f64s(&self.init_state),
            };
        }
        let dale = self.constraints.dale_ratio.is_some();
        let signs = self.dale_signs();
        let mask = |m: &Option<Vec<f32>>, len: usize| -> Vec<f64> {
            m.as_ref()
                .map(|v| v.iter().map(|&x| x as f64).collect())
                .unwrap_or_else(|| vec![1.0; len])
        };
        let (n, i, o) = (self.n_rec, self.n_in, self.n_out);
        let m_in = mask(&self.constraints.input_connectivity, n * i);
        let m_rec = self.rec_mask();
        let m_out = mask(&self.constraints.output_connectivity, o * n);
        let w_in = self
            .w_in
            .iter()
            .zip(&m_in)
            .map(|(&w, &m)| {
                if dale {
                    (w as f64 * m).abs()
                } else {
                    w as f64 * m
                }
            })
            .collect();
        let w_rec = self
            .w_rec
            .iter()
            .zip(&m_rec)
            .enumerate()
            .map(|(k, (&w, &m))| {
                if dale {
                    (w as f64 * m).abs() * signs[k % n]
                } else {
                    w as f64 * m
                }
            })
            .collect();
        let w_out = self
            .w_out
            .iter()
            .zip(&m_out)
            .enumerate()
            .map(|(k, (&w, &m))| {
                if dale {
                    let keep = if signs[k % n] > 0.0 { 1.0 } else { 0.0 };
                    (w as f64 * m).abs() * keep
                } else {
                    w as f64 * m
                }
            })
            .collect();
        Effective {
            n_in: i,
            n_rec: n,
            n_out: o,
            alpha: self.alpha(),
            rec_noise: self.rec_noise as f64,
            transfer: self.transfer,
            cell: self.cell,
            b_hn: self.b_hn.iter().map(|&x| x as f64).collect(),
            w_in,
            w_rec,
            w_out,
            b_rec: self.b_rec.iter().map(|&x| x as f64).collect(),
            b_out: self.b_out.iter().map(|&x| x as f64).collect(),
            init_state: self.init_state.iter().map(|&x| x as f64).collect(),
        }
    }
}
