//! Fixed-point helpers: rounding shifts, saturation, float ↔ fixed conversion.
//!
//! A value `v` stored with `frac` fractional bits means `v / 2^frac` (Q-format). All
//! arithmetic here rounds to nearest (ties toward +∞, i.e. add half then shift
//! arithmetically) and **saturates, never wraps**.
//!
//! ```
//! use neuroloop_core::fixed::{shift_round, sat_i16, quantize, dequantize};
//! assert_eq!(shift_round(5, 1), 3);      // 2.5 → 3
//! assert_eq!(shift_round(-5, 1), -2);    // -2.5 → -2
//! assert_eq!(shift_round(3, -2), 12);    // negative shift = left shift
//! assert_eq!(sat_i16(70_000), i16::MAX);
//! assert_eq!(quantize(0.5, 12), 2048);
//! assert_eq!(dequantize(2048, 12), 0.5);
//! ```

/// Arithmetic shift right by `sh` with round-to-nearest (ties toward +∞); a negative `sh`
/// shifts left, saturating at the `i64` range. Shifts are clamped to 63 bits.
#[inline]
pub fn shift_round(v: i64, sh: i32) -> i64 {
    if sh > 0 {
        let sh = sh.min(63) as u32;
        v.saturating_add(1i64 << (sh - 1)) >> sh
    } else if sh < 0 {
        let sh = (-sh).min(62) as u32;
        v.saturating_mul(1i64 << sh)
    } else {
        v
    }
}

/// Clamp to the `i16` range.
#[inline]
pub fn sat_i16(v: i64) -> i16 {
    v.clamp(i16::MIN as i64, i16::MAX as i64) as i16
}

/// Clamp to the `i32` range.
#[inline]
pub fn sat_i32(v: i64) -> i32 {
    v.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Round a float to the nearest integer as `i64` (ties away from zero), saturating;
/// NaN maps to 0. Works without `std`/`libm`.
#[inline]
pub fn round_f64(v: f64) -> i64 {
    if v.is_nan() {
        0
    } else if v >= 0.0 {
        (v + 0.5) as i64
    } else {
        (v - 0.5) as i64
    }
}

/// `2^e` as `f64` for `e` in `-126..=126` without `std` (used for scales).
#[inline]
pub fn pow2(e: i32) -> f64 {
    let e = e.clamp(-1022, 1023);
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// Float → `i16` with `frac` fractional bits, rounded to nearest and saturated.
#[inline]
pub fn quantize(v: f32, frac: u8) -> i16 {
    sat_i16(round_f64(v as f64 * pow2(frac as i32)))
}

/// [`quantize`] element-wise into `out` (pairs up to the shorter length): how float
/// inputs become a model's inputs (`Model::quantize_inputs`, the rig client).
pub fn quantize_slice(x: &[f32], frac: u8, out: &mut [i16]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = quantize(v, frac);
    }
}

/// `i16` (or any integer) with `frac` fractional bits → float.
#[inline]
pub fn dequantize(v: i32, frac: u8) -> f32 {
    (v as f64 * pow2(-(frac as i32))) as f32
}

/// [`shift_round`] of a dot product, equal to it for every `|v| < 2^62` (the kernels'
/// sums are below 2^41: ≤ 1024 products of magnitude ≤ 2^30): there the rounding add of a
/// right shift cannot saturate, and `(v + 2^(sh−1)) >> sh = ((v >> (sh−1)) + 1) >> 1`
/// needs no 64-bit constant.
#[inline(always)]
pub(crate) fn rs_dot(v: i64, sh: i32) -> i64 {
    if sh > 0 && sh < 63 {
        ((v >> (sh - 1)) + 1) >> 1
    } else {
        shift_round(v, sh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_round_matches_float_rounding() {
        for v in -1000i64..1000 {
            for sh in 1..8 {
                let exact = v as f64 / (1u64 << sh) as f64;
                let want = (exact + 0.5).floor() as i64;
                assert_eq!(shift_round(v, sh), want, "v={v} sh={sh}");
            }
        }
    }

    #[test]
    fn shift_round_saturates_instead_of_wrapping() {
        assert_eq!(shift_round(i64::MAX, 1), i64::MAX >> 1);
        assert_eq!(shift_round(i64::MAX / 2, -8), i64::MAX);
        assert_eq!(shift_round(i64::MIN / 2, -8), i64::MIN);
        assert_eq!(shift_round(-1, 200), 0);
    }

    #[test]
    fn quantize_saturates_and_rounds() {
        assert_eq!(quantize(100.0, 12), i16::MAX);
        assert_eq!(quantize(-100.0, 12), i16::MIN);
        assert_eq!(quantize(f32::NAN, 12), 0);
        assert_eq!(quantize(1.0 / 4096.0 * 2.6, 12), 3);
        assert_eq!(quantize(-1.0 / 4096.0 * 2.6, 12), -3);
    }

    #[test]
    fn pow2_is_exact() {
        for e in -60..60 {
            assert_eq!(pow2(e), 2f64.powi(e));
        }
    }
}
