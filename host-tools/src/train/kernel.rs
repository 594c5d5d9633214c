//! The per-step product of BPTT, `C (m×n) += A (m×k) · B (k×n)` (row-major, leading
//! dimensions given), for the small shapes of one time step (m = trials per worker,
//! k = n = units). No packing: `B` (a weight matrix, ≤ 256 KiB for N ≤ 256) stays in
//! L1/L2 for the whole trial, and register tiles of `MR × 16` accumulate over `k`.
//!
//! Compiled three times and picked at run time: AVX-512 (8 × 16 tiles), AVX2 + FMA
//! (4 × 16 tiles), and portable Rust (the reference, also used for f64). The loops are
//! plain Rust that LLVM vectorises under each target feature set.

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
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features were detected just above.
            return unsafe { gemm_avx512(m, n, k, a, lda, b, ldb, c, ldc) };
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features were detected just above.
            return unsafe { gemm_avx2(m, n, k, a, lda, b, ldb, c, ldc) };
        }
    }
    body::<4, false>(m, n, k, a, lda, b, ldb, c, ldc)
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_avx512(
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
    body::<8, true>(m, n, k, a, lda, b, ldb, c, ldc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_avx2(
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
    body::<4, true>(m, n, k, a, lda, b, ldb, c, ldc)
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
            let b: Vec<f32> = (0..k * n)
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
}
