//! The per-step work of BPTT for the small shapes of one time step (m = trials per worker,
//! k = n = units), and a plain `C (m×n) += A (m×k) · B (k×n)` (row-major, leading
//! dimensions given). No packing: `B` (a weight matrix, ≤ 256 KiB for N ≤ 256) stays in
//! L1/L2 for the whole trial, and register tiles of `R × 2` vectors accumulate over `k`.
//!
//! The step kernels are fused: one pass computes the products of a time step (forward
//! `b_rec + x·W_inᵀ + r·W_recᵀ`, backward `frc·r + dy·W_out + (αδ)·W_rec`) in registers and
//! applies the element-wise update (leak, noise, transfer function or its derivative) in
//! the tile's epilogue, so a step touches each state element once.
//!
//! Compiled twice with explicit SIMD and picked at run time: AVX-512 (tiles of up to 8 rows
//! × 32 columns) and AVX2 + FMA (6 × 16); the last column strip uses masked loads and
//! stores, so nothing is read or written past column `n`. Portable Rust is the reference
//! (also used for f64 and on other CPUs).

use super::net::{act, act_grad};
use super::real::Real;
use crate::model::Transfer;

/// `C += A·B`, f32, fastest kernel this CPU has.
#[allow(clippy::too_many_arguments)]
pub fn gemm_acc_f32(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    check(m, n, k, a.len(), lda, b.len(), ldb, c.len(), ldc);
    if m == 0 || n == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let src = [RawSrc {
            a: a.as_ptr(),
            rsa: lda,
            csa: 1,
            b: b.as_ptr(),
            ldb,
            k,
        }];
        let mut e = PlainEpi {
            c: c.as_mut_ptr(),
            ldc,
        };
        if !b_slack_ok(b.len(), k, ldb, n) {
            return body::<4, false>(m, n, k, a, lda, b, ldb, c, ldc);
        }
        if has_avx512() {
            // SAFETY: features detected; `check` and `b_slack_ok` bound every index the
            // kernel touches (C is read and written masked, never past column `n`).
            return unsafe { drive_avx512(m, n, &src, &mut e) };
        }
        if has_avx2() {
            // SAFETY: as above.
            return unsafe { drive_avx2(m, n, &src, &mut e) };
        }
    }
    body::<4, false>(m, n, k, a, lda, b, ldb, c, ldc)
}

/// `C (m×n) += Aᵀ·B` for `A` stored `k×m` and `B` stored `k×n` (contiguous row-major),
/// f32: the weight-gradient products, summed over all `T × trials` rows. SIMD tiles read
/// `A`'s rows in place (no packing, no transposed copy) in chunks of rows that stay in
/// cache; the sum runs in a fixed order, so results are reproducible.
pub fn gemm_tn_acc_f32(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= k * m && b.len() >= k * n && c.len() >= m * n,
        "gemm_tn_acc: slice too short"
    );
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if (has_avx512() || has_avx2()) && b_slack_ok(b.len(), k, n, n) {
            let kc = (16384 / (m + n)).clamp(16, 1024);
            let mut e = PlainEpi {
                c: c.as_mut_ptr(),
                ldc: n,
            };
            let mut p0 = 0;
            while p0 < k {
                let kk = kc.min(k - p0);
                let src = [RawSrc {
                    // SAFETY (both): row p0 < k of a k-row matrix.
                    a: unsafe { a.as_ptr().add(p0 * m) },
                    rsa: 1,
                    csa: m,
                    b: unsafe { b.as_ptr().add(p0 * n) },
                    ldb: n,
                    k: kk,
                }];
                // SAFETY: features detected; the asserts bound A and C, `b_slack_ok` the
                // full-vector reads of B (C's last strip is masked).
                unsafe {
                    if has_avx512() {
                        drive_avx512(m, n, &src, &mut e)
                    } else {
                        drive_avx2(m, n, &src, &mut e)
                    }
                }
                p0 += kk;
            }
            return;
        }
    }
    super::real::gemm(m, n, k, 1.0, &a[..k * m], true, &b[..k * n], false, 1.0, c)
}

/// Portable reference of [`gemm_acc_f32`] (separate multiply and add).
#[allow(clippy::too_many_arguments)]
pub fn gemm_acc_ref(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    check(m, n, k, a.len(), lda, b.len(), ldb, c.len(), ldc);
    body::<4, false>(m, n, k, a, lda, b, ldb, c, ldc)
}

