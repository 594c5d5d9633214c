//! [`Recorder`]: one session folder per run.
//!
//! ```text
//! DIR/session.json    provenance (written at the start and again at the end)
//! DIR/frames.bin      every frame, both directions, with host times — the ground truth
//! DIR/telemetry.tsv   one row per step, appended live
//! DIR/events.tsv      derived at close
//! DIR/telemetry.npz   derived at close
//! ```
//!
//! `frames.bin` and `telemetry.tsv` are flushed and `fsync`ed at least once a second, so
//! a crash loses at most the last second; `neuroloop rig recover DIR` rebuilds the derived
//! files from `frames.bin` (see [`recover`](super::recover)).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use std::time::Instant;

use super::framelog::{FrameLog, RawFrame, SYNC_EVERY};
use super::session::{SessionFile, FILE};
use super::tables::{self, Layout, Tables};
use super::RigError;

/// Frame log name in a session folder.
pub const FRAMES_BIN: &str = "frames.bin";

/// An open session folder.
pub struct Recorder {
    dir: PathBuf,
    log: FrameLog,
    tsv: BufWriter<File>,
    layout: Layout,
    tables: Tables,
    session: SessionFile,
    frames: usize,
    last_sync: Instant,
}

impl Recorder {
    /// Create `dir` (it may exist but must not hold a session) and write `session.json`,
    /// an empty `frames.bin` and the `telemetry.tsv` header.
    pub fn create(dir: &Path, session: SessionFile) -> Result<Self, RigError> {
        std::fs::create_dir_all(dir).map_err(RigError::file(dir))?;
        if dir.join(FILE).exists() || dir.join(FRAMES_BIN).exists() {
            return Err(RigError::format(
                dir,
                "already holds a session: choose a new folder (nothing recorded is ever overwritten)",
            ));
        }
        session.write(dir)?;
        let log = FrameLog::create(&dir.join(FRAMES_BIN))?;
        let layout = Layout::of(&session);
        let p = dir.join(tables::TELEMETRY_TSV);
        let mut tsv = BufWriter::new(File::create(&p).map_err(RigError::file(&p))?);
        tsv.write_all(layout.tsv_header().as_bytes())
            .map_err(RigError::file(&p))?;
        Ok(Recorder {
            dir: dir.into(),
            log,
            tsv,
            layout,
            tables: Tables::default(),
            session,
            frames: 0,
            last_sync: Instant::now(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The session record (written again by [`Recorder::close`]).
    pub fn session_mut(&mut self) -> &mut SessionFile {
        &mut self.session
    }

    /// Rewrite `session.json` now (after a parameter change, say).
    pub fn write_session(&self) -> Result<(), RigError> {
        self.session.write(&self.dir)
    }

    /// Telemetry rows so far.
    pub fn rows(&self) -> &[tables::Row] {
        &self.tables.rows
    }

    /// Event rows so far.
    pub fn events(&self) -> usize {
        self.tables.events.len()
    }

    /// Log frames and append their telemetry rows.
    pub fn record(&mut self, frames: Vec<RawFrame>) -> Result<(), RigError> {
        for f in frames {
            self.log.append(&f)?;
            self.frames += 1;
            let d = tables::decode(&f);
            if let Some(tables::Decoded::Row(r)) = &d {
                self.tsv
                    .write_all(tables::tsv_row(&self.layout, r).as_bytes())
                    .map_err(RigError::file(self.dir.join(tables::TELEMETRY_TSV)))?;
            }
            self.tables.push(d);
        }
        self.sync_if_due()
    }

    /// Flush and `fsync` if the last sync is a second ago (call it when idle too).
    pub fn sync_if_due(&mut self) -> Result<(), RigError> {
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), RigError> {
        let p = self.dir.join(tables::TELEMETRY_TSV);
        self.tsv.flush().map_err(RigError::file(&p))?;
        self.tsv.get_ref().sync_data().map_err(RigError::file(&p))?;
        self.log.sync()?;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Frames logged.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Flush everything, write the derived files and the final `session.json`.
    pub fn close(mut self) -> Result<SessionFile, RigError> {
        self.sync()?;
        self.tables.write_all(&self.dir, &self.layout)?;
        self.session.write(&self.dir)?;
        Ok(self.session)
    }
}
