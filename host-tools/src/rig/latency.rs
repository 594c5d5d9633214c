//! Round-trip latency: `Ping → Ack` and lockstep `Input → Telemetry`, as percentiles
//! (nearest rank). Harp and Open Ephys users check these first; `rig ping` prints them
//! and `rig run` stores them in `session.json`.

use std::time::Duration;

use neuroloop_core::protocol::{Mode, Streams};

use super::{Client, RigError};

/// Percentiles of a set of round trips, in µs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest.
    pub max_us: f64,
    /// Mean.
    pub mean_us: f64,
}

/// Nearest-rank percentiles of `samples`; `None` if there are none.
pub fn percentiles(samples: &[Duration]) -> Option<Percentiles> {
    if samples.is_empty() {
        return None;
    }
    let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    us.sort_by(f64::total_cmp);
    let n = us.len();
    let rank = |p: f64| us[((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1];
    Some(Percentiles {
        n,
        p50_us: rank(50.0),
        p99_us: rank(99.0),
        max_us: us[n - 1],
        mean_us: us.iter().sum::<f64>() / n as f64,
    })
}

/// Both latencies.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PingReport {
    /// `Ping → Ack`.
    pub ping: Option<Percentiles>,
    /// Lockstep `Input → Telemetry` (zero inputs, outputs only).
    pub lockstep: Option<Percentiles>,
}

/// Measure `count` pings and, if `lockstep`, `count` lockstep steps on zero inputs of
/// `n_in` values (the device is started in lockstep, then stopped and its state reset).
pub fn measure(
    client: &mut Client,
    count: usize,
    lockstep: Option<usize>,
) -> Result<PingReport, RigError> {
    let mut pings = Vec::with_capacity(count);
    for _ in 0..count {
        pings.push(client.ping()?);
    }
    let mut steps = Vec::new();
    if let Some(n_in) = lockstep {
        let streams = Streams {
            every: 1,
            ..Streams::default()
        };
        client.start(Mode::Lockstep, streams)?;
        let zeros = vec![0i16; n_in];
        for k in 0..count {
            let t0 = std::time::Instant::now();
            client.step(k as u32, &zeros)?;
            steps.push(t0.elapsed());
        }
        client.stop()?;
        client.reset_state()?;
    }
    Ok(PingReport {
        ping: percentiles(&pings),
        lockstep: percentiles(&steps),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let p = percentiles(&s).unwrap();
        assert_eq!(
            (p.n, p.p50_us, p.p99_us, p.max_us),
            (100, 50.0, 99.0, 100.0)
        );
        assert_eq!(p.mean_us, 50.5);
        let one = percentiles(&[Duration::from_micros(7)]).unwrap();
        assert_eq!((one.p50_us, one.p99_us, one.max_us), (7.0, 7.0, 7.0));
        assert!(percentiles(&[]).is_none());
    }
}
