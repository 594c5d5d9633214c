//! The derived session files: `telemetry.tsv`, `events.tsv` and `telemetry.npz`, built from
//! logged frames. The recorder uses these functions live and at close, and
//! [`recover`](super::recover) uses the same ones on `frames.bin` after a crash, so the
//! files always mean the same thing.
//!
//! `telemetry.tsv` (pyControl-like, one row per step), columns in order:
//! `device_us host_ns tick input_seq y<i>… x<unit>… r<unit>… stim<rule>… step_clocks`
//! (`y`: outputs, `x`: streamed state units, `r`: streamed rates, raw fixed-point integers;
//! `device_us` is empty when the device does not timestamp).
//!
//! `events.tsv`: `device_us host_ns tick rule high value change`: the stimulus rules'
//! edges (`change` empty) and the parameter changes made during the run (a
//! `SetStimulusMap` sent while recording: `rule`, `high`, `value` empty, `change`
//! `stimulus:<rules>`, `device_us` from the device's `Ack`, `host_ns` when it was sent,
//! `tick` the last step recorded before it took effect).
//!
//! `telemetry.npz`: the telemetry columns as int64 arrays (`device_us` (-1: none),
//! `host_ns`, `tick`, `input_seq`, `outputs [n, n_out]`, `state [n, k]`, `rates [n, k]`,
//! `stimulus [n, rules]`, `step_clocks`) and the dequantized `outputs_f32`, `state_f32`,
//! `rates_f32` (float32, exactly what `neuroloop run` computes from the same integers).

use std::path::Path;

use neuroloop_core::fixed::dequantize;
use neuroloop_core::protocol::{DeviceMsg, Event, HostMsg, Packet, Telemetry};

use super::framelog::{Dir, RawFrame};
use super::session::SessionFile;
use super::RigError;
use crate::interop::npy::{Array, Data};

/// File names in a session folder.
pub const TELEMETRY_TSV: &str = "telemetry.tsv";
/// Events table.
pub const EVENTS_TSV: &str = "events.tsv";
/// Telemetry arrays.
pub const TELEMETRY_NPZ: &str = "telemetry.npz";

/// Column layout, from the session's device info and streams.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Outputs.
    pub n_out: usize,
    /// Streamed state units.
    pub state_units: Vec<u16>,
    /// Streamed rate units.
    pub rate_units: Vec<u16>,
    /// Stimulus rules.
    pub n_rules: usize,
    /// Fractional bits of outputs, state, rates.
    pub fracs: (u8, u8, u8),
}

impl Layout {
    /// The layout a session records.
    pub fn of(s: &SessionFile) -> Self {
        let d = s.device.as_ref();
        Layout {
            n_out: d.map_or(0, |d| d.n_out as usize),
            state_units: s.streams.state_units.to_vec(),
            rate_units: s.streams.rate_units.to_vec(),
            n_rules: s.stimulus.len(),
            fracs: d.map_or((0, 0, 0), |d| (d.output_frac, d.state_frac, d.rate_frac)),
        }
    }

    /// The `telemetry.tsv` header line (with `\n`).
    pub fn tsv_header(&self) -> String {
        let mut cols: Vec<String> = ["device_us", "host_ns", "tick", "input_seq"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        cols.extend((0..self.n_out).map(|i| format!("y{i}")));
        cols.extend(self.state_units.iter().map(|u| format!("x{u}")));
        cols.extend(self.rate_units.iter().map(|u| format!("r{u}")));
        cols.extend((0..self.n_rules).map(|i| format!("stim{i}")));
        cols.push("step_clocks".into());
        cols.join("\t") + "\n"
    }
}

/// One telemetry row: the message and its times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Device time, µs, if reported.
    pub device_us: Option<u64>,
    /// Host receive time, ns since the Unix epoch.
    pub host_ns: u64,
    /// The telemetry.
    pub t: Telemetry,
}

/// One event row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    /// Device time, µs, if reported.
    pub device_us: Option<u64>,
    /// Host receive time.
    pub host_ns: u64,
    /// The event.
    pub e: Event,
}

/// A parameter change (an `events.tsv` row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    /// Device time of the device's `Ack` (`None`: it never came).
    pub device_us: Option<u64>,
    /// Host time it was sent.
    pub host_ns: u64,
    /// Last tick recorded before it took effect.
    pub tick: Option<u32>,
    /// What changed: `stimulus:<rules>`.
    pub what: String,
}

