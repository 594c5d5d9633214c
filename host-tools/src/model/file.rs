//! Model files: the native float format, kind detection by content, atomic writes.
//!
//! The native float model is UTF-8 JSON, one object with the fields of
//! [`FloatModel`](super::FloatModel); it starts with `"format": "neuroloop-float-model"`
//! and `"version": 1`. Every command that reads a model looks at the **content** to tell
//! the kinds apart ([`detect_kind`]): a blob starts with `NLRN`, a PsychRNN `.npz` is a
//! zip (`PK\x03\x04`), a native model is JSON whose `format` is
//! `neuroloop-float-model`. File names never decide.

use super::error::{FileKind, ModelError};
use super::float::{FloatModel, FORMAT};
use std::path::{Path, PathBuf};

/// Tell the kind of a model file from its first bytes.
pub fn detect_kind(bytes: &[u8]) -> Option<FileKind> {
    if bytes.starts_with(&neuroloop_core::blob::MAGIC) {
        return Some(FileKind::Blob);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(FileKind::Npz);
    }
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start();
    if t.starts_with('{') && t.contains("\"format\"") && t.contains(FORMAT) {
        return Some(FileKind::Native);
    }
    None
}

/// Read a file, naming it on error.
pub fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.into(),
        source,
    })
}

/// Load a native float model (refusing other kinds by name) and validate it.
pub fn load(path: &Path) -> Result<FloatModel, ModelError> {
    let bytes = read(path)?;
    from_bytes(path, &bytes)
}

/// Parse a native float model from bytes read from `path`.
pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<FloatModel, ModelError> {
    match detect_kind(bytes) {
        Some(FileKind::Native) => {}
        Some(k) => {
            return Err(ModelError::WrongKind {
                path: path.into(),
                found: k.name(),
                wanted: FileKind::Native.name(),
            })
        }
        None => {
            return Err(ModelError::Unknown {
                path: path.into(),
                start: bytes[..bytes.len().min(8)].to_vec(),
            })
        }
    }
    let m: FloatModel = serde_json::from_slice(bytes).map_err(|source| {
        match non_finite_token(bytes) {
            Some((field, token, index)) => ModelError::FileField {
                path: path.into(),
                field,
                reason: format!(
                    "holds {token}{}: a model's values must be finite (JSON has no NaN or Infinity; the model probably diverged)",
                    index.map(|i| format!(" at element {i}")).unwrap_or_default()
                ),
            },
            None => ModelError::Json {
                path: path.into(),
                source,
            },
        }
    })?;
    m.validate().map_err(|e| match e {
        ModelError::Field { field, reason } => ModelError::FileField {
            path: path.into(),
            field,
            reason,
        },
        e => e,
    })?;
    Ok(m)
}

/// The first `NaN` / `Infinity` / `-Infinity` token outside strings (what Python's
/// `json.dump` writes for non-finite floats): `(field, token, element index in its array)`.
fn non_finite_token(bytes: &[u8]) -> Option<(String, &'static str, Option<usize>)> {
    let (mut in_str, mut esc) = (false, false);
    let (mut key_start, mut last_key) = (0usize, String::new());
    let mut last_str = String::new();
    // Element index within the innermost array (None outside arrays).
    let mut stack: Vec<Option<usize>> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
                last_str = String::from_utf8_lossy(&bytes[key_start..i]).into_owned();
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                key_start = i + 1;
            }
            b':' => last_key = last_str.clone(),
            b'[' => stack.push(Some(0)),
            b'{' => stack.push(None),
            b']' | b'}' => {
                stack.pop();
            }
            b',' => {
                if let Some(Some(k)) = stack.last_mut() {
                    *k += 1;
                }
            }
            _ => {
                for token in ["NaN", "-Infinity", "Infinity"] {
                    if bytes[i..].starts_with(token.as_bytes()) {
                        return Some((last_key, token, stack.last().copied().flatten()));
                    }
                }
            }
        }
        i += 1;
    }
    None
}

impl FloatModel {
    /// Validate and write as native JSON, atomically (temp file + rename).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        self.validate()?;
        let json = serde_json::to_vec(self).expect("float model serialises");
        write_atomic(path, &json)
    }
}

/// Write `bytes` to `path` atomically, naming the file on error (see [`write_atomic_io`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    write_atomic_io(path, bytes).map_err(|source| ModelError::Io {
        path: path.into(),
        source,
    })
}

/// Write `bytes` to `path` atomically: a temp file in the same folder, fsync, rename,
/// fsync of the folder. A crash leaves either the old file or the new one, never a torn
/// file; on error the temp file is removed and the old file is untouched. Every file
/// neuroloop writes (models, blobs, checkpoints, npz) goes through here.
pub fn write_atomic_io(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_kind_by_content() {
        assert_eq!(detect_kind(b"NLRN\x01\x00"), Some(FileKind::Blob));
        assert_eq!(detect_kind(b"PK\x03\x04rest"), Some(FileKind::Npz));
        let m = FloatModel::zeros("m", 1, 2, 1);
        let json = serde_json::to_vec(&m).unwrap();
        assert_eq!(detect_kind(&json), Some(FileKind::Native));
        assert_eq!(detect_kind(b"{\"other\": 1}"), None);
        assert_eq!(detect_kind(b""), None);
    }

    #[test]
    fn save_load_round_trip_and_errors_name_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        let mut m = FloatModel::zeros("m", 2, 3, 1);
        m.w_rec[4] = 0.25;
        m.save(&p).unwrap();
        assert_eq!(load(&p).unwrap(), m);

        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("\"n_rec\":3", "\"n_rec\":4");
        std::fs::write(&p, text).unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("m.json") && e.contains("w_in") && e.contains("4×2"),
            "{e}"
        );

        let text = std::fs::read_to_string(&p).unwrap();
        let nan = text.replacen("\"w_rec\":[0.0,0.0", "\"w_rec\":[0.0,NaN", 1);
        assert_ne!(nan, text);
        std::fs::write(&p, nan).unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(
            e.contains("`w_rec` holds NaN at element 1") && e.contains("must be finite"),
            "{e}"
        );

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, b"NLRN\x01\x00garbage").unwrap();
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.json") && e.contains("blob"), "{e}");
    }
}
