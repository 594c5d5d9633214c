//! An independent reference for the format-v1 leaky step, written from the equations in
//! `docs/blob-v1.md` ("Semantics") and nothing else.
//!
//! Why by hand: the point is a second implementation that shares no arithmetic with
//! `neuroloop-core`. Every intermediate is an `i128` (so nothing here can overflow or
//! saturate before the documented final `sat16`), the rounding shift is written with
//! `div_euclid`, the tanh table is rebuilt from its documented definition, the noise PRNG
//! from its documented recurrence. It calls none of core's `fixed`, `activation`,
//! `kernel`, `rng` or `cell` code; from core it uses only the blob *encoder* (to turn a
//! [`Net`] into bytes) and the decoded [`Body`] (to read a committed blob back into a
//! [`Net`]).
//!
//! Used by `core/tests/reference_step.rs` (proptest against `Network::step`) and
//! `core/tests/golden.rs` (generates and checks `tests/fixtures/golden/`).
#![allow(dead_code)]

pub mod gated;
pub mod golden_file;
pub mod random;

use neuroloop_core::blob::{encode_to_vec, Body, Meta, QuantParams, Tensor, Tensors, Topology};

/// SplitMix64: fills a net's tensors from one proptest-chosen seed (a proptest strategy
/// per weight would make 100 k cases slow and shrink no better).
pub struct Mix(pub u64);
impl Mix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next() % one_in == 0
    }
    /// Uniform in `lo..=hi`, or `lo` / `hi` themselves one time in four.
    pub fn edgy(&mut self, lo: i64, hi: i64) -> i64 {
        match self.next() % 8 {
            0 => lo,
            1 => hi,
            _ => self.range(lo, hi),
        }
    }
}

/// Guard bits `G` of the doc.
pub const G: i32 = 8;
/// The difference `pre − (x << G)` is clamped to ±2^46 before the α multiply.
pub const D_CLAMP: i128 = 1 << 46;

/// Transfer function as the doc's `topology.transfer` byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// 0
    Relu,
    /// 1
    Tanh,
    /// 2
    Sigmoid,
    /// 3
    Identity,
}

impl Transfer {
    pub const ALL: [Transfer; 4] = [
        Transfer::Relu,
        Transfer::Tanh,
        Transfer::Sigmoid,
        Transfer::Identity,
    ];
    pub fn byte(self) -> u8 {
        match self {
            Transfer::Relu => 0,
            Transfer::Tanh => 1,
            Transfer::Sigmoid => 2,
            Transfer::Identity => 3,
        }
    }
    pub fn name(self) -> &'static str {
        ["relu", "tanh", "sigmoid", "identity"][self.byte() as usize]
    }
    pub fn from_byte(b: u8) -> Transfer {
        Transfer::ALL[b as usize]
    }
}

/// A weight matrix: integer values (row-major), one fractional-bit count per row, and
/// the element width it is stored with (1 = i8, 2 = i16).
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub bytes: usize,
    pub frac: Vec<u8>,
    pub w: Vec<i64>,
}

impl Matrix {
    pub(crate) fn data(&self) -> Vec<u8> {
        self.w
            .iter()
            .flat_map(|&v| {
                if self.bytes == 1 {
                    vec![v as i8 as u8]
                } else {
                    (v as i16).to_le_bytes().to_vec()
                }
            })
            .collect()
    }
}

/// Every parameter of a leaky format-v1 network, as plain integers.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    pub transfer: Transfer,
    pub n_in: usize,
    pub n_rec: usize,
    pub n_out: usize,
    pub fx: u8,
    pub fu: u8,
    pub fy: u8,
    pub alpha_q15: u16,
    pub noise_mul: u32,
    pub seed: u32,
    pub w_in: Matrix,
    pub w_rec: Matrix,
    pub w_out: Matrix,
    pub b_rec: Vec<i64>,
    pub b_out: Vec<i64>,
    pub init: Vec<i64>,
}

fn le_ints(data: &[u8], size: usize) -> Vec<i64> {
    data.chunks_exact(size)
        .map(|c| match size {
            1 => c[0] as i8 as i64,
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            _ => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
        })
        .collect()
}

fn matrix(t: &Tensor<'_>) -> Matrix {
    let bytes = t.dtype as usize; // 1 = i8, 2 = i16
    Matrix {
        rows: t.rows as usize,
        cols: t.cols as usize,
        bytes,
        frac: t.frac.to_vec(),
        w: le_ints(t.data, bytes),
    }
}

