//! Random GRU and LSTM test blobs, built with core's encoder like the leaky ones
//! ([`super::random_blob`], [`super::saturated_blob`] dispatch here on `spec.cell`).
//!
//! Gated blobs (`docs/blob-v1.md`, "Gated cells"): `w_in`/`w_rec` have `gates()·n_rec`
//! rows, `b_rec` `bias_rows()·n_rec` values at `GATE_FRAC + G` fractional bits,
//! `init_state` the GRU's `h₀` (Q15) or the LSTM's `h₀` (Q15) then `c₀` (at `state_frac`);
//! α = 1, no noise, GRU `state_frac` 15.

use std::vec;
use std::vec::Vec;

use neuroloop_core::blob::GUARD_BITS;
use neuroloop_core::cell::GATE_FRAC;
use neuroloop_core::CellKind;

use super::{encode_net, extreme_weights, quantize_rows, spread, NetSpec, Rng};

/// Fractional bits of the LSTM cell state in [`random_blob`] (`|c| < 8`).
pub const LSTM_STATE_FRAC: u8 = 12;
/// Fractional bits of the LSTM cell state in [`saturated_blob`] (`|c| < 2`: the cell
/// state saturates within a few steps of saturated gates).
pub const LSTM_SATURATED_STATE_FRAC: u8 = 14;

/// `state_frac` of a gated blob: 15 for the GRU (its state is `h`), else `lstm`.
fn state_frac(cell: CellKind, lstm: u8) -> u8 {
    if cell == CellKind::Gru {
        15
    } else {
        lstm
    }
}

/// Little-endian bytes of `i32` values.
fn i32_bytes(v: impl Iterator<Item = i32>) -> Vec<u8> {
    v.flat_map(i32::to_le_bytes).collect()
}

/// Little-endian bytes of `i16` values.
fn i16_bytes(v: impl Iterator<Item = i16>) -> Vec<u8> {
    v.flat_map(i16::to_le_bytes).collect()
}

/// A valid random GRU or LSTM blob (`spec.cell`): gate weights ~ N(0, 1/cols) (recurrent
/// gain 1.2), per-row scales as large as fit; gate biases N(0, 0.3²) (the LSTM's forget
/// gate +1); readout ~ N(0, 1/n_rec), biases N(0, 0.05²); `h₀` N(0, 0.1²) in Q15, the
/// LSTM's `c₀` N(0, 0.3²) at [`LSTM_STATE_FRAC`]. `spec.transfer` must be 1 (tanh), or 2
/// for the PsychRNN LSTM.
pub fn random_blob(spec: &NetSpec) -> Vec<u8> {
    let mut rng = Rng::new(spec.seed);
    let (n_in, n_rec, n_out, cell) = (spec.n_in, spec.n_rec, spec.n_out, spec.cell);
    let rows = cell.gates() * n_rec;
    let mut mat = |rows: usize, cols: usize, gain: f64| -> Vec<f64> {
        (0..rows * cols)
            .map(|_| rng.normal() * gain / (cols as f64).sqrt())
            .collect()
    };
    let w_in = mat(rows, n_in, 1.0);
    let w_rec = mat(rows, n_rec, 1.2);
    let w_out = mat(n_out, n_rec, 1.0);
    let (f_in, d_in) = quantize_rows(&w_in, rows, n_in, spec.wbytes);
    let (f_rec, d_rec) = quantize_rows(&w_rec, rows, n_rec, spec.wbytes);
    let (f_out, d_out) = quantize_rows(&w_out, n_out, n_rec, spec.wbytes);
    let gate_one = f64::from(1u32 << (GATE_FRAC + GUARD_BITS));
    let forget = |k: usize| cell == CellKind::Lstm && k / n_rec == 1;
    let b_rec = i32_bytes((0..cell.bias_rows() * n_rec).map(|k| {
        let b = rng.normal() * 0.3 + if forget(k) { 1.0 } else { 0.0 };
        (b * gate_one).round() as i32
    }));
    let b_out = i32_bytes((0..n_out).map(|_| (rng.normal() * 0.05 * f64::from(1u32 << 20)) as i32));
    let fx = state_frac(cell, LSTM_STATE_FRAC);
    let mut init = i16_bytes((0..n_rec).map(|_| (rng.normal() * 0.1 * 32768.0) as i16));
    if cell == CellKind::Lstm {
        let one = f64::from(1u32 << fx);
        init.extend(i16_bytes(
            (0..n_rec).map(|_| (rng.normal() * 0.3 * one) as i16),
        ));
    }
    encode_net(
        spec,
        fx,
        32768,
        [(&f_in, &d_in), (&f_rec, &d_rec), (&f_out, &d_out)],
        &b_rec,
        &b_out,
        &init,
    )
}

