//! One corruption test per `blob::Error` variant: each names the offending value.

mod common;
use common::{fix_crc, Spec};
use neuroloop_core::blob::{self, Dim, Error, TensorId, MAX_REC};
use neuroloop_core::{CellKind, Model};

fn spec() -> Spec {
    Spec::random(2, 8, 1, 1, 7)
}

fn decode_err(bytes: &[u8]) -> Error {
    Model::from_bytes(bytes).expect_err("blob must be refused")
}

#[test]
fn valid_blob_decodes_and_round_trips_fields() {
    let s = spec();
    let bytes = s.encode();
    let m = Model::from_bytes(&bytes).unwrap();
    assert_eq!((m.n_in(), m.n_rec(), m.n_out()), (2, 8, 1));
    assert_eq!(m.name(), "test");
    assert_eq!(*m.body(), s.body());
    assert_eq!(
        m.crc(),
        u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap())
    );
}

#[test]
fn header_bytes_are_pinned() {
    let bytes = spec().encode();
    assert_eq!(&bytes[..6], b"NLRN\x01\x00");
    // postcard body starts with the name: varint length 4 + "test"
    assert_eq!(&bytes[6..11], b"\x04test");
}

#[test]
fn truncated() {
    let bytes = spec().encode();
    assert_eq!(
        decode_err(&bytes[..5]),
        Error::Truncated { need: 10, have: 5 }
    );
    // Cut inside the body, with a valid CRC over what is left.
    let mut cut = bytes[..bytes.len() / 2].to_vec();
    cut.extend_from_slice(&[0; 4]);
    fix_crc(&mut cut);
    assert!(matches!(decode_err(&cut), Error::Truncated { .. }));
}

#[test]
fn bad_magic() {
    let mut b = spec().encode();
    b[0] = b'X';
    assert_eq!(decode_err(&b), Error::BadMagic { found: *b"XLRN" });
}

#[test]
fn unsupported_version() {
    let mut b = spec().encode();
    b[4] = 2;
    assert_eq!(
        decode_err(&b),
        Error::UnsupportedVersion {
            found: 2,
            supported: 1
        }
    );
}

#[test]
fn bad_crc() {
    let mut b = spec().encode();
    let n = b.len();
    b[n - 1] ^= 0xFF;
    let e = decode_err(&b);
    assert!(
        matches!(e, Error::BadCrc { stored, computed } if stored != computed),
        "{e:?}"
    );
    // A flipped body bit is caught by the CRC too.
    let mut b = spec().encode();
    b[20] ^= 4;
    assert!(matches!(decode_err(&b), Error::BadCrc { .. }));
}

#[test]
fn malformed_utf8() {
    let mut b = spec().encode();
    b[7] = 0xFF; // first byte of the name
    fix_crc(&mut b);
    assert_eq!(
        decode_err(&b),
        Error::Malformed {
            what: "metadata string is not UTF-8"
        }
    );
}

#[test]
fn trailing_bytes() {
    let mut b = spec().encode();
    let n = b.len();
    b.splice(n - 4..n - 4, [1, 2, 3]);
    fix_crc(&mut b);
    assert_eq!(decode_err(&b), Error::TrailingBytes { count: 3 });
}

#[test]
fn metadata_too_long() {
    let mut s = spec();
    s.name = "x".repeat(65);
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::MetadataTooLong {
            field: "meta.name",
            len: 65,
            max: 64
        }
    );
}

#[test]
fn unknown_cell() {
    let mut s = spec();
    s.topology.cell = 9;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::UnknownCell { found: 9 }
    );
}

#[test]
fn gated_blobs_decode_with_their_shapes() {
    for (cell, kind, state_len) in [
        (1, CellKind::Gru, 2 * 5 + 2),
        (2, CellKind::Lstm, 3 * 5 + 2),
    ] {
        let s = Spec::random_cell(cell, 3, 5, 2, 2, 11);
        let bytes = s.encode();
        let m = Model::from_bytes(&bytes).unwrap();
        assert_eq!(m.cell(), kind);
        assert_eq!(m.state_len(), state_len);
        assert_eq!(*m.body(), s.body());
    }
}

