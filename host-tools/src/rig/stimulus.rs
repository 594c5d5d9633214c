//! The stimulus map file (`rig stimulus set FILE.toml`): TOML rules → protocol [`Rule`]s.
//!
//! ```toml
//! [[rule]]
//! kind = "pwm"          # duty = clamp((v - lo) / (hi - lo), 0, 1)
//! source = "output:0"   # or "rate:UNIT"
//! channel = 0
//! lo = 0.0              # in the model's units (dequantized); converted with the
//! hi = 1.0              # device's output_frac / rate_frac
//!
//! [[rule]]
//! kind = "ttl"          # high once v >= on, low once v <= off
//! source = "output:1"
//! pin = 0
//! on = 0.6
//! off = 0.4
//!
//! [[rule]]
//! kind = "sync"         # high on every `every`-th step
//! pin = 1
//! every = 100
//!
//! [[rule]]
//! kind = "random_sync"  # pyControl Rsync-like pulses at random intervals in device time,
//! pin = 2               # every edge reported as an event (for `rig align`)
//! seed = 1
//! min_ms = 100          # > pulse_ms
//! max_ms = 1000
//! pulse_ms = 10
//! ```
//!
//! Every error names the file and the key (`rule[1].pin`) with the offending value.
//! Parsed by hand over `toml::Table` so that messages can say exactly that.

use std::path::Path;

use neuroloop_core::fixed::quantize;
use neuroloop_core::protocol::{Rule, Source, MAX_RULES};

use super::RigError;

/// Fractional bits of the values rules read.
#[derive(Clone, Copy, Debug)]
pub struct Fracs {
    /// Of outputs.
    pub output: u8,
    /// Of rates.
    pub rate: u8,
}

/// Read and convert a stimulus map file.
pub fn load(path: &Path, fracs: Fracs) -> Result<Vec<Rule>, RigError> {
    let text = std::fs::read_to_string(path).map_err(RigError::file(path))?;
    parse(&text, fracs).map_err(|reason| RigError::format(path, reason))
}

/// Convert stimulus map TOML; the error names the key.
pub fn parse(text: &str, fracs: Fracs) -> Result<Vec<Rule>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    if let Some(k) = table.keys().find(|k| *k != "rule") {
        return Err(format!("unknown key `{k}` (expected [[rule]] tables)"));
    }
    let Some(rules) = table.get("rule") else {
        return Ok(Vec::new());
    };
    let rules = rules
        .as_array()
        .ok_or("`rule` must be an array of tables ([[rule]])")?;
    if rules.len() > MAX_RULES {
        return Err(format!(
            "{} rules, a device holds at most {MAX_RULES}",
            rules.len()
        ));
    }
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = r
                .as_table()
                .ok_or_else(|| format!("rule[{i}] must be a table"))?;
            rule(i, t, fracs)
        })
        .collect()
}

