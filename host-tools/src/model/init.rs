//! Weight initialisers, ported from PsychRNN 1.0.0 `backend/initializations.py`.
//!
//! * `W_in`, `W_out` (and `W_rec` for [`RecInit::Random`]) come from the random init
//!   `which_rand_init` (default `glorot_gauss`: `N(0, 2/(fan_in_i + fan_out_j))`, fans
//!   counted on the connectivity mask; `glorot_unif`: `U(±√(6/(fan_in_i + fan_out_j)))`;
//!   `const_gauss`: `N(0, 1)`; `const_unif`: `U(init_minval, init_maxval)`, default ±0.1).
//! * [`RecInit::GaussianSpectralRadius`] (PsychRNN's default): `W_rec ~ N(0,1)`, Dale
//!   balancing, then scaled to spectral radius `spec_rad` (default 1.1).
//! * [`RecInit::AlphaIdentity`]: `W_rec = alpha·I`, then Dale balancing.
//! * Biases 0, `init_state = 0.1 + 0.01·N(0,1)`.
//!
//! Gated cells ([`Cell`]): `W_out` from `which_rand_init` as above, `b_out = 0`, then
//!
//! * `gru`, `lstm`: PyTorch's `nn.GRU` / `nn.LSTM` init, every gate weight and bias
//!   `U(±1/√n_rec)`; the biases `b_ih` and `b_hh` are drawn apart and summed where
//!   neuroloop folds them (see [`Cell`]), so their distribution is PyTorch's; `h₀ = c₀ = 0`
//!   (PyTorch's default state).
//!   With `init.gated_bias = "tau"` (the default) the GRU update gate's and the LSTM
//!   forget gate's biases then get `+ln((1 − α)/α)`, α = dt/τ (`σ` of it is `1 − α`): the
//!   cell starts out keeping `1 − α` of its state per step, the leaky cell's time
//!   constant, instead of about half (PyTorch's biases are near 0). At the default dt =
//!   10 ms, τ = 100 ms that is +2.2, and it is what lets them learn tasks with delays of
//!   tens of steps (the "chrono" initialisation of Tallec & Ollivier 2018, with a single
//!   time constant). The GRU's candidate weights `W_hn` are then scaled to spectral radius
//!   `2·spec_rad`: with `r ≈ σ(0) = 1/2` its linearisation at `h = 0`,
//!   `h' ≈ (1 − α)·h + α·(r·W_hn·h + …)`, is the leaky cell's with `W_rec` at `spec_rad`
//!   (without it the GRU forgets within ~50 steps and cannot learn delays of 100).
//!   The LSTM gets the same linearisation: its forget-gate bias gets `+ln T` and its
//!   input-gate bias `−ln T` (chrono's `b_i = −b_f`), `T = (1 − α)/α` (τ) for every
//!   unit by default, or per unit `T_j ~ U(1, chrono_tmax·τ/dt − 1)` as chrono proper
//!   draws it where [`InitConfig::chrono_tmax`] is set (opt-in; default 0), and its
//!   candidate weights `W_hg` spectral radius `2·spec_rad`. With `f = T/(1 + T)`,
//!   `i = 1 − f` and `o ≈ σ(0) = 1/2`, at `h = c = 0`
//!   `c' = f·c + (1 − f)·tanh(W_ig x + W_hg h + b_g)` and `h ≈ c/2`, so
//!   `c' ≈ f·c + (1 − f)·(½W_hg·c + W_ig x + b_g)`: the leaky cell's step with `W_rec`
//!   at `spec_rad` (and, with `chrono_tmax`, time constants from 2 steps to
//!   `chrono_tmax·τ`). (PyTorch's `i ≈ 1/2` instead adds `g/2` per step to a cell
//!   that keeps `1 − α` of itself, a gain of `1/(2α)` = 5 from candidate to `c`, so
//!   `tanh(c)` saturates once `|g|` exceeds about 0.2; docs/cells.md has the figures on
//!   the built-in tasks.)
//!   `"pytorch"` keeps PyTorch's init exactly.
//! * `lstm-psychrnn`: PsychRNN 1.0.0's `LSTM.__init__`: `W_f, W_i, W_c, W_o ~ N(0, 0.1²)`,
//!   every gate bias 1, `h₀, c₀ ~ N(0, 0.1²)`.
//!
//! `init.initializer` and `identity_alpha` concern the leaky `W_rec` only; `spec_rad` also
//! sets the radius of the gated cells' candidate weights (`2·spec_rad`, with `"tau"`).
//!
//! Dale balancing (`balance_dale_ratio`): column `j` of `W_rec` is scaled by `d_j / ‖row j
//! of (M_rec·diag(d))‖`, `d = 1` for excitatory and `r/(1−r)` for inhibitory units.
//!
//! The spectral radius is computed by Gelfand's formula `ρ = lim ‖A^p‖^{1/p}` with
//! `p = 2^40` reached by 40 normalised squarings (relative error ≲ 1e-9 on the matrices
//! tested, and exact for normal ones).

