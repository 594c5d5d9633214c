//! Recurrent noise as a stated property of every evaluation.
//!
//! A model trained with `rec_noise > 0` gives different numbers with noise on and off, and
//! a blob carries its own noise (`quant.noise_mul`, seeded by `quant.seed`). Every command
//! that evaluates or runs a model takes a [`Noise`] setting, applies the **same** setting
//! to both sides of a comparison, and says in its report which one was used. Noise off is
//! the default: accuracy is reported noise-off, with the noisy figure beside it when the
//! model has noise, and quantization error is always measured noise-off (noise is not
//! quantization error).
//!
//! Turning noise off for a blob does not change `neuroloop-core`: the blob is re-encoded on
//! the host with `noise_mul = 0` (and a fresh CRC), so the very same core code runs it
//! deterministically; with noise on, the blob runs byte for byte as the firmware would.

use crate::model::FloatModel;
use neuroloop_core::blob;
use serde::Serialize;

/// Recurrent noise on or off for one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Noise {
    /// The model's recurrent noise is applied (a blob: its own `noise_mul` and seed).
    On,
    /// No recurrent noise (deterministic).
    #[default]
    Off,
}

impl Noise {
    /// `"on"` or `"off"`.
    pub fn name(self) -> &'static str {
        match self {
            Noise::On => "on",
            Noise::Off => "off",
        }
    }
    /// Whether noise is on.
    pub fn is_on(self) -> bool {
        self == Noise::On
    }
    /// The other setting.
    pub fn other(self) -> Noise {
        match self {
            Noise::On => Noise::Off,
            Noise::Off => Noise::On,
        }
    }
}

/// Whether a float model has recurrent noise to turn on.
pub fn float_has_noise(m: &FloatModel) -> bool {
    m.rec_noise > 0.0
}

/// `m` with its noise as `noise` says: off sets `rec_noise` to 0, on keeps the model's.
pub fn float_with(m: &FloatModel, noise: Noise) -> FloatModel {
    let mut m = m.clone();
    if !noise.is_on() {
        m.rec_noise = 0.0;
    }
    m
}

/// Whether a blob has recurrent noise (`noise_mul > 0`); `false` for a blob that does not
/// decode.
pub fn blob_has_noise(bytes: &[u8]) -> bool {
    neuroloop_core::Model::from_bytes(bytes).is_ok_and(|m| m.noise_mul() > 0)
}

/// The blob as `noise` says: on returns it unchanged; off re-encodes it with
/// `noise_mul = 0` (everything else, including the seed, unchanged; written with
/// `W_rec` 4-aligned, [`blob::encode_to_vec_aligned`], as `quantize` writes every blob).
pub fn blob_with(bytes: &[u8], noise: Noise) -> Result<Vec<u8>, neuroloop_core::Error> {
    let m = neuroloop_core::Model::from_bytes(bytes)?;
    if noise.is_on() || m.noise_mul() == 0 {
        return Ok(bytes.to_vec());
    }
    let mut body = *m.body();
    body.quant.noise_mul = 0;
    blob::encode_to_vec_aligned(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_noise_off_changes_only_noise_mul_and_runs_deterministically() {
        let mut m = FloatModel::zeros("n", 1, 4, 1);
        m.rec_noise = 0.5;
        m.w_out.iter_mut().for_each(|w| *w = 1.0);
        let q = crate::quantize::quantize(
            &m,
            &crate::quantize::QuantConfig::default(),
            &crate::quantize::default_calibration(1, 2, 50, 1),
        )
        .unwrap();
        assert!(blob_has_noise(&q.bytes));
        assert_eq!(blob_with(&q.bytes, Noise::On).unwrap(), q.bytes);
        let off = blob_with(&q.bytes, Noise::Off).unwrap();
        assert!(!blob_has_noise(&off));
        let (a, b) = (
            neuroloop_core::Model::from_bytes(&q.bytes).unwrap(),
            neuroloop_core::Model::from_bytes(&off).unwrap(),
        );
        // Everything but noise_mul (and the summary's alignment padding) unchanged.
        let (mut body, mut quiet_body) = (*a.body(), *b.body());
        body.quant.noise_mul = 0;
        body.meta.summary = body.meta.summary.trim_end_matches(' ');
        quiet_body.meta.summary = quiet_body.meta.summary.trim_end_matches(' ');
        assert_eq!(body, quiet_body);
        let x = vec![0.0f32; 20];
        let noisy = crate::sim::run_blob(&a, &x);
        let quiet = crate::sim::run_blob(&b, &x);
        assert!(
            quiet.states.iter().all(|&v| v == 0.0),
            "zero model, no noise"
        );
        assert!(
            noisy.states.iter().any(|&v| v != 0.0),
            "noise moves the state"
        );
        assert!(float_has_noise(&m) && !float_has_noise(&float_with(&m, Noise::Off)));
    }
}
