//! Owned test blobs: random weights, any sizes, any field overridable.
#![allow(dead_code)]

use neuroloop_core::blob::{encode_to_vec, Body, Meta, QuantParams, Tensor, Tensors, Topology};

/// Owned storage for a blob body.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub topology: Topology,
    pub quant: QuantParams,
    pub dtypes: [u8; 6],
    pub shapes: [(u16, u16); 6],
    pub fracs: [Vec<u8>; 6],
    pub data: [Vec<u8>; 6],
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

impl Spec {
    /// A valid random leaky net; `wbytes` = 1 (i8) or 2 (i16) weight bytes.
    pub fn random(n_in: usize, n_rec: usize, n_out: usize, wbytes: usize, seed: u64) -> Spec {
        Spec::random_cell(0, n_in, n_rec, n_out, wbytes, seed)
    }

    /// A valid random net of cell kind `cell` (0 leaky, 1 GRU, 2 LSTM): gate-stacked
    /// `w_in`/`w_rec`, 4·n_rec biases and (LSTM) 2·n_rec initial-state words for the gated
    /// ones, with their required transfer, α, noise and state format.
    pub fn random_cell(
        cell: u8,
        n_in: usize,
        n_rec: usize,
        n_out: usize,
        wbytes: usize,
        seed: u64,
    ) -> Spec {
        let (k, b, s) = match cell {
            0 => (1, 1, 1),
            1 => (3, 4, 1),
            _ => (4, 4, 2),
        };
        let mut rng = Lcg(seed);
        let mut bytes = |n: usize| (0..n).map(|_| rng.next() as u8).collect::<Vec<u8>>();
        let wdt = if wbytes == 1 { 1 } else { 2 };
        let shapes = [
            ((k * n_rec) as u16, n_in as u16),
            ((k * n_rec) as u16, n_rec as u16),
            (n_out as u16, n_rec as u16),
            ((b * n_rec) as u16, 1),
            (n_out as u16, 1),
            ((s * n_rec) as u16, 1),
        ];
        let w_scale = if wbytes == 1 { 9 } else { 17 };
        let fracs = [
            vec![w_scale; k * n_rec],
            vec![w_scale + 3; k * n_rec],
            vec![w_scale; n_out],
            vec![],
            vec![],
            vec![],
        ];
        let data = [
            bytes(k * n_rec * n_in * wbytes),
            bytes(k * n_rec * n_rec * wbytes),
            bytes(n_out * n_rec * wbytes),
            (0..b * n_rec)
                .flat_map(|i| ((i as i32 - 3) * 1000).to_le_bytes())
                .collect(),
            (0..n_out)
                .flat_map(|i| (i as i32 * 500).to_le_bytes())
                .collect(),
            (0..s * n_rec)
                .flat_map(|i| ((i as i16) * 7).to_le_bytes())
                .collect(),
        ];
        let gated = cell != 0;
        Spec {
            name: "test".into(),
            topology: Topology {
                cell,
                transfer: if gated { 1 } else { 0 },
                n_in: n_in as u16,
                n_rec: n_rec as u16,
                n_out: n_out as u16,
            },
            quant: QuantParams {
                state_frac: if cell == 1 { 15 } else { 12 },
                input_frac: 12,
                output_frac: 12,
                alpha_q15: if gated { 32768 } else { 3277 },
                noise_mul: 0,
                seed: 5,
            },
            dtypes: [wdt, wdt, wdt, 3, 3, 2],
            shapes,
            fracs,
            data,
        }
    }

    fn tensor(&self, k: usize) -> Tensor<'_> {
        Tensor {
            dtype: self.dtypes[k],
            rows: self.shapes[k].0,
            cols: self.shapes[k].1,
            frac: &self.fracs[k],
            data: &self.data[k],
        }
    }

    /// The body (borrowing `self`).
    pub fn body(&self) -> Body<'_> {
        Body {
            meta: Meta {
                name: &self.name,
                task: "unit-test",
                dt: 10.0,
                tau: 100.0,
                summary: "made by tests",
            },
            topology: self.topology,
            quant: self.quant,
            tensors: Tensors {
                w_in: self.tensor(0),
                w_rec: self.tensor(1),
                w_out: self.tensor(2),
                b_rec: self.tensor(3),
                b_out: self.tensor(4),
                init_state: self.tensor(5),
            },
        }
    }

    /// Encoded with the validating encoder.
    pub fn encode(&self) -> Vec<u8> {
        encode_to_vec(&self.body()).expect("valid spec")
    }

    /// Encoded WITHOUT validation (to build invalid-but-well-formed blobs), correct CRC.
    pub fn encode_unchecked(&self) -> Vec<u8> {
        let mut out = b"NLRN".to_vec();
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&postcard::to_allocvec(&self.body()).unwrap());
        let crc = neuroloop_core::blob::CRC.checksum(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }
}

/// Recompute the trailing CRC after editing a blob.
pub fn fix_crc(b: &mut [u8]) {
    if b.len() < 4 {
        return;
    }
    let n = b.len() - 4;
    let crc = neuroloop_core::blob::CRC.checksum(&b[..n]);
    b[n..].copy_from_slice(&crc.to_le_bytes());
}
