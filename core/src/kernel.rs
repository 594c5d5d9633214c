//! Dot-product kernels, named by number format: `dot_<weights>_<activations>_<accumulator>`.
//!
//! Weights arrive as little-endian bytes borrowed straight from the blob (no alignment is
//! assumed, nothing is copied); activations are `i16`. These are the plain reference
//! implementations: they always build, on every target, and any optimised path added
//! later must be checked bit-exact against them.
//!
//! Overflow contract: `dot_s8_s16_s64` accumulates blocks of 256 products in `i32`
//! (|w·x| ≤ 2^22, so a block stays below 2^30) and widens to `i64`;
//! `dot_s16_s16_s64` accumulates in `i64` (|w·x| ≤ 2^30, 2^33 terms before overflow).
//! Neither can wrap for any vector length the blob limits allow.
//!
//! If the lengths disagree the extra elements are ignored (never a panic); callers pass
//! validated lengths.
//!
//! ```
//! use neuroloop_core::kernel::{dot_s8_s16_s64, dot_s16_s16_s64};
//! let w8 = [2i8 as u8, (-3i8) as u8];
//! assert_eq!(dot_s8_s16_s64(&w8, &[10, 20]), 2 * 10 - 3 * 20);
//! let w16: Vec<u8> = [300i16, -400].iter().flat_map(|w| w.to_le_bytes()).collect();
//! assert_eq!(dot_s16_s16_s64(&w16, &[10, 20]), 300 * 10 - 400 * 20);
//! ```

/// Σ w[k]·x[k] with `i8` weights (one byte each) and `i16` activations.
#[inline]
pub fn dot_s8_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    let mut total = 0i64;
    for (wb, xb) in w.chunks(256).zip(x.chunks(256)) {
        let mut acc = 0i32;
        for (&wk, &xk) in wb.iter().zip(xb) {
            acc += (wk as i8 as i32) * (xk as i32);
        }
        total += acc as i64;
    }
    total
}

/// Σ w[k]·x[k] with `i16` weights (two little-endian bytes each) and `i16` activations.
#[inline]
pub fn dot_s16_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    let mut acc = 0i64;
    for (wk, &xk) in w.chunks_exact(2).zip(x) {
        let wk = i16::from_le_bytes([wk[0], wk[1]]);
        acc += (wk as i32 * xk as i32) as i64;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(w: &[i64], x: &[i16]) -> i64 {
        w.iter().zip(x).map(|(&a, &b)| a * b as i64).sum()
    }

    proptest! {
        #[test]
        fn dot_s8_matches_reference(pairs in proptest::collection::vec((any::<i8>(), any::<i16>()), 0..1100)) {
            let w: Vec<u8> = pairs.iter().map(|p| p.0 as u8).collect();
            let x: Vec<i16> = pairs.iter().map(|p| p.1).collect();
            let wi: Vec<i64> = pairs.iter().map(|p| p.0 as i64).collect();
            prop_assert_eq!(dot_s8_s16_s64(&w, &x), reference(&wi, &x));
        }

        #[test]
        fn dot_s16_matches_reference(pairs in proptest::collection::vec((any::<i16>(), any::<i16>()), 0..1100)) {
            let w: Vec<u8> = pairs.iter().flat_map(|p| p.0.to_le_bytes()).collect();
            let x: Vec<i16> = pairs.iter().map(|p| p.1).collect();
            let wi: Vec<i64> = pairs.iter().map(|p| p.0 as i64).collect();
            prop_assert_eq!(dot_s16_s16_s64(&w, &x), reference(&wi, &x));
        }
    }

    #[test]
    fn dot_extremes_do_not_overflow() {
        let n = 1024;
        let w8 = vec![i8::MIN as u8; n];
        let x = vec![i16::MIN; n];
        assert_eq!(dot_s8_s16_s64(&w8, &x), n as i64 * (1 << 22));
        let w16: Vec<u8> = (0..n).flat_map(|_| i16::MIN.to_le_bytes()).collect();
        assert_eq!(dot_s16_s16_s64(&w16, &x), n as i64 * (1 << 30));
    }
}
