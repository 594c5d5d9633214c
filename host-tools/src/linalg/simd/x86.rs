//! x86-64 vectors: [`Z`] (16 lanes, AVX-512F) and [`Y`] (8 lanes, AVX2 + FMA), and the
//! drivers compiled for each ISA ([`drive_avx512`], [`drive_avx2`]). The caller checks the
//! CPU features first (see [`crate::linalg::kernel::Kernel`]).

use super::{drive, Epi, RawSrc, Simd};
use std::arch::x86_64::*;

/// 16 lanes for AVX-512, in plain Rust that LLVM maps onto zmm registers inside the
/// `avx512f` driver (the AVX-512 intrinsics need a newer compiler than the MSRV).
#[derive(Clone, Copy)]
pub struct Z([f32; 16]);

impl Simd for Z {
    const L: usize = 16;
    type Mask = usize;
    #[inline(always)]
    unsafe fn mask(valid: usize) -> usize {
        valid
    }
    #[inline(always)]
    unsafe fn zero() -> Self {
        Z([0.0; 16])
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Z([x; 16])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: caller's contract.
        Z(unsafe { std::ptr::read_unaligned(p as *const [f32; 16]) })
    }
    #[inline(always)]
    unsafe fn load_m(p: *const f32, m: usize) -> Self {
        if m >= 16 {
            // SAFETY: caller's contract.
            return unsafe { Self::load(p) };
        }
        let mut t = [0.0; 16];
        for (l, v) in t.iter_mut().enumerate().take(m) {
            // SAFETY: caller's contract (lanes < m only).
            *v = unsafe { *p.add(l) };
        }
        Z(t)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: caller's contract.
        unsafe { std::ptr::write_unaligned(p as *mut [f32; 16], self.0) }
    }
    #[inline(always)]
    unsafe fn store_m(self, p: *mut f32, m: usize) {
        if m >= 16 {
            // SAFETY: caller's contract.
            return unsafe { self.store(p) };
        }
        for (l, &v) in self.0.iter().enumerate().take(m) {
            // SAFETY: caller's contract (lanes < m only).
            unsafe { *p.add(l) = v };
        }
    }
    #[inline(always)]
    unsafe fn fma(self, a: Self, b: Self) -> Self {
        Z(std::array::from_fn(|l| a.0[l].mul_add(b.0[l], self.0[l])))
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        Z(std::array::from_fn(|l| self.0[l] + o.0[l]))
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        Z(std::array::from_fn(|l| self.0[l] - o.0[l]))
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        Z(std::array::from_fn(|l| self.0[l] * o.0[l]))
    }
    #[inline(always)]
    unsafe fn max0(self) -> Self {
        Z(self.0.map(|x| if x > 0.0 { x } else { 0.0 }))
    }
    #[inline(always)]
    unsafe fn pos(self) -> Self {
        Z(self.0.map(|x| if x > 0.0 { 1.0 } else { 0.0 }))
    }
}

#[derive(Clone, Copy)]
pub struct Y(__m256);

impl Simd for Y {
    const L: usize = 8;
    type Mask = __m256i;
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __m256i {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(valid as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
    #[inline(always)]
    unsafe fn zero() -> Self {
        Y(_mm256_setzero_ps())
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        Y(_mm256_set1_ps(x))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: caller's contract.
        Y(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_m(p: *const f32, m: __m256i) -> Self {
        // SAFETY: caller's contract (masked lanes are not accessed).
        Y(unsafe { _mm256_maskload_ps(p, m) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: caller's contract.
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_m(self, p: *mut f32, m: __m256i) {
        // SAFETY: caller's contract.
        unsafe { _mm256_maskstore_ps(p, m, self.0) }
    }
    #[inline(always)]
    unsafe fn fma(self, a: Self, b: Self) -> Self {
        Y(_mm256_fmadd_ps(a.0, b.0, self.0))
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        Y(_mm256_add_ps(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        Y(_mm256_sub_ps(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        Y(_mm256_mul_ps(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn max0(self) -> Self {
        Y(_mm256_max_ps(self.0, _mm256_setzero_ps()))
    }
    #[inline(always)]
    unsafe fn pos(self) -> Self {
        let k = _mm256_cmp_ps::<_CMP_GT_OQ>(self.0, _mm256_setzero_ps());
        Y(_mm256_and_ps(k, _mm256_set1_ps(1.0)))
    }
}

#[target_feature(enable = "avx512f,avx2,fma")]
/// [`drive`] on 16-lane vectors, rows blocks of up to 8.
///
/// # Safety
/// The CPU has AVX-512F and FMA; `srcs` and `e` address valid memory for an `m × n` result.
pub unsafe fn drive_avx512<E: Epi>(m: usize, n: usize, srcs: &[RawSrc], e: &mut E) {
    // SAFETY: forwarded.
    unsafe { drive::<Z, E, 8>(m, n, srcs, e) }
}

#[target_feature(enable = "avx2,fma")]
/// [`drive`] on 8-lane AVX vectors, row blocks of up to 6.
///
/// # Safety
/// The CPU has AVX2 and FMA; as [`drive_avx512`] otherwise.
pub unsafe fn drive_avx2<E: Epi>(m: usize, n: usize, srcs: &[RawSrc], e: &mut E) {
    // SAFETY: forwarded.
    unsafe { drive::<Y, E, 6>(m, n, srcs, e) }
}
