//! `neuroloop rig align DIR --sync-times FILE`: fit the device clock to an external clock
//! (ephys, imaging) from sync pulses.
//!
//! The device's pulse times are the rising edges of a `sync` rule in `events.tsv` (in µs
//! of device time; from `device_us`, or `tick / rate` for a timer run on a device without
//! timestamps). The external times (seconds, one per line) are those edges as the other
//! system recorded them. The two lists need not start or end together: they are matched
//! by their interval pattern (the shift whose inter-pulse intervals agree best, which is
//! why pulse intervals should be irregular), then `external = offset + slope · device` is
//! fitted by least squares. Drift is `slope − 1`, in ppm; residuals are reported.

use std::path::Path;

use super::RigError;

/// A fitted clock relation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fit {
    /// Pulses matched.
    pub matched: usize,
    /// Index in the external list of device pulse 0 (negative: the device list starts
    /// earlier).
    pub shift: i64,
    /// External time at device time 0, s.
    pub offset_s: f64,
    /// External seconds per device second.
    pub slope: f64,
    /// `(slope − 1) · 10⁶`.
    pub drift_ppm: f64,
    /// RMS residual, µs.
    pub rms_residual_us: f64,
    /// Largest absolute residual, µs.
    pub max_residual_us: f64,
    /// Residual of each matched pulse, µs.
    pub residuals_us: Vec<f64>,
}

/// Match `device_s` (device pulse times) and `external_s` by interval pattern and fit.
/// Needs at least 3 matched pulses.
pub fn fit(device_s: &[f64], external_s: &[f64]) -> Result<Fit, String> {
    let (n, m) = (device_s.len(), external_s.len());
    if n < 3 || m < 3 {
        return Err(format!(
            "need at least 3 pulses on each side, have {n} device and {m} external"
        ));
    }
    let di: Vec<f64> = device_s.windows(2).map(|w| w[1] - w[0]).collect();
    let ei: Vec<f64> = external_s.windows(2).map(|w| w[1] - w[0]).collect();
    // Score each shift: mean relative interval mismatch over the overlap (≥ 2 intervals).
    let mut best: Option<(f64, i64, usize)> = None;
    for shift in -(n as i64 - 3)..=(m as i64 - 3) {
        let pairs: Vec<(f64, f64)> = (0..di.len())
            .filter_map(|i| {
                let j = i as i64 + shift;
                (j >= 0 && (j as usize) < ei.len()).then(|| (di[i], ei[j as usize]))
            })
            .collect();
        if pairs.len() < 2 {
            continue;
        }
        let score = pairs
            .iter()
            .map(|(a, b)| ((a - b) / a.abs().max(1e-12)).abs())
            .sum::<f64>()
            / pairs.len() as f64;
        // Among shifts that agree within 0.1 %, the one with the most overlap; otherwise
        // the best agreement.
        let good = |sc: f64| sc < 1e-3;
        let better = match best {
            None => true,
            Some((s, _, k)) => match (good(score), good(s)) {
                (true, true) => pairs.len() > k || (pairs.len() == k && score < s),
                (true, false) => true,
                (false, true) => false,
                (false, false) => score < s,
            },
        };
        if better {
            best = Some((score, shift, pairs.len()));
        }
    }
    let (score, shift, _) = best.ok_or("the pulse lists do not overlap")?;
    if score > 0.01 {
        return Err(format!(
            "no alignment of the pulse intervals agrees within 1 % (best mismatch {:.2} %): are these the same pulses?",
            score * 100.0
        ));
    }
    let pairs: Vec<(f64, f64)> = (0..n)
        .filter_map(|i| {
            let j = i as i64 + shift;
            (j >= 0 && (j as usize) < m).then(|| (device_s[i], external_s[j as usize]))
        })
        .collect();
    let k = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / k;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / k;
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 0.0 {
        return Err("all matched device pulses have the same time".into());
    }
    let slope = sxy / sxx;
    let offset = my - slope * mx;
    let residuals_us: Vec<f64> = pairs
        .iter()
        .map(|p| (p.1 - (offset + slope * p.0)) * 1e6)
        .collect();
    let rms = (residuals_us.iter().map(|r| r * r).sum::<f64>() / k).sqrt();
    let max = residuals_us.iter().fold(0.0f64, |a, r| a.max(r.abs()));
    Ok(Fit {
        matched: pairs.len(),
        shift,
        offset_s: offset,
        slope,
        drift_ppm: (slope - 1.0) * 1e6,
        rms_residual_us: rms,
        max_residual_us: max,
        residuals_us,
    })
}