#[allow(clippy::too_many_arguments)]
fn check(
    m: usize,
    n: usize,
    k: usize,
    la: usize,
    lda: usize,
    lb: usize,
    ldb: usize,
    lc: usize,
    ldc: usize,
) {
    let ok = |rows: usize, cols: usize, ld: usize, len: usize| {
        rows == 0 || cols == 0 || (ld >= cols && (rows - 1) * ld + cols <= len)
    };
    assert!(
        ok(m, k, lda, la) && ok(k, n, ldb, lb) && ok(m, n, ldc, lc),
        "gemm_acc: bad shape"
    );
}

#[inline(always)]
fn fmadd<const FMA: bool>(acc: f32, a: f32, b: f32) -> f32 {
    if FMA {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// One `R × W` tile at rows `i..i+R`, columns `j..j+W`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<const R: usize, const W: usize, const FMA: bool>(
    i: usize,
    j: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    let mut acc = [[0.0f32; W]; R];
    for (r, row) in acc.iter_mut().enumerate() {
        row.copy_from_slice(&c[(i + r) * ldc + j..(i + r) * ldc + j + W]);
    }
    let arows: [&[f32]; R] = std::array::from_fn(|r| &a[(i + r) * lda..(i + r) * lda + k]);
    for p in 0..k {
        let brow: &[f32; W] = b[p * ldb + j..p * ldb + j + W]
            .try_into()
            .expect("W columns");
        for r in 0..R {
            let av = arows[r][p];
            for q in 0..W {
                acc[r][q] = fmadd::<FMA>(acc[r][q], av, brow[q]);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        c[(i + r) * ldc + j..(i + r) * ldc + j + W].copy_from_slice(row);
    }
}

/// All columns of rows `i..i+R`: 16-wide tiles, then 8-wide, then scalar.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows<const R: usize, const FMA: bool>(
    i: usize,
    n: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    let mut j = 0;
    while j + 16 <= n {
        tile::<R, 16, FMA>(i, j, k, a, lda, b, ldb, c, ldc);
        j += 16;
    }
    while j + 8 <= n {
        tile::<R, 8, FMA>(i, j, k, a, lda, b, ldb, c, ldc);
        j += 8;
    }
    while j < n {
        tile::<R, 1, FMA>(i, j, k, a, lda, b, ldb, c, ldc);
        j += 1;
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn body<const MR: usize, const FMA: bool>(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    let mut i = 0;
    while i + MR <= m {
        rows::<MR, FMA>(i, n, k, a, lda, b, ldb, c, ldc);
        i += MR;
    }
    while i + 2 <= m {
        rows::<2, FMA>(i, n, k, a, lda, b, ldb, c, ldc);
        i += 2;
    }
    while i < m {
        rows::<1, FMA>(i, n, k, a, lda, b, ldb, c, ldc);
        i += 1;
    }
}

// ---------------------------------------------------------------------------------------
// Fused BPTT steps.

/// One forward time step of a chunk of `m` trials (row-major, leading dimension = columns):
///
/// ```text
/// s_next = keep·s_prev + α·(b_rec + x·W_inᵀ + r_prev·W_recᵀ) (+ noise),  r_next = f(s_next)
/// ```
pub struct FwdStep<'a, T> {
    /// Trials.
    pub m: usize,
    /// Units.
    pub n: usize,
    /// Inputs.
    pub n_in: usize,
    /// Inputs of this step, m × n_in.
    pub x: &'a [T],
    /// `W_inᵀ`, n_in × n.
    pub w_in_t: &'a [T],
    /// Rates of the previous step, m × n.
    pub r_prev: &'a [T],
    /// `W_recᵀ`, n × n.
    pub w_rec_t: &'a [T],
    /// `b_rec`, n.
    pub b_rec: &'a [T],
    /// States of the previous step, m × n.
    pub s_prev: &'a [T],
    /// Noise to add to the new states, m × n.
    pub noise: Option<&'a [T]>,
    /// New states, m × n.
    pub s_next: &'a mut [T],
    /// New rates, m × n.
    pub r_next: &'a mut [T],
    /// α.
    pub alpha: T,
    /// 1 − α.
    pub keep: T,
    /// Transfer function.
    pub tf: Transfer,
}

/// One backward time step of a chunk of `m` trials:
///
/// ```text
/// g     = frc·r + dy·W_out + dpre·W_rec        (terms present when given / non-zero)
/// delta = keep·delta + f'(s, r) ⊙ g,   dpre_out = α·delta
/// ```
pub struct BwdStep<'a, T> {
    /// Trials.
    pub m: usize,
    /// Units.
    pub n: usize,
    /// Outputs.
    pub n_out: usize,
    /// `α·δ_{t+1}`, m × n.
    pub dpre: Option<&'a [T]>,
    /// `W_rec`, n × n.
    pub w_rec: &'a [T],
    /// Output gradient of this step, m × n_out.
    pub dy: Option<&'a [T]>,
    /// `W_out`, n_out × n.
    pub w_out: &'a [T],
    /// Firing-rate regulariser coefficient (0 = off).
    pub frc: T,
    /// States of this step, m × n.
    pub s: &'a [T],
    /// Rates of this step, m × n.
    pub r: &'a [T],
    /// δ in and out, m × n.
    pub delta: &'a mut [T],
    /// Receives `α·δ`, m × n.
    pub dpre_out: Option<&'a mut [T]>,
    /// Scratch, m × n (used by the reference path).
    pub tmp: &'a mut [T],
    /// α.
    pub alpha: T,
    /// 1 − α (0 for the first step, where `delta` holds zeros).
    pub keep: T,
    /// Transfer function.
    pub tf: Transfer,
}

impl<T> FwdStep<'_, T> {
    fn check(&self) {
        let (m, n, i) = (self.m, self.n, self.n_in);
        assert!(
            self.x.len() >= m * i
                && self.w_in_t.len() >= i * n
                && self.r_prev.len() >= m * n
                && self.w_rec_t.len() >= n * n
                && self.b_rec.len() >= n
                && self.s_prev.len() >= m * n
                && self.noise.is_none_or(|z| z.len() >= m * n)
                && self.s_next.len() >= m * n
                && self.r_next.len() >= m * n,
            "fwd_step: slice too short"
        );
    }
}

impl<T> BwdStep<'_, T> {
    fn check(&self) {
        let (m, n, o) = (self.m, self.n, self.n_out);
        assert!(
            self.dpre.is_none_or(|d| d.len() >= m * n)
                && self.w_rec.len() >= n * n
                && self.dy.is_none_or(|d| d.len() >= m * o)
                && self.w_out.len() >= o * n
                && self.s.len() >= m * n
                && self.r.len() >= m * n
                && self.delta.len() >= m * n
                && self.dpre_out.as_ref().is_none_or(|d| d.len() >= m * n)
                && self.tmp.len() >= m * n,
            "bwd_step: slice too short"
        );
    }
}

