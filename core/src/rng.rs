//! Seeded integer noise, identical on host and device.
//!
//! `xorshift32` (Marsaglia, shifts 13/17/5) drives an approximately Gaussian sample: the
//! sum of four uniform 16-bit draws minus their mean (Irwin–Hall, n = 4), so
//! `gauss_s32` returns values in `[-131072, 131068]` with mean 0 and standard deviation
//! [`GAUSS_STD`] ≈ 37837. The recurrent-noise term of a cell scales it by the blob's
//! `noise_mul` (see [`crate::blob`]).
//!
//! ```
//! use neuroloop_core::rng::Rng;
//! let mut a = Rng::new(42);
//! let mut b = Rng::new(42);
//! assert_eq!(a.gauss_s32(), b.gauss_s32());
//! ```

/// Standard deviation of [`Rng::gauss_s32`]: `65536 · sqrt(4/12)`.
pub const GAUSS_STD: f64 = 37837.23;

/// A `xorshift32` generator. Seed 0 is replaced by a fixed non-zero constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rng(u32);

impl Rng {
    /// A generator started from `seed`.
    pub const fn new(seed: u32) -> Self {
        Rng(if seed == 0 { 0x9E37_79B9 } else { seed })
    }

    /// The next 32 random bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// An approximately Gaussian integer with mean 0 and std [`GAUSS_STD`].
    #[inline]
    pub fn gauss_s32(&mut self) -> i32 {
        let a = self.next_u32();
        let b = self.next_u32();
        let sum = (a & 0xFFFF) + (a >> 16) + (b & 0xFFFF) + (b >> 16);
        sum as i32 - 2 * 65536
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_has_stated_mean_and_std() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let (mut s, mut s2) = (0f64, 0f64);
        for _ in 0..n {
            let v = r.gauss_s32() as f64;
            s += v;
            s2 += v * v;
        }
        let mean = s / n as f64;
        let std = (s2 / n as f64 - mean * mean).sqrt();
        assert!(mean.abs() < 500.0, "mean {mean}");
        assert!((std / GAUSS_STD - 1.0).abs() < 0.01, "std {std}");
    }

    #[test]
    fn zero_seed_is_not_stuck() {
        let mut r = Rng::new(0);
        assert_ne!(r.next_u32(), 0);
    }
}
