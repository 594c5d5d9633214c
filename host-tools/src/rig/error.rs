//! [`RigError`]: everything that can go wrong talking to a board or recording a session.
//! Each message names the request, file or value at fault and, where there is one, the fix.

use std::path::PathBuf;
use std::time::Duration;

/// Why a rig operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RigError {
    /// The connection could not be opened.
    #[error("cannot open {endpoint}: {error}")]
    Open {
        /// What was opened (`/dev/ttyACM0`, `tcp 127.0.0.1:7878`, ...).
        endpoint: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// Reading or writing the link failed (cable pulled, peer closed the socket).
    #[error("link to {endpoint} failed: {error}")]
    Link {
        /// The connection.
        endpoint: String,
        /// The OS error.
        error: std::io::Error,
    },
    /// No answer within the timeout.
    #[error("{endpoint}: no answer to {request} within {} ms{hint}", timeout.as_millis())]
    Timeout {
        /// The connection.
        endpoint: String,
        /// What was waited for.
        request: String,
        /// How long.
        timeout: Duration,
        /// What the line carried meanwhile (garbage, undecodable frames), if anything.
        hint: String,
    },
    /// The device refused a request.
    #[error("device refused {request}: {reason}")]
    Nack {
        /// The request.
        request: String,
        /// The device's reason, in words.
        reason: String,
    },
    /// The device speaks another protocol version.
    #[error("device speaks protocol v{device}, this neuroloop speaks v{host}: flash matching firmware (or use a matching neuroloop)")]
    ProtocolVersion {
        /// Version of this host.
        host: u16,
        /// Version of the device.
        device: u16,
    },
    /// The device answered with something that is not an answer to the request.
    #[error("device answered {request} with {got}")]
    Unexpected {
        /// The request.
        request: String,
        /// What came back.
        got: String,
    },
    /// A request does not fit the device (input length, unit index, ...).
    #[error("{0}")]
    Invalid(String),
    /// A session file could not be read or written.
    #[error("{path}: {error}")]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// A file's content is bad.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// The run was stopped by the user (Ctrl-C); the session is closed.
    #[error("stopped by the user")]
    Interrupted,
}

impl RigError {
    /// A [`RigError::File`] for `path`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RigError {
        let path = path.into();
        move |error| RigError::File { path, error }
    }

    /// A [`RigError::Format`] for `path`.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> RigError {
        RigError::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
