//! `session.json`: the provenance record of one run — who ran what, on which device, with
//! which model, stimulus map and streams, when (in both clocks), how the link performed and
//! how the run ended. Written atomically at the start (so a crashed session is still
//! described) and again at the end.

use std::collections::BTreeMap;
use std::path::Path;

use neuroloop_core::protocol::{Rule, Stats, Streams};

use super::client::{DeviceInfo, LinkStats};
use super::latency::PingReport;
use super::RigError;

/// Value of [`SessionFile::format`].
pub const FORMAT: &str = "neuroloop-session/1";
/// File name in a session folder.
pub const FILE: &str = "session.json";

/// A point in time in both clocks.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    /// Host time, ns since the Unix epoch.
    pub host_ns: u64,
    /// The same, as UTC text (RFC 3339).
    pub host_utc: String,
    /// Device time, µs since boot, when the device reports one.
    pub device_us: Option<u64>,
}

impl Stamp {
    /// A stamp at host time `host_ns`.
    pub fn at(host_ns: u64, device_us: Option<u64>) -> Self {
        Stamp {
            host_ns,
            host_utc: utc(host_ns),
            device_us,
        }
    }
}

/// `ns` since the Unix epoch as `YYYY-MM-DDThh:mm:ss.mmmZ` (proleptic Gregorian).
pub fn utc(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let ms = ns / 1_000_000 % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The blob uploaded for the run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BlobInfo {
    /// File it came from.
    pub path: String,
    /// Bytes.
    pub len: usize,
    /// The blob's own CRC-32 (its trailer), as the device reports it in `Info`.
    pub crc32: u32,
    /// SHA-256 of the blob, hex.
    pub sha256: String,
}

impl BlobInfo {
    /// Describe `bytes` read from `path`.
    pub fn of(path: &Path, bytes: &[u8]) -> Self {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(bytes);
        BlobInfo {
            path: path.display().to_string(),
            len: bytes.len(),
            crc32: neuroloop_core::Model::from_bytes(bytes).map_or(0, |m| m.crc()),
            sha256: hash.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// How the device stepped.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeInfo {
    /// Lockstep replay of an inputs file.
    Lockstep {
        /// The `.npz` (key `x`).
        inputs: String,
        /// Trials.
        batch: usize,
        /// Steps per trial.
        steps: usize,
    },
    /// Timer mode.
    Timer {
        /// Tick rate.
        rate_hz: u32,
        /// Host-time limit, s.
        duration_s: Option<f64>,
        /// Device-tick limit.
        ticks: Option<u32>,
        /// Where inputs came from (`none`, `stdin` or a file).
        inputs: String,
    },
}

/// A change made while the device ran.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParamChange {
    /// When.
    pub at: Stamp,
    /// What (`stimulus`, ...).
    pub what: String,
    /// The new value.
    pub value: serde_json::Value,
}

/// How the run ended.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// `completed`, `interrupted`, `error: ...` or `recovered after a crash`.
    pub ended_by: String,
    /// Telemetry rows recorded.
    pub steps_recorded: usize,
    /// Events recorded.
    pub events_recorded: usize,
    /// Frames in `frames.bin`.
    pub frames_logged: usize,
    /// The device's counters at the end, if it still answered.
    pub device_stats: Option<Stats>,
    /// Host-side link counters.
    pub link: LinkStats,
}

/// Host software.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HostInfo {
    /// neuroloop version.
    pub neuroloop: String,
    /// Protocol version spoken.
    pub protocol: u16,
    /// OS and architecture.
    pub os: String,
}

impl Default for HostInfo {
    fn default() -> Self {
        HostInfo {
            neuroloop: env!("CARGO_PKG_VERSION").into(),
            protocol: neuroloop_core::protocol::PROTOCOL_VERSION,
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// The whole `session.json`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionFile {
    /// [`FORMAT`].
    pub format: String,
    /// The command that made the session.
    pub command_line: Vec<String>,
    /// User `--meta key=value` pairs.
    pub meta: BTreeMap<String, String>,
    /// Host software.
    pub host: HostInfo,
    /// Connection.
    pub endpoint: String,
    /// The device, as it answered `Hello` (after any upload).
    pub device: Option<DeviceInfo>,
    /// The blob uploaded for this run, if any.
    pub blob: Option<BlobInfo>,
    /// Stimulus rules in force at the start.
    pub stimulus: Vec<Rule>,
    /// Telemetry requested.
    pub streams: Streams,
    /// How the device stepped.
    pub mode: Option<ModeInfo>,
    /// Round-trip latencies measured before the run.
    pub ping: Option<PingReport>,
    /// Start of the run.
    pub start: Option<Stamp>,
    /// End of the run.
    pub end: Option<Stamp>,
    /// Changes made while running.
    pub param_changes: Vec<ParamChange>,
    /// How it ended (absent while running or after a crash).
    pub outcome: Option<Outcome>,
}

impl Default for SessionFile {
    fn default() -> Self {
        SessionFile {
            format: FORMAT.into(),
            command_line: Vec::new(),
            meta: BTreeMap::new(),
            host: HostInfo::default(),
            endpoint: String::new(),
            device: None,
            blob: None,
            stimulus: Vec::new(),
            streams: Streams::default(),
            mode: None,
            ping: None,
            start: None,
            end: None,
            param_changes: Vec::new(),
            outcome: None,
        }
    }
}

impl SessionFile {
    /// Write to `dir/session.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), RigError> {
        let path = dir.join(FILE);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| RigError::format(&path, e.to_string()))?;
        crate::model::file::write_atomic_io(&path, text.as_bytes()).map_err(RigError::file(&path))
    }

    /// Read `dir/session.json`.
    pub fn read(dir: &Path) -> Result<Self, RigError> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(RigError::file(&path))?;
        let s: SessionFile = serde_json::from_str(&text)
            .map_err(|e| RigError::format(&path, format!("not a session file: {e}")))?;
        if s.format != FORMAT {
            return Err(RigError::format(
                &path,
                format!("format {:?}, this neuroloop reads {FORMAT:?}", s.format),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_known_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(951_782_400_123_000_000), "2000-02-29T00:00:00.123Z");
        assert_eq!(utc(1_795_000_000_000_000_000), "2026-11-18T11:06:40.000Z");
    }

    #[test]
    fn session_roundtrips() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SessionFile::default();
        s.meta.insert("animal".into(), "m12".into());
        s.stimulus.push(Rule::Sync { pin: 1, every: 10 });
        s.start = Some(Stamp::at(5_000_000_000, Some(17)));
        s.write(dir.path()).unwrap();
        assert_eq!(SessionFile::read(dir.path()).unwrap(), s);
    }
}
