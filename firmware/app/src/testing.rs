//! Host-side helpers (feature `std`): random test blobs, task-like inputs, the host
//! reference run, and protocol encoding/decoding for clients and tests.

use std::string::String;
use std::vec::Vec;
use std::{format, vec};

use neuroloop_core::blob::{encode_to_vec, Body, Meta, QuantParams, Tensor, Tensors, Topology};
use neuroloop_core::protocol::{frame, DeviceMsg, FrameReader, HostMsg, Packet};
use neuroloop_core::{CellKind, Model, Network};

pub mod gated;

/// A small deterministic PRNG (xorshift64*).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator (seed 0 is remapped).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Approximately standard normal (Irwin–Hall, 12 uniforms).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

/// Shape and numbers of a random test network.
#[derive(Clone, Debug)]
pub struct NetSpec {
    /// Model name in the blob.
    pub name: String,
    /// Inputs.
    pub n_in: usize,
    /// Recurrent units.
    pub n_rec: usize,
    /// Outputs.
    pub n_out: usize,
    /// Weight bytes: 1 (`i8`) or 2 (`i16`).
    pub wbytes: usize,
    /// Transfer byte (0 relu, 1 tanh, 2 sigmoid, 3 identity).
    pub transfer: u8,
    /// Weight seed.
    pub seed: u64,
    /// Recurrent cell (GRU and LSTM blobs: [`NetSpec::gated`]).
    pub cell: CellKind,
    /// Fractional bits of a leaky net's state ([`random_blob`]; 12 from [`NetSpec::new`]).
    pub state_frac: u8,
}

impl NetSpec {
    /// A leaky net named after its shape: `rand_n{n_rec}_{i8|i16}_{seed}`.
    pub fn new(
        n_in: usize,
        n_rec: usize,
        n_out: usize,
        wbytes: usize,
        transfer: u8,
        seed: u64,
    ) -> Self {
        NetSpec {
            name: format!("rand_n{n_rec}_{}_{seed}", dtype_name(wbytes)),
            n_in,
            n_rec,
            n_out,
            wbytes,
            transfer,
            seed,
            cell: CellKind::Leaky,
            state_frac: 12,
        }
    }

    /// A GRU or LSTM net named `rand_{cell}_n{n_rec}_{i8|i16}_{seed}`, transfer 1 (tanh;
    /// set 2 for the LSTM's PsychRNN `h = o·σ(c)` variant).
    pub fn gated(
        cell: CellKind,
        n_in: usize,
        n_rec: usize,
        n_out: usize,
        wbytes: usize,
        seed: u64,
    ) -> Self {
        let mut s = NetSpec::new(n_in, n_rec, n_out, wbytes, 1, seed);
        s.name = format!(
            "rand_{}_n{n_rec}_{}_{seed}",
            cell.name(),
            dtype_name(wbytes)
        );
        s.cell = cell;
        s
    }
}

/// `i8` or `i16` for a weight byte count.
fn dtype_name(wbytes: usize) -> &'static str {
    if wbytes == 1 {
        "i8"
    } else {
        "i16"
    }
}

/// Quantize a weight matrix row by row: per-row fractional bits as large as fit.
fn quantize_rows(w: &[f64], rows: usize, cols: usize, wbytes: usize) -> (Vec<u8>, Vec<u8>) {
    let max_q = if wbytes == 1 { 127.0 } else { 32767.0 };
    let mut fracs = Vec::with_capacity(rows);
    let mut data = Vec::with_capacity(rows * cols * wbytes);
    for r in 0..rows {
        let row = &w[r * cols..(r + 1) * cols];
        let m = row.iter().fold(1e-9f64, |a, &v| a.max(v.abs()));
        let mut f = 0u8;
        while f < 20 && m * f64::from(1u32 << (f + 1)) <= max_q {
            f += 1;
        }
        fracs.push(f);
        for &v in row {
            let q = (v * f64::from(1u32 << f)).round().clamp(-max_q, max_q);
            if wbytes == 1 {
                data.push(q as i8 as u8);
            } else {
                data.extend_from_slice(&(q as i16).to_le_bytes());
            }
        }
    }
    (fracs, data)
}