/// External pulse times: one number (seconds) per line, first column; `#` comments.
pub fn read_times(path: &Path) -> Result<Vec<f64>, RigError> {
    let text = std::fs::read_to_string(path).map_err(RigError::file(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .unwrap_or_default();
        match first.parse::<f64>() {
            Ok(v) if v.is_finite() => out.push(v),
            _ => {
                return Err(RigError::format(
                    path,
                    format!("line {}: {first:?} is not a time in seconds", i + 1),
                ))
            }
        }
    }
    Ok(out)
}

/// Device times (s) of the rising edges of sync rule `rule` in a session folder.
pub fn device_pulses(dir: &Path, rule: Option<u8>) -> Result<Vec<f64>, RigError> {
    use super::session::{ModeInfo, SessionFile};
    use neuroloop_core::protocol::Rule;
    let session = SessionFile::read(dir)?;
    let rule = match rule {
        Some(r) => r,
        None => session
            .stimulus
            .iter()
            .position(|r| matches!(r, Rule::Sync { .. }))
            .ok_or_else(|| {
                RigError::format(
                    dir.join(super::session::FILE),
                    "the session's stimulus map has no sync rule (give --rule N)",
                )
            })? as u8,
    };
    let rate = match &session.mode {
        Some(ModeInfo::Timer { rate_hz, .. }) => Some(f64::from(*rate_hz)),
        _ => None,
    };
    let path = dir.join(super::tables::EVENTS_TSV);
    let text = std::fs::read_to_string(&path).map_err(RigError::file(&path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        let bad = || {
            RigError::format(
                &path,
                format!("line {}: not an events row: {line:?}", i + 1),
            )
        };
        if c.len() < 6 {
            return Err(bad());
        }
        // A parameter change (no rule) is not a pulse.
        if c[3].is_empty() || c[3].parse::<u8>().map_err(|_| bad())? != rule || c[4] != "1" {
            continue;
        }
        let t = if !c[0].is_empty() {
            c[0].parse::<f64>().map_err(|_| bad())? * 1e-6
        } else if let Some(rate) = rate {
            c[2].parse::<f64>().map_err(|_| bad())? / rate
        } else {
            return Err(RigError::format(
                &path,
                "events have no device time (device_us) and the run was not in timer mode: cannot place pulses in device time",
            ));
        };
        out.push(t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random pulse intervals 0.2–1.2 s.
    fn pulses(n: usize) -> Vec<f64> {
        let mut t = 0.5;
        let mut x = 12345u64;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                t += 0.2 + (x >> 33) as f64 / (1u64 << 31) as f64;
                t
            })
            .collect()
    }

    #[test]
    fn fit_recovers_offset_and_drift_with_missing_pulses() {
        let dev = pulses(40);
        let (offset, slope) = (123.456, 1.0 + 37e-6);
        // External starts 5 pulses late and ends 3 early; ±2 µs jitter.
        let ext: Vec<f64> = dev[5..37]
            .iter()
            .enumerate()
            .map(|(i, d)| offset + slope * d + if i % 2 == 0 { 2e-6 } else { -2e-6 })
            .collect();
        let f = fit(&dev, &ext).unwrap();
        assert_eq!((f.matched, f.shift), (32, -5));
        assert!((f.offset_s - offset).abs() < 5e-6, "{f:?}");
        assert!((f.drift_ppm - 37.0).abs() < 0.5, "{f:?}");
        assert!(f.max_residual_us <= 2.5 && f.rms_residual_us > 1.5, "{f:?}");
        // And the other way round: the external list starts earlier.
        let ext2: Vec<f64> = dev.iter().map(|d| offset + slope * d).collect();
        let f2 = fit(&dev[4..], &ext2).unwrap();
        assert_eq!((f2.matched, f2.shift), (36, 4));
    }

    #[test]
    fn unrelated_pulses_are_refused() {
        let dev = pulses(20);
        let ext: Vec<f64> = (0..20).map(|i| i as f64 * 0.7).collect();
        let e = fit(&dev, &ext).unwrap_err();
        assert!(e.contains("no alignment"), "{e}");
        assert!(fit(&dev[..2], &ext).unwrap_err().contains("at least 3"));
    }
}
