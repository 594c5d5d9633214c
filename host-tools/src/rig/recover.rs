//! `neuroloop rig recover DIR`: rebuild a session's derived files (`telemetry.tsv`,
//! `events.tsv`, `telemetry.npz`) from `frames.bin` after a crash. A torn last record is
//! skipped (and reported); everything before it is kept, so the recovered steps are a
//! prefix of what the device sent. `session.json` gets an outcome if it has none.

use std::path::Path;

use super::framelog;
use super::recorder::FRAMES_BIN;
use super::session::{Outcome, SessionFile};
use super::tables::{Layout, Tables};
use super::RigError;

/// What [`recover`] rebuilt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Recovered {
    /// Intact frames in `frames.bin`.
    pub frames: usize,
    /// Bytes of a torn last record, ignored.
    pub torn_bytes: usize,
    /// Telemetry rows written.
    pub steps: usize,
    /// Event rows written.
    pub events: usize,
}

/// Rebuild the derived files of the session in `dir`.
pub fn recover(dir: &Path) -> Result<Recovered, RigError> {
    let mut session = SessionFile::read(dir)?;
    let log = framelog::read(&dir.join(FRAMES_BIN))?;
    let tables = Tables::from_frames(&log.frames);
    tables.write_all(dir, &Layout::of(&session))?;
    if session.outcome.is_none() {
        session.outcome = Some(Outcome {
            ended_by: "recovered after a crash".into(),
            steps_recorded: tables.rows.len(),
            events_recorded: tables.events.len(),
            frames_logged: log.frames.len(),
            device_stats: None,
            link: Default::default(),
        });
        session.write(dir)?;
    }
    Ok(Recovered {
        frames: log.frames.len(),
        torn_bytes: log.torn_bytes,
        steps: tables.rows.len(),
        events: tables.events.len(),
    })
}
