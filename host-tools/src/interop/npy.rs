//! A minimal `.npy` reader and writer (NumPy format versions 1.0, 2.0, 3.0).
//!
//! Reads C- or Fortran-ordered arrays of `f4`, `f8`, `i4`, `i8` (either byte order) into
//! row-major data, and object arrays (`|O`) as their raw pickle bytes, which
//! [`super::pickle`] inspects without executing anything. Writes little-endian `f4`/`f8`
//! arrays in format 1.0, with the header padded to a multiple of 64 bytes like NumPy.
//!
//! ```
//! use neuroloop::interop::npy::{Array, Data};
//! let a = Array { shape: vec![2, 3], data: Data::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) };
//! let bytes = a.to_npy();
//! assert_eq!(Array::from_npy(&bytes).unwrap(), a);
//! ```

/// The magic string every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Element data, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// `f4`.
    F32(Vec<f32>),
    /// `f8`.
    F64(Vec<f64>),
    /// `i4`.
    I32(Vec<i32>),
    /// `i8`.
    I64(Vec<i64>),
    /// `|O`: the pickle that follows the header, not interpreted here.
    Object(Vec<u8>),
}

impl Data {
    /// The NumPy type name (`float32`, ...), for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Data::F32(_) => "float32",
            Data::F64(_) => "float64",
            Data::I32(_) => "int32",
            Data::I64(_) => "int64",
            Data::Object(_) => "object",
        }
    }
}

/// One array.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Dimensions (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// Elements, row-major.
    pub data: Data,
}

/// Why bytes are not a `.npy` array this reader handles. Display is lower-case, to follow
/// "file: key `k`: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// No `\x93NUMPY` magic.
    #[error("not a .npy array (no \\x93NUMPY magic)")]
    Magic,
    /// Format version other than 1, 2, 3.
    #[error("unsupported .npy format version {0}.{1}")]
    Version(u8, u8),
    /// The file ends early.
    #[error("truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The header dictionary does not parse.
    #[error("bad header {header:?}: {reason}")]
    Header {
        /// The header text.
        header: String,
        /// What is wrong.
        reason: String,
    },
    /// A dtype this reader does not handle.
    #[error("has dtype {0:?}; supported are float32 ('<f4'), float64 ('<f8'), int32/int64 and object ('|O')")]
    DType(String),
    /// Data length does not match the shape.
    #[error("data is {have} bytes, shape {shape:?} of {dtype} needs {need}")]
    Length {
        /// Shape.
        shape: Vec<usize>,
        /// dtype.
        dtype: String,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
}

#[derive(Clone, Copy)]
enum Kind {
    F32,
    F64,
    I32,
    I64,
    Object,
}

/// Parse the Python-literal header `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
fn parse_header(h: &str) -> Result<(String, bool, Vec<usize>), String> {
    let t = h.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or("not a {...} dictionary")?;
    let field = |name: &str| -> Result<&str, String> {
        let key = format!("'{name}'");
        let at = inner.find(&key).ok_or(format!("no {key}"))?;
        let rest = inner[at + key.len()..].trim_start();
        let rest = rest
            .strip_prefix(':')
            .ok_or(format!("no ':' after {key}"))?;
        Ok(rest.trim_start())
    };
    let d = field("descr")?;
    let q = d.chars().next().ok_or("empty descr")?;
    if q != '\'' && q != '"' {
        return Err("descr is not a string (structured dtypes are not supported)".into());
    }
    let end = d[1..].find(q).ok_or("unterminated descr")?;
    let descr = d[1..1 + end].to_string();
    let f = field("fortran_order")?;
    let fortran = if f.starts_with("True") {
        true
    } else if f.starts_with("False") {
        false
    } else {
        return Err("fortran_order is neither True nor False".into());
    };
    let s = field("shape")?;
    let s = s.strip_prefix('(').ok_or("shape is not a tuple")?;
    let end = s.find(')').ok_or("unterminated shape")?;
    let mut shape = Vec::new();
    for part in s[..end].split(',') {
        let p = part.trim().trim_end_matches('L');
        if p.is_empty() {
            continue;
        }
        shape.push(
            p.parse::<usize>()
                .map_err(|_| format!("shape entry {p:?} is not a size"))?,
        );
    }
    Ok((descr, fortran, shape))
}

