//! The portable reference kernels, plain Rust that always builds: the f32 product
//! [`gemm_acc_ref`] (register tiles, no SIMD intrinsics) and the BPTT steps
//! [`fwd_step_by`]/[`bwd_step_by`] written as the equations of [`FwdStep`]/[`BwdStep`].
//! CPUs without AVX2 + FMA run these; the SIMD kernels ([`super::kernel`]) are tested
//! against them.

use super::isa::Kernel;
use super::real::Real;
use super::step::{BwdStep, FwdStep};
use super::transfer;

/// `C (m×n) += A (m×k) · B (k×n)`, f32, row-major with leading dimensions: portable tiles
/// of 4 rows × 16/8/1 columns, separate multiply and add (what CPUs without AVX2 + FMA run).
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
    check_gemm(m, n, k, a.len(), lda, b.len(), ldb, c.len(), ldc);
    body::<4, false>(m, n, k, a, lda, b, ldb, c, ldc)
}
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_gemm(
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
pub(crate) fn body<const MR: usize, const FMA: bool>(
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
/// Reference forward step (any [`Real`]; the f64 path), products by the portable
/// [`Real::gemm_acc`].
pub fn fwd_step_ref<T: Real>(st: FwdStep<'_, T>) {
    fwd_step_by(st, |m, n, k, a, b, c| {
        T::gemm_acc(Kernel::Portable, m, n, k, a, b, c)
    })
}

/// Reference backward step (any [`Real`]), products by the portable [`Real::gemm_acc`].
pub fn bwd_step_ref<T: Real>(st: BwdStep<'_, T>) {
    bwd_step_by(st, |m, n, k, a, b, c| {
        T::gemm_acc(Kernel::Portable, m, n, k, a, b, c)
    })
}

/// The forward step in plain Rust with the products computed by `gemm_acc`
/// (contiguous `C (m×n) += A (m×k)·B (k×n)`): the portable path and the references.
pub fn fwd_step_by<T: Real>(
    st: FwdStep<'_, T>,
    gemm_acc: impl Fn(usize, usize, usize, &[T], &[T], &mut [T]),
) {
    st.check();
    let (m, n, ni) = (st.m, st.n, st.n_in);
    let s_next = &mut st.s_next[..m * n];
    for row in s_next.chunks_exact_mut(n) {
        row.copy_from_slice(&st.b_rec[..n]);
    }
    if ni > 0 {
        gemm_acc(m, n, ni, &st.x[..m * ni], &st.w_in_t[..ni * n], s_next);
    }
    gemm_acc(m, n, n, &st.r_prev[..m * n], &st.w_rec_t[..n * n], s_next);
    for k in 0..m * n {
        let mut v = st.keep * st.s_prev[k] + st.alpha * s_next[k];
        if let Some(z) = st.noise {
            v += z[k];
        }
        s_next[k] = v;
        st.r_next[k] = transfer::apply(st.tf, v);
    }
}

/// The backward step in plain Rust with the products computed by `gemm_acc`.
pub fn bwd_step_by<T: Real>(
    st: BwdStep<'_, T>,
    gemm_acc: impl Fn(usize, usize, usize, &[T], &[T], &mut [T]),
) {
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
            gemm_acc(m, n, o, &dy[..m * o], &st.w_out[..o * n], tmp);
        }
    }
    if let Some(dp) = st.dpre {
        gemm_acc(m, n, n, &dp[..m * n], &st.w_rec[..n * n], tmp);
    }
    let mut out = st.dpre_out;
    for k in 0..m * n {
        let d = st.keep * st.delta[k] + transfer::grad(st.tf, st.s[k], st.r[k]) * tmp[k];
        st.delta[k] = d;
        if let Some(o) = out.as_deref_mut() {
            o[k] = st.alpha * d;
        }
    }
}

/// [`gemm_acc_ref`] on contiguous matrices.
pub fn gemm_acc_portable(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    gemm_acc_ref(m, n, k, a, k, b, n, c, n)
}

/// Contiguous `C += A·B` with a fused multiply-add per term, summed over `k` in order: the
/// arithmetic of the SIMD kernels lane by lane, so their bit-exact reference.
pub fn gemm_acc_fused(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    check_gemm(m, n, k, a.len(), k, b.len(), n, c.len(), n);
    body::<4, true>(m, n, k, a, k, b, n, c, n)
}