fn rule(i: usize, t: &toml::Table, fracs: Fracs) -> Result<Rule, String> {
    let key = |k: &str| format!("rule[{i}].{k}");
    let get = |k: &str| t.get(k).ok_or_else(|| format!("{} is missing", key(k)));
    let int = |k: &str, lo: i64, hi: i64| -> Result<i64, String> {
        let v = get(k)?;
        match v.as_integer() {
            Some(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(format!(
                "{} = {v}: expected an integer in {lo}..={hi}",
                key(k)
            )),
        }
    };
    let source = || -> Result<Source, String> {
        let v = get("source")?;
        let s = v.as_str().unwrap_or_default();
        let parsed = match s.split_once(':') {
            Some(("output", n)) => n.parse().ok().map(Source::Output),
            Some(("rate", n)) => n.parse().ok().map(Source::Rate),
            _ => None,
        };
        parsed.ok_or_else(|| {
            format!(
                "{} = {v}: expected \"output:INDEX\" or \"rate:UNIT\"",
                key("source")
            )
        })
    };
    let value = |k: &str, src: Source| -> Result<i16, String> {
        let v = get(k)?;
        let x = v
            .as_float()
            .or_else(|| v.as_integer().map(|n| n as f64))
            .ok_or_else(|| format!("{} = {v}: expected a number", key(k)))?;
        let frac = match src {
            Source::Output(_) => fracs.output,
            Source::Rate(_) => fracs.rate,
        };
        let max = f64::from(i16::MAX) / f64::from(1u32 << frac);
        let min = f64::from(i16::MIN) / f64::from(1u32 << frac);
        if !(min..=max).contains(&x) {
            return Err(format!(
                "{} = {x}: out of the range {min}..={max} of values with {frac} fractional bits",
                key(k)
            ));
        }
        Ok(quantize(x as f32, frac))
    };
    let known: &[&str] = match t.get("kind").and_then(|k| k.as_str()) {
        Some("pwm") => &["kind", "source", "channel", "lo", "hi"],
        Some("ttl") => &["kind", "source", "pin", "on", "off"],
        Some("sync") => &["kind", "pin", "every"],
        Some("random_sync") => &["kind", "pin", "seed", "min_ms", "max_ms", "pulse_ms"],
        _ => {
            return Err(format!(
                "{} = {}: expected \"pwm\", \"ttl\", \"sync\" or \"random_sync\"",
                key("kind"),
                t.get("kind").map_or("(missing)".into(), |v| v.to_string())
            ))
        }
    };
    if let Some(k) = t.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!("{}: unknown key for this kind", key(k)));
    }
    Ok(match t["kind"].as_str() {
        Some("pwm") => {
            let source = source()?;
            let (lo, hi) = (value("lo", source)?, value("hi", source)?);
            if lo == hi {
                return Err(format!("{} and {}: must differ", key("lo"), key("hi")));
            }
            Rule::Pwm {
                source,
                channel: int("channel", 0, 255)? as u8,
                lo,
                hi,
            }
        }
        Some("ttl") => {
            let source = source()?;
            let (on, off) = (value("on", source)?, value("off", source)?);
            if off > on {
                return Err(format!(
                    "{} must not exceed {} (hysteresis)",
                    key("off"),
                    key("on")
                ));
            }
            Rule::Ttl {
                source,
                pin: int("pin", 0, 255)? as u8,
                on,
                off,
            }
        }
        Some("sync") => Rule::Sync {
            pin: int("pin", 0, 255)? as u8,
            every: int("every", 1, u32::MAX.into())? as u32,
        },
        _ => {
            let pulse_ms = int("pulse_ms", 1, u32::MAX.into())? as u32;
            let min_ms = int("min_ms", i64::from(pulse_ms) + 1, u32::MAX.into())? as u32;
            Rule::RandomSync {
                pin: int("pin", 0, 255)? as u8,
                seed: int("seed", 1, u32::MAX.into())? as u32,
                min_ms,
                max_ms: int("max_ms", min_ms.into(), u32::MAX.into())? as u32,
                pulse_ms,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Fracs = Fracs {
        output: 12,
        rate: 10,
    };

    #[test]
    fn parse_every_kind() {
        let r = parse(
            r#"
[[rule]]
kind = "pwm"
source = "output:1"
channel = 2
lo = -0.5
hi = 1
[[rule]]
kind = "ttl"
source = "rate:3"
pin = 0
on = 0.5
off = 0.25
[[rule]]
kind = "sync"
pin = 1
every = 100
[[rule]]
kind = "random_sync"
pin = 2
seed = 7
min_ms = 50
max_ms = 500
pulse_ms = 5
"#,
            F,
        )
        .unwrap();
        assert_eq!(
            r,
            vec![
                Rule::Pwm {
                    source: Source::Output(1),
                    channel: 2,
                    lo: -2048,
                    hi: 4096
                },
                Rule::Ttl {
                    source: Source::Rate(3),
                    pin: 0,
                    on: 512,
                    off: 256
                },
                Rule::Sync { pin: 1, every: 100 },
                Rule::RandomSync {
                    pin: 2,
                    seed: 7,
                    min_ms: 50,
                    max_ms: 500,
                    pulse_ms: 5
                },
            ]
        );
        assert_eq!(parse("", F).unwrap(), vec![]);
    }

    #[test]
    fn errors_name_the_key_and_value() {
        let cases = [
            ("[[rule]]\nkind = \"pwm\"\nsource = \"output:0\"\nchannel = 300\nlo = 0\nhi = 1", "rule[0].channel = 300"),
            ("[[rule]]\nkind = \"sync\"\npin = 1\nevery = 1\n[[rule]]\nkind = \"ttl\"\nsource = \"out:1\"\npin = 0\non = 1\noff = 0", "rule[1].source = \"out:1\""),
            ("[[rule]]\nkind = \"blink\"", "rule[0].kind = \"blink\""),
            ("[[rule]]\nkind = \"sync\"\npin = 1", "rule[0].every is missing"),
            ("[[rule]]\nkind = \"sync\"\npin = 1\nevery = 0", "rule[0].every = 0"),
            ("[[rule]]\nkind = \"sync\"\npin = 1\nevery = 2\ncolour = 3", "rule[0].colour: unknown key"),
            ("[[rule]]\nkind = \"ttl\"\nsource = \"output:0\"\npin = 0\non = 9.0\noff = 0", "rule[0].on = 9: out of the range"),
            ("[[rule]]\nkind = \"ttl\"\nsource = \"output:0\"\npin = 0\non = 0.1\noff = 0.2", "rule[0].off must not exceed rule[0].on"),
            ("[[rules]]\nkind = \"ttl\"", "unknown key `rules`"),
            ("[[rule]]\nkind = \"random_sync\"\npin = 0\nseed = 1\nmin_ms = 5\nmax_ms = 9\npulse_ms = 5", "rule[0].min_ms = 5: expected an integer in 6..="),
        ];
        for (text, want) in cases {
            let e = parse(text, F).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }
}