/// The `events.tsv` header line.
pub const EVENTS_HEADER: &str = "device_us\thost_ns\ttick\trule\thigh\tvalue\tchange\n";

fn opt(v: Option<u64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// A `telemetry.tsv` line (with `\n`); missing trailing values (fewer rules than the
/// layout) are left empty so that columns stay aligned.
pub fn tsv_row(layout: &Layout, r: &Row) -> String {
    let mut s = format!(
        "{}\t{}\t{}\t{}",
        opt(r.device_us),
        r.host_ns,
        r.t.tick,
        r.t.input_seq
    );
    let mut put = |vals: Vec<String>, n: usize| {
        for i in 0..n {
            s.push('\t');
            if let Some(v) = vals.get(i) {
                s.push_str(v);
            }
        }
    };
    put(
        r.t.outputs.iter().map(|v| v.to_string()).collect(),
        layout.n_out,
    );
    put(
        r.t.state.iter().map(|v| v.to_string()).collect(),
        layout.state_units.len(),
    );
    put(
        r.t.rates.iter().map(|v| v.to_string()).collect(),
        layout.rate_units.len(),
    );
    put(
        r.t.stimulus.iter().map(|v| v.to_string()).collect(),
        layout.n_rules,
    );
    s.push_str(&format!("\t{}\n", r.t.step_clocks));
    s
}

/// An `events.tsv` line.
pub fn event_row(r: &EventRow) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t\n",
        opt(r.device_us),
        r.host_ns,
        r.e.tick,
        r.e.rule,
        r.e.high as u8,
        r.e.value
    )
}

/// An `events.tsv` line for a parameter change.
pub fn change_row(c: &ChangeRow) -> String {
    format!(
        "{}\t{}\t{}\t\t\t\t{}\n",
        opt(c.device_us),
        c.host_ns,
        c.tick.map_or(String::new(), |t| t.to_string()),
        c.what
    )
}

/// What one logged frame holds for the tables.
// Rows are the common case: boxing them would allocate per step.
#[allow(clippy::large_enum_variant)]
pub enum Decoded {
    /// A telemetry row.
    Row(Row),
    /// An event row.
    Event(EventRow),
    /// A parameter change sent (`seq` of the request; its row waits for the `Ack`).
    Change(u16, ChangeRow),
    /// The device acknowledged request `re` at `device_us`.
    Ack(u16, u64),
}

/// Decode a logged device frame into a table row (other frames: `None`).
pub fn decode(f: &RawFrame) -> Option<Decoded> {
    if f.dir == Dir::Tx {
        let p = postcard::from_bytes::<Packet<HostMsg<'_>>>(&f.bytes).ok()?;
        return match p.msg {
            HostMsg::SetStimulusMap { rules } => Some(Decoded::Change(
                p.seq,
                ChangeRow {
                    device_us: None,
                    host_ns: f.host_ns,
                    tick: None,
                    what: format!("stimulus:{}", rules.len()),
                },
            )),
            _ => None,
        };
    }
    if f.dir != Dir::Rx {
        return None;
    }
    let p = postcard::from_bytes::<Packet<DeviceMsg<'_>>>(&f.bytes).ok()?;
    match p.msg {
        DeviceMsg::Telemetry(t) => Some(Decoded::Row(Row {
            device_us: Some(t.device_us),
            host_ns: f.host_ns,
            t,
        })),
        DeviceMsg::Event(e) => Some(Decoded::Event(EventRow {
            device_us: Some(e.device_us),
            host_ns: f.host_ns,
            e,
        })),
        DeviceMsg::Ack { re, device_us } => Some(Decoded::Ack(re, device_us)),
        _ => None,
    }
}

/// All rows of a session, in arrival order.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// Telemetry rows.
    pub rows: Vec<Row>,
    /// Event rows.
    pub events: Vec<EventRow>,
    /// Parameter changes: acknowledged, or still waiting for the `Ack` (with its `seq`).
    pub changes: Vec<(Option<u16>, ChangeRow)>,
}

impl Tables {
    /// Rows of every logged frame.
    pub fn from_frames(frames: &[RawFrame]) -> Self {
        let mut t = Tables::default();
        for f in frames {
            t.push(decode(f));
        }
        t
    }

