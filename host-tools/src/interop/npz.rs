//! `.npz` archives: a zip of `.npy` members, `KEY.npy` each (what `np.savez` writes).
//!
//! Reading accepts stored and deflated members (`np.savez_compressed`) and zip64 records;
//! each member's decompressed size is capped, so a crafted archive cannot exhaust memory.
//! Writing produces stored members with a fixed timestamp, so the same arrays always give
//! the same bytes.

use super::npy::{Array, NpyError};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

/// Largest member read (decompressed), 1 GiB.
pub const MAX_MEMBER: u64 = 1 << 30;

/// Why bytes are not an npz archive of arrays.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NpzError {
    /// The zip container is broken.
    #[error("not a readable npz (zip) archive: {0}")]
    Zip(String),
    /// A member is not a `.npy` array.
    #[error("key `{key}`: {source}")]
    Member {
        /// Key (member name without `.npy`).
        key: String,
        /// The `.npy` problem.
        source: NpyError,
    },
    /// A member is larger than [`MAX_MEMBER`].
    #[error("key `{key}`: member is larger than {MAX_MEMBER} bytes")]
    TooLarge {
        /// Key.
        key: String,
    },
}

/// Arrays by key, in key order.
pub type Arrays = BTreeMap<String, Array>;

/// Read every member whose key `keep(key)` accepts (keys are member names without `.npy`).
pub fn read_filtered(bytes: &[u8], keep: impl Fn(&str) -> bool) -> Result<Arrays, NpzError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| NpzError::Zip(e.to_string()))?;
    let mut out = Arrays::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| NpzError::Zip(e.to_string()))?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().to_string();
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        if !keep(&key) {
            continue;
        }
        let mut buf = Vec::with_capacity(f.size().min(1 << 24) as usize);
        (&mut f)
            .take(MAX_MEMBER + 1)
            .read_to_end(&mut buf)
            .map_err(|e| NpzError::Zip(format!("member {name:?}: {e}")))?;
        if buf.len() as u64 > MAX_MEMBER {
            return Err(NpzError::TooLarge { key });
        }
        let a = Array::from_npy(&buf).map_err(|source| NpzError::Member {
            key: key.clone(),
            source,
        })?;
        out.insert(key, a);
    }
    Ok(out)
}

/// Read every member.
pub fn read(bytes: &[u8]) -> Result<Arrays, NpzError> {
    read_filtered(bytes, |_| true)
}

/// Write arrays as an npz archive (stored members, in the given order).
pub fn write<'a>(arrays: impl IntoIterator<Item = (&'a str, &'a Array)>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .large_file(false);
    for (key, a) in arrays {
        let bytes = a.to_npy();
        // In-memory writes of names we choose cannot fail, short of running out of memory.
        zip.start_file(format!("{key}.npy"), opts)
            .expect("zip member header");
        zip.write_all(&bytes).expect("in-memory write");
    }
    zip.finish().expect("in-memory zip").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interop::npy::Data;

    #[test]
    fn write_read_round_trip_is_exact_and_deterministic() {
        let a = Array {
            shape: vec![2, 2],
            data: Data::F32(vec![1.0, -0.0, f32::MIN_POSITIVE, 3.5]),
        };
        let b = Array {
            shape: vec![],
            data: Data::F64(vec![0.8]),
        };
        let bytes = write([("a", &a), ("b/Adam", &b)]);
        assert_eq!(bytes, write([("a", &a), ("b/Adam", &b)]));
        let r = read(&bytes).unwrap();
        assert_eq!(r["a"], a);
        assert_eq!(r["b/Adam"], b);
        let r = read_filtered(&bytes, |k| !k.contains("/Adam")).unwrap();
        assert_eq!(r.keys().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn read_rejects_garbage_and_names_the_bad_member() {
        assert!(matches!(read(b"PK\x03\x04garbage"), Err(NpzError::Zip(_))));
        assert!(matches!(read(b""), Err(NpzError::Zip(_))));
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("W_in.npy", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"\x93NUMPY\x01\x00\x05\x00{}").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let e = read(&bytes).unwrap_err().to_string();
        assert!(e.contains("`W_in`"), "{e}");
    }
}
