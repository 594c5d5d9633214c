//! Decoder robustness: ≥ 100 000 mutated blobs per run (bit flips, truncations, altered
//! length prefixes, random bytes; with the CRC left stale and recomputed), zero panics.
//! A blob that still decodes is stepped, which must not panic either.

mod common;
use common::{fix_crc, Spec};
use neuroloop_core::{Model, Network};
use proptest::prelude::*;

const CASES: u32 = 20_000;

/// Leaky, GRU and LSTM blobs, i8 and i16 weights.
fn base_blobs() -> Vec<Vec<u8>> {
    vec![
        Spec::random(2, 6, 2, 1, 1).encode(),
        Spec::random(3, 5, 1, 2, 2).encode(),
        Spec::random_cell(1, 2, 5, 2, 1, 3).encode(),
        Spec::random_cell(1, 3, 4, 1, 2, 4).encode(),
        Spec::random_cell(2, 2, 5, 2, 2, 5).encode(),
        Spec::random_cell(2, 3, 4, 1, 1, 6).encode(),
    ]
}

const BASES: usize = 6;

fn exercise(bytes: &[u8]) {
    if let Ok(m) = Model::from_bytes(bytes) {
        let mut buf = vec![0i16; m.state_len()];
        let mut net = Network::new(m, &mut buf).unwrap();
        let u = vec![i16::MAX; m.n_in()];
        for _ in 0..3 {
            net.step(&u).unwrap();
        }
        let _ = net.step(&[]);
    }
}

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn bit_flips(which in 0usize..BASES, flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..6), recrc in any::<bool>()) {
        let mut b = base_blobs()[which].clone();
        for (pos, bit) in flips {
            let n = b.len();
            b[pos % n] ^= 1 << bit;
        }
        if recrc { fix_crc(&mut b); }
        exercise(&b);
    }

    #[test]
    fn truncations(which in 0usize..BASES, cut in any::<usize>(), recrc in any::<bool>()) {
        let mut b = base_blobs()[which].clone();
        let n = b.len();
        b.truncate(cut % (n + 1));
        if recrc { fix_crc(&mut b); }
        exercise(&b);
    }

    #[test]
    fn altered_length_prefixes(which in 0usize..BASES, pos in any::<usize>(), val in any::<u8>(), cont in any::<bool>()) {
        // Overwrite a byte of the body with a varint-ish value (large lengths, continuation
        // bits) and fix the CRC, so the postcard decoder and the validator see it.
        let mut b = base_blobs()[which].clone();
        let body = b.len() - 10;
        let p = 6 + pos % body;
        b[p] = if cont { val | 0x80 } else { val };
        fix_crc(&mut b);
        exercise(&b);
    }

    #[test]
    fn random_bytes(mut b in proptest::collection::vec(any::<u8>(), 0..400), header in any::<bool>(), recrc in any::<bool>()) {
        if header && b.len() >= 6 {
            b[..6].copy_from_slice(b"NLRN\x01\x00");
        }
        if recrc { fix_crc(&mut b); }
        exercise(&b);
    }

    #[test]
    fn structured_field_values(cell in 0u8..4, n_in in 0u16..300, n_rec in 0u16..40, n_out in 0u16..300, fx in any::<u8>(), alpha in any::<u16>(), wfrac in any::<u8>(), transfer in 0u8..6) {
        let mut s = Spec::random_cell(cell.min(2), 2, 6, 2, 1, 3);
        s.topology.cell = cell;
        s.topology.n_in = n_in;
        s.topology.n_rec = n_rec;
        s.topology.n_out = n_out;
        s.topology.transfer = transfer;
        s.quant.state_frac = fx;
        s.quant.alpha_q15 = alpha;
        s.fracs[1][0] = wfrac;
        exercise(&s.encode_unchecked());
    }
}

/// The mutations above must reach deep into the decoder, not stop at the CRC: with the
/// CRC recomputed, single-byte edits hit many distinct error variants.
#[test]
fn mutations_reach_many_error_variants() {
    use std::collections::BTreeSet;
    let mut seen = BTreeSet::new();
    let mut ok = 0;
    for base in base_blobs() {
        for pos in 6..base.len() - 4 {
            for val in [0u8, 1, 2, 7, 0x7F, 0x80, 0xFF] {
                let mut b = base.clone();
                b[pos] = val;
                fix_crc(&mut b);
                match Model::from_bytes(&b) {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        let name = format!("{e:?}");
                        seen.insert(name.split([' ', '{', '(']).next().unwrap().to_string());
                    }
                }
                exercise(&b);
            }
        }
    }
    for gated in ["CellTransfer", "CellField"] {
        assert!(seen.contains(gated), "{gated} not reached: {seen:?}");
    }
    assert!(
        seen.len() >= 11,
        "only {} variants reached: {seen:?}",
        seen.len()
    );
    assert!(ok > 0, "some edits (weights) must still decode");
}