    /// Add a decoded frame.
    pub fn push(&mut self, d: Option<Decoded>) {
        match d {
            Some(Decoded::Row(r)) => self.rows.push(r),
            Some(Decoded::Event(e)) => self.events.push(e),
            Some(Decoded::Change(seq, c)) => self.changes.push((Some(seq), c)),
            Some(Decoded::Ack(re, device_us)) => {
                let tick = self.rows.last().map(|r| r.t.tick);
                if let Some((seq, c)) = self.changes.iter_mut().find(|(s, _)| *s == Some(re)) {
                    *seq = None;
                    c.device_us = Some(device_us);
                    c.tick = tick;
                }
            }
            None => {}
        }
    }

    /// The whole `telemetry.tsv`.
    pub fn telemetry_tsv(&self, layout: &Layout) -> String {
        let mut s = layout.tsv_header();
        for r in &self.rows {
            s.push_str(&tsv_row(layout, r));
        }
        s
    }

    /// The whole `events.tsv`.
    pub fn events_tsv(&self) -> String {
        // Both lists are in host-time order; merged by it.
        let mut lines: Vec<(u64, String)> = self
            .events
            .iter()
            .map(|e| (e.host_ns, event_row(e)))
            .chain(self.changes.iter().map(|(_, c)| (c.host_ns, change_row(c))))
            .collect();
        lines.sort_by_key(|(t, _)| *t);
        let mut s = EVENTS_HEADER.to_string();
        for (_, l) in lines {
            s.push_str(&l);
        }
        s
    }

    /// The `telemetry.npz` bytes.
    pub fn telemetry_npz(&self, layout: &Layout) -> Vec<u8> {
        let n = self.rows.len();
        let col = |f: &dyn Fn(&Row) -> i64| Array {
            shape: vec![n],
            data: Data::I64(self.rows.iter().map(f).collect()),
        };
        let mat = |k: usize, f: &dyn Fn(&Row) -> Vec<i64>| Array {
            shape: vec![n, k],
            data: Data::I64(
                self.rows
                    .iter()
                    .flat_map(|r| {
                        let mut v = f(r);
                        v.resize(k, 0);
                        v
                    })
                    .collect(),
            ),
        };
        let ints = |v: &[i16]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
        let deq = |a: &Array, frac: u8| Array {
            shape: a.shape.clone(),
            data: Data::F32(match &a.data {
                Data::I64(v) => v.iter().map(|&x| dequantize(x as i32, frac)).collect(),
                _ => Vec::new(),
            }),
        };
        let (fy, fx, fr) = layout.fracs;
        let outputs = mat(layout.n_out, &|r| ints(&r.t.outputs));
        let state = mat(layout.state_units.len(), &|r| ints(&r.t.state));
        let rates = mat(layout.rate_units.len(), &|r| ints(&r.t.rates));
        let arrays = [
            ("device_us", col(&|r| r.device_us.map_or(-1, |v| v as i64))),
            ("host_ns", col(&|r| r.host_ns as i64)),
            ("tick", col(&|r| i64::from(r.t.tick))),
            ("input_seq", col(&|r| i64::from(r.t.input_seq))),
            ("outputs_f32", deq(&outputs, fy)),
            ("state_f32", deq(&state, fx)),
            ("rates_f32", deq(&rates, fr)),
            ("outputs", outputs),
            ("state", state),
            ("rates", rates),
            (
                "stimulus",
                mat(layout.n_rules, &|r| {
                    r.t.stimulus.iter().map(|&x| i64::from(x)).collect()
                }),
            ),
            ("step_clocks", col(&|r| i64::from(r.t.step_clocks))),
        ];
        crate::interop::npz::write(arrays.iter().map(|(k, a)| (*k, a)))
    }

    /// Write all three derived files into `dir` (each atomically).
    pub fn write_all(&self, dir: &Path, layout: &Layout) -> Result<(), RigError> {
        let w = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            crate::model::file::write_atomic_io(&p, bytes).map_err(RigError::file(&p))
        };
        w(TELEMETRY_TSV, self.telemetry_tsv(layout).as_bytes())?;
        w(EVENTS_TSV, self.events_tsv().as_bytes())?;
        w(TELEMETRY_NPZ, &self.telemetry_npz(layout))
    }
}
