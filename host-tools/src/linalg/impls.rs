//! `impl Real for f32` and `f64`: which kernels each precision runs. f32 (training,
//! evaluation) takes the fastest SIMD path this CPU has ([`super::kernel`]); f64 (the
//! gradient check) runs the portable reference ([`super::portable`]) on `dgemm`.
//!
//! Kept apart from the trait so that the kernels, which are generic over [`Real`], and the
//! trait do not import each other.

use super::kernel;
use super::portable::{bwd_step_ref, fwd_step_ref};
use super::real::{gemm, Real};
use super::step::{BwdStep, FwdStep};

macro_rules! impl_real {
    ($t:ty, $gemm:path, $acc:expr $(, $extra:item)*) => {
        impl Real for $t {
            $($extra)*
            #[inline]
            fn gemm_acc(m: usize, n: usize, k: usize, a: &[Self], b: &[Self], c: &mut [Self]) {
                $acc(m, n, k, a, b, c)
            }
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
    |m, n, k, a, b, c| { kernel::gemm_acc_f32(m, n, k, a, k, b, n, c, n) },
    #[inline]
    fn gemm_tn_acc(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        kernel::gemm_tn_acc_f32(m, n, k, a, b, c)
    },
    #[inline]
    fn fwd_step(st: FwdStep<'_, f32>) {
        kernel::fwd_step_f32(st)
    },
    #[inline]
    fn bwd_step(st: BwdStep<'_, f32>) {
        kernel::bwd_step_f32(st)
    }
);
impl_real!(
    f64,
    matrixmultiply::dgemm,
    |m, n, k, a, b, c| gemm(m, n, k, 1.0, a, false, b, false, 1.0, c),
    #[inline]
    fn fwd_step(st: FwdStep<'_, f64>) {
        fwd_step_ref(st)
    },
    #[inline]
    fn bwd_step(st: BwdStep<'_, f64>) {
        bwd_step_ref(st)
    }
);