/// Reference forward step (any [`Real`]; the f64 path and the portable f32 path).
pub fn fwd_step_ref<T: Real>(st: FwdStep<'_, T>) {
    st.check();
    let (m, n, ni) = (st.m, st.n, st.n_in);
    let s_next = &mut st.s_next[..m * n];
    for row in s_next.chunks_exact_mut(n) {
        row.copy_from_slice(&st.b_rec[..n]);
    }
    if ni > 0 {
        T::gemm_acc(m, n, ni, &st.x[..m * ni], &st.w_in_t[..ni * n], s_next);
    }
    T::gemm_acc(m, n, n, &st.r_prev[..m * n], &st.w_rec_t[..n * n], s_next);
    for k in 0..m * n {
        let mut v = st.keep * st.s_prev[k] + st.alpha * s_next[k];
        if let Some(z) = st.noise {
            v += z[k];
        }
        s_next[k] = v;
        st.r_next[k] = act(st.tf, v);
    }
}

/// Reference backward step (any [`Real`]).
pub fn bwd_step_ref<T: Real>(st: BwdStep<'_, T>) {
    st.check();
    let (m, n, o) = (st.m, st.n, st.n_out);
    let tmp = &mut st.tmp[..m * n];
    if st.frc != T::ZERO {
        for (g, &r) in tmp.iter_mut().zip(st.r) {
            *g = st.frc * r;
        }
    } else {
        tmp.iter_mut().for_each(|v| *v = T::ZERO);
    }
    if let Some(dy) = st.dy {
        if o > 0 {
            T::gemm_acc(m, n, o, &dy[..m * o], &st.w_out[..o * n], tmp);
        }
    }
    if let Some(dp) = st.dpre {
        T::gemm_acc(m, n, n, &dp[..m * n], &st.w_rec[..n * n], tmp);
    }
    let mut out = st.dpre_out;
    for k in 0..m * n {
        let d = st.keep * st.delta[k] + act_grad(st.tf, st.s[k], st.r[k]) * tmp[k];
        st.delta[k] = d;
        if let Some(o) = out.as_deref_mut() {
            o[k] = st.alpha * d;
        }
    }
}

