//! [`Uptime`]: the board's wrapping `u32` clock extended to device time in µs since boot.
//!
//! Every board has a free-running counter ([`Ticker::now`](crate::Ticker::now)) that wraps
//! (QEMU: 25 MHz, every 172 s; Pico: 1 MHz, every 71 min). The app reads it on every poll,
//! far more often than once a wrap, and accumulates the differences in a `u64`.

/// Clocks since boot, from a wrapping counter read at least once per wrap.
#[derive(Clone, Copy, Debug)]
pub struct Uptime {
    clock_hz: u32,
    last: u32,
    clocks: u64,
}

impl Uptime {
    /// Start counting at the counter value `now` (device time 0).
    pub const fn new(clock_hz: u32, now: u32) -> Self {
        Uptime {
            clock_hz,
            last: now,
            clocks: 0,
        }
    }

    /// Advance to the counter value `now`; returns the device time in µs. A counter that
    /// reads as going back (by less than half its range) is ignored until it passes its
    /// last value again, so device time never runs backwards.
    pub fn update(&mut self, now: u32) -> u64 {
        let d = now.wrapping_sub(self.last);
        if d < 1 << 31 {
            self.clocks = self.clocks.wrapping_add(d as u64);
            self.last = now;
        }
        self.us()
    }

    /// Device time of the last update, µs since boot (exact, rounded down).
    pub fn us(&self) -> u64 {
        clocks_to_us(self.clocks, self.clock_hz)
    }
}

/// `clocks` at `hz` in whole µs, without overflow for any `u64` clock count.
pub fn clocks_to_us(clocks: u64, hz: u32) -> u64 {
    let hz = hz.max(1) as u64;
    // The remainder is < hz < 2^32, so `rem · 10^6` < 2^52: no overflow.
    (clocks / hz) * 1_000_000 + (clocks % hz) * 1_000_000 / hz
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extends_across_wraps_and_converts_exactly() {
        let mut u = Uptime::new(25_000_000, u32::MAX - 10);
        assert_eq!(u.update(u32::MAX - 10), 0);
        // 25 clocks later, across the wrap: 1 µs.
        assert_eq!(u.update(14), 1);
        for _ in 0..300 {
            let next = u.last.wrapping_add(u32::MAX / 2 - 1);
            u.update(next);
        }
        assert_eq!(u.clocks, 25 + 300 * (u32::MAX / 2 - 1) as u64);
        let before = u.clocks;
        u.update(u.last.wrapping_sub(3));
        assert_eq!(u.clocks, before, "a counter read going back is ignored");
        assert_eq!(clocks_to_us(u64::MAX, 1_000_000), u64::MAX);
        assert_eq!(clocks_to_us(25_000_000 * 3 + 24, 25_000_000), 3_000_000);
        assert_eq!(clocks_to_us(25_000_000 * 3 + 25, 25_000_000), 3_000_001);
    }
}