use super::cell::Cell;
use super::float::{Constraints, FloatModel};
use crate::linalg::gemm;
use neuroloop_core::Transfer;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// Random initialiser for a weight matrix (PsychRNN `which_rand_init`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RandInit {
    /// `N(0, 2/(fan_in + fan_out))` (default).
    #[default]
    GlorotGauss,
    /// `U(±√(6/(fan_in + fan_out)))`.
    GlorotUnif,
    /// `U(init_minval, init_maxval)`.
    ConstUnif,
    /// `N(0, 1)`.
    ConstGauss,
}

/// How `W_rec` starts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RecInit {
    /// Gaussian scaled to a spectral radius (PsychRNN `GaussianSpectralRadius`, default).
    #[default]
    GaussianSpectralRadius,
    /// `alpha · I` (PsychRNN `AlphaIdentity`).
    AlphaIdentity,
    /// From `which_rand_w_rec_init` (PsychRNN `WeightInitializer`; may not train).
    Random,
}

/// How the gated cells' (`gru`, `lstm`) memory gate starts ([`InitConfig::gated_bias`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GatedBias {
    /// PyTorch's init plus `ln((1 − α)/α)` (α = dt/τ) on the GRU update gate `b_z` and the
    /// LSTM forget gate `b_f` (default): at the start the cell keeps about `1 − α` of its
    /// state per step, the leaky cell's time constant τ (the LSTM: one time constant per
    /// unit instead where [`InitConfig::chrono_tmax`] is set). The LSTM input gate `b_i`
    /// gets the opposite (it admits `1 − f` of the candidate per step). The GRU's `W_hn` and the
    /// LSTM's `W_hg` are scaled to spectral radius `2·spec_rad`, so that with `r ≈ 1/2`
    /// (GRU) or `o ≈ 1/2` (LSTM) the linearisation at the zero state is the leaky cell's.
    #[default]
    Tau,
    /// PyTorch's `nn.GRU` / `nn.LSTM` init unchanged (every gate bias `U(±1/√n_rec)`).
    Pytorch,
}