fn kind_of(descr: &str) -> Option<(Kind, bool)> {
    // (kind, big-endian)
    // `split_at_checked`: a descr starting with a multi-byte character (the header is
    // decoded lossily) is refused, not a panic (found by the `npy_npz` fuzz target).
    let (order, ty) = descr.split_at_checked(1).unwrap_or(("", descr));
    let big = match order {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => return None,
    };
    let k = match ty {
        "f4" => Kind::F32,
        "f8" => Kind::F64,
        "i4" => Kind::I32,
        "i8" => Kind::I64,
        "O" if order == "|" => Kind::Object,
        _ => return None,
    };
    Some((k, big))
}

/// C order from Fortran order (reverse the axes' strides).
fn c_order<T: Copy>(v: Vec<T>, shape: &[usize]) -> Vec<T> {
    if shape.len() < 2 {
        return v;
    }
    let n = v.len();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; shape.len()];
    for _ in 0..n {
        // Fortran offset of the C-order index `idx`.
        let mut off = 0;
        let mut stride = 1;
        for (i, &d) in idx.iter().zip(shape) {
            off += i * stride;
            stride *= d;
        }
        out.push(v[off]);
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

impl Array {
    /// Number of elements (1 for a 0-d array).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decode a `.npy` file.
    pub fn from_npy(bytes: &[u8]) -> Result<Array, NpyError> {
        let need = |n: usize| {
            if bytes.len() < n {
                Err(NpyError::Truncated {
                    need: n,
                    have: bytes.len(),
                })
            } else {
                Ok(())
            }
        };
        need(8)?;
        if &bytes[..6] != MAGIC {
            return Err(NpyError::Magic);
        }
        let (major, minor) = (bytes[6], bytes[7]);
        let (hlen, start): (usize, usize) = match major {
            1 => {
                need(10)?;
                (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
            }
            2 | 3 => {
                need(12)?;
                (
                    u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                    12,
                )
            }
            _ => return Err(NpyError::Version(major, minor)),
        };
        need(start.saturating_add(hlen))?;
        let header = String::from_utf8_lossy(&bytes[start..start + hlen]).into_owned();
        let (descr, fortran, shape) = parse_header(&header).map_err(|reason| NpyError::Header {
            header: header.clone(),
            reason,
        })?;
        let (kind, big) = kind_of(&descr).ok_or_else(|| NpyError::DType(descr.clone()))?;
        let body = &bytes[start + hlen..];
        let count = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| NpyError::Header {
                header: header.clone(),
                reason: "shape overflows".into(),
            })?;
        let width = match kind {
            Kind::F32 | Kind::I32 => 4,
            Kind::F64 | Kind::I64 => 8,
            Kind::Object => 0,
        };
        if width > 0 {
            let need = count.saturating_mul(width);
            if body.len() != need {
                return Err(NpyError::Length {
                    shape,
                    dtype: descr,
                    need,
                    have: body.len(),
                });
            }
        }
        macro_rules! read {
            ($t:ty, $n:expr) => {{
                let v: Vec<$t> = body
                    .chunks_exact($n)
                    .map(|c| {
                        let a: [u8; $n] = c.try_into().expect("chunk size");
                        if big {
                            <$t>::from_be_bytes(a)
                        } else {
                            <$t>::from_le_bytes(a)
                        }
                    })
                    .collect();
                if fortran {
                    c_order(v, &shape)
                } else {
                    v
                }
            }};
        }
        let data = match kind {
            Kind::F32 => Data::F32(read!(f32, 4)),
            Kind::F64 => Data::F64(read!(f64, 8)),
            Kind::I32 => Data::I32(read!(i32, 4)),
            Kind::I64 => Data::I64(read!(i64, 8)),
            Kind::Object => Data::Object(body.to_vec()),
        };
        Ok(Array { shape, data })
    }

    /// Encode as `.npy` format 1.0 (little-endian; object arrays write their pickle as is).
    pub fn to_npy(&self) -> Vec<u8> {
        let descr = match &self.data {
            Data::F32(_) => "<f4",
            Data::F64(_) => "<f8",
            Data::I32(_) => "<i4",
            Data::I64(_) => "<i8",
            Data::Object(_) => "|O",
        };
        let shape = match self.shape.len() {
            0 => "()".to_string(),
            1 => format!("({},)", self.shape[0]),
            _ => format!(
                "({})",
                self.shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        // Pad so that magic + version + length + header is a multiple of 64, ending in '\n'.
        let total = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - total % 64) % 64));
        header.push('\n');
        let mut out = Vec::with_capacity(10 + header.len() + self.len() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        match &self.data {
            Data::F32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::F64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::I32(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::I64(v) => v
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            Data::Object(p) => out.extend_from_slice(p),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz regression (`fuzz/corpus/npy_npz/crash-ec7b43…`): a descr whose first character
    /// is not ASCII (`'\u{fffd}f4'` after lossy decoding) is a `DType` error, not a panic.
    #[test]
    fn descr_starting_with_a_multibyte_char_is_refused() {
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        let h = b"{'descr': '\x99f4', 'fortran_order': False, 'shape': (1,), }\n";
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h);
        b.extend_from_slice(&1.0f32.to_le_bytes());
        match Array::from_npy(&b) {
            Err(NpyError::DType(d)) => assert_eq!(d, "\u{fffd}f4"),
            other => panic!("expected a DType error, got {other:?}"),
        }
    }

    /// Bytes `np.save(f, np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))` writes.
    fn numpy_2x3_f4() -> Vec<u8> {
        let mut b = b"\x93NUMPY\x01\x00v\x00".to_vec();
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        b.extend_from_slice(h.as_bytes());
        b.extend(std::iter::repeat_n(b' ', 118 - h.len() - 1));
        b.push(b'\n');
        for x in [1f32, 2., 3., 4., 5., 6.] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        b
    }

    #[test]
    fn from_npy_reads_numpy_bytes_and_to_npy_writes_them() {
        let bytes = numpy_2x3_f4();
        let a = Array::from_npy(&bytes).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, Data::F32(vec![1., 2., 3., 4., 5., 6.]));
        assert_eq!(a.to_npy(), bytes);
    }

    #[test]
    fn from_npy_fortran_order_is_transposed_to_row_major() {
        let h = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }\n";
        let mut b = b"\x93NUMPY\x02\x00".to_vec();
        b.extend_from_slice(&(h.len() as u32).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        // Column-major [[1,2,3],[4,5,6]] = 1 4 2 5 3 6, big-endian.
        for x in [1f64, 4., 2., 5., 3., 6.] {
            b.extend_from_slice(&x.to_be_bytes());
        }
        let a = Array::from_npy(&b).unwrap();
        assert_eq!(a.data, Data::F64(vec![1., 2., 3., 4., 5., 6.]));
    }

    #[test]
    fn from_npy_zero_d_and_one_d() {
        for a in [
            Array {
                shape: vec![],
                data: Data::F64(vec![0.8]),
            },
            Array {
                shape: vec![4],
                data: Data::I64(vec![1, -2, 3, 4]),
            },
            Array {
                shape: vec![0, 5],
                data: Data::F32(vec![]),
            },
        ] {
            assert_eq!(Array::from_npy(&a.to_npy()).unwrap(), a);
        }
    }

    fn replace(b: &[u8], from: &str, to: &str) -> Vec<u8> {
        let at = b
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap();
        [&b[..at], to.as_bytes(), &b[at + from.len()..]].concat()
    }

    #[test]
    fn from_npy_rejects_malformed() {
        let good = numpy_2x3_f4();
        assert_eq!(Array::from_npy(b"PK\x03\x04xxxxxx"), Err(NpyError::Magic));
        assert!(matches!(
            Array::from_npy(&good[..good.len() - 1]),
            Err(NpyError::Length { .. })
        ));
        assert!(matches!(
            Array::from_npy(&good[..50]),
            Err(NpyError::Truncated { .. })
        ));
        let s = replace(&good, "<f4", "<c8");
        assert_eq!(Array::from_npy(&s), Err(NpyError::DType("<c8".into())));
        let s = replace(&good, "(2, 3)", "(2, x)");
        assert!(matches!(Array::from_npy(&s), Err(NpyError::Header { .. })));
        let mut v = good.clone();
        v[6] = 9;
        assert_eq!(Array::from_npy(&v), Err(NpyError::Version(9, 0)));
        // Overflowing shape: no panic, no allocation.
        let s = replace(&good, "(2, 3)", "(99999999999, 99999999999)");
        assert!(Array::from_npy(&s).is_err());
    }
}
