//! `neuroloop inspect`: a blob's header, dimensions, formats, byte sizes and CRC status,
//! or a float model's sizes and settings ([`FloatInfo`]).
//!
//! Works on damaged blobs too: the header fields and both CRCs (stored and computed) are
//! shown whatever the decoder thinks, then the decoder's verdict. A float model is
//! described as such, never read as a blob header.

use neuroloop_core::blob::{DType, CRC, CRC_LEN, HEADER_LEN};
use neuroloop_core::Model;
use serde::Serialize;
use std::path::Path;

/// One tensor's description.
#[derive(Serialize, Debug)]
pub struct TensorInfo {
    /// PsychRNN-style name.
    pub name: &'static str,
    /// `i8` / `i16` / `i32`.
    pub dtype: &'static str,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Data bytes.
    pub bytes: usize,
    /// Smallest per-row fractional bits (weight matrices).
    pub frac_min: Option<u8>,
    /// Largest per-row fractional bits (weight matrices).
    pub frac_max: Option<u8>,
}

/// What `inspect` reports.
#[derive(Serialize, Debug, Default)]
pub struct BlobInfo {
    /// File size.
    pub bytes: usize,
    /// Magic bytes as text (lossy).
    pub magic: String,
    /// Format version in the header.
    pub version: Option<u16>,
    /// CRC stored in the last four bytes.
    pub crc_stored: Option<u32>,
    /// CRC computed over the rest.
    pub crc_computed: Option<u32>,
    /// Stored == computed.
    pub crc_ok: bool,
    /// The decoder accepted the blob.
    pub valid: bool,
    /// The decoder's error, if any.
    pub error: Option<String>,
    /// Model name.
    pub name: Option<String>,
    /// Task.
    pub task: Option<String>,
    /// dt, ms.
    pub dt: Option<f32>,
    /// τ, ms.
    pub tau: Option<f32>,
    /// Summary text.
    pub summary: Option<String>,
    /// Cell kind.
    pub cell: Option<&'static str>,
    /// Transfer function.
    pub transfer: Option<&'static str>,
    /// n_in.
    pub n_in: Option<usize>,
    /// n_rec.
    pub n_rec: Option<usize>,
    /// n_out.
    pub n_out: Option<usize>,
    /// State fractional bits.
    pub state_frac: Option<u8>,
    /// Rate fractional bits.
    pub rate_frac: Option<u8>,
    /// Input fractional bits.
    pub input_frac: Option<u8>,
    /// Output fractional bits.
    pub output_frac: Option<u8>,
    /// α in Q15.
    pub alpha_q15: Option<u16>,
    /// Noise multiplier.
    pub noise_mul: Option<u32>,
    /// Tensors.
    pub tensors: Vec<TensorInfo>,
    /// Sum of tensor data bytes.
    pub param_bytes: Option<usize>,
    /// RAM the network state needs on the device (bytes of the `i16` state buffer).
    pub state_ram_bytes: Option<usize>,
}

/// Describe blob bytes (never fails: problems land in `valid`/`error`).
pub fn describe(bytes: &[u8]) -> BlobInfo {
    let mut info = BlobInfo {
        bytes: bytes.len(),
        ..Default::default()
    };
    info.magic = String::from_utf8_lossy(&bytes[..bytes.len().min(4)]).into_owned();
    if bytes.len() >= HEADER_LEN {
        info.version = Some(u16::from_le_bytes([bytes[4], bytes[5]]));
    }
    if bytes.len() >= HEADER_LEN + CRC_LEN {
        let (payload, c) = bytes.split_at(bytes.len() - CRC_LEN);
        let stored = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let computed = CRC.checksum(payload);
        info.crc_stored = Some(stored);
        info.crc_computed = Some(computed);
        info.crc_ok = stored == computed;
    }
    match Model::from_bytes(bytes) {
        Err(e) => info.error = Some(e.to_string()),
        Ok(m) => {
            let b = m.body();
            info.valid = true;
            info.name = Some(m.name().into());
            info.task = Some(m.task().into());
            info.dt = Some(b.meta.dt);
            info.tau = Some(b.meta.tau);
            info.summary = Some(b.meta.summary.into());
            info.cell = Some(m.cell().name());
            info.transfer = Some(m.transfer().name());
            info.n_in = Some(m.n_in());
            info.n_rec = Some(m.n_rec());
            info.n_out = Some(m.n_out());
            info.state_frac = Some(m.state_frac());
            info.rate_frac = Some(m.rate_frac());
            info.input_frac = Some(m.input_frac());
            info.output_frac = Some(m.output_frac());
            info.alpha_q15 = Some(m.alpha_q15());
            info.noise_mul = Some(m.noise_mul());
            info.param_bytes = Some(m.param_bytes());
            info.state_ram_bytes = Some(2 * m.state_len());
            for (id, t) in b.tensors.iter() {
                info.tensors.push(TensorInfo {
                    name: id.name(),
                    dtype: DType::from_u8(t.dtype).map(|d| d.name()).unwrap_or("?"),
                    rows: t.rows as usize,
                    cols: t.cols as usize,
                    bytes: t.data.len(),
                    frac_min: t.frac.iter().min().copied(),
                    frac_max: t.frac.iter().max().copied(),
                });
            }
        }
    }
    info
}

fn q(frac: Option<u8>) -> String {
    frac.map(|f| format!("Q{}.{} ({f} fractional bits)", 15 - f as i32, f))
        .unwrap_or_default()
}