#[test]
fn a_leaky_shaped_blob_is_not_a_gated_one() {
    // Cell byte 1 (GRU) over leaky tensors: W_in has n_rec rows, the GRU needs 3·n_rec.
    let mut s = spec();
    s.topology.cell = 1;
    s.topology.transfer = 1;
    s.quant.state_frac = 15;
    s.quant.alpha_q15 = 32768;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::ShapeMismatch {
            tensor: TensorId::WIn,
            expected: (24, 2),
            found: (8, 2)
        }
    );
}

#[test]
fn gated_biases_and_initial_state_have_their_own_row_counts() {
    let mut s = Spec::random_cell(1, 2, 4, 1, 1, 3);
    s.shapes[3].0 = 12; // GRU b_rec: 4·n_rec = 16 (b_r, b_z, b_in, b_hn)
    s.data[3].truncate(48);
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::ShapeMismatch {
            tensor: TensorId::BRec,
            expected: (16, 1),
            found: (12, 1)
        }
    );
    let mut s = Spec::random_cell(2, 2, 4, 1, 1, 3);
    s.shapes[5].0 = 4; // LSTM init_state: h₀ and c₀, 2·n_rec = 8
    s.data[5].truncate(8);
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::ShapeMismatch {
            tensor: TensorId::InitState,
            expected: (8, 1),
            found: (4, 1)
        }
    );
}

#[test]
fn cell_transfer() {
    for (cell, kind, bad) in [
        (1u8, CellKind::Gru, [0u8, 2, 3]),
        (2, CellKind::Lstm, [0, 3, 0]),
    ] {
        for t in bad {
            let mut s = Spec::random_cell(cell, 2, 4, 1, 1, 3);
            s.topology.transfer = t;
            assert_eq!(
                decode_err(&s.encode_unchecked()),
                Error::CellTransfer {
                    cell: kind,
                    found: t
                }
            );
        }
    }
    // The LSTM's PsychRNN variant (sigmoid) is allowed.
    let mut s = Spec::random_cell(2, 2, 4, 1, 1, 3);
    s.topology.transfer = 2;
    assert!(Model::from_bytes(&s.encode()).is_ok());
}

#[test]
fn cell_field() {
    let check = |cell: u8, edit: &dyn Fn(&mut Spec), want: Error| {
        let mut s = Spec::random_cell(cell, 2, 4, 1, 2, 3);
        edit(&mut s);
        assert_eq!(decode_err(&s.encode_unchecked()), want);
        assert!(decode_err(&s.encode_unchecked())
            .to_string()
            .contains(match want {
                Error::CellField { field, .. } => field,
                _ => unreachable!(),
            }));
    };
    for (cell, kind) in [(1, CellKind::Gru), (2, CellKind::Lstm)] {
        check(
            cell,
            &|s| s.quant.alpha_q15 = 3277,
            Error::CellField {
                cell: kind,
                field: "quant.alpha_q15",
                found: 3277,
                expected: 32768,
            },
        );
        check(
            cell,
            &|s| s.quant.noise_mul = 5,
            Error::CellField {
                cell: kind,
                field: "quant.noise_mul",
                found: 5,
                expected: 0,
            },
        );
    }
    check(
        1,
        &|s| s.quant.state_frac = 12,
        Error::CellField {
            cell: CellKind::Gru,
            field: "quant.state_frac",
            found: 12,
            expected: 15,
        },
    );
}

#[test]
fn unknown_transfer() {
    let mut s = spec();
    s.topology.transfer = 7;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::UnknownTransfer { found: 7 }
    );
}

#[test]
fn dimension_zero_and_too_large() {
    let mut s = spec();
    s.topology.n_out = 0;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::DimensionZero { dim: Dim::NOut }
    );
    let mut s = spec();
    s.topology.n_rec = MAX_REC as u16 + 1;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::DimensionTooLarge {
            dim: Dim::NRec,
            found: MAX_REC + 1,
            max: MAX_REC
        }
    );
}

