//! The scalar the trainer computes in: `f32` for speed, `f64` for the gradient check.
//!
//! [`Real`] carries the few operations BPTT needs, the per-step products and fused steps
//! on a given [`Kernel`] (each precision picks its kernels in `impls.rs`; f64 has one
//! path and ignores the choice), and [`gemm`], a row-major GEMM
//! on `matrixmultiply`'s `sgemm`/`dgemm` (runtime-detected AVX2/FMA kernels).

use super::isa::Kernel;
use super::step::{BwdStep, FwdStep};
use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A float type the trainer can run in.
pub trait Real:
    Copy
    + Send
    + Sync
    + Default
    + Debug
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Conversion from f64 (rounding for f32).
    fn from_f64(x: f64) -> Self;
    /// Conversion to f64 (exact).
    fn to_f64(self) -> f64;
    /// Conversion from f32.
    fn from_f32(x: f32) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// `tanh x`.
    fn tanh(self) -> Self;
    /// `σ(x)` of a gated cell's gates: f32 the vectorizable [`super::fastmath::sigmoid`]
    /// (a few ulp), f64 exact (`1 / (1 + e⁻ˣ)`, for the gradient check).
    fn gate_sigmoid(self) -> Self;
    /// `tanh x` of a gated cell: f32 [`super::fastmath::tanh`], f64 exact.
    fn gate_tanh(self) -> Self;
    /// `√x`.
    fn sqrt(self) -> Self;
    /// `|x|`.
    fn abs(self) -> Self;
    /// `ln x`.
    fn ln(self) -> Self;
    /// Whether finite.
    fn is_finite(self) -> bool;
    /// `C (m×n) += A (m×k) · B (k×n)`, contiguous row-major: the per-step product.
    #[allow(clippy::too_many_arguments)]
    fn gemm_acc(
        kernel: Kernel,
        m: usize,
        n: usize,
        k: usize,
        a: &[Self],
        b: &[Self],
        c: &mut [Self],
    );
    /// `C (m×n) += Aᵀ·B`, `A` stored k×m, `B` k×n, contiguous (weight gradients).
    #[allow(clippy::too_many_arguments)]
    fn gemm_tn_acc(
        kernel: Kernel,
        m: usize,
        n: usize,
        k: usize,
        a: &[Self],
        b: &[Self],
        c: &mut [Self],
    );
    /// One fused forward time step (see [`FwdStep`]).
    fn fwd_step(kernel: Kernel, st: FwdStep<'_, Self>);
    /// One fused backward time step (see [`BwdStep`]).
    fn bwd_step(kernel: Kernel, st: BwdStep<'_, Self>);
    /// Raw GEMM, see [`gemm`].
    ///
    /// # Safety
    /// The strides and sizes must describe memory inside the given pointers.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

/// Row-major `C (m×n) = alpha · op(A) · op(B) + beta · C`.
///
/// `A` is stored m×k (`ta = false`) or k×m (`ta = true`, used transposed), `B` k×n or n×k;
/// all contiguous. With `beta = 0`, `C` is overwritten. Panics (a bug, not bad input) if a
/// slice is too short.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn gemm<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    alpha: T,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    beta: T,
    c: &mut [T],
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "gemm: slice too short"
    );
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
    // SAFETY: the asserts above bound every index the strides reach.
    unsafe {
        T::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_transposes_match_naive() {
        let (m, n, k) = (3, 4, 5);
        let a: Vec<f64> = (0..m * k).map(|i| i as f64 * 0.5 - 2.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64).sin()).collect();
        let mut want = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                want[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        // Transposed copies.
        let at: Vec<f64> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
        let bt: Vec<f64> = (0..n * k).map(|idx| b[(idx % k) * n + idx / k]).collect();
        for (aa, ta) in [(&a, false), (&at, true)] {
            for (bb, tb) in [(&b, false), (&bt, true)] {
                let mut c = vec![1.0; m * n];
                gemm(m, n, k, 1.0, aa, ta, bb, tb, 0.0, &mut c);
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - y).abs() < 1e-12, "ta={ta} tb={tb}");
                }
            }
        }
    }
}