/// A GRU or LSTM blob at the extremes, for [`super::extreme_inputs`]: weights as
/// [`super::saturated_blob`]'s (about half `MIN`/`MAX`), gate rows cycling through three
/// scales — row fractional bits 0 (the gate sums saturate the `i16` pre-activation, and
/// the GRU's `W_hn·h + b_hn` its `i32`), in range, and small — a quarter of the gate
/// biases `i32::MAX`/`i32::MIN`, initial `h` (and the LSTM's `c`) at ±full scale, and the
/// LSTM's cell state at [`LSTM_SATURATED_STATE_FRAC`] so that it saturates.
/// `spec.transfer` as for [`random_blob`].
pub fn saturated_blob(spec: &NetSpec) -> Vec<u8> {
    let mut rng = Rng::new(spec.seed);
    let (n_in, n_rec, n_out, cell) = (spec.n_in, spec.n_rec, spec.n_out, spec.cell);
    let i16w = spec.wbytes != 1;
    let rows = cell.gates() * n_rec;
    let cycle = |s: u8| move |i: usize| [0, s, s + 6][i % 3];
    let (f_in, d_in) = extreme_weights(&mut rng, rows, n_in, i16w, &cycle(spread(n_in, i16w)));
    let (f_rec, d_rec) = extreme_weights(&mut rng, rows, n_rec, i16w, &cycle(spread(n_rec, i16w)));
    let s_out = spread(n_rec, i16w) + 3;
    let (f_out, d_out) = extreme_weights(&mut rng, n_out, n_rec, i16w, &|_| s_out);
    let b_rec = i32_bytes((0..cell.bias_rows() * n_rec).map(|_| {
        let u = rng.next_u64();
        match u % 8 {
            0 => i32::MAX,
            1 => i32::MIN,
            _ => (u >> 40) as i32 - (1 << 23),
        }
    }));
    let b_out = vec![0u8; 4 * n_out];
    let extreme = |i: usize| if i % 3 == 0 { i16::MAX } else { i16::MIN };
    let init = i16_bytes((0..cell.init_rows() * n_rec).map(extreme));
    encode_net(
        spec,
        state_frac(cell, LSTM_SATURATED_STATE_FRAC),
        32768,
        [(&f_in, &d_in), (&f_rec, &d_rec), (&f_out, &d_out)],
        &b_rec,
        &b_out,
        &init,
    )
}

#[cfg(test)]
mod tests {
    use super::super::{discrimination_inputs, extreme_inputs, host_run};
    use super::*;
    use neuroloop_core::{Model, Network};

    fn specs() -> Vec<NetSpec> {
        let mut v = Vec::new();
        for cell in [CellKind::Gru, CellKind::Lstm] {
            for wbytes in [1, 2] {
                v.push(NetSpec::gated(cell, 3, 37, 2, wbytes, 5 + wbytes as u64));
            }
        }
        let mut psy = NetSpec::gated(CellKind::Lstm, 2, 20, 1, 2, 9);
        psy.transfer = 2;
        v.push(psy);
        v
    }

    /// The random gated blobs decode as their cell with the documented state length, and
    /// step: outputs, hidden and (LSTM) cell states move and stay off the rails.
    #[test]
    fn random_gated_blobs_decode_and_step() {
        for spec in specs() {
            let blob = random_blob(&spec);
            let model = Model::from_bytes(&blob).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            assert_eq!(model.cell(), spec.cell, "{}", spec.name);
            let extra = if spec.cell == CellKind::Lstm {
                spec.n_rec
            } else {
                0
            };
            assert_eq!(model.state_len(), 2 * spec.n_rec + spec.n_out + extra);
            assert_eq!(model.transfer() as u8, spec.transfer);
            let mut buf = vec![0i16; model.state_len()];
            let mut net = Network::new(model, &mut buf).unwrap();
            let inputs = discrimination_inputs(100, spec.n_in, 3);
            let (mut states, mut rates) = (Vec::new(), Vec::new());
            for u in &inputs {
                net.step(u).unwrap();
                states.extend_from_slice(net.state());
                rates.extend_from_slice(net.rates());
            }
            for (what, v) in [("state", &states), ("rates", &rates)] {
                let distinct = v.iter().collect::<std::collections::BTreeSet<_>>().len();
                assert!(
                    distinct > v.len() / 10,
                    "{}: {what} vary ({distinct})",
                    spec.name
                );
                assert!(
                    v.iter().all(|&x| x != i16::MIN && x != i16::MAX),
                    "{}: {what} stay in range",
                    spec.name
                );
            }
            if spec.cell == CellKind::Gru {
                assert_eq!(
                    states, rates,
                    "{}: GRU state and rates are both h",
                    spec.name
                );
            }
            let y = host_run(&blob, &inputs);
            assert!(y.iter().flatten().any(|&v| v != y[0][0]), "{}", spec.name);
        }
    }

    /// The saturated gated blobs decode and step on extreme inputs; the LSTM's cell state
    /// reaches both rails and values between, the hidden states their limits.
    #[test]
    fn saturated_gated_blobs_reach_the_rails() {
        for spec in specs() {
            let blob = saturated_blob(&spec);
            let model = Model::from_bytes(&blob).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            let mut buf = vec![0i16; model.state_len()];
            let mut net = Network::new(model, &mut buf).unwrap();
            let (mut lo, mut hi, mut mid) = (false, false, false);
            let (mut h_lo, mut h_hi) = (i16::MAX, i16::MIN);
            for u in extreme_inputs(60, spec.n_in, 4) {
                net.step(&u).unwrap();
                for &c in net.state() {
                    lo |= c == i16::MIN;
                    hi |= c == i16::MAX;
                    mid |= c != i16::MIN && c != i16::MAX;
                }
                for &h in net.rates() {
                    h_lo = h_lo.min(h);
                    h_hi = h_hi.max(h);
                }
            }
            // |c| < 2 at LSTM_SATURATED_STATE_FRAC: tanh(2)·2^15 = 31588, σ(2)·2^15 = 28837,
            // and the PsychRNN h = o·σ(c) is never negative.
            let (lo_max, hi_min) = match (spec.cell, spec.transfer) {
                (CellKind::Gru, _) => (-32400, 32400),
                (_, 1) => (-31500, 31500),
                _ => (300, 28800),
            };
            assert!(
                h_lo <= lo_max && h_hi >= hi_min,
                "{}: h in {h_lo}..={h_hi}",
                spec.name
            );
            if spec.cell == CellKind::Lstm {
                assert_eq!((lo, hi, mid), (true, true, true), "{}: c rails", spec.name);
            }
        }
    }
}