/// Fused forward step, f32: fastest kernel this CPU has.
pub fn fwd_step_f32(st: FwdStep<'_, f32>) {
    st.check();
    #[cfg(target_arch = "x86_64")]
    {
        if st.m > 0
            && st.n > 0
            && (has_avx512() || has_avx2())
            && b_slack_ok(st.w_in_t.len(), st.n_in, st.n, st.n)
            && b_slack_ok(st.w_rec_t.len(), st.n, st.n, st.n)
        {
            let (m, n) = (st.m, st.n);
            let srcs = [
                RawSrc {
                    a: st.x.as_ptr(),
                    rsa: st.n_in,
                    csa: 1,
                    b: st.w_in_t.as_ptr(),
                    ldb: n,
                    k: st.n_in,
                },
                RawSrc {
                    a: st.r_prev.as_ptr(),
                    rsa: n,
                    csa: 1,
                    b: st.w_rec_t.as_ptr(),
                    ldb: n,
                    k: n,
                },
            ];
            let mut e = FwdEpi {
                bias: st.b_rec.as_ptr(),
                s_prev: st.s_prev.as_ptr(),
                noise: st.noise.map_or(std::ptr::null(), |z| z.as_ptr()),
                s_next: st.s_next.as_mut_ptr(),
                r_next: st.r_next.as_mut_ptr(),
                ld: n,
                alpha: st.alpha,
                keep: st.keep,
                tf: st.tf,
            };
            // SAFETY: features detected; `check` bounds every index (m × n outputs, the
            // sources' m × k operands; partial tiles of the outputs are masked) and
            // `b_slack_ok` the full-vector reads of the k × n operands.
            unsafe {
                if has_avx512() {
                    drive_avx512(m, n, &srcs, &mut e)
                } else {
                    drive_avx2(m, n, &srcs, &mut e)
                }
            }
            return;
        }
    }
    fwd_step_ref(st)
}

/// Fused backward step, f32: fastest kernel this CPU has.
pub fn bwd_step_f32(st: BwdStep<'_, f32>) {
    st.check();
    #[cfg(target_arch = "x86_64")]
    {
        if st.m > 0
            && st.n > 0
            && (has_avx512() || has_avx2())
            && (st.dy.is_none() || b_slack_ok(st.w_out.len(), st.n_out, st.n, st.n))
            && (st.dpre.is_none() || b_slack_ok(st.w_rec.len(), st.n, st.n, st.n))
        {
            let (m, n) = (st.m, st.n);
            let mut srcs = [RawSrc::EMPTY; 2];
            let mut ns = 0;
            if let Some(dy) = st.dy {
                srcs[ns] = RawSrc {
                    a: dy.as_ptr(),
                    rsa: st.n_out,
                    csa: 1,
                    b: st.w_out.as_ptr(),
                    ldb: n,
                    k: st.n_out,
                };
                ns += 1;
            }
            if let Some(dp) = st.dpre {
                srcs[ns] = RawSrc {
                    a: dp.as_ptr(),
                    rsa: n,
                    csa: 1,
                    b: st.w_rec.as_ptr(),
                    ldb: n,
                    k: n,
                };
                ns += 1;
            }
            let mut e = BwdEpi {
                s: st.s.as_ptr(),
                r: st.r.as_ptr(),
                delta: st.delta.as_mut_ptr(),
                out: st.dpre_out.map_or(std::ptr::null_mut(), |d| d.as_mut_ptr()),
                ld: n,
                frc: st.frc,
                alpha: st.alpha,
                keep: st.keep,
                tf: st.tf,
            };
            // SAFETY: as in `fwd_step_f32`.
            unsafe {
                if has_avx512() {
                    drive_avx512(m, n, &srcs[..ns], &mut e)
                } else {
                    drive_avx2(m, n, &srcs[..ns], &mut e)
                }
            }
            return;
        }
    }
    bwd_step_ref(st)
}

/// Whether `B` (`k` rows `ldb` apart) may be read in whole 16-lane vectors up to column
/// `n` rounded up to 16, as the SIMD tiles do (the matrices carry slack for this).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn b_slack_ok(b_len: usize, k: usize, ldb: usize, n: usize) -> bool {
    k == 0 || (k - 1) * ldb + n.next_multiple_of(16) <= b_len
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// One product term `A (m×k) · B (k×n)`: `A[i][p] = a[i·rsa + p·csa]`, `B[p][j] = b[p·ldb + j]`.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct RawSrc {
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
    k: usize,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl RawSrc {
    const EMPTY: RawSrc = RawSrc {
        a: std::ptr::null(),
        rsa: 0,
        csa: 0,
        b: std::ptr::null(),
        ldb: 0,
        k: 0,
    };
}

