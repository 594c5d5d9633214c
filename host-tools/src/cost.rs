//! Memory and time a command is about to spend, estimated **before** the work starts.
//!
//! The one limit policy of every command: a size that cannot be done (more memory than
//! [`memory_limit`], [`MEMORY_SHARE`] of the machine's, or longer than [`MAX_SECONDS`]) is
//! refused with the value that caused it named; one that is merely large (over
//! [`WARN_BYTES`] or [`WARN_SECONDS`]) gets a warning with the estimate. The estimates are
//! deliberately rough (one rate for every machine, [`MACS_PER_SECOND`]) and err on the
//! long side. Each module estimates its own work next to the code that does it
//! ([`crate::compare::estimate`], [`crate::quantize::estimate_calibration`],
//! [`crate::train::estimate`]) and formats it with [`bytes`] and [`seconds`].

/// Warned above this many bytes.
pub const WARN_BYTES: u64 = 1 << 30;
/// Refused above this many seconds (one day).
pub const MAX_SECONDS: f64 = 24.0 * 3600.0;
/// Warned above this many seconds.
pub const WARN_SECONDS: f64 = 60.0;
/// Share of the machine's memory a piece of work may plan to use (the refusal limit).
pub const MEMORY_SHARE: f64 = 0.8;
/// Memory assumed when `/proc/meminfo` cannot be read.
pub const FALLBACK_MEMORY_BYTES: u64 = 8 << 30;
/// Multiply-accumulates per second assumed for one RNN simulation thread (float
/// reference or fixed-point core); measured ≈ 4·10⁸ on a 2020 laptop core, rounded down.
pub const MACS_PER_SECOND: f64 = 2e8;

/// Estimated cost of one piece of work.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Peak bytes allocated.
    pub bytes: u64,
    /// Seconds of work.
    pub seconds: f64,
}

/// A size refused before any work.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{what} would need ~{} of memory and ~{} (limits {}); {hint}", bytes(.estimate.bytes), seconds(.estimate.seconds), limits())]
pub struct TooLarge {
    /// What was asked, with its values (e.g. "--trials 100000000 of 200 steps").
    pub what: String,
    /// The estimate.
    pub estimate: Estimate,
    /// What to do instead.
    pub hint: String,
}

impl Estimate {
    /// Refuse an absurd size; return a warning line for a merely large one.
    pub fn check(self, what: &str, hint: &str) -> Result<Option<String>, TooLarge> {
        if self.bytes > memory_limit().0 || self.seconds.is_nan() || self.seconds > MAX_SECONDS {
            return Err(TooLarge {
                what: what.into(),
                estimate: self,
                hint: hint.into(),
            });
        }
        Ok(
            (self.bytes > WARN_BYTES || self.seconds > WARN_SECONDS).then(|| {
                format!(
                    "warning: {what}: estimated ~{} of memory and ~{}",
                    bytes(self.bytes),
                    seconds(self.seconds)
                )
            }),
        )
    }
}

/// Saturating product of sizes as `u64`.
pub fn product(factors: &[usize]) -> u64 {
    factors
        .iter()
        .fold(1u64, |a, &f| a.saturating_mul(f as u64))
}

/// The machine's memory (`MemTotal` of `/proc/meminfo`), if it can be read.
pub fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Most bytes a piece of work may plan to use: [`MEMORY_SHARE`] of the machine's memory
/// (or of [`FALLBACK_MEMORY_BYTES`] when it cannot be read), and where that comes from.
pub fn memory_limit() -> (u64, String) {
    let (total, whose, source) = match machine_memory() {
        Some(m) => (m, "this machine's", "/proc/meminfo MemTotal"),
        None => (
            FALLBACK_MEMORY_BYTES,
            "an assumed",
            "/proc/meminfo unreadable",
        ),
    };
    let limit = (total as f64 * MEMORY_SHARE) as u64;
    let why = format!(
        "{:.0} % of {whose} {} ({source})",
        MEMORY_SHARE * 100.0,
        bytes(total)
    );
    (limit, why)
}

/// The refusal limits in words: `18.7 GiB (80 % of this machine's … ) and 24.0 h`.
fn limits() -> String {
    let (limit, why) = memory_limit();
    format!("{}, {why}, and {}", bytes(limit), seconds(MAX_SECONDS))
}

/// Bytes for people: `512 B`, `3.1 MB`, `2.0 GiB`.
pub fn bytes(b: u64) -> String {
    let f = b as f64;
    if f >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", f / (1u64 << 30) as f64)
    } else if f >= 1e6 {
        format!("{:.1} MB", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1} kB", f / 1e3)
    } else {
        format!("{b} B")
    }
}

/// Seconds for people: `4.2 ms`, `38 s`, `12 min`, `3.5 h`, `41 days`.
pub fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 3.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.0} days", s / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_absurd_warns_large_passes_small() {
        let small = Estimate {
            bytes: 1 << 20,
            seconds: 1.0,
        };
        assert_eq!(small.check("x", "h"), Ok(None));
        let slow = Estimate {
            bytes: 1 << 20,
            seconds: 180.0,
        };
        let w = slow.check("--trials 5", "h").unwrap().unwrap();
        assert!(w.contains("--trials 5") && w.contains("3 min"), "{w}");
        let huge = Estimate {
            bytes: 160_000_000_000,
            seconds: 1.0,
        };
        let e = huge.check("--trials 100000000", "use fewer").unwrap_err();
        let t = e.to_string();
        assert!(
            t.contains("--trials 100000000") && t.contains("149.0 GiB"),
            "{t}"
        );
        assert!(Estimate {
            bytes: 0,
            seconds: f64::NAN
        }
        .check("x", "h")
        .is_err());
    }
}
