//! Branch-free f32 `exp`, `σ` and `tanh` for the gated cells' gates ([`Real::gate_sigmoid`],
//! [`Real::gate_tanh`] of f32): plain multiplies, adds, one division and bit moves, no
//! library call, so the compiler vectorizes the gate loops that call them (on the AVX2 /
//! AVX-512 paths, 8 or 16 lanes at a time). libm's `expf`/`tanhf` are scalar calls and took
//! about a third of a GRU/LSTM training step before.
//!
//! Written by hand (the Cephes `expf`/`tanhf` polynomials, S. L. Moshier, public domain
//! algorithms) because no well-kept crate offers scalar f32 functions that inline and
//! vectorize inside our loops. No fused multiply-add (Rust does not contract `a·b + c`),
//! so every path (portable, AVX2, AVX-512) gets the same bits: training stays
//! deterministic across kernels. NaN propagates (the clamps are written as comparisons
//! that let NaN through), so a diverging run is still caught by the trainer's finiteness
//! checks. Accuracy against f64 is tested below (`exp` and `σ` relative, `tanh` relative).
//!
//! [`Real::gate_sigmoid`]: super::Real::gate_sigmoid
//! [`Real::gate_tanh`]: super::Real::gate_tanh

/// Round-to-nearest shifter: `v + 1.5·2²³ − 1.5·2²³` is `v` rounded (|v| < 2²²).
const SHIFT: f32 = 12_582_912.0;
/// exp's input is clamped to `[LO, HI]` so that `2ⁿ` stays a normal f32.
const HI: f32 = 88.0;
const LO: f32 = -87.0;

/// `eˣ` (relative error below 10⁻⁷ on `[−87, 88]`; clamped outside, NaN stays NaN).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = if x > HI { HI } else { x };
    let x = if x < LO { LO } else { x };
    // n = round(x / ln 2); r = x − n·ln 2 in two parts (Cody–Waite).
    let t = x * std::f32::consts::LOG2_E + SHIFT;
    let n = t - SHIFT;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let y = p * r2 + r + 1.0;
    // 2ⁿ from the shifter's low mantissa bits (n in −126 … 127).
    let ni = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
    y * f32::from_bits((ni.wrapping_add(127) as u32) << 23)
}

/// `σ(x) = 1 / (1 + e⁻ˣ)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x`: Cephes' odd polynomial below |x| = 0.625, `1 − 2/(e^{2|x|} + 1)` above.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let ax = f32::from_bits(x.to_bits() & 0x7FFF_FFFF);
    let z = x * x;
    let small =
        ((((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
            - 3.333_328e-1)
            * z
            * x
            + x;
    let big = 1.0 - 2.0 / (exp(2.0 * ax) + 1.0);
    let big = f32::from_bits(big.to_bits() | (x.to_bits() & 0x8000_0000));
    if ax < 0.625 {
        small
    } else {
        big
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error of `f` against `g` (f64) over a dense grid of `[lo, hi]`.
    fn worst(f: fn(f32) -> f32, g: fn(f64) -> f64, lo: f32, hi: f32) -> f64 {
        let steps = 200_000;
        (0..=steps)
            .map(|k| lo + (hi - lo) * k as f32 / steps as f32)
            .map(|x| {
                let want = g(x as f64);
                ((f(x) as f64 - want) / want).abs()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn exp_sigmoid_tanh_match_f64_to_a_few_ulp() {
        // Measured: exp 7.8e-8, σ 1.4e-7, tanh 1.4e-7 (an f32 ulp is 6e-8 … 1.2e-7).
        let e = worst(exp, f64::exp, -87.0, 88.0);
        assert!(e < 1e-7, "exp {e:e}");
        let s = worst(sigmoid, |x| 1.0 / (1.0 + (-x).exp()), -80.0, 40.0);
        assert!(s < 2e-7, "sigmoid {s:e}");
        let t = worst(tanh, f64::tanh, -20.0, 20.0);
        assert!(t < 2e-7, "tanh {t:e}");
        // Tiny arguments stay exact to relative precision (no 1 − x cancellation).
        for x in [1e-30f32, -3e-8, 1e-4, -0.01, 0.6249] {
            let r = ((tanh(x) as f64 - (x as f64).tanh()) / (x as f64).tanh()).abs();
            assert!(r < 1e-7, "tanh({x}) {r:e}");
        }
    }

    #[test]
    fn limits_and_nan() {
        assert_eq!(sigmoid(200.0), 1.0);
        assert!(sigmoid(-200.0) > 0.0 && sigmoid(-200.0) < 1e-37);
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
        assert_eq!(tanh(0.0), 0.0);
        assert!(exp(f32::NAN).is_nan());
        assert!(sigmoid(f32::NAN).is_nan());
        assert!(tanh(f32::NAN).is_nan());
        assert!(exp(f32::INFINITY).is_finite());
    }
}