/// A valid random leaky-RNN blob: recurrent gain ~1.2/√n_rec, small biases and initial
/// state; fx = `spec.state_frac`, fu = fy = 12, α = 0.1 (3277 in Q15), no noise.
///
/// A GRU or LSTM `spec` ([`NetSpec::gated`]) gets [`gated::random_blob`] instead.
pub fn random_blob(spec: &NetSpec) -> Vec<u8> {
    if spec.cell != CellKind::Leaky {
        return gated::random_blob(spec);
    }
    let mut rng = Rng::new(spec.seed);
    let (n_in, n_rec, n_out) = (spec.n_in, spec.n_rec, spec.n_out);
    let mut mat = |rows: usize, cols: usize, gain: f64| -> Vec<f64> {
        (0..rows * cols)
            .map(|_| rng.normal() * gain / (cols as f64).sqrt())
            .collect()
    };
    let w_in = mat(n_rec, n_in, 1.0);
    let w_rec = mat(n_rec, n_rec, 1.2);
    let w_out = mat(n_out, n_rec, 1.0);
    let (f_in, d_in) = quantize_rows(&w_in, n_rec, n_in, spec.wbytes);
    let (f_rec, d_rec) = quantize_rows(&w_rec, n_rec, n_rec, spec.wbytes);
    let (f_out, d_out) = quantize_rows(&w_out, n_out, n_rec, spec.wbytes);
    let b_rec: Vec<u8> = (0..n_rec)
        .flat_map(|_| ((rng.normal() * 0.05 * f64::from(1u32 << 20)) as i32).to_le_bytes())
        .collect();
    let b_out: Vec<u8> = (0..n_out)
        .flat_map(|_| ((rng.normal() * 0.05 * f64::from(1u32 << 20)) as i32).to_le_bytes())
        .collect();
    let init: Vec<u8> = (0..n_rec)
        .flat_map(|_| ((rng.normal() * 0.1 * 4096.0) as i16).to_le_bytes())
        .collect();
    encode_leaky(
        spec,
        3277,
        [(&f_in, &d_in), (&f_rec, &d_rec), (&f_out, &d_out)],
        &b_rec,
        &b_out,
        &init,
    )
}

/// Encode a leaky net (fx = `spec.state_frac`, fu = fy = 12, no noise) from quantized
/// tensors: `w` = (per-row fractional bits, data) of `w_in`, `w_rec`, `w_out`; biases and
/// initial state as little-endian bytes.
fn encode_leaky(
    spec: &NetSpec,
    alpha_q15: u16,
    w: [(&[u8], &[u8]); 3],
    b_rec: &[u8],
    b_out: &[u8],
    init: &[u8],
) -> Vec<u8> {
    encode_net(spec, spec.state_frac, alpha_q15, w, b_rec, b_out, init)
}

/// Encode a net of `spec.cell` (fu = fy = 12, state at `state_frac`, no noise): `w_in`
/// and `w_rec` have `gates()·n_rec` rows, `b_rec` `bias_rows()·n_rec` values and
/// `init_state` `init_rows()·n_rec` (the blob format, `docs/blob-v1.md`).
fn encode_net(
    spec: &NetSpec,
    state_frac: u8,
    alpha_q15: u16,
    w: [(&[u8], &[u8]); 3],
    b_rec: &[u8],
    b_out: &[u8],
    init: &[u8],
) -> Vec<u8> {
    let [(f_in, d_in), (f_rec, d_rec), (f_out, d_out)] = w;
    let (n_in, n_rec, n_out) = (spec.n_in, spec.n_rec, spec.n_out);
    let wdt = if spec.wbytes == 1 { 1 } else { 2 };
    let (r, i, o) = (n_rec as u16, n_in as u16, n_out as u16);
    let cell = spec.cell;
    let k = (cell.gates() * n_rec) as u16;
    let body = Body {
        meta: Meta {
            name: &spec.name,
            task: "random",
            dt: 10.0,
            tau: 100.0,
            summary: "random weights for firmware tests",
        },
        topology: Topology {
            cell: cell as u8,
            transfer: spec.transfer,
            n_in: i,
            n_rec: r,
            n_out: o,
        },
        quant: QuantParams {
            state_frac,
            input_frac: 12,
            output_frac: 12,
            alpha_q15,
            noise_mul: 0,
            seed: 1,
        },
        tensors: Tensors {
            w_in: Tensor {
                dtype: wdt,
                rows: k,
                cols: i,
                frac: f_in,
                data: d_in,
            },
            w_rec: Tensor {
                dtype: wdt,
                rows: k,
                cols: r,
                frac: f_rec,
                data: d_rec,
            },
            w_out: Tensor {
                dtype: wdt,
                rows: o,
                cols: r,
                frac: f_out,
                data: d_out,
            },
            b_rec: Tensor {
                dtype: 3,
                rows: (cell.bias_rows() * n_rec) as u16,
                cols: 1,
                frac: &[],
                data: b_rec,
            },
            b_out: Tensor {
                dtype: 3,
                rows: o,
                cols: 1,
                frac: &[],
                data: b_out,
            },
            init_state: Tensor {
                dtype: 2,
                rows: (cell.init_rows() * n_rec) as u16,
                cols: 1,
                frac: &[],
                data: init,
            },
        },
    };
    encode_to_vec(&body).expect("random blob is valid")
}

