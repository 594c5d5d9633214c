//! Parameter changes during a `rig run`: `--control FILE` (read before the run starts) or
//! `--control -` (standard input, applied as lines arrive). One change per line:
//!
//! ```text
//! # comment
//! stimulus other.toml        # now (file: at the start of the run)
//! @2500 stimulus other.toml  # once the device's clock is 2 500 ms past the run's start
//! @5000 stimulus clear       # no stimulus rules
//! ```
//!
//! `@MS` is device time since the run started (the device's own time stamps, not the
//! host's clock); paths are relative to the working directory. The stimulus map is the
//! device parameter a run can change (`SetStimulusMap`). Each change is logged with its
//! time in both clocks in `session.json` (`param_changes`) and in `events.tsv`.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use neuroloop_core::protocol::Rule;

use super::stimulus::{self, Fracs};
use super::RigError;

/// One scheduled change.
#[derive(Clone, Debug, PartialEq)]
pub struct Control {
    /// Device ms since the run's start (`None`: at once).
    pub at_ms: Option<u64>,
    /// The new stimulus rules.
    pub rules: Vec<Rule>,
    /// The stimulus file (`None`: `clear`).
    pub file: Option<PathBuf>,
    /// The line, as written.
    pub line: String,
}

/// Parse one line (`None`: blank or a comment).
pub fn parse_line(line: &str, fracs: Fracs) -> Result<Option<Control>, String> {
    let text = line.split('#').next().unwrap_or("").trim();
    if text.is_empty() {
        return Ok(None);
    }
    let mut words = text.split_whitespace().peekable();
    let at_ms = match words.peek() {
        Some(w) if w.starts_with('@') => {
            let ms = w[1..]
                .parse::<u64>()
                .map_err(|_| format!("{w:?}: expected @MS, whole milliseconds of device time"))?;
            words.next();
            Some(ms)
        }
        _ => None,
    };
    let cmd: Vec<&str> = words.collect();
    let (rules, file) = match cmd.as_slice() {
        ["stimulus", "clear"] => (Vec::new(), None),
        ["stimulus", f] => {
            let p = PathBuf::from(f);
            let rules = stimulus::load(&p, fracs).map_err(|e| e.to_string())?;
            (rules, Some(p))
        }
        _ => {
            return Err(format!(
                "{text:?}: expected `[@MS] stimulus FILE.toml` or `[@MS] stimulus clear`"
            ))
        }
    };
    Ok(Some(Control {
        at_ms,
        rules,
        file,
        line: text.to_string(),
    }))
}

/// Every change of a control file (each stimulus file read and checked now).
pub fn load(path: &Path, fracs: Fracs) -> Result<Vec<Control>, RigError> {
    let text = std::fs::read_to_string(path).map_err(RigError::file(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line, fracs) {
            Ok(Some(c)) => out.push(c),
            Ok(None) => {}
            Err(e) => return Err(RigError::format(path, format!("line {}: {e}", i + 1))),
        }
    }
    Ok(out)
}

/// Changes from standard input, parsed on a thread as lines arrive.
pub fn from_stdin(fracs: Fracs) -> mpsc::Receiver<Result<Control, String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for (i, line) in std::io::stdin().lock().lines().enumerate() {
            let Ok(line) = line else { break };
            let r = match parse_line(&line, fracs) {
                Ok(None) => continue,
                Ok(Some(c)) => Ok(c),
                Err(e) => Err(format!("line {}: {e}", i + 1)),
            };
            if tx.send(r).is_err() {
                break;
            }
        }
    });
    rx
}

/// The changes of a run not yet made.
#[derive(Debug, Default)]
pub struct Schedule {
    due: Vec<Control>,
    stdin: Option<mpsc::Receiver<Result<Control, String>>>,
}

impl Schedule {
    /// From a loaded file and/or standard input.
    pub fn new(file: Vec<Control>, stdin: Option<mpsc::Receiver<Result<Control, String>>>) -> Self {
        Schedule { due: file, stdin }
    }

    /// Changes due once the device is `elapsed_us` past the run's start (`None`: its time
    /// is not known yet: only the immediate ones), in file order. A bad stdin line is an
    /// error.
    pub fn take_due(&mut self, elapsed_us: Option<u64>) -> Result<Vec<Control>, RigError> {
        if let Some(rx) = &self.stdin {
            while let Ok(r) = rx.try_recv() {
                self.due
                    .push(r.map_err(|e| RigError::format("<stdin> (--control -)", e))?);
            }
        }
        let is_due = |c: &Control| match (c.at_ms, elapsed_us) {
            (None, _) => true,
            (Some(ms), Some(us)) => ms.saturating_mul(1000) <= us,
            (Some(_), None) => false,
        };
        let (now, later): (Vec<_>, Vec<_>) = self.due.drain(..).partition(is_due);
        self.due = later;
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_and_bad_ones_name_the_problem() {
        let f = Fracs { output: 8, rate: 8 };
        assert_eq!(parse_line("  # only a comment", f), Ok(None));
        let c = parse_line("@250 stimulus clear # off", f).unwrap().unwrap();
        assert_eq!((c.at_ms, c.rules.len(), c.file), (Some(250), 0, None));
        assert!(parse_line("@x stimulus clear", f)
            .unwrap_err()
            .contains("\"@x\": expected @MS"));
        assert!(parse_line("stimulus", f)
            .unwrap_err()
            .contains("expected `[@MS] stimulus FILE.toml`"));
        assert!(parse_line("stimulus /no/such.toml", f)
            .unwrap_err()
            .contains("/no/such.toml"));
        let mut s = Schedule::new(
            vec![
                parse_line("@2 stimulus clear", f).unwrap().unwrap(),
                parse_line("stimulus clear", f).unwrap().unwrap(),
            ],
            None,
        );
        assert_eq!(s.take_due(None).unwrap().len(), 1, "only the immediate one");
        assert!(s.take_due(Some(1999)).unwrap().is_empty());
        assert_eq!(s.take_due(Some(2000)).unwrap()[0].at_ms, Some(2));
        assert!(s.take_due(Some(9999)).unwrap().is_empty());
    }
}
