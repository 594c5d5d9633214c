//! The one progress helper, on stderr so machine output on stdout stays clean: an
//! indicatif bar on a terminal; off a terminal (cluster jobs, pipes, CI logs) plain text
//! lines — `train: 100/999 (10 %) loss … acc … , 12 s elapsed, ETA 1 min` — every 10 % of
//! the run and at least every [`LINE_EVERY_SECS`] seconds, so a log shows a run's progress
//! while it runs.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::Cell;
use std::io::IsTerminal;
use std::time::Instant;

/// Longest gap between two plain-text progress lines, seconds.
pub const LINE_EVERY_SECS: f64 = 30.0;

/// Progress over `total` steps with a free-text message (loss, accuracy, speed).
pub struct Progress {
    /// The bar on a terminal; `None` off a terminal (plain lines instead).
    bar: Option<ProgressBar>,
    what: String,
    total: Cell<u64>,
    start: Instant,
    /// (position, seconds since start) of the last plain line.
    last_line: Cell<(u64, f64)>,
}

impl Progress {
    /// Progress for `total` steps labelled `what`: a bar on a terminal, lines otherwise.
    pub fn new(total: u64, what: &str) -> Self {
        Self::with_terminal(total, what, std::io::stderr().is_terminal())
    }

    /// As [`Progress::new`], saying whether stderr is a terminal.
    pub fn with_terminal(total: u64, what: &str, terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8));
            let style = ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(what.to_string());
            bar
        });
        Progress {
            bar,
            what: what.to_string(),
            total: Cell::new(total),
            start: Instant::now(),
            last_line: Cell::new((0, 0.0)),
        }
    }

    /// Move to `pos` with a message.
    pub fn update(&self, pos: u64, msg: String) {
        if let Some(bar) = &self.bar {
            bar.set_position(pos);
            bar.set_message(msg);
            return;
        }
        if let Some(line) = self.line(pos, &msg, self.start.elapsed().as_secs_f64()) {
            eprintln!("{line}");
        }
    }

    /// The plain line to print at `pos` after `secs`, if one is due (every 10 % of the
    /// run, at the end, and at least every [`LINE_EVERY_SECS`]).
    fn line(&self, pos: u64, msg: &str, secs: f64) -> Option<String> {
        let (last_pos, last_secs) = self.last_line.get();
        let total = self.total.get().max(1);
        let tenth = |p: u64| p * 10 / total;
        let due = pos == total
            || tenth(pos) > tenth(last_pos)
            || (pos > last_pos && secs - last_secs >= LINE_EVERY_SECS);
        if !due || pos == 0 {
            return None;
        }
        self.last_line.set((pos, secs));
        let eta = secs / pos as f64 * total.saturating_sub(pos) as f64;
        Some(format!(
            "{}: {pos}/{total} ({:.0} %) {msg}, {:.0} s elapsed, ETA {:.0} s",
            self.what,
            100.0 * pos as f64 / total as f64,
            secs,
            eta
        ))
    }

    /// Change the total (0: unknown).
    pub fn set_length(&self, total: u64) {
        self.total.set(total);
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_every_tenth_and_every_interval() {
        let p = Progress::with_terminal(100, "train", false);
        assert_eq!(p.line(5, "m", 1.0), None);
        let l = p.line(10, "loss 0.1", 2.0).unwrap();
        assert_eq!(l, "train: 10/100 (10 %) loss 0.1, 2 s elapsed, ETA 18 s");
        assert_eq!(p.line(11, "m", 3.0), None);
        assert!(p.line(12, "m", 2.0 + LINE_EVERY_SECS).is_some());
        assert!(p.line(100, "m", 40.0).is_some());
    }
}
