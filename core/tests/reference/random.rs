//! Random nets for the reference proptests (`reference_step.rs`, `gated_step.rs`): the
//! regimes a case is drawn in and the weight matrices of each regime.

use super::{Matrix, Mix};

/// How a random net is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    /// Formats like the quantizer picks, weights of order 1: mostly unsaturated.
    Typical,
    /// Large weights and biases: units (gates, the LSTM cell state) pinned much of the time.
    Saturating,
    /// Any valid field value, values at the ends of their ranges.
    Extreme,
}

/// A `rows × cols` matrix of i16 (`wide`) or i8 weights with per-row fractional bits; in
/// the typical regime the row formats leave `0 .. headroom` bits above the weight width.
pub fn matrix(
    m: &mut Mix,
    rows: usize,
    cols: usize,
    wide: bool,
    regime: Regime,
    headroom: i64,
) -> Matrix {
    let (lo, hi, bits) = if wide {
        (i16::MIN as i64, i16::MAX as i64, 15)
    } else {
        (i8::MIN as i64, i8::MAX as i64, 7)
    };
    let frac = (0..rows)
        .map(|_| match regime {
            Regime::Typical => (bits + m.range(0, headroom)) as u8,
            Regime::Saturating => m.range(0, bits) as u8,
            Regime::Extreme => m.edgy(0, 30) as u8,
        })
        .collect();
    let w = (0..rows * cols)
        .map(|_| match regime {
            Regime::Extreme => m.edgy(lo, hi),
            _ => m.range(lo, hi),
        })
        .collect();
    Matrix {
        rows,
        cols,
        bytes: if wide { 2 } else { 1 },
        frac,
        w,
    }
}

/// `i16` values widened for the reference.
pub fn wide16(v: &[i16]) -> Vec<i128> {
    v.iter().map(|&x| x as i128).collect()
}