/// Weights at the extremes, `rows × cols` row-major as blob bytes (`i16` if `i16w`, else
/// the top byte as `i8`): a third `MIN`, a sixth `MAX`, the rest random over the full
/// range; with per-row fractional bits `fracs(row)`.
fn extreme_weights(
    rng: &mut Rng,
    rows: usize,
    cols: usize,
    i16w: bool,
    fracs: &dyn Fn(usize) -> u8,
) -> (Vec<u8>, Vec<u8>) {
    let mut data = Vec::with_capacity(rows * cols * 2);
    for _ in 0..rows * cols {
        let u = rng.next_u64();
        let v: i16 = match u % 6 {
            0 | 1 => i16::MIN,
            2 => i16::MAX,
            _ => (u >> 16) as i16,
        };
        if i16w {
            data.extend_from_slice(&v.to_le_bytes());
        } else {
            data.push(((v >> 8) as i8) as u8);
        }
    }
    ((0..rows).map(fracs).collect(), data)
}

/// Row fractional bits that keep a dot product of `n` extreme weights and activations
/// about in range: |product| up to 2^30 (i16) or 2^22 (i8), and a sum of `n` random-sign
/// terms ~ √n of them.
fn spread(n: usize, i16w: bool) -> u8 {
    let base = if i16w { 15 } else { 7 };
    base + (n as f64).sqrt().log2().round() as u8
}

/// A leaky net whose dot products run at the extremes, to check the kernels there through
/// the whole model path: identity transfer (rates = states, so saturated states reach
/// `W_rec·r` as `-32768`/`32767`), α = 1, about half of all weights `MIN`/`MAX` (a third
/// of them `MIN`) and the rest random over the full range, initial states saturated, and
/// per-row scales chosen so that some rows saturate and others stay in range each step.
/// Use with [`extreme_inputs`]. `spec.transfer` is ignored.
///
/// A GRU or LSTM `spec` gets [`gated::saturated_blob`] instead.
pub fn saturated_blob(spec: &NetSpec) -> Vec<u8> {
    if spec.cell != CellKind::Leaky {
        return gated::saturated_blob(spec);
    }
    let mut rng = Rng::new(spec.seed);
    let (n_in, n_rec, n_out) = (spec.n_in, spec.n_rec, spec.n_out);
    let i16w = spec.wbytes != 1;
    let mut weights = |rows: usize, cols: usize, fracs: &dyn Fn(usize) -> u8| {
        extreme_weights(&mut rng, rows, cols, i16w, fracs)
    };
    let (s_in, s_rec) = (spread(n_in, i16w), spread(n_rec, i16w));
    let (f_in, d_in) = weights(n_rec, n_in, &|_| s_in + 3);
    let (f_rec, d_rec) = weights(n_rec, n_rec, &|i| {
        if i % 2 == 0 {
            s_rec
        } else {
            s_rec - 4
        }
    });
    let (f_out, d_out) = weights(n_out, n_rec, &|_| s_rec + 3);
    let b_rec = vec![0u8; 4 * n_rec];
    let b_out = vec![0u8; 4 * n_out];
    let init: Vec<u8> = (0..n_rec)
        .flat_map(|i| if i % 3 == 0 { i16::MAX } else { i16::MIN }.to_le_bytes())
        .collect();
    let mut spec = spec.clone();
    spec.transfer = 3;
    encode_leaky(
        &spec,
        32768,
        [(&f_in, &d_in), (&f_rec, &d_rec), (&f_out, &d_out)],
        &b_rec,
        &b_out,
        &init,
    )
}