/// A SIMD vector of f32 lanes (the few operations the kernels need).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
trait Simd: Copy {
    const L: usize;
    type Mask: Copy;
    unsafe fn mask(valid: usize) -> Self::Mask;
    unsafe fn zero() -> Self;
    unsafe fn splat(x: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn load_m(p: *const f32, m: Self::Mask) -> Self;
    unsafe fn store(self, p: *mut f32);
    unsafe fn store_m(self, p: *mut f32, m: Self::Mask);
    unsafe fn fma(self, a: Self, b: Self) -> Self;
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn sub(self, o: Self) -> Self;
    unsafe fn mul(self, o: Self) -> Self;
    unsafe fn max0(self) -> Self;
    /// 1 where `self > 0`, else 0.
    unsafe fn pos(self) -> Self;
}

#[inline(always)]
unsafe fn ld<V: Simd, const M: bool>(p: *const f32, m: V::Mask) -> V {
    // SAFETY: caller's contract.
    unsafe {
        if M {
            V::load_m(p, m)
        } else {
            V::load(p)
        }
    }
}

#[inline(always)]
unsafe fn st<V: Simd, const M: bool>(v: V, p: *mut f32, m: V::Mask) {
    // SAFETY: caller's contract.
    unsafe {
        if M {
            v.store_m(p, m)
        } else {
            v.store(p)
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Simd;
    use std::arch::x86_64::*;

    /// 16 lanes for AVX-512, in plain Rust that LLVM maps onto zmm registers inside the
    /// `avx512f` driver (the AVX-512 intrinsics need a newer compiler than the MSRV).
    #[derive(Clone, Copy)]
    pub(super) struct Z([f32; 16]);

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
    pub(super) struct Y(__m256);

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
}

/// What a tile starts from and what it does with its finished accumulators.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
trait Epi {
    /// Initial accumulator of row `i`, columns `j..j+L`.
    unsafe fn init<V: Simd, const M: bool>(&self, i: usize, j: usize, m: V::Mask) -> V;
    /// Consume the accumulator of row `i`, columns `j..j+valid`.
    unsafe fn finish<V: Simd, const M: bool>(
        &mut self,
        i: usize,
        j: usize,
        valid: usize,
        m: V::Mask,
        acc: V,
    );
}

/// `C += Σ A·B`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct PlainEpi {
    c: *mut f32,
    ldc: usize,
}

impl Epi for PlainEpi {
    #[inline(always)]
    unsafe fn init<V: Simd, const M: bool>(&self, i: usize, j: usize, m: V::Mask) -> V {
        // SAFETY: the driver only asks for rows < m and (masked) columns < n.
        unsafe { ld::<V, M>(self.c.add(i * self.ldc + j), m) }
    }
    #[inline(always)]
    unsafe fn finish<V: Simd, const M: bool>(
        &mut self,
        i: usize,
        j: usize,
        _valid: usize,
        m: V::Mask,
        acc: V,
    ) {
        // SAFETY: as above.
        unsafe { st::<V, M>(acc, self.c.add(i * self.ldc + j), m) }
    }
}

/// Forward step epilogue (see [`FwdStep`]).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct FwdEpi {
    bias: *const f32,
    s_prev: *const f32,
    noise: *const f32,
    s_next: *mut f32,
    r_next: *mut f32,
    ld: usize,
    alpha: f32,
    keep: f32,
    tf: Transfer,
}

impl Epi for FwdEpi {
    #[inline(always)]
    unsafe fn init<V: Simd, const M: bool>(&self, _i: usize, j: usize, m: V::Mask) -> V {
        // SAFETY: columns < n (masked).
        unsafe { ld::<V, M>(self.bias.add(j), m) }
    }
    #[inline(always)]
    unsafe fn finish<V: Simd, const M: bool>(
        &mut self,
        i: usize,
        j: usize,
        valid: usize,
        m: V::Mask,
        acc: V,
    ) {
        let o = i * self.ld + j;
        // SAFETY: row < m, columns < n (masked): inside every m × n buffer.
        unsafe {
            let mut s = V::splat(self.keep)
                .mul(ld::<V, M>(self.s_prev.add(o), m))
                .add(V::splat(self.alpha).mul(acc));
            if !self.noise.is_null() {
                s = s.add(ld::<V, M>(self.noise.add(o), m));
            }
            st::<V, M>(s, self.s_next.add(o), m);
            match self.tf {
                Transfer::Relu => st::<V, M>(s.max0(), self.r_next.add(o), m),
                Transfer::Identity => st::<V, M>(s, self.r_next.add(o), m),
                tf => {
                    for l in 0..valid {
                        *self.r_next.add(o + l) = act(tf, *self.s_next.add(o + l));
                    }
                }
            }
        }
    }
}

/// Backward step epilogue (see [`BwdStep`]).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct BwdEpi {
    s: *const f32,
    r: *const f32,
    delta: *mut f32,
    out: *mut f32,
    ld: usize,
    frc: f32,
    alpha: f32,
    keep: f32,
    tf: Transfer,
}

