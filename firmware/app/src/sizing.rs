//! How many state words a board needs: [`max_state_words`] bounds
//! `Model::state_len` over every valid blob that fits a slot, so a board can check at
//! compile time that any model it can store can also run (no [`crate::Refusal::State`]).
//!
//! Why it is needed: the state buffer (`2·n_rec + n_out` words, the LSTM `n_rec` more for
//! its scratch, `core/src/network.rs`) is a static array sized per board, while uploads
//! are bounded by slot bytes. A blob's bytes grow with `n_rec²` (its recurrent matrix) and
//! `n_rec·n_out` (its readout), so a slot bounds its state too.

use neuroloop_core::blob::{MAX_OUT, MAX_REC};
use neuroloop_core::CellKind;

/// A lower bound on the encoded size of any valid blob of `cell` with `n_rec` units and
/// `n_out` outputs: the tensor data and per-row fractional bits alone, with the smallest
/// shapes and types the format allows (`n_in` 1, `i8` weights); headers, metadata and
/// length prefixes only add to it. With `K = gates()`, `B = bias_rows()`,
/// `S = init_rows()`: `w_in` `K·n` + `K·n`, `w_rec` `K·n²` + `K·n`, `w_out`
/// `n_out·n` + `n_out`, `b_rec` `4·B·n`, `b_out` `4·n_out`, `init_state` `2·S·n` bytes.
pub const fn min_blob_bytes(cell: CellKind, n_rec: usize, n_out: usize) -> usize {
    let (k, b, s) = (cell.gates(), cell.bias_rows(), cell.init_rows());
    k * n_rec * n_rec + (3 * k + 4 * b + 2 * s) * n_rec + n_out * (n_rec + 5)
}

/// State words a model of `cell` needs (`Model::state_len`): `2·n_rec + n_out`, plus
/// `n_rec` of scratch for the LSTM.
pub const fn state_words(cell: CellKind, n_rec: usize, n_out: usize) -> usize {
    let scratch = match cell {
        CellKind::Lstm => n_rec,
        _ => 0,
    };
    2 * n_rec + n_out + scratch
}

/// The most state words any valid blob of at most `blob_bytes` bytes can need, over every
/// cell, `n_rec` and `n_out` (from [`min_blob_bytes`]; an upper bound, within a few
/// percent of the largest real blob). Boards assert `max_state_words(slot) ≤ STATE_WORDS`.
pub const fn max_state_words(blob_bytes: usize) -> usize {
    let cells = [CellKind::Leaky, CellKind::Gru, CellKind::Lstm];
    let mut most = 0;
    let mut c = 0;
    while c < cells.len() {
        let cell = cells[c];
        let mut n = 1;
        while n <= MAX_REC {
            let base = min_blob_bytes(cell, n, 0);
            if base + n + 5 > blob_bytes {
                break; // not even one output fits; larger n fit less
            }
            let mut m = (blob_bytes - base) / (n + 5);
            if m > MAX_OUT {
                m = MAX_OUT;
            }
            let w = state_words(cell, n, m);
            if w > most {
                most = w;
            }
            n += 1;
        }
        c += 1;
    }
    most
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{random_blob, NetSpec};
    use neuroloop_core::Model;

    fn spec(cell: CellKind, n_in: usize, n_rec: usize, n_out: usize, wbytes: usize) -> NetSpec {
        match cell {
            CellKind::Leaky => NetSpec::new(n_in, n_rec, n_out, wbytes, 1, 3),
            _ => NetSpec::gated(cell, n_in, n_rec, n_out, wbytes, 3),
        }
    }

    /// For real blobs of every cell: `state_words` is `Model::state_len`, the blob is at
    /// least `min_blob_bytes`, and `max_state_words` of its length covers its state.
    #[test]
    fn bounds_hold_for_real_blobs() {
        for cell in [CellKind::Leaky, CellKind::Gru, CellKind::Lstm] {
            for (n_in, n_rec, n_out, wbytes) in [
                (1, 1, 1, 1),
                (1, 7, 256, 1),
                (3, 37, 2, 2),
                (1, 120, 200, 1),
                (2, 64, 1, 1),
            ] {
                let blob = random_blob(&spec(cell, n_in, n_rec, n_out, wbytes));
                let m = Model::from_bytes(&blob).unwrap();
                let what = format!("{} {n_in}x{n_rec}x{n_out} w{wbytes}", cell.name());
                assert_eq!(state_words(cell, n_rec, n_out), m.state_len(), "{what}");
                assert!(min_blob_bytes(cell, n_rec, n_out) <= blob.len(), "{what}");
                assert!(max_state_words(blob.len()) >= m.state_len(), "{what}");
            }
        }
    }

    /// The bound is close: the blob that needs the most state for a 160 KiB slot (found by
    /// `max_state_words`' own search, built for real) needs within 3 % of the bound.
    #[test]
    fn bound_is_tight() {
        let slot = 160 * 1024;
        let bound = max_state_words(slot);
        // The arg max: a leaky net with 256 outputs (n_rec from the bound).
        let n_rec = (bound - 256) / 2;
        let mut best = 0;
        for n in (n_rec.saturating_sub(12)..=n_rec).rev() {
            let blob = random_blob(&spec(CellKind::Leaky, 1, n, 256, 1));
            if blob.len() <= slot {
                best = Model::from_bytes(&blob).unwrap().state_len();
                break;
            }
        }
        assert!(best > 0 && best <= bound, "{best} vs {bound}");
        assert!(best * 100 >= bound * 97, "{best} vs {bound}");
        eprintln!("160 KiB slot: bound {bound} state words, real blob {best}");
    }
}
