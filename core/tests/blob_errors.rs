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
fn unknown_and_unsupported_cell() {
    let mut s = spec();
    s.topology.cell = 9;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::UnknownCell { found: 9 }
    );
    s.topology.cell = 2;
    assert_eq!(
        decode_err(&s.encode_unchecked()),
        Error::UnsupportedCell {
            cell: CellKind::Lstm
        }
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
