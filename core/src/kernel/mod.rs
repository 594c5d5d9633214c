//! Dot-product kernels, named by number format: `dot_<weights>_<activations>_<accumulator>`.
//!
//! Weights arrive as little-endian bytes borrowed straight from the blob (no alignment is
//! assumed, nothing is copied); activations are `i16`.
//!
//! | kernel | portable (every target) | Cortex-M4/M7 DSP (feature `dsp`, `thumbv7em`) | reference |
//! |---|---|---|---|
//! | `dot_s8_s16_s64` | unrolled, `i32` blocks of 256 | `SXTB16` + `PKHBT`/`PKHTB` + `SMLALD` | [`dot_s8_s16_s64_ref`] |
//! | `dot_s16_s16_s64` | unrolled, `i64` | `SMLALD` | [`dot_s16_s16_s64_ref`] |
//!
//! The public functions dispatch at compile time: with feature `dsp` on a target with the
//! Armv7E-M DSP extension (`cfg(neuroloop_arm_dsp)`, set by `core/build.rs`) they run the
//! `asm!` loops in `kernel/arm_dsp.rs`, everywhere else the portable code; [`PATH`] says
//! which. The `_ref` functions are the plain references every path must match bit for
//! bit (host proptests for the portable path; the firmware's kernel self-test and the
//! QEMU end-to-end tests for the DSP path).
//!
//! Overflow contract: the portable `dot_s8_s16_s64` accumulates blocks of 256 products in `i32`
//! (|w·x| ≤ 2^22, so a block stays below 2^30) and widens to `i64`;
//! `dot_s16_s16_s64` accumulates in `i64` (|w·x| ≤ 2^30, 2^33 terms before overflow).
//! The DSP path accumulates both in 64 bits (`SMLALD`). Nothing can wrap for any vector
//! length the blob limits allow.
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

#[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
#[allow(unsafe_code)]
mod arm_dsp;
#[cfg(all(feature = "dsp", neuroloop_arm_dsp))]
use arm_dsp as imp;

/// The portable kernels under the names the public functions call.
#[cfg(not(all(feature = "dsp", neuroloop_arm_dsp)))]
mod imp {
    pub(super) use super::dot_s16_s16_s64_portable as dot_s16_s16_s64;
    pub(super) use super::dot_s8_s16_s64_portable as dot_s8_s16_s64;
}

/// Which implementation the public kernels run in this build: `"arm-dsp"` (feature `dsp`
/// on a Cortex-M4/M7 target) or `"portable"`.
pub const PATH: &str = if cfg!(all(feature = "dsp", neuroloop_arm_dsp)) {
    "arm-dsp"
} else {
    "portable"
};

/// Σ w[k]·x[k] with `i8` weights (one byte each) and `i16` activations, exact in `i64`.
///
/// Bit-identical to [`dot_s8_s16_s64_ref`] for every input, on every path.
#[inline]
pub fn dot_s8_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    imp::dot_s8_s16_s64(w, x)
}

/// Σ w[k]·x[k] with `i16` weights (two little-endian bytes each) and `i16` activations,
/// exact in `i64`.
///
/// Bit-identical to [`dot_s16_s16_s64_ref`] for every input, on every path.
#[inline]
pub fn dot_s16_s16_s64(w: &[u8], x: &[i16]) -> i64 {
    imp::dot_s16_s16_s64(w, x)
}

/// Portable [`dot_s8_s16_s64`]: unrolled by four with two `i32` accumulators per 256-element block (each accumulator
/// sums ≤ 128 products of magnitude ≤ 2^22, so ≤ 2^29), widened to `i64` per block.
#[cfg_attr(all(feature = "dsp", neuroloop_arm_dsp), allow(dead_code))]
#[inline]
fn dot_s8_s16_s64_portable(w: &[u8], x: &[i16]) -> i64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut total = 0i64;
    for (wb, xb) in w.chunks(256).zip(x.chunks(256)) {
        let (mut a0, mut a1) = (0i32, 0i32);
        let mut wc = wb.chunks_exact(4);
        let mut xc = xb.chunks_exact(4);
        for (w4, x4) in (&mut wc).zip(&mut xc) {
            a0 += (w4[0] as i8 as i32) * (x4[0] as i32) + (w4[1] as i8 as i32) * (x4[1] as i32);
            a1 += (w4[2] as i8 as i32) * (x4[2] as i32) + (w4[3] as i8 as i32) * (x4[3] as i32);
        }
        for (&wk, &xk) in wc.remainder().iter().zip(xc.remainder()) {
            a0 += (wk as i8 as i32) * (xk as i32);
        }
        total += a0 as i64 + a1 as i64;
    }
    total
}

/// Portable [`dot_s16_s16_s64`]: unrolled by two; every product (≤ 2^30) is widened to `i64` before it is added, so no
/// input can overflow.
#[cfg_attr(all(feature = "dsp", neuroloop_arm_dsp), allow(dead_code))]
#[inline]
fn dot_s16_s16_s64_portable(w: &[u8], x: &[i16]) -> i64 {
    let n = (w.len() / 2).min(x.len());
    let (w, x) = (&w[..2 * n], &x[..n]);
    let mut acc = 0i64;
    let mut wc = w.chunks_exact(4);
    let mut xc = x.chunks_exact(2);
    for (w2, x2) in (&mut wc).zip(&mut xc) {
        let w0 = i16::from_le_bytes([w2[0], w2[1]]) as i32;
        let w1 = i16::from_le_bytes([w2[2], w2[3]]) as i32;
        acc += (w0 * x2[0] as i32) as i64 + (w1 * x2[1] as i32) as i64;
    }
    let rest = wc.remainder();
    if let (Some(b), Some(&xk)) = (rest.get(0..2), xc.remainder().first()) {
        acc += (i16::from_le_bytes([b[0], b[1]]) as i32 * xk as i32) as i64;
    }
    acc
}

/// Plain reference for [`dot_s8_s16_s64`]: one `i64` multiply-add per element.
pub fn dot_s8_s16_s64_ref(w: &[u8], x: &[i16]) -> i64 {
    w.iter()
        .zip(x)
        .map(|(&a, &b)| a as i8 as i64 * b as i64)
        .sum()
}

/// Plain reference for [`dot_s16_s16_s64`].
pub fn dot_s16_s16_s64_ref(w: &[u8], x: &[i16]) -> i64 {
    w.chunks_exact(2)
        .zip(x)
        .map(|(a, &b)| i16::from_le_bytes([a[0], a[1]]) as i64 * b as i64)
        .sum()
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
        fn kernels_match_their_references_on_any_lengths(
            w in proptest::collection::vec(any::<u8>(), 0..700),
            x in proptest::collection::vec(any::<i16>(), 0..700),
        ) {
            prop_assert_eq!(dot_s8_s16_s64(&w, &x), dot_s8_s16_s64_ref(&w, &x));
            prop_assert_eq!(dot_s16_s16_s64(&w, &x), dot_s16_s16_s64_ref(&w, &x));
        }
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