/// Initialiser settings (PsychRNN keyword names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitConfig {
    /// Initialiser of `W_rec`.
    #[serde(default)]
    pub initializer: RecInit,
    /// Spectral radius for `gaussian_spectral_radius` (1.1).
    #[serde(default = "d_spec_rad")]
    pub spec_rad: f64,
    /// Diagonal value for `alpha_identity` (PsychRNN `alpha` keyword).
    #[serde(default = "d_identity")]
    pub identity_alpha: f64,
    /// Random init of `W_in`, `W_out`.
    #[serde(default)]
    pub which_rand_init: RandInit,
    /// Random init of `W_rec` for `random` (default: `which_rand_init`).
    #[serde(default)]
    pub which_rand_w_rec_init: Option<RandInit>,
    /// Lower bound of `const_unif` (−0.1).
    #[serde(default = "d_min")]
    pub init_minval: f64,
    /// Upper bound of `const_unif` (0.1).
    #[serde(default = "d_max")]
    pub init_maxval: f64,
    /// Memory-gate bias of the `gru` and `lstm` cells (`lstm-psychrnn` keeps PsychRNN's).
    #[serde(default)]
    pub gated_bias: GatedBias,
    /// With `gated_bias = "tau"`: the `lstm` cell's longest initial time constant, in
    /// units of τ (0 = off, the default: every unit at τ). Where set, each unit's
    /// forget/input-gate biases are `±ln T` with `T` drawn from
    /// `U(1, chrono_tmax·τ/dt − 1)` (chrono init).
    #[serde(default = "d_chrono_tmax")]
    pub chrono_tmax: f64,
}

fn d_spec_rad() -> f64 {
    1.1
}
fn d_chrono_tmax() -> f64 {
    0.0
}
fn d_identity() -> f64 {
    1.0
}
fn d_min() -> f64 {
    -0.1
}
fn d_max() -> f64 {
    0.1
}

impl Default for InitConfig {
    fn default() -> Self {
        InitConfig {
            initializer: RecInit::default(),
            spec_rad: d_spec_rad(),
            identity_alpha: d_identity(),
            which_rand_init: RandInit::default(),
            which_rand_w_rec_init: None,
            init_minval: d_min(),
            init_maxval: d_max(),
            gated_bias: GatedBias::default(),
            chrono_tmax: d_chrono_tmax(),
        }
    }
}

/// Architecture of a new model.
#[derive(Clone, Debug, PartialEq)]
pub struct Arch {
    /// Model name.
    pub name: String,
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
    /// Recurrent noise σ.
    pub rec_noise: f32,
    /// Transfer function.
    pub transfer: Transfer,
    /// Recurrent cell.
    pub cell: Cell,
    /// Constraints (masks, Dale, autapses).
    pub constraints: Constraints,
}

fn rand_matrix<R: Rng>(
    kind: RandInit,
    conn: &[f64],
    rows: usize,
    cols: usize,
    cfg: &InitConfig,
    rng: &mut R,
) -> Vec<f32> {
    let fan_in: Vec<f64> = (0..rows)
        .map(|i| conn[i * cols..(i + 1) * cols].iter().sum())
        .collect();
    let fan_out: Vec<f64> = (0..cols)
        .map(|j| (0..rows).map(|i| conn[i * cols + j]).sum())
        .collect();
    let mut w = Vec::with_capacity(rows * cols);
    for fi in &fan_in {
        for fo in &fan_out {
            let fan = fi + fo;
            let v = match kind {
                RandInit::GlorotGauss if fan > 0.0 => {
                    (2.0 / fan).sqrt() * rng.sample::<f64, _>(StandardNormal)
                }
                RandInit::GlorotUnif if fan > 0.0 => {
                    let l = (6.0 / fan).sqrt();
                    rng.gen_range(-l..l)
                }
                RandInit::GlorotGauss | RandInit::GlorotUnif => 0.0,
                RandInit::ConstGauss => rng.sample(StandardNormal),
                RandInit::ConstUnif => {
                    (cfg.init_maxval - cfg.init_minval) * rng.gen::<f64>() + cfg.init_minval
                }
            };
            w.push(v as f32);
        }
    }
    w
}

/// Spectral radius (largest |eigenvalue|) of a square row-major matrix, by Gelfand's formula.
pub fn spectral_radius(a: &[f64], n: usize) -> f64 {
    let frob = |m: &[f64]| m.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut m = a.to_vec();
    let n0 = frob(&m);
    if n0 == 0.0 || !n0.is_finite() {
        return if n0 == 0.0 { 0.0 } else { f64::NAN };
    }
    m.iter_mut().for_each(|x| *x /= n0);
    let mut log = n0.ln(); // A^(2^k) = e^log · m
    let mut m2 = vec![0.0; n * n];
    let k_max = 40;
    for _ in 0..k_max {
        gemm(n, n, n, 1.0, &m, false, &m, false, 0.0, &mut m2);
        let nn = frob(&m2);
        if nn == 0.0 {
            return 0.0; // nilpotent
        }
        m2.iter_mut().for_each(|x| *x /= nn);
        std::mem::swap(&mut m, &mut m2);
        log = 2.0 * log + nn.ln();
    }
    (log / 2f64.powi(k_max)).exp()
}

