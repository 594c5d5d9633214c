//! Bytes → validated [`Body`]: header, CRC, postcard body, then every field checked.

use super::*;

/// Parse and validate a blob, borrowing from `bytes`. Returns the body, its CRC and the
/// validated [`Kinds`] of its closed-set fields.
///
/// Order of checks: length ≥ header + CRC, magic, version, CRC, postcard body, no
/// trailing bytes, then [`validate`]. The first failure is returned.
pub fn decode(bytes: &[u8]) -> Result<(Body<'_>, u32, Kinds), Error> {
    let min = HEADER_LEN + CRC_LEN;
    if bytes.len() < min {
        return Err(Error::Truncated {
            need: min,
            have: bytes.len(),
        });
    }
    let found = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if found != MAGIC {
        return Err(Error::BadMagic { found });
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != VERSION {
        return Err(Error::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    let (payload, crc_bytes) = bytes.split_at(bytes.len() - CRC_LEN);
    let stored = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
    let computed = CRC.checksum(payload);
    if stored != computed {
        return Err(Error::BadCrc { stored, computed });
    }
    let (body, rest) = postcard::take_from_bytes::<Body<'_>>(&payload[HEADER_LEN..])
        .map_err(|e| postcard_error(e, bytes.len()))?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes { count: rest.len() });
    }
    let kinds = validate(&body)?;
    Ok((body, computed, kinds))
}

fn postcard_error(e: postcard::Error, have: usize) -> Error {
    use postcard::Error as P;
    match e {
        P::DeserializeUnexpectedEnd => Error::Truncated {
            need: have + 1,
            have,
        },
        P::DeserializeBadVarint => Error::Malformed { what: "bad varint" },
        P::DeserializeBadUtf8 => Error::Malformed {
            what: "metadata string is not UTF-8",
        },
        P::DeserializeBadBool => Error::Malformed { what: "bad bool" },
        P::DeserializeBadOption => Error::Malformed {
            what: "bad option tag",
        },
        P::DeserializeBadEnum => Error::Malformed {
            what: "bad enum tag",
        },
        _ => Error::Malformed {
            what: "postcard decode error",
        },
    }
}

/// Check every field of a body against the format v1 rules (see the [module](super) table)
/// and return its closed-set fields as enums. The encoder runs this too, so no invalid
/// blob is ever written.
pub fn validate(body: &Body<'_>) -> Result<Kinds, Error> {
    let m = &body.meta;
    for (field, s, max) in [
        ("meta.name", m.name, MAX_NAME_LEN),
        ("meta.task", m.task, MAX_NAME_LEN),
        ("meta.summary", m.summary, MAX_SUMMARY_LEN),
    ] {
        if s.len() > max {
            return Err(Error::MetadataTooLong {
                field,
                len: s.len(),
                max,
            });
        }
    }
    let t = &body.topology;
    let cell = CellKind::from_u8(t.cell).ok_or(Error::UnknownCell { found: t.cell })?;
    let transfer =
        crate::Transfer::from_u8(t.transfer).ok_or(Error::UnknownTransfer { found: t.transfer })?;
    check_cell(cell, transfer, t.transfer, &body.quant)?;
    for (dim, v, max) in [
        (Dim::NIn, t.n_in, MAX_IN),
        (Dim::NRec, t.n_rec, MAX_REC),
        (Dim::NOut, t.n_out, MAX_OUT),
    ] {
        if v == 0 {
            return Err(Error::DimensionZero { dim });
        }
        if v as usize > max {
            return Err(Error::DimensionTooLarge {
                dim,
                found: v as usize,
                max,
            });
        }
    }
    let q = &body.quant;
    for (field, v) in [
        ("quant.state_frac", q.state_frac),
        ("quant.input_frac", q.input_frac),
        ("quant.output_frac", q.output_frac),
    ] {
        if v > MAX_FRAC {
            return Err(Error::FracOutOfRange {
                field,
                found: v,
                max: MAX_FRAC,
            });
        }
    }
    if q.alpha_q15 == 0 || q.alpha_q15 > 32768 {
        return Err(Error::AlphaOutOfRange { found: q.alpha_q15 });
    }
    let (n_in, n_rec, n_out) = (t.n_in as usize, t.n_rec as usize, t.n_out as usize);
    let ts = &body.tensors;
    let k = cell.gates();
    let w_in = check_matrix(TensorId::WIn, &ts.w_in, k * n_rec, n_in)?;
    let w_rec = check_matrix(TensorId::WRec, &ts.w_rec, k * n_rec, n_rec)?;
    let w_out = check_matrix(TensorId::WOut, &ts.w_out, n_out, n_rec)?;
    let b_rows = cell.bias_rows() * n_rec;
    check_vector(TensorId::BRec, &ts.b_rec, b_rows, DType::I32)?;
    check_vector(TensorId::BOut, &ts.b_out, n_out, DType::I32)?;
    let s_rows = cell.init_rows() * n_rec;
    check_vector(TensorId::InitState, &ts.init_state, s_rows, DType::I16)?;
    Ok(Kinds {
        cell,
        transfer,
        w_in,
        w_rec,
        w_out,
    })
}

/// The gated cells' rules on fields the leaky cell uses freely: the transfer byte (GRU
/// tanh; LSTM tanh, or sigmoid for PsychRNN's variant), no leak (`alpha_q15` = 32768), no
/// noise, and the GRU state in Q15.
fn check_cell(
    cell: CellKind,
    transfer: crate::Transfer,
    byte: u8,
    q: &QuantParams,
) -> Result<(), Error> {
    use crate::Transfer::{Sigmoid, Tanh};
    let transfer_ok = match cell {
        CellKind::Leaky => true,
        CellKind::Gru => transfer == Tanh,
        CellKind::Lstm => matches!(transfer, Tanh | Sigmoid),
    };
    if !transfer_ok {
        return Err(Error::CellTransfer { cell, found: byte });
    }
    let mut rules: [(&'static str, u32, u32); 3] = [("", 0, 0); 3];
    if cell != CellKind::Leaky {
        rules[0] = ("quant.alpha_q15", q.alpha_q15 as u32, 32768);
        rules[1] = ("quant.noise_mul", q.noise_mul, 0);
    }
    if cell == CellKind::Gru {
        rules[2] = ("quant.state_frac", q.state_frac as u32, 15);
    }
    match rules.into_iter().find(|&(_, found, want)| found != want) {
        Some((field, found, expected)) => Err(Error::CellField {
            cell,
            field,
            found,
            expected,
        }),
        None => Ok(()),
    }
}

fn check_shape(
    id: TensorId,
    t: &Tensor<'_>,
    rows: usize,
    cols: usize,
    dt: DType,
) -> Result<(), Error> {
    let found = (t.rows as usize, t.cols as usize);
    if found != (rows, cols) {
        return Err(Error::ShapeMismatch {
            tensor: id,
            expected: (rows, cols),
            found,
        });
    }
    let expected = rows * cols * dt.size();
    if t.data.len() != expected {
        return Err(Error::TensorLength {
            tensor: id,
            expected,
            found: t.data.len(),
        });
    }
    Ok(())
}

fn check_matrix(id: TensorId, t: &Tensor<'_>, rows: usize, cols: usize) -> Result<DType, Error> {
    let dt = match DType::from_u8(t.dtype) {
        Some(d @ (DType::I8 | DType::I16)) => d,
        _ => {
            return Err(Error::BadDtype {
                tensor: id,
                found: t.dtype,
            })
        }
    };
    check_shape(id, t, rows, cols, dt)?;
    if t.frac.len() != rows {
        return Err(Error::ScaleCount {
            tensor: id,
            expected: rows,
            found: t.frac.len(),
        });
    }
    if let Some((row, &found)) = t
        .frac
        .iter()
        .enumerate()
        .find(|(_, &f)| f > MAX_WEIGHT_FRAC)
    {
        return Err(Error::ShiftOutOfRange {
            tensor: id,
            row,
            found,
            max: MAX_WEIGHT_FRAC,
        });
    }
    Ok(dt)
}

fn check_vector(id: TensorId, t: &Tensor<'_>, rows: usize, want: DType) -> Result<(), Error> {
    if t.dtype != want as u8 {
        return Err(Error::BadDtype {
            tensor: id,
            found: t.dtype,
        });
    }
    check_shape(id, t, rows, 1, want)?;
    if !t.frac.is_empty() {
        return Err(Error::ScaleCount {
            tensor: id,
            expected: 0,
            found: t.frac.len(),
        });
    }
    Ok(())
}
