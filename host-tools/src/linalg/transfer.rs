//! The float transfer function `f` and its derivative, written once for every precision
//! ([`Real`]): the trainer, the float reference run ([`crate::model::Effective::run`]),
//! the quantizer's calibration and the SIMD epilogues all call these.
//!
//! | `Transfer` | `f(x)` | `f'(x)` from `x` and `r = f(x)` |
//! |---|---|---|
//! | `Relu` | `max(x, 0)` (0 for NaN) | `1` if `x > 0`, else `0` |
//! | `Tanh` | `tanh x` | `1 − r²` |
//! | `Sigmoid` | `1 / (1 + e^(−x))` | `r·(1 − r)` |
//! | `Identity` | `x` | `1` |

use super::real::Real;
use neuroloop_core::Transfer;

/// `f(x)`.
#[inline(always)]
pub fn apply<T: Real>(tf: Transfer, x: T) -> T {
    match tf {
        Transfer::Relu => {
            if x > T::ZERO {
                x
            } else {
                T::ZERO
            }
        }
        Transfer::Tanh => x.tanh(),
        Transfer::Sigmoid => T::ONE / (T::ONE + (-x).exp()),
        Transfer::Identity => x,
    }
}

/// `f'(x)` from `x` and `r = f(x)`.
#[inline(always)]
pub fn grad<T: Real>(tf: Transfer, x: T, r: T) -> T {
    match tf {
        Transfer::Relu => {
            if x > T::ZERO {
                T::ONE
            } else {
                T::ZERO
            }
        }
        Transfer::Tanh => T::ONE - r * r,
        Transfer::Sigmoid => r * (T::ONE - r),
        Transfer::Identity => T::ONE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_and_grad_match_closed_forms() {
        for x in [-2.0f64, -0.5, 0.0, 0.25, 3.0] {
            assert_eq!(apply(Transfer::Relu, x), x.max(0.0));
            assert_eq!(apply(Transfer::Tanh, x), x.tanh());
            assert_eq!(apply(Transfer::Sigmoid, x), 1.0 / (1.0 + (-x).exp()));
            assert_eq!(apply(Transfer::Identity, x), x);
            for tf in [Transfer::Tanh, Transfer::Sigmoid] {
                let h = 1e-6;
                let num = (apply(tf, x + h) - apply(tf, x - h)) / (2.0 * h);
                assert!((grad(tf, x, apply(tf, x)) - num).abs() < 1e-8, "{tf:?} {x}");
            }
        }
        assert_eq!(apply(Transfer::Relu, f64::NAN), 0.0);
    }
}
