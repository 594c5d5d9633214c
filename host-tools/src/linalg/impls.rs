//! `impl Real for f32` and `f64`: which kernels each precision runs. f32 (training,
//! evaluation) runs the chosen [`Kernel`] ([`super::kernel`]); f64 (the gradient check)
//! has one path, the portable reference ([`super::portable`]) on `dgemm`. The gated
//! cells' σ and tanh are [`super::fastmath`]'s in f32 and exact in f64.
//!
//! Kept apart from the trait so that the kernels, which are generic over [`Real`], and the
//! trait do not import each other.

use super::fastmath;
use super::isa::Kernel;
use super::kernel;
use super::portable::{bwd_step_ref, fwd_step_ref};
use super::real::{gemm, Real};
use super::step::{BwdStep, FwdStep};

macro_rules! impl_real {
    ($t:ty, $gemm:path, $sig:expr, $tanh:expr $(, $extra:item)*) => {
        impl Real for $t {
            $($extra)*
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f32(x: f32) -> Self {
                x as $t
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn gate_sigmoid(self) -> Self {
                $sig(self)
            }
            #[inline(always)]
            fn gate_tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
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
            ) {
                // SAFETY: forwarded contract.
                unsafe { $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
        }
    };
}

impl_real!(
    f32,
    matrixmultiply::sgemm,
    fastmath::sigmoid,
    fastmath::tanh,
    #[inline]
    fn gemm_acc(kernel: Kernel, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        kernel::gemm_acc_with(kernel, m, n, k, a, k, b, n, c, n);
    },
    #[inline]
    fn gemm_tn_acc(
        kernel: Kernel,
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
    ) {
        kernel::gemm_tn_acc_with(kernel, m, n, k, a, b, c);
    },
    #[inline]
    fn fwd_step(kernel: Kernel, st: FwdStep<'_, f32>) {
        kernel::fwd_step_with(kernel, st);
    },
    #[inline]
    fn bwd_step(kernel: Kernel, st: BwdStep<'_, f32>) {
        kernel::bwd_step_with(kernel, st);
    }
);
impl_real!(
    f64,
    matrixmultiply::dgemm,
    |x: f64| 1.0 / (1.0 + (-x).exp()),
    f64::tanh,
    #[inline]
    fn gemm_acc(_: Kernel, m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        gemm(m, n, k, 1.0, a, false, b, false, 1.0, c)
    },
    #[inline]
    fn gemm_tn_acc(_: Kernel, m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
        gemm(m, n, k, 1.0, &a[..k * m], true, &b[..k * n], false, 1.0, c)
    },
    #[inline]
    fn fwd_step(_: Kernel, st: FwdStep<'_, f64>) {
        fwd_step_ref(st)
    },
    #[inline]
    fn bwd_step(_: Kernel, st: BwdStep<'_, f64>) {
        bwd_step_ref(st)
    }
);