#[test]
fn frac_out_of_range() {
    let mut s = spec();
    s.quant.input_frac = 16;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::FracOutOfRange {
            field: "quant.input_frac",
            found: 16,
            max: 15
        }
    );
}

#[test]
fn alpha_out_of_range() {
    let mut s = spec();
    s.quant.alpha_q15 = 0;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::AlphaOutOfRange { found: 0 }
    );
    s.quant.alpha_q15 = 40000;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::AlphaOutOfRange { found: 40000 }
    );
}

#[test]
fn bad_dtype() {
    let mut s = spec();
    s.dtypes[1] = 3; // i32 weights are not allowed
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::BadDtype {
            tensor: TensorId::WRec,
            found: 3
        }
    );
    let mut s = spec();
    s.dtypes[5] = 9;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::BadDtype {
            tensor: TensorId::InitState,
            found: 9
        }
    );
}

#[test]
fn shape_mismatch() {
    let mut s = spec();
    s.shapes[2] = (2, 8);
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::ShapeMismatch {
            tensor: TensorId::WOut,
            expected: (1, 8),
            found: (2, 8)
        }
    );
}

#[test]
fn tensor_length() {
    let mut s = spec();
    s.data[0].pop();
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::TensorLength {
            tensor: TensorId::WIn,
            expected: 16,
            found: 15
        }
    );
}

#[test]
fn scale_count() {
    let mut s = spec();
    s.fracs[1].pop();
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::ScaleCount {
            tensor: TensorId::WRec,
            expected: 8,
            found: 7
        }
    );
    let mut s = spec();
    s.fracs[3] = vec![1];
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::ScaleCount {
            tensor: TensorId::BRec,
            expected: 0,
            found: 1
        }
    );
}

#[test]
fn shift_out_of_range() {
    let mut s = spec();
    s.fracs[0][5] = 31;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::ShiftOutOfRange {
            tensor: TensorId::WIn,
            row: 5,
            found: 31,
            max: 30
        }
    );
}

#[test]
fn encoder_refuses_invalid_bodies_and_small_buffers() {
    let mut s = spec();
    s.quant.state_frac = 20;
    assert!(matches!(
        blob::encode_to_vec(&s.body()),
        Err(Error::FracOutOfRange { .. })
    ));
    let s = spec();
    let mut small = [0u8; 16];
    assert_eq!(
        blob::encode(&s.body(), &mut small),
        Err(Error::BufferTooSmall { have: 16 })
    );
}

#[test]
fn every_error_displays_its_value() {
    let cases = [
        (Error::Truncated { need: 10, have: 5 }, "5"),
        (
            Error::CellTransfer {
                cell: CellKind::Gru,
                found: 0,
            },
            "transfer byte 0 is not allowed for the gru cell",
        ),
        (
            Error::CellField {
                cell: CellKind::Lstm,
                field: "quant.noise_mul",
                found: 7,
                expected: 0,
            },
            "quant.noise_mul = 7, the lstm cell requires 0",
        ),
        (
            Error::BadCrc {
                stored: 0xdead,
                computed: 0xbeef,
            },
            "0x0000dead",
        ),
        (
            Error::DimensionTooLarge {
                dim: Dim::NRec,
                found: 2000,
                max: 1024,
            },
            "n_rec = 2000",
        ),
        (
            Error::ShiftOutOfRange {
                tensor: TensorId::WIn,
                row: 5,
                found: 31,
                max: 30,
            },
            "W_in row 5 has 31",
        ),
        (
            Error::TensorLength {
                tensor: TensorId::BOut,
                expected: 4,
                found: 3,
            },
            "b_out holds 3 bytes",
        ),
    ];
    for (e, want) in cases {
        let s = e.to_string();
        assert!(s.contains(want), "{s:?} should contain {want:?}");
    }
}