impl Net {
    /// Read a decoded body (raw bytes → integers, per the doc's tensor layout).
    pub fn from_body(b: &Body<'_>) -> Net {
        let t = &b.tensors;
        Net {
            transfer: Transfer::from_byte(b.topology.transfer),
            n_in: b.topology.n_in as usize,
            n_rec: b.topology.n_rec as usize,
            n_out: b.topology.n_out as usize,
            fx: b.quant.state_frac,
            fu: b.quant.input_frac,
            fy: b.quant.output_frac,
            alpha_q15: b.quant.alpha_q15,
            noise_mul: b.quant.noise_mul,
            seed: b.quant.seed,
            w_in: matrix(&t.w_in),
            w_rec: matrix(&t.w_rec),
            w_out: matrix(&t.w_out),
            b_rec: le_ints(t.b_rec.data, 4),
            b_out: le_ints(t.b_out.data, 4),
            init: le_ints(t.init_state.data, 2),
        }
    }

    /// Encode as a blob with core's (validating) encoder.
    pub fn to_blob(&self, name: &str) -> Vec<u8> {
        let (d_in, d_rec, d_out) = (self.w_in.data(), self.w_rec.data(), self.w_out.data());
        let vec_bytes = |v: &[i64], size: usize| -> Vec<u8> {
            v.iter()
                .flat_map(|&x| {
                    if size == 4 {
                        (x as i32).to_le_bytes().to_vec()
                    } else {
                        (x as i16).to_le_bytes().to_vec()
                    }
                })
                .collect()
        };
        let (b_rec, b_out, init) = (
            vec_bytes(&self.b_rec, 4),
            vec_bytes(&self.b_out, 4),
            vec_bytes(&self.init, 2),
        );
        let body = Body {
            meta: Meta {
                name,
                task: "reference",
                dt: 10.0,
                tau: 100.0,
                summary: "generated by core/tests/reference",
            },
            topology: Topology {
                cell: 0,
                transfer: self.transfer.byte(),
                n_in: self.n_in as u16,
                n_rec: self.n_rec as u16,
                n_out: self.n_out as u16,
            },
            quant: QuantParams {
                state_frac: self.fx,
                input_frac: self.fu,
                output_frac: self.fy,
                alpha_q15: self.alpha_q15,
                noise_mul: self.noise_mul,
                seed: self.seed,
            },
            tensors: Tensors {
                w_in: tensor(&self.w_in, &d_in),
                w_rec: tensor(&self.w_rec, &d_rec),
                w_out: tensor(&self.w_out, &d_out),
                b_rec: vector(3, &b_rec),
                b_out: vector(3, &b_out),
                init_state: vector(2, &init),
            },
        };
        encode_to_vec(&body).expect("reference nets are valid")
    }

    /// Rates format: `fx` for relu/identity, 15 for tanh/sigmoid.
    pub fn fr(&self) -> i32 {
        match self.transfer {
            Transfer::Relu | Transfer::Identity => self.fx as i32,
            Transfer::Tanh | Transfer::Sigmoid => 15,
        }
    }
}

pub(crate) fn tensor<'a>(m: &'a Matrix, data: &'a [u8]) -> Tensor<'a> {
    Tensor {
        dtype: m.bytes as u8,
        rows: m.rows as u16,
        cols: m.cols as u16,
        frac: &m.frac,
        data,
    }
}

/// A column vector: dtype 3 (`i32`, 4 bytes) or 2 (`i16`, 2 bytes).
pub(crate) fn vector(dtype: u8, data: &[u8]) -> Tensor<'_> {
    let size = if dtype == 3 { 4 } else { 2 };
    Tensor {
        dtype,
        rows: (data.len() / size) as u16,
        cols: 1,
        frac: &[],
        data,
    }
}

/// `rs(v, s)`: `v / 2^s` rounded to nearest, ties toward +∞ (`floor(v/2^s + 1/2)`);
/// `v · 2^−s` exactly when `s ≤ 0`.
pub fn rs(v: i128, s: i32) -> i128 {
    if s <= 0 {
        v * (1i128 << -s)
    } else {
        let d = 1i128 << s;
        (2 * v + d).div_euclid(2 * d)
    }
}

/// Clamp to the `i16` range.
pub fn sat16(v: i128) -> i128 {
    v.clamp(i16::MIN as i128, i16::MAX as i128)
}

/// The tanh table from its definition: `T[k] = min(32767, round(tanh(k/32) · 2^15))`,
/// `k = 0..=256`.
pub fn tanh_table() -> Vec<i128> {
    (0..=256)
        .map(|k| ((k as f64 / 32.0).tanh() * 32768.0).round().min(32767.0) as i128)
        .collect()
}