/// Inputs at the extremes: each channel `-32768`, `32767` or random, step by step.
pub fn extreme_inputs(steps: usize, n_in: usize, seed: u64) -> Vec<Vec<i16>> {
    let mut rng = Rng::new(seed);
    (0..steps)
        .map(|_| {
            (0..n_in)
                .map(|_| match rng.next_u64() % 3 {
                    0 => i16::MIN,
                    1 => i16::MAX,
                    _ => rng.next_u64() as i16,
                })
                .collect()
        })
        .collect()
}

/// The firmware's built-in model (`firmware/app/default.nlb`).
pub fn default_blob() -> Vec<u8> {
    let mut spec = NetSpec::new(2, 32, 2, 2, 1, 2024);
    spec.name = "default_n32_i16".into();
    random_blob(&spec)
}

/// Perceptual-discrimination-like inputs at 12 fractional bits: two channels, a fixation
/// period (zeros), then `0.5 ± coherence` plus noise on each, trial after trial.
pub fn discrimination_inputs(steps: usize, n_in: usize, seed: u64) -> Vec<Vec<i16>> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(steps);
    let (fix, stim) = (10usize, 40usize);
    let mut coh = 0.0;
    for k in 0..steps {
        let t = k % (fix + stim);
        if t == 0 {
            coh = (rng.uniform() - 0.5) * 0.4;
        }
        let v: Vec<i16> = (0..n_in)
            .map(|c| {
                if t < fix {
                    return 0;
                }
                let mean = if c % 2 == 0 { 0.5 + coh } else { 0.5 - coh };
                ((mean + 0.1 * rng.normal()) * 4096.0)
                    .round()
                    .clamp(-32768.0, 32767.0) as i16
            })
            .collect();
        out.push(v);
    }
    out
}

/// Outputs of the host-side core run of `blob` on `inputs` (one vector per step).
pub fn host_run(blob: &[u8], inputs: &[Vec<i16>]) -> Vec<Vec<i16>> {
    let model = Model::from_bytes(blob).expect("blob decodes");
    let mut buf = vec![0i16; model.state_len()];
    let mut net = Network::new(model, &mut buf).expect("state buffer");
    inputs
        .iter()
        .map(|u| net.step(u).expect("input length").to_vec())
        .collect()
}

/// One host packet as wire bytes (COBS, trailing `0x00`).
pub fn encode_host(seq: u16, msg: HostMsg<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; frame::MAX_FRAME];
    let n = frame::encode(&Packet { seq, msg }, &mut buf)
        .expect("message fits a frame")
        .len();
    buf.truncate(n);
    buf
}

/// A received device frame, un-stuffed; parse it with [`RxFrame::packet`].
#[derive(Clone, Debug)]
pub struct RxFrame(pub Vec<u8>);

impl RxFrame {
    /// The packet, borrowing from the frame.
    pub fn packet(&self) -> Result<Packet<DeviceMsg<'_>>, postcard::Error> {
        postcard::from_bytes(&self.0)
    }
}

/// Splits a device byte stream into frames.
#[derive(Debug, Default)]
pub struct Deframer {
    reader: FrameReader<{ frame::MAX_FRAME }>,
    /// Frames that did not un-stuff.
    pub errors: usize,
}

impl Deframer {
    /// Feed bytes; complete frames are appended to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<RxFrame>) {
        for &b in bytes {
            match self.reader.push(b) {
                None => {}
                Some(Err(_)) => self.errors += 1,
                Some(Ok(f)) => match cobs_decode(f) {
                    Some(v) => out.push(RxFrame(v)),
                    None => self.errors += 1,
                },
            }
        }
    }
}

fn cobs_decode(f: &mut [u8]) -> Option<Vec<u8>> {
    let mut v = f.to_vec();
    let n = cobs::decode_in_place(&mut v).ok()?;
    v.truncate(n);
    Some(v)
}