/// Human-readable report.
pub fn render(path: &Path, i: &BlobInfo) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "file        {} ({} bytes)", path.display(), i.bytes);
    let _ = writeln!(
        s,
        "magic       {:?}  version {}",
        i.magic,
        i.version.map(|v| v.to_string()).unwrap_or("-".into())
    );
    match (i.crc_stored, i.crc_computed) {
        (Some(a), Some(b)) => {
            let _ = writeln!(
                s,
                "crc         stored {a:#010x}, computed {b:#010x}: {}",
                if i.crc_ok { "OK" } else { "MISMATCH" }
            );
        }
        _ => {
            let _ = writeln!(s, "crc         (file too short)");
        }
    }
    if let Some(e) = &i.error {
        let _ = writeln!(s, "INVALID     {e}");
        return s;
    }
    let _ = writeln!(
        s,
        "name        {}  (task {})",
        i.name.as_deref().unwrap_or(""),
        i.task.as_deref().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "cell        {} / {}  n_in {}  n_rec {}  n_out {}",
        i.cell.unwrap_or(""),
        i.transfer.unwrap_or(""),
        i.n_in.unwrap_or(0),
        i.n_rec.unwrap_or(0),
        i.n_out.unwrap_or(0)
    );
    let _ = writeln!(
        s,
        "dt / tau    {} ms / {} ms  (alpha_q15 {} = {:.5})",
        i.dt.unwrap_or(0.0),
        i.tau.unwrap_or(0.0),
        i.alpha_q15.unwrap_or(0),
        i.alpha_q15.unwrap_or(0) as f64 / 32768.0
    );
    let _ = writeln!(s, "state       {}", q(i.state_frac));
    let _ = writeln!(s, "rates       {}", q(i.rate_frac));
    let _ = writeln!(s, "inputs      {}", q(i.input_frac));
    let _ = writeln!(s, "outputs     {}", q(i.output_frac));
    let _ = writeln!(
        s,
        "noise       {}",
        if i.noise_mul == Some(0) {
            "off".to_string()
        } else {
            format!("multiplier {}", i.noise_mul.unwrap_or(0))
        }
    );
    let _ = writeln!(s, "tensors:");
    for t in &i.tensors {
        let frac = match (t.frac_min, t.frac_max) {
            (Some(a), Some(b)) => format!("row frac bits {a}..={b}"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<11} {:<4} {:>4} x {:<4} {:>8} B  {frac}",
            t.name, t.dtype, t.rows, t.cols, t.bytes
        );
    }
    let _ = writeln!(
        s,
        "params      {} B; overhead {} B",
        i.param_bytes.unwrap_or(0),
        i.bytes.saturating_sub(i.param_bytes.unwrap_or(0))
    );
    let _ = writeln!(
        s,
        "device RAM  {} B of network state",
        i.state_ram_bytes.unwrap_or(0)
    );
    if let Some(sm) = &i.summary {
        if !sm.is_empty() {
            let _ = writeln!(s, "summary     {sm}");
        }
    }
    s
}

/// What `inspect` reports for a neuroloop float model (JSON).
#[derive(Serialize, Debug)]
pub struct FloatInfo {
    /// Always `"neuroloop float model (JSON)"`.
    pub kind: &'static str,
    /// Model name.
    pub name: String,
    /// Task ("" if none).
    pub task: String,
    /// n_in.
    pub n_in: usize,
    /// n_rec.
    pub n_rec: usize,
    /// n_out.
    pub n_out: usize,
    /// Recurrent cell.
    pub cell: &'static str,
    /// Transfer function.
    pub transfer: &'static str,
    /// dt, ms.
    pub dt: f32,
    /// τ, ms.
    pub tau: f32,
    /// Recurrent noise σ.
    pub rec_noise: f32,
    /// Dale's law ratio, if constrained.
    pub dale_ratio: Option<f32>,
    /// Parameters (weights, biases, initial state).
    pub parameters: usize,
}

/// Describe a float model.
pub fn describe_float(m: &crate::model::FloatModel) -> FloatInfo {
    FloatInfo {
        kind: crate::model::FileKind::Native.name(),
        name: m.name.clone(),
        task: m.task.clone(),
        n_in: m.n_in,
        n_rec: m.n_rec,
        n_out: m.n_out,
        cell: m.cell.name(),
        transfer: m.transfer.name(),
        dt: m.dt,
        tau: m.tau,
        rec_noise: m.rec_noise,
        dale_ratio: m.constraints.dale_ratio,
        parameters: m.w_in.len()
            + m.w_rec.len()
            + m.w_out.len()
            + m.b_rec.len()
            + m.b_out.len()
            + m.init_state.len()
            + m.b_hn.len(),
    }
}

/// Human-readable lines for a float model.
pub fn render_float(path: &Path, f: &FloatInfo) -> String {
    format!(
        "{}: {} (not a blob; quantize it with `neuroloop quantize`)\n  name          {}\n  task          {}\n  sizes         n_in {}, n_rec {}, n_out {}\n  dynamics      {} cell, {}, dt {} ms, tau {} ms, rec_noise {}{}\n  parameters    {}\n",
        path.display(),
        f.kind,
        f.name,
        if f.task.is_empty() { "(none)" } else { &f.task },
        f.n_in,
        f.n_rec,
        f.n_out,
        f.cell,
        f.transfer,
        f.dt,
        f.tau,
        f.rec_noise,
        f.dale_ratio.map(|d| format!(", Dale ratio {d}")).unwrap_or_default(),
        f.parameters
    )
}
