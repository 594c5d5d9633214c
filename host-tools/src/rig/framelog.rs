//! `frames.bin`: the raw frame log of a session, the ground truth every other session file
//! is derived from.
//!
//! Layout (little-endian): the 8-byte magic `NLFRAME1`, then one record per frame:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `len` | u32 | bytes of `frame` |
//! | `dir` | u8 | [`Dir`]: 0 device → host, 1 host → device, 2 device → host but not COBS |
//! | `host_ns` | u64 | host time of receipt (or sending), ns since the Unix epoch, monotonic within a session |
//! | `frame` | `len` bytes | the un-stuffed postcard `Packet` (dir 2: the raw bytes as received) |
//! | `crc` | u32 | CRC-32 (ISO-HDLC) of `dir`, `host_ns` and `frame` |
//!
//! Records are only appended; the writer flushes and `fsync`s at least once a second
//! ([`SYNC_EVERY`]) and at close. A crash can leave a torn last record: [`read`] stops at
//! the first record that is truncated or fails its CRC and reports how many bytes it
//! ignored, so everything before it is recovered.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use neuroloop_core::blob::CRC;

use super::RigError;

/// The file's first 8 bytes.
pub const MAGIC: &[u8; 8] = b"NLFRAME1";
/// Longest time between two `fsync`s while a session is open.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);
/// Longest frame a record may hold (anything longer is a torn or foreign file).
pub const MAX_RECORD: usize = 1 << 16;

/// Direction of a logged frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Device → host, un-stuffed.
    Rx = 0,
    /// Host → device, un-stuffed.
    Tx = 1,
    /// Device → host bytes up to a `0x00` that were not valid COBS (kept as received).
    RxBad = 2,
}

/// One logged frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// Direction.
    pub dir: Dir,
    /// Host time, ns since the Unix epoch.
    pub host_ns: u64,
    /// Un-stuffed postcard bytes of one `Packet`.
    pub bytes: Vec<u8>,
}

/// The host clock of a session: Unix-epoch nanoseconds read once, then advanced by a
/// monotonic clock, so receive times never step backwards (NTP adjustments do not show).
#[derive(Clone, Copy, Debug)]
pub struct HostClock {
    wall0_ns: u64,
    t0: Instant,
}

impl Default for HostClock {
    fn default() -> Self {
        Self::new()
    }
}

impl HostClock {
    /// Anchor at the current wall time.
    pub fn new() -> Self {
        let wall0_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        HostClock {
            wall0_ns,
            t0: Instant::now(),
        }
    }

    /// Now, ns since the Unix epoch.
    pub fn now_ns(&self) -> u64 {
        self.wall0_ns + self.t0.elapsed().as_nanos() as u64
    }
}

fn crc_of(dir: u8, host_ns: u64, bytes: &[u8]) -> u32 {
    let mut d = CRC.digest();
    d.update(&[dir]);
    d.update(&host_ns.to_le_bytes());
    d.update(bytes);
    d.finalize()
}

/// Appends frames to `frames.bin`.
pub struct FrameLog {
    path: PathBuf,
    out: BufWriter<File>,
    last_sync: Instant,
    records: u64,
}

impl FrameLog {
    /// Create `path` (it must not exist) and write the magic.
    pub fn create(path: &Path) -> Result<Self, RigError> {
        let f = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(RigError::file(path))?;
        let mut out = BufWriter::with_capacity(1 << 16, f);
        out.write_all(MAGIC).map_err(RigError::file(path))?;
        let mut log = FrameLog {
            path: path.into(),
            out,
            last_sync: Instant::now(),
            records: 0,
        };
        log.sync()?;
        Ok(log)
    }

    /// Append one record; `fsync`s if the last one is [`SYNC_EVERY`] ago.
    pub fn append(&mut self, f: &RawFrame) -> Result<(), RigError> {
        let dir = f.dir as u8;
        let mut rec = Vec::with_capacity(f.bytes.len() + 17);
        rec.extend_from_slice(&(f.bytes.len() as u32).to_le_bytes());
        rec.push(dir);
        rec.extend_from_slice(&f.host_ns.to_le_bytes());
        rec.extend_from_slice(&f.bytes);
        rec.extend_from_slice(&crc_of(dir, f.host_ns, &f.bytes).to_le_bytes());
        self.out
            .write_all(&rec)
            .map_err(RigError::file(&self.path))?;
        self.records += 1;
        self.sync_if_due()
    }