/// A new gated model (see the module docs).
fn init_gated<R: Rng>(arch: &Arch, cfg: &InitConfig, rng: &mut R) -> FloatModel {
    let (i, n, o, cell) = (arch.n_in, arch.n_rec, arch.n_out, arch.cell);
    let mut m = FloatModel::zeros_cell(&arch.name, cell, i, n, o);
    m.dt = arch.dt;
    m.tau = arch.tau;
    m.transfer = arch.transfer;
    m.w_out = rand_matrix(cfg.which_rand_init, &vec![1.0; o * n], o, n, cfg, rng);
    if cell == Cell::LstmPsychrnn {
        let mut gauss = |len: usize| -> Vec<f32> {
            (0..len)
                .map(|_| (0.1 * rng.sample::<f64, _>(StandardNormal)) as f32)
                .collect()
        };
        m.w_in = gauss(m.w_in.len());
        m.w_rec = gauss(m.w_rec.len());
        m.init_state = gauss(m.init_state.len());
        m.b_rec.iter_mut().for_each(|b| *b = 1.0);
        return m;
    }
    let k = 1.0 / (n as f64).sqrt();
    let mut unif =
        |len: usize| -> Vec<f32> { (0..len).map(|_| rng.gen_range(-k..k) as f32).collect() };
    m.w_in = unif(m.w_in.len());
    m.w_rec = unif(m.w_rec.len());
    let b_ih = unif(m.b_rec.len());
    let b_hh = unif(m.b_rec.len());
    m.b_rec = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
    if cell == Cell::Gru {
        // n gate: b_in stays in b_rec, b_hn goes inside r ⊙ (…).
        m.b_rec[2 * n..].copy_from_slice(&b_ih[2 * n..]);
        m.b_hn = b_hh[2 * n..].to_vec();
    }
    if cfg.gated_bias == GatedBias::Tau {
        // GRU gates r, z, n: z is block 1; LSTM gates i, f, g, o: f is block 1.
        let alpha = arch.dt as f64 / arch.tau as f64;
        let shift = memory_bias(alpha) as f32;
        if cell == Cell::Lstm {
            // Forget gate f = T/(1 + T), input gate i = 1 − f: c' = f·c + (1 − f)·g, a
            // leaky update with time constant 1 + T steps (T = (1 − α)/α: the leaky cell's).
            let t_max = cfg.chrono_tmax / alpha.clamp(1e-4, 0.5);
            for j in 0..n {
                let b = if cfg.chrono_tmax > 0.0 && t_max - 1.0 > 1.0 {
                    rng.gen_range(1.0..t_max - 1.0).ln() as f32
                } else {
                    shift
                };
                m.b_rec[n + j] += b;
                m.b_rec[j] -= b;
            }
        } else {
            m.b_rec[n..2 * n].iter_mut().for_each(|b| *b += shift);
        }
        // Block 2 is the candidate (GRU n, LSTM g). With r ≈ 1/2 (GRU) or h ≈ o·c ≈ c/2
        // (LSTM) at the start, 2·spec_rad makes the loop through it the leaky cell's
        // W_rec (spectral radius spec_rad).
        scale_radius(&mut m.w_rec[2 * n * n..3 * n * n], n, 2.0 * cfg.spec_rad);
    }
    m
}

