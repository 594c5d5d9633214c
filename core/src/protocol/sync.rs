//! The schedule of a `RandomSync` rule ([`Rule::RandomSync`](super::Rule::RandomSync)),
//! written once for the firmware (which drives the pin) and the host (which predicts the
//! pulse train, e.g. to align it with an external recording).
//!
//! Like pyControl's `Rsync`, the intervals between rising edges are pseudo-random so that a
//! stretch of pulses identifies its place in the train unambiguously. Interval `k` (from
//! 0) is `min_ms + x_k mod (max_ms − min_ms + 1)` ms, where `x_k` is the `k`-th output of
//! xorshift32 (shifts 13, 17, 5) started at `seed`. The first rising edge comes one
//! interval after the rule is set.

/// The interval generator of one `RandomSync` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomSync {
    state: u32,
    min_ms: u32,
    span: u64,
}

impl RandomSync {
    /// A generator for `seed` (≠ 0: a zero seed would give `min_ms` forever) and intervals
    /// in `[min_ms, max_ms]` (`max_ms < min_ms` is taken as `max_ms = min_ms`).
    pub const fn new(seed: u32, min_ms: u32, max_ms: u32) -> Self {
        let span = if max_ms > min_ms {
            (max_ms - min_ms) as u64 + 1
        } else {
            1
        };
        RandomSync {
            state: seed,
            min_ms,
            span,
        }
    }

    /// The next xorshift32 output.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }

    /// The next interval between rising edges, ms.
    pub fn next_interval_ms(&mut self) -> u32 {
        let x = self.next_u32() as u64;
        // `span` ≤ 2^32 and the remainder < span, so the sum fits `u32` when max_ms does.
        (self.min_ms as u64 + x % self.span) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xorshift32_known_sequence() {
        // Marsaglia's xorshift32 (13, 17, 5) from 1: 270369, 67634689, 2647435461.
        let mut g = RandomSync::new(1, 0, u32::MAX);
        assert_eq!(
            [g.next_u32(), g.next_u32(), g.next_u32()],
            [270_369, 67_634_689, 2_647_435_461]
        );
    }

    #[test]
    fn intervals_stay_in_range_and_cover_it() {
        let mut g = RandomSync::new(0xC0FFEE, 100, 109);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let v = g.next_interval_ms();
            assert!((100..=109).contains(&v), "{v}");
            seen[(v - 100) as usize] += 1;
        }
        // Uniform: each of the 10 values about 1 000 times.
        assert!(seen.iter().all(|&n| (850..=1150).contains(&n)), "{seen:?}");
        let mut same = RandomSync::new(7, 5, 5);
        assert!((0..100).all(|_| same.next_interval_ms() == 5));
        let mut full = RandomSync::new(7, 0, u32::MAX);
        let mut again = RandomSync::new(7, 0, u32::MAX);
        assert_eq!(full.next_interval_ms(), again.next_u32());
    }
}
