//! Memory and time a command is about to spend, estimated **before** the work starts.
//!
//! A size that cannot be done (more memory than [`MAX_BYTES`], or longer than
//! [`MAX_SECONDS`]) is refused with the value that caused it named; one that is merely
//! large (over [`WARN_BYTES`] or [`WARN_SECONDS`]) gets a warning with the estimate. The
//! estimates are deliberately rough (one rate for every machine, [`MACS_PER_SECOND`]) and
//! err on the long side. Each module estimates its own work next to the code that does it
//! ([`crate::compare::estimate`], [`crate::quantize::estimate_calibration`]).

/// Refused above this many bytes (2 GiB).
pub const MAX_BYTES: u64 = 2 << 30;
/// Warned above this many bytes (512 MiB).
pub const WARN_BYTES: u64 = 512 << 20;
/// Refused above this many seconds (one day).
pub const MAX_SECONDS: f64 = 24.0 * 3600.0;
/// Warned above this many seconds.
pub const WARN_SECONDS: f64 = 60.0;
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
#[error("{what} would need ~{} of memory and ~{} (limits {} and {}); {hint}", bytes(.estimate.bytes), seconds(.estimate.seconds), bytes(MAX_BYTES), seconds(MAX_SECONDS))]
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
        if self.bytes > MAX_BYTES || self.seconds.is_nan() || self.seconds > MAX_SECONDS {
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

/// `1.5 GiB`, `300 MiB`, `12 KiB`.
pub fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", b / (1u64 << 30) as f64)
    } else if b >= (1u64 << 20) as f64 {
        format!("{:.0} MiB", b / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", b / 1024.0)
    }
}

/// `2.5 h`, `40 s`.
pub fn seconds(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.0} s")
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
            seconds: 120.0,
        };
        let w = slow.check("--trials 5", "h").unwrap().unwrap();
        assert!(w.contains("--trials 5") && w.contains("2.0 min"), "{w}");
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