/// Scales the square row-major `n × n` block to spectral radius `rho` (unchanged if its
/// radius is 0 or not finite).
fn scale_radius(block: &mut [f32], n: usize, rho: f64) {
    let w: Vec<f64> = block.iter().map(|&x| x as f64).collect();
    let now = spectral_radius(&w, n);
    if now > 0.0 && now.is_finite() {
        let k = rho / now;
        block.iter_mut().for_each(|x| *x = (*x as f64 * k) as f32);
    }
}

/// `ln((1 − α)/α)`, the gate bias with `σ(b) = 1 − α`: the memory gate of a gated cell
/// keeps `1 − α` of the state per step at the start, like a leaky unit with α = dt/τ. α is
/// clamped to `[10⁻⁴, 0.5]` (no bias below a time constant of two steps).
fn memory_bias(alpha: f64) -> f64 {
    let a = alpha.clamp(1e-4, 0.5);
    ((1.0 - a) / a).ln()
}

/// A new model with PsychRNN's initialisation (PyTorch's for the GRU and the standard
/// LSTM).
pub fn init_model<R: Rng>(arch: &Arch, cfg: &InitConfig, rng: &mut R) -> FloatModel {
    if !arch.cell.is_leaky() {
        return init_gated(arch, cfg, rng);
    }
    let (i, n, o) = (arch.n_in, arch.n_rec, arch.n_out);
    let mut m = FloatModel::zeros(&arch.name, i, n, o);
    m.dt = arch.dt;
    m.tau = arch.tau;
    m.rec_noise = arch.rec_noise;
    m.transfer = arch.transfer;
    m.constraints = arch.constraints.clone();
    let to64 = |v: &Option<Vec<f32>>, len: usize| -> Vec<f64> {
        v.as_ref()
            .map(|v| v.iter().map(|&x| x as f64).collect())
            .unwrap_or_else(|| vec![1.0; len])
    };
    let c_in = to64(&m.constraints.input_connectivity, n * i);
    let c_out = to64(&m.constraints.output_connectivity, o * n);
    let c_rec = m.rec_mask();
    // PsychRNN draws W_in, W_out, W_rec (random) before the subclass overrides W_rec.
    m.w_in = rand_matrix(cfg.which_rand_init, &c_in, n, i, cfg, rng);
    m.w_out = rand_matrix(cfg.which_rand_init, &c_out, o, n, cfg, rng);
    let rec_kind = cfg.which_rand_w_rec_init.unwrap_or(cfg.which_rand_init);
    let w_rand = rand_matrix(rec_kind, &c_rec, n, n, cfg, rng);
    m.init_state = (0..n)
        .map(|_| (0.1 + 0.01 * rng.sample::<f64, _>(StandardNormal)) as f32)
        .collect();
    let mut w: Vec<f64> = match cfg.initializer {
        RecInit::Random => w_rand.iter().map(|&x| x as f64).collect(),
        RecInit::GaussianSpectralRadius => (0..n * n).map(|_| rng.sample(StandardNormal)).collect(),
        RecInit::AlphaIdentity => {
            let mut w = vec![0.0; n * n];
            for k in 0..n {
                w[k * n + k] = cfg.identity_alpha;
            }
            w
        }
    };
    if cfg.initializer != RecInit::Random {
        if let Some(ne) = m.n_excitatory() {
            let r = m.constraints.dale_ratio.unwrap_or(1.0) as f64;
            let d: Vec<f64> = (0..n)
                .map(|j| if j < ne { 1.0 } else { r / (1.0 - r) })
                .collect();
            let norms: Vec<f64> = (0..n)
                .map(|row| {
                    (0..n)
                        .map(|k| (c_rec[row * n + k] * d[k]).powi(2))
                        .sum::<f64>()
                        .sqrt()
                })
                .collect();
            for row in 0..n {
                for j in 0..n {
                    let s = if norms[j] > 0.0 { d[j] / norms[j] } else { 0.0 };
                    w[row * n + j] *= s;
                }
            }
        }
    }
    if cfg.initializer == RecInit::GaussianSpectralRadius {
        let rho = spectral_radius(&w, n);
        if rho > 0.0 && rho.is_finite() {
            w.iter_mut().for_each(|x| *x *= cfg.spec_rad / rho);
        }
    }
    m.w_rec = w.into_iter().map(|x| x as f32).collect();
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectral_radius_of_triangular_and_rotation() {
        // Upper triangular, strongly non-normal: eigenvalues are the diagonal.
        let a = [0.5, 3.0, -2.0, 0.0, -1.1, 4.0, 0.0, 0.0, 0.3];
        assert!(
            (spectral_radius(&a, 3) - 1.1).abs() < 1e-6,
            "{}",
            spectral_radius(&a, 3)
        );
        // Rotation by 30° scaled by 0.9 ⊕ 0.2: complex pair of modulus 0.9.
        let (c, s) = (0.9 * (0.5f64).cos(), 0.9 * (0.5f64).sin());
        let b = [c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 0.2];
        assert!((spectral_radius(&b, 3) - 0.9).abs() < 1e-9);
    }

    #[test]
    fn init_model_scales_spectral_radius() {
        use rand::SeedableRng;
        let arch = Arch {
            name: "t".into(),
            n_in: 2,
            n_rec: 40,
            n_out: 2,
            dt: 10.0,
            tau: 100.0,
            rec_noise: 0.0,
            transfer: Transfer::Relu,
            cell: Cell::Leaky,
            constraints: Constraints::default(),
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let m = init_model(&arch, &InitConfig::default(), &mut rng);
        let w: Vec<f64> = m.w_rec.iter().map(|&x| x as f64).collect();
        assert!((spectral_radius(&w, 40) - 1.1).abs() < 1e-4);
        m.validate().unwrap();
    }

    /// The memory gate (GRU `z`, LSTM `f`: block 1 of `b_rec`) starts at `σ(b) ≈ 1 − α`
    /// with `"tau"`, the LSTM input gate (block 0) at `σ(b) ≈ α`, the candidate's
    /// recurrent weights (block 2: GRU `W_hn`, LSTM `W_hg`) at spectral radius
    /// `2·spec_rad`; the other gates and `"pytorch"` keep PyTorch's `U(±2/√n)` sums and
    /// `U(±1/√n)` weights.
    #[test]
    fn gated_memory_bias_follows_tau() {
        use rand::SeedableRng;
        let n = 64;
        for cell in [Cell::Gru, Cell::Lstm] {
            for (bias, dt, tau) in [
                (GatedBias::Tau, 10.0, 100.0),
                (GatedBias::Tau, 20.0, 50.0),
                (GatedBias::Pytorch, 10.0, 100.0),
            ] {
                let arch = Arch {
                    name: "t".into(),
                    n_in: 2,
                    n_rec: n,
                    n_out: 2,
                    dt,
                    tau,
                    rec_noise: 0.0,
                    transfer: Transfer::Tanh,
                    cell,
                    constraints: Constraints::default(),
                };
                // One time constant for every unit (chrono_tmax = 0, the default): the
                // LSTM's spread is tested in `lstm_chrono_spreads_time_constants`.
                let cfg = InitConfig {
                    gated_bias: bias,
                    chrono_tmax: 0.0,
                    ..InitConfig::default()
                };
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
                let m = init_model(&arch, &cfg, &mut rng);
                let mean = |k: usize| m.b_rec[k * n..(k + 1) * n].iter().sum::<f32>() / n as f32;
                let a = dt as f64 / tau as f64;
                let want = if bias == GatedBias::Tau {
                    ((1.0 - a) / a).ln()
                } else {
                    0.0
                };
                // Mean of n sums of two U(±1/√n): standard deviation ≈ 0.1 / √n·√n.
                assert!(
                    (mean(1) as f64 - want).abs() < 0.05,
                    "{cell:?} {bias:?} dt {dt}: memory-gate bias mean {} want {want}",
                    mean(1)
                );
                // The LSTM input gate i (block 0) opens to α; the GRU reset gate r stays.
                let want0 = if cell == Cell::Lstm { -want } else { 0.0 };
                assert!(
                    (mean(0) as f64 - want0).abs() < 0.05,
                    "{cell:?} {bias:?} dt {dt}: gate 0 bias mean {} want {want0}",
                    mean(0)
                );
                let k = 2.0 / (n as f32).sqrt();
                let shift = want as f32;
                assert!(m.b_rec[n..2 * n].iter().all(|b| (b - shift).abs() <= k));
                let (b0, s0) = (&m.b_rec[..n], want0 as f32);
                assert!(b0.iter().all(|b| (b - s0).abs() <= k));
                let radius = |g: usize| -> f64 {
                    let w = &m.w_rec[g * n * n..(g + 1) * n * n];
                    spectral_radius(&w.iter().map(|&x| x as f64).collect::<Vec<_>>(), n)
                };
                for g in 0..cell.gates() {
                    let rho = radius(g);
                    // The candidate (block 2) scaled exactly to 2·spec_rad; PyTorch's
                    // U(±1/√n) has about 1/√3.
                    let ok = if bias == GatedBias::Tau && g == 2 {
                        (rho - 2.2).abs() < 1e-3
                    } else {
                        (0.4..0.8).contains(&rho)
                    };
                    assert!(ok, "{cell:?} {bias:?}: gate {g} recurrent radius {rho}");
                }
                m.validate().unwrap();
            }
        }
    }

    /// With `chrono_tmax = 20` each LSTM unit's forget-gate bias is `ln T`, `T` from
    /// `U(1, 20·τ/dt − 1)`, and its input-gate bias `−ln T` (plus PyTorch's `U(±2/√n)`
    /// sums): the units start with time constants from 2 steps to 20·τ instead of all
    /// at τ (`ln 9` at α = 0.1; docs/cells.md has what it does on the built-in tasks).
    #[test]
    fn lstm_chrono_spreads_time_constants() {
        use rand::SeedableRng;
        let n = 64;
        let arch = Arch {
            name: "t".into(),
            n_in: 3,
            n_rec: n,
            n_out: 3,
            dt: 10.0,
            tau: 100.0,
            rec_noise: 0.0,
            transfer: Transfer::Tanh,
            cell: Cell::Lstm,
            constraints: Constraints::default(),
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let cfg = InitConfig {
            chrono_tmax: 20.0,
            ..InitConfig::default()
        };
        let m = init_model(&arch, &cfg, &mut rng);
        let k = 2.0 / (n as f32).sqrt();
        let (b_i, b_f) = (&m.b_rec[..n], &m.b_rec[n..2 * n]);
        for j in 0..n {
            // b_i = −ln T + noise, b_f = ln T + noise: the sum is two noise terms.
            assert!(
                (b_i[j] + b_f[j]).abs() <= 2.0 * k,
                "unit {j}: b_i {} b_f {}",
                b_i[j],
                b_f[j]
            );
            assert!(
                (-k..=199f32.ln() + k).contains(&b_f[j]),
                "unit {j}: b_f {} outside ln U(1, 199) ± {k}",
                b_f[j]
            );
        }
        // T ~ U(1, 199): half the units above T = 100, a tenth below 20 (all at ln 9 ± k
        // without the spread).
        let above = b_f.iter().filter(|&&b| b > 100f32.ln()).count();
        let below = b_f.iter().filter(|&&b| b < 20f32.ln()).count();
        assert!(
            above >= n / 4 && below >= n / 20,
            "{above} above ln 100, {below} below ln 20"
        );
        // The mean of ln T over U(1, 199) is (199 ln 199 − 198)/198 = 4.320.
        let mean = b_f.iter().sum::<f32>() / n as f32;
        assert!((mean - 4.320).abs() < 0.3, "mean b_f {mean}");
        m.validate().unwrap();
    }
}
