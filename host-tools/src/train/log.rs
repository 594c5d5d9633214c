//! The training log: one tab-separated row per training batch (batch, trials, loss,
//! accuracy, cumulative wall seconds) beside the checkpoint, `MODEL.json.log.tsv` for
//! `MODEL.json.ckpt.json` ([`log_path`]). `neuroloop plot loss` reads it.
//!
//! Crash-safe: each row is one `write` of a whole line to a file opened for appending, so
//! a crash leaves at most a torn last line, which [`read`] skips. A fresh run replaces the
//! log; a resumed run ([`TrainLog::resume`]) first keeps only the rows up to the
//! checkpoint's batch (rewritten atomically), then appends, so the log always describes
//! the one history that led to the checkpoint.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The header line (column names).
pub const HEADER: &str = "batch\ttrials\tloss\taccuracy\tseconds";

/// One row of the log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogRow {
    /// Batches done (1-based).
    pub batch: u64,
    /// Trials trained on.
    pub trials: u64,
    /// Loss + regularisation of the batch.
    pub loss: f64,
    /// Accuracy on the training batch (before its update).
    pub accuracy: f64,
    /// Wall seconds of training since the run's first batch (continued across resumes).
    pub seconds: f64,
}

impl LogRow {
    fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{:.3}\n",
            self.batch, self.trials, self.loss, self.accuracy, self.seconds
        )
    }

    fn parse(line: &str) -> Option<LogRow> {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 5 {
            return None;
        }
        Some(LogRow {
            batch: f[0].parse().ok()?,
            trials: f[1].parse().ok()?,
            loss: f[2].parse().ok()?,
            accuracy: f[3].parse().ok()?,
            seconds: f[4].parse().ok()?,
        })
    }
}

/// Why a log could not be read or written; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The log.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not a training log.
    #[error("{path}: not a neuroloop training log (first line must be `{}`, found `{found}`)", HEADER.replace('\t', " "))]
    NotALog {
        /// The file.
        path: PathBuf,
        /// Its first line.
        found: String,
    },
    /// A complete line (not the last) does not parse.
    #[error("{path}: line {line} is not a log row: `{text}`")]
    BadRow {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
}

/// The log beside a checkpoint: `X.ckpt.json` → `X.log.tsv`, any other name gets
/// `.log.tsv` appended.
pub fn log_path(checkpoint: &Path) -> PathBuf {
    let s = checkpoint.as_os_str().to_string_lossy();
    match s.strip_suffix(".ckpt.json") {
        Some(stem) => PathBuf::from(format!("{stem}.log.tsv")),
        None => PathBuf::from(format!("{s}.log.tsv")),
    }
}

/// Read every complete row of a log (a torn last line, from a crash, is skipped).
pub fn read(path: &Path) -> Result<Vec<LogRow>, LogError> {
    let io = |source| LogError::Io {
        path: path.into(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("").trim_end_matches('\n');
    if first != HEADER {
        return Err(LogError::NotALog {
            path: path.into(),
            found: first.chars().take(60).collect(),
        });
    }
    let mut rows = Vec::new();
    for (i, l) in lines.enumerate() {
        let complete = l.ends_with('\n');
        match LogRow::parse(l.trim_end_matches('\n')) {
            Some(r) => rows.push(r),
            None if !complete => break,
            None => {
                return Err(LogError::BadRow {
                    path: path.into(),
                    line: i + 2,
                    text: l.trim_end().chars().take(80).collect(),
                })
            }
        }
    }
    Ok(rows)
}

/// An open log, appending one row per batch.
#[derive(Debug)]
pub struct TrainLog {
    path: PathBuf,
    file: std::fs::File,
    /// Seconds already logged before this process (resume).
    offset: f64,
}

impl TrainLog {
    /// Start a new log at `path` (an existing one is replaced).
    pub fn create(path: &Path) -> Result<TrainLog, LogError> {
        crate::model::file::write_atomic_io(path, format!("{HEADER}\n").as_bytes()).map_err(
            |source| LogError::Io {
                path: path.into(),
                source,
            },
        )?;
        Self::open(path, 0.0)
    }

    /// Continue the log of a run resumed at batch `batches_done`: rows after that batch
    /// (written after the checkpoint, before a crash) are dropped. A missing or unreadable
    /// log is started anew.
    pub fn resume(path: &Path, batches_done: u64) -> Result<TrainLog, LogError> {
        let rows = match read(path) {
            Ok(r) => r,
            Err(_) => return Self::create(path),
        };
        let kept: Vec<&LogRow> = rows.iter().filter(|r| r.batch <= batches_done).collect();
        let mut text = format!("{HEADER}\n");
        kept.iter().for_each(|r| text += &r.line());
        crate::model::file::write_atomic_io(path, text.as_bytes()).map_err(|source| {
            LogError::Io {
                path: path.into(),
                source,
            }
        })?;
        Self::open(path, kept.last().map_or(0.0, |r| r.seconds))
    }

    fn open(path: &Path, offset: f64) -> Result<TrainLog, LogError> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| LogError::Io {
                path: path.into(),
                source,
            })?;
        Ok(TrainLog {
            path: path.into(),
            file,
            offset,
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one row; `seconds` counts from this process's first batch (the log adds
    /// the time of earlier runs it continues).
    pub fn append(&mut self, mut row: LogRow) -> Result<(), LogError> {
        row.seconds += self.offset;
        self.file
            .write_all(row.line().as_bytes())
            .map_err(|source| LogError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(batch: u64) -> LogRow {
        LogRow {
            batch,
            trials: batch * 10,
            loss: 1.0 / batch as f64,
            accuracy: 0.5,
            seconds: batch as f64,
        }
    }

    #[test]
    fn paths() {
        assert_eq!(
            log_path(Path::new("a/m.json.ckpt.json")),
            Path::new("a/m.json.log.tsv")
        );
        assert_eq!(log_path(Path::new("c.bin")), Path::new("c.bin.log.tsv"));
    }

    #[test]
    fn append_read_resume_and_torn_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.log.tsv");
        let mut log = TrainLog::create(&p).unwrap();
        for b in 1..=5 {
            log.append(row(b)).unwrap();
        }
        drop(log);
        // a crash mid-write leaves a torn last line: skipped
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"6\t60\t0.1")
            .unwrap();
        assert_eq!(read(&p).unwrap(), (1..=5).map(row).collect::<Vec<_>>());
        // resume at batch 3: rows 4, 5 and the torn line go; seconds continue from row 3
        let mut log = TrainLog::resume(&p, 3).unwrap();
        log.append(LogRow {
            seconds: 0.5,
            ..row(4)
        })
        .unwrap();
        let rows = read(&p).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[3].batch, 4);
        assert_eq!(rows[3].seconds, 3.5);
        // a broken complete line is an error naming the line
        std::fs::write(&p, format!("{HEADER}\n1\t1\t1\t1\t1\nzz\n2\t2\t2\t2\t2\n")).unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("zz"), "{e}");
        std::fs::write(&p, "hello\n").unwrap();
        assert!(read(&p)
            .unwrap_err()
            .to_string()
            .contains("not a neuroloop training log"));
    }
}