/// `tanh` in Q15 of `x` with `frac` fractional bits (doc: table position
/// `p = |x| · 2^(21 − frac)` in Q16 table steps, `k = ⌊p / 2^16⌋`, `t = p mod 2^16`,
/// `v = T[k] + rs((T[k+1] − T[k])·t, 16)` for `k < 256`, else 32767; sign of `x`).
pub fn tanh_q15(table: &[i128], x: i128, frac: i32) -> i128 {
    let p = x.abs() * (1i128 << (21 - frac));
    let (k, t) = ((p / 65536) as usize, p % 65536);
    let v = if k < 256 {
        table[k] + rs((table[k + 1] - table[k]) * t, 16)
    } else {
        32767
    };
    if x < 0 {
        -v
    } else {
        v
    }
}

/// `f(x)` in the rates format.
pub fn transfer(table: &[i128], f: Transfer, x: i128, fx: i32) -> i128 {
    match f {
        Transfer::Relu => x.max(0),
        Transfer::Identity => x,
        Transfer::Tanh => tanh_q15(table, x, fx),
        // (1 + tanh(x/2)) / 2: tanh of the same integer read with one more fractional bit.
        Transfer::Sigmoid => sat16(rs(32768 + tanh_q15(table, x, fx + 1), 1)),
    }
}

/// The doc's noise source: xorshift32 (13, 17, 5), seed 0 replaced by 0x9E3779B9; one
/// Irwin–Hall(4) sample `g` = sum of the four 16-bit halves of two successive outputs
/// − 2^17.
#[derive(Clone, Debug)]
pub struct Noise(u32);

impl Noise {
    pub fn new(seed: u32) -> Noise {
        Noise(if seed == 0 { 0x9E37_79B9 } else { seed })
    }
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    pub fn gauss(&mut self) -> i128 {
        let (a, b) = (self.next() as i128, self.next() as i128);
        (a & 0xFFFF) + (a >> 16) + (b & 0xFFFF) + (b >> 16) - (1 << 17)
    }
}

/// State, rates and outputs of a running reference network.
#[derive(Clone, Debug)]
pub struct RefState {
    pub x: Vec<i128>,
    pub r: Vec<i128>,
    pub y: Vec<i128>,
    noise: Noise,
    table: Vec<i128>,
}

fn dot(m: &Matrix, row: usize, v: &[i128]) -> i128 {
    (0..m.cols)
        .map(|k| m.w[row * m.cols + k] as i128 * v[k])
        .sum()
}

impl RefState {
    /// After a reset: `x = init_state`, `r = f(x)`, `y` from `r`, PRNG at the seed.
    pub fn new(net: &Net) -> RefState {
        let table = tanh_table();
        let x: Vec<i128> = net.init.iter().map(|&v| v as i128).collect();
        let r = x
            .iter()
            .map(|&v| transfer(&table, net.transfer, v, net.fx as i32))
            .collect();
        let mut s = RefState {
            x,
            r,
            y: vec![0; net.n_out],
            noise: Noise::new(net.seed),
            table,
        };
        s.outputs(net);
        s
    }

    fn outputs(&mut self, net: &Net) {
        let (fr, fy) = (net.fr(), net.fy as i32);
        for o in 0..net.n_out {
            let acc = rs(
                dot(&net.w_out, o, &self.r),
                net.w_out.frac[o] as i32 + fr - fy - G,
            );
            self.y[o] = sat16(rs(acc + net.b_out[o] as i128, G));
        }
    }

    /// One step on inputs `u` (`n_in` values at `fu`).
    pub fn step(&mut self, net: &Net, u: &[i16]) {
        let u: Vec<i128> = u.iter().map(|&v| v as i128).collect();
        let (fx, fu, fr) = (net.fx as i32, net.fu as i32, net.fr());
        let t = fx + G;
        let mut x = self.x.clone();
        for (i, xi) in x.iter_mut().enumerate() {
            let pre = rs(
                dot(&net.w_rec, i, &self.r),
                net.w_rec.frac[i] as i32 + fr - t,
            ) + rs(dot(&net.w_in, i, &u), net.w_in.frac[i] as i32 + fu - t)
                + net.b_rec[i] as i128;
            let x_g = *xi * (1 << G);
            let d = (pre - x_g).clamp(-D_CLAMP, D_CLAMP);
            let noise = if net.noise_mul != 0 {
                rs(self.noise.gauss() * net.noise_mul as i128, 16)
            } else {
                0
            };
            *xi = sat16(rs(x_g + rs(net.alpha_q15 as i128 * d, 15) + noise, G));
        }
        self.x = x;
        for i in 0..net.n_rec {
            self.r[i] = transfer(&self.table, net.transfer, self.x[i], fx);
        }
        self.outputs(net);
    }
}