impl Epi for BwdEpi {
    #[inline(always)]
    unsafe fn init<V: Simd, const M: bool>(&self, i: usize, j: usize, m: V::Mask) -> V {
        // SAFETY: row < m, columns < n (masked).
        unsafe {
            if self.frc != 0.0 {
                V::splat(self.frc).mul(ld::<V, M>(self.r.add(i * self.ld + j), m))
            } else {
                V::zero()
            }
        }
    }
    #[inline(always)]
    unsafe fn finish<V: Simd, const M: bool>(
        &mut self,
        i: usize,
        j: usize,
        _valid: usize,
        m: V::Mask,
        acc: V,
    ) {
        let o = i * self.ld + j;
        // SAFETY: row < m, columns < n (masked).
        unsafe {
            let one = V::splat(1.0);
            let g = match self.tf {
                Transfer::Relu => ld::<V, M>(self.s.add(o), m).pos(),
                Transfer::Tanh => {
                    let r = ld::<V, M>(self.r.add(o), m);
                    one.sub(r.mul(r))
                }
                Transfer::Sigmoid => {
                    let r = ld::<V, M>(self.r.add(o), m);
                    r.mul(one.sub(r))
                }
                Transfer::Identity => one,
            };
            let d = V::splat(self.keep)
                .mul(ld::<V, M>(self.delta.add(o), m))
                .add(g.mul(acc));
            st::<V, M>(d, self.delta.add(o), m);
            if !self.out.is_null() {
                st::<V, M>(V::splat(self.alpha).mul(d), self.out.add(o), m);
            }
        }
    }
}

/// One `R × U·L` tile at rows `i..`, columns `j..j+valid` (`M`: the last vector is partial,
/// so B, C and the epilogue use masked loads and stores).
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
unsafe fn stile<V: Simd, E: Epi, const R: usize, const U: usize, const M: bool>(
    i: usize,
    j: usize,
    valid: usize,
    srcs: &[RawSrc],
    e: &mut E,
) {
    let vl = |u: usize| valid.saturating_sub(u * V::L).min(V::L);
    // SAFETY: the driver passes rows < m and columns < n; sources are bounded by the
    // callers' checks; partial vectors are masked.
    unsafe {
        let masks: [V::Mask; U] = std::array::from_fn(|u| V::mask(vl(u)));
        let mut acc: [[V; U]; R] = [[V::zero(); U]; R];
        for (r, row) in acc.iter_mut().enumerate() {
            for (u, a) in row.iter_mut().enumerate() {
                *a = e.init::<V, M>(i + r, j + u * V::L, masks[u]);
            }
        }
        for s in srcs {
            let mut bp = s.b.add(j);
            let mut ap = s.a.add(i * s.rsa);
            for _ in 0..s.k {
                // Full-width B loads: the caller guarantees slack past the last row.
                let bv: [V; U] = std::array::from_fn(|u| V::load(bp.add(u * V::L)));
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = V::splat(*ap.add(r * s.rsa));
                    for (a, &b) in row.iter_mut().zip(&bv) {
                        *a = a.fma(av, b);
                    }
                }
                bp = bp.add(s.ldb);
                ap = ap.add(s.csa);
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (u, &a) in row.iter().enumerate() {
                e.finish::<V, M>(i + r, j + u * V::L, vl(u), masks[u], a);
            }
        }
    }
}

