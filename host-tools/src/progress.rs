//! The one progress helper: an indicatif bar on stderr, hidden when stderr is not a
//! terminal (pipes, CI), so machine output on stdout stays clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar over `total` steps with a free-text message (loss, accuracy, speed).
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `total` steps labelled `what`; hidden off-TTY.
    pub fn new(total: u64, what: &str) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8))
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        Progress { bar }
    }

    /// Move to `pos` with a message.
    pub fn update(&self, pos: u64, msg: String) {
        self.bar.set_position(pos);
        self.bar.set_message(msg);
    }

    /// Change the total (0: unknown).
    pub fn set_length(&self, total: u64) {
        self.bar.set_length(total);
    }

    /// Remove the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