    /// Flush and `fsync` if the last sync is [`SYNC_EVERY`] ago (call it when idle too).
    pub fn sync_if_due(&mut self) -> Result<(), RigError> {
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Flush and `fsync` now.
    pub fn sync(&mut self) -> Result<(), RigError> {
        self.out.flush().map_err(RigError::file(&self.path))?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(RigError::file(&self.path))?;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Records written.
    pub fn records(&self) -> u64 {
        self.records
    }
}

/// What [`read`] found.
#[derive(Clone, Debug, Default)]
pub struct LogContents {
    /// Every intact record, in file order.
    pub frames: Vec<RawFrame>,
    /// Bytes at the end that do not form an intact record (a torn write), 0 normally.
    pub torn_bytes: usize,
}

/// Read a frame log, tolerating a torn tail.
pub fn read(path: &Path) -> Result<LogContents, RigError> {
    let bytes = std::fs::read(path).map_err(RigError::file(path))?;
    parse(&bytes).map_err(|reason| RigError::format(path, reason))
}

/// Parse frame-log bytes (see [`read`]).
pub fn parse(bytes: &[u8]) -> Result<LogContents, String> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(format!(
            "not a neuroloop frame log: starts with {:02x?}, expected {:?}",
            &bytes[..bytes.len().min(8)],
            std::str::from_utf8(MAGIC).unwrap_or_default()
        ));
    }
    let mut out = LogContents::default();
    let mut at = MAGIC.len();
    loop {
        let rest = &bytes[at..];
        if rest.is_empty() {
            break;
        }
        let Some(rec) = parse_record(rest) else {
            out.torn_bytes = rest.len();
            break;
        };
        at += rec.1;
        out.frames.push(rec.0);
    }
    Ok(out)
}

fn parse_record(b: &[u8]) -> Option<(RawFrame, usize)> {
    let len = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
    if len > MAX_RECORD {
        return None;
    }
    let dir = *b.get(4)?;
    let host_ns = u64::from_le_bytes(b.get(5..13)?.try_into().ok()?);
    let frame = b.get(13..13 + len)?;
    let crc = u32::from_le_bytes(b.get(13 + len..17 + len)?.try_into().ok()?);
    if crc != crc_of(dir, host_ns, frame) {
        return None;
    }
    let dir = match dir {
        0 => Dir::Rx,
        1 => Dir::Tx,
        2 => Dir::RxBad,
        _ => return None,
    };
    Some((
        RawFrame {
            dir,
            host_ns,
            bytes: frame.to_vec(),
        },
        17 + len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<RawFrame> {
        (0..5u8)
            .map(|i| RawFrame {
                dir: if i % 2 == 0 { Dir::Rx } else { Dir::Tx },
                host_ns: 1_000 + i as u64,
                bytes: vec![i; i as usize * 3],
            })
            .collect()
    }

    #[test]
    fn log_roundtrip_and_every_truncation_is_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("frames.bin");
        let mut log = FrameLog::create(&p).unwrap();
        for f in frames() {
            log.append(&f).unwrap();
        }
        log.sync().unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let all = parse(&bytes).unwrap();
        assert_eq!(all.frames, frames());
        assert_eq!(all.torn_bytes, 0);
        for cut in MAGIC.len()..bytes.len() {
            let got = parse(&bytes[..cut]).unwrap();
            let n = got.frames.len();
            assert_eq!(got.frames[..], frames()[..n], "cut at {cut}");
            assert!(n < 5);
            let kept: usize = got.frames.iter().map(|f| 17 + f.bytes.len()).sum();
            assert_eq!(MAGIC.len() + kept + got.torn_bytes, cut);
        }
    }

    #[test]
    fn flipped_byte_in_last_record_is_torn_not_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("frames.bin");
        let mut log = FrameLog::create(&p).unwrap();
        for f in frames() {
            log.append(&f).unwrap();
        }
        log.sync().unwrap();
        let mut bytes = std::fs::read(&p).unwrap();
        let n = bytes.len();
        bytes[n - 6] ^= 0x40;
        let got = parse(&bytes).unwrap();
        assert_eq!(got.frames[..], frames()[..4]);
        assert_eq!(got.torn_bytes, 17 + 12);
    }

    #[test]
    fn foreign_file_is_named() {
        let e = parse(b"PK\x03\x04zipfile").unwrap_err();
        assert!(e.contains("not a neuroloop frame log"), "{e}");
    }
}
