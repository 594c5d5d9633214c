//! What a model file is ([`FileKind`]) and what can be wrong with it ([`ModelError`]):
//! every error names the file and, where it applies, the field.

use std::path::PathBuf;

/// What a model file holds, judged from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A fixed-point `.nlb` blob.
    Blob,
    /// A zip archive (PsychRNN `.npz` weights).
    Npz,
    /// A native float model (JSON).
    Native,
}

impl FileKind {
    /// Human name.
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Blob => "fixed-point blob (.nlb)",
            FileKind::Npz => "npz archive (PsychRNN weights)",
            FileKind::Native => "neuroloop float model (JSON)",
        }
    }
}

/// Errors reading or writing model files; each names the file and, where it applies, the field.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The content is no model kind neuroloop knows.
    #[error("{path}: not a model file (neither an NLRN blob, an npz archive nor a neuroloop float model; starts with {start:02x?})")]
    Unknown {
        /// The file.
        path: PathBuf,
        /// First bytes.
        start: Vec<u8>,
    },
    /// The file is a model, but of another kind than the command needs.
    #[error(
        "{path}: is a {found}, this command needs a {wanted}{}",
        hint_for(found)
    )]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// What it is.
        found: &'static str,
        /// What was needed.
        wanted: &'static str,
    },
    /// The JSON does not parse as a float model.
    #[error("{path}: invalid float model JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error (with line and column).
        source: serde_json::Error,
    },
    /// A field has a bad value.
    #[error("float model field `{field}` {reason}")]
    Field {
        /// Field name.
        field: String,
        /// What is wrong, with the value.
        reason: String,
    },
    /// A field has a bad value, in a named file.
    #[error("{path}: float model field `{field}` {reason}")]
    FileField {
        /// The file.
        path: PathBuf,
        /// Field name.
        field: String,
        /// What is wrong, with the value.
        reason: String,
    },
}

fn hint_for(found: &str) -> &'static str {
    if found == FileKind::Npz.name() {
        " (import it first: neuroloop import psychrnn FILE --dt MS --tau MS -o MODEL.json)"
    } else {
        ""
    }
}