#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
unsafe fn srows<V: Simd, E: Epi, const U: usize, const M: bool>(
    r: usize,
    i: usize,
    j: usize,
    valid: usize,
    srcs: &[RawSrc],
    e: &mut E,
) {
    // SAFETY: forwarded.
    unsafe {
        match r {
            1 => stile::<V, E, 1, U, M>(i, j, valid, srcs, e),
            2 => stile::<V, E, 2, U, M>(i, j, valid, srcs, e),
            3 => stile::<V, E, 3, U, M>(i, j, valid, srcs, e),
            4 => stile::<V, E, 4, U, M>(i, j, valid, srcs, e),
            5 => stile::<V, E, 5, U, M>(i, j, valid, srcs, e),
            6 => stile::<V, E, 6, U, M>(i, j, valid, srcs, e),
            7 => stile::<V, E, 7, U, M>(i, j, valid, srcs, e),
            _ => stile::<V, E, 8, U, M>(i, j, valid, srcs, e),
        }
    }
}

/// All tiles of an `m × n` result: column strips of `2·L`, each split into balanced row
/// blocks of at most `RMAX` rows (so every block has enough independent accumulators).
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
unsafe fn drive<V: Simd, E: Epi, const RMAX: usize>(
    m: usize,
    n: usize,
    srcs: &[RawSrc],
    e: &mut E,
) {
    let w = 2 * V::L;
    let nb = m.div_ceil(RMAX);
    let mut j = 0;
    while j < n {
        let rem = n - j;
        let mut i = 0;
        for blk in 0..nb {
            let r = m / nb + usize::from(blk < m % nb);
            // SAFETY: rows i..i+r < m, columns j..j+min(rem, w) ≤ n.
            unsafe {
                if rem >= w {
                    srows::<V, E, 2, false>(r, i, j, w, srcs, e)
                } else if rem > V::L {
                    srows::<V, E, 2, true>(r, i, j, rem, srcs, e)
                } else {
                    srows::<V, E, 1, true>(r, i, j, rem, srcs, e)
                }
            }
            i += r;
        }
        j += w;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn drive_avx512<E: Epi>(m: usize, n: usize, srcs: &[RawSrc], e: &mut E) {
    // SAFETY: forwarded.
    unsafe { drive::<x86::Z, E, 8>(m, n, srcs, e) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn drive_avx2<E: Epi>(m: usize, n: usize, srcs: &[RawSrc], e: &mut E) {
    // SAFETY: forwarded.
    unsafe { drive::<x86::Y, E, 6>(m, n, srcs, e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_acc_matches_naive_every_edge() {
        for &(m, n, k) in &[
            (1, 1, 1),
            (25, 50, 50),
            (9, 33, 17),
            (8, 16, 16),
            (3, 7, 5),
            (25, 128, 128),
        ] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1)
                .collect();
            // 16 floats of slack, so the SIMD kernels (not the portable fallback) run.
            let b: Vec<f32> = (0..k * n + 16)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1)
                .collect();
            let c0: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32).collect();
            let mut want = c0.clone();
            for i in 0..m {
                for j in 0..n {
                    want[i * n + j] += (0..k)
                        .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                        .sum::<f64>() as f32;
                }
            }
            let mut c = c0.clone();
            gemm_acc_f32(m, n, k, &a, k, &b, n, &mut c, n);
            let mut c2 = c0.clone();
            gemm_acc_ref(m, n, k, &a, k, &b, n, &mut c2, n);
            for ((x, y), z) in c.iter().zip(&want).zip(&c2) {
                assert!(
                    (x - y).abs() < 1e-4 && (z - y).abs() < 1e-4,
                    "{m}x{n}x{k}: {x} {y} {z}"
                );
            }
        }
    }

    fn vals(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 7919 + seed * 104729) % 1009) as f32 / 1009.0 - 0.45) * 0.8)
            .collect()
    }

    fn close(a: &[f32], b: &[f64], what: &str) {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (*x as f64 - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "{what}[{k}]: {x} vs {y}"
            );
        }
    }

    /// The fused f32 steps (whatever SIMD this CPU has) against the f64 reference, on
    /// shapes with full, partial and single-vector column strips and uneven row blocks.
    #[test]
    fn fused_steps_match_reference() {
        let to64 = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        for &(m, n, ni, no) in &[
            (25, 50, 3, 2),
            (1, 1, 1, 1),
            (13, 17, 0, 3),
            (25, 128, 3, 2),
            (9, 40, 2, 5),
            (30, 8, 1, 1),
        ] {
            for tf in [
                Transfer::Relu,
                Transfer::Tanh,
                Transfer::Sigmoid,
                Transfer::Identity,
            ] {
                for noisy in [false, true] {
                    let (x, wi, rp) = (vals(m * ni, 1), vals(ni * n, 2), vals(m * n, 3));
                    let (wr, b, sp, z) =
                        (vals(n * n, 4), vals(n, 5), vals(m * n, 6), vals(m * n, 7));
                    let (mut s1, mut r1) = (vec![9.0f32; m * n], vec![9.0f32; m * n]);
                    fwd_step_f32(FwdStep {
                        m,
                        n,
                        n_in: ni,
                        x: &x,
                        w_in_t: &wi,
                        r_prev: &rp,
                        w_rec_t: &wr,
                        b_rec: &b,
                        s_prev: &sp,
                        noise: noisy.then_some(&z[..]),
                        s_next: &mut s1,
                        r_next: &mut r1,
                        alpha: 0.2,
                        keep: 0.8,
                        tf,
                    });
                    let (mut s2, mut r2) = (vec![9.0f64; m * n], vec![9.0f64; m * n]);
                    let z64 = to64(&z);
                    fwd_step_ref(FwdStep {
                        m,
                        n,
                        n_in: ni,
                        x: &to64(&x),
                        w_in_t: &to64(&wi),
                        r_prev: &to64(&rp),
                        w_rec_t: &to64(&wr),
                        b_rec: &to64(&b),
                        s_prev: &to64(&sp),
                        noise: noisy.then_some(&z64[..]),
                        s_next: &mut s2,
                        r_next: &mut r2,
                        alpha: 0.2,
                        keep: 0.8,
                        tf,
                    });
                    close(&s1, &s2, "s");
                    close(&r1, &r2, "r");

                    let (dp, dy, wo) = (vals(m * n, 8), vals(m * no, 9), vals(no * n, 10));
                    let (d0, rr) = (vals(m * n, 11), r1.clone());
                    for first in [false, true] {
                        let frc = if noisy { 0.3 } else { 0.0 };
                        let (mut d1, mut o1, mut t1) =
                            (d0.clone(), vec![9.0f32; m * n], vec![0.0f32; m * n]);
                        bwd_step_f32(BwdStep {
                            m,
                            n,
                            n_out: no,
                            dpre: (!first).then_some(&dp[..]),
                            w_rec: &wr,
                            dy: Some(&dy),
                            w_out: &wo,
                            frc,
                            s: &s1,
                            r: &rr,
                            delta: &mut d1,
                            dpre_out: (!first).then_some(&mut o1[..]),
                            tmp: &mut t1,
                            alpha: 0.2,
                            keep: if first { 0.0 } else { 0.8 },
                            tf,
                        });
                        let (mut d2, mut o2, mut t2) =
                            (to64(&d0), vec![9.0f64; m * n], vec![0.0f64; m * n]);
                        bwd_step_ref(BwdStep {
                            m,
                            n,
                            n_out: no,
                            dpre: (!first).then_some(&to64(&dp)[..]),
                            w_rec: &to64(&wr),
                            dy: Some(&to64(&dy)),
                            w_out: &to64(&wo),
                            frc: frc as f64,
                            s: &to64(&s1),
                            r: &to64(&rr),
                            delta: &mut d2,
                            dpre_out: (!first).then_some(&mut o2[..]),
                            tmp: &mut t2,
                            alpha: 0.2,
                            keep: if first { 0.0 } else { 0.8 },
                            tf,
                        });
                        close(&d1, &d2, "delta");
                        if !first {
                            close(&o1, &o2, "dpre_out");
                        } else {
                            assert!(o1.iter().all(|&v| v == 9.0));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_tn_matches_naive() {
        for &(m, n, k) in &[
            (50, 50, 5000),
            (3, 50, 700),
            (2, 17, 33),
            (9, 128, 300),
            (1, 1, 1),
        ] {
            let a = vals(k * m, 1);
            let b = vals(k * n + 16, 2);
            let c0 = vals(m * n, 3);
            let mut c = c0.clone();
            gemm_tn_acc_f32(m, n, k, &a, &b, &mut c);
            let want: Vec<f64> = (0..m * n)
                .map(|idx| {
                    let (i, j) = (idx / n, idx % n);
                    c0[idx] as f64
                        + (0..k)
                            .map(|p| a[p * m + i] as f64 * b[p * n + j] as f64)
                            .sum::<f64>()
                })
                .collect();
            for (x, y) in c.iter().zip(&want) {
                assert!((*x as f64 - y).abs() < 1e-3, "{m}x{n}x{k}: {x} {y}");
            }
        }
    }
}
