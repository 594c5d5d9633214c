//! The f32 kernels the trainer runs, and the choice between their paths ([`Kernel`]):
//! `C (m×n) += A (m×k) · B (k×n)` ([`gemm_acc_f32`]), the weight-gradient product
//! `C += Aᵀ·B` ([`gemm_tn_acc_f32`]) and the fused BPTT steps ([`fwd_step_f32`],
//! [`bwd_step_f32`]).
//!
//! Shapes are those of one time step (m = trials per worker, k = n = units). No packing:
//! `B` (a weight matrix, ≤ 256 KiB for N ≤ 256) stays in L1/L2 for the whole trial, and
//! register tiles of `R × 2` vectors accumulate over `k`. The step kernels are fused: one
//! pass computes the products of a time step (forward `b_rec + x·W_inᵀ + r·W_recᵀ`,
//! backward `frc·r + dy·W_out + (αδ)·W_rec`) in registers and applies the element-wise
//! update (leak, noise, transfer function or its derivative) in the tile's epilogue, so a
//! step touches each state element once.
//!
//! Paths: AVX-512 (tiles of up to 8 rows × 32 columns), AVX2 + FMA (6 × 16), both from
//! [`super::simd`], and the portable Rust of [`super::portable`] (other CPUs). The plain
//! functions take the fastest path the CPU has ([`Kernel::best`]); the `_with` functions
//! run a given one, so tests can force every path the CPU supports
//! ([`Kernel::supported`]) and compare it with the reference. The two SIMD paths do the
//! same arithmetic in the same order (one fused multiply-add per term, summed over `k` in
//! order), so they agree bit for bit with each other and with
//! [`super::portable::gemm_acc_fused`].

use super::isa::Kernel;
use super::portable::{body, bwd_step_by, check_gemm, fwd_step_by, gemm_acc_portable};
use super::real::gemm;
#[cfg(target_arch = "x86_64")]
use super::simd::{
    b_slack_ok,
    epilogue::{BwdEpi, FwdEpi, PlainEpi},
    x86::{drive_avx2, drive_avx512},
    Epi, RawSrc,
};
use super::step::{BwdStep, FwdStep};

/// Run the SIMD driver of `kernel` (not `Portable`) on `srcs` with epilogue `e`.
///
/// # Safety
/// `kernel` is supported; `srcs` and `e` address valid memory for an `m × n` result (the
/// callers' shape checks and `b_slack_ok`).
#[cfg(target_arch = "x86_64")]
unsafe fn drive_on<E: Epi>(kernel: Kernel, m: usize, n: usize, srcs: &[RawSrc], e: &mut E) {
    // SAFETY: forwarded.
    unsafe {
        match kernel {
            Kernel::Avx512 => drive_avx512(m, n, srcs, e),
            _ => drive_avx2(m, n, srcs, e),
        }
    }
}

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
    gemm_acc_with(Kernel::best(), m, n, k, a, lda, b, ldb, c, ldc);
}

/// `C += A·B` on `kernel` (panics if the CPU lacks it). Returns the path that ran: a SIMD
/// path falls back to `Portable` when `B` lacks the slack its full-vector reads need.
#[allow(clippy::too_many_arguments)]
pub fn gemm_acc_with(
    kernel: Kernel,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) -> Kernel {
    kernel.assert_supported();
    check_gemm(m, n, k, a.len(), lda, b.len(), ldb, c.len(), ldc);
    if m == 0 || n == 0 {
        return kernel;
    }
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Portable && b_slack_ok(b.len(), k, ldb, n) {
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
        // SAFETY: kernel supported; `check_gemm` and `b_slack_ok` bound every index the
        // kernel touches (C is read and written masked, never past column `n`).
        unsafe { drive_on(kernel, m, n, &src, &mut e) };
        return kernel;
    }
    body::<4, false>(m, n, k, a, lda, b, ldb, c, ldc);
    Kernel::Portable
}

/// `C (m×n) += Aᵀ·B` for `A` stored `k×m` and `B` stored `k×n` (contiguous row-major),
/// f32, fastest kernel: the weight-gradient products, summed over all `T × trials` rows.
pub fn gemm_tn_acc_f32(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    gemm_tn_acc_with(Kernel::best(), m, n, k, a, b, c);
}

/// [`gemm_tn_acc_f32`] on `kernel`; returns the path that ran. SIMD tiles read `A`'s rows
/// in place (no packing, no transposed copy) in chunks of rows that stay in cache; the sum
/// runs in a fixed order, so results are reproducible. `Portable` is `sgemm`.
pub fn gemm_tn_acc_with(
    kernel: Kernel,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) -> Kernel {
    kernel.assert_supported();
    assert!(
        a.len() >= k * m && b.len() >= k * n && c.len() >= m * n,
        "gemm_tn_acc: slice too short"
    );
    if m == 0 || n == 0 || k == 0 {
        return kernel;
    }
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Portable && b_slack_ok(b.len(), k, n, n) {
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
            // SAFETY: kernel supported; the asserts bound A and C, `b_slack_ok` the
            // full-vector reads of B (C's last strip is masked).
            unsafe { drive_on(kernel, m, n, &src, &mut e) };
            p0 += kk;
        }
        return kernel;
    }
    gemm(m, n, k, 1.0, &a[..k * m], true, &b[..k * n], false, 1.0, c);
    Kernel::Portable
}

/// Fused forward step, f32: fastest kernel this CPU has.
pub fn fwd_step_f32(st: FwdStep<'_, f32>) {
    fwd_step_with(Kernel::best(), st);
}

/// Fused forward step on `kernel` (panics if the CPU lacks it). Returns the path that ran:
/// a SIMD path falls back to the portable step (its products still on `kernel`) when the
/// weight matrices lack slack.
pub fn fwd_step_with(kernel: Kernel, st: FwdStep<'_, f32>) -> Kernel {
    kernel.assert_supported();
    st.check();
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Portable
        && st.m > 0
        && st.n > 0
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
        // SAFETY: kernel supported; `check` bounds every index (m × n outputs, the
        // sources' m × k operands; partial tiles of the outputs are masked) and
        // `b_slack_ok` the full-vector reads of the k × n operands.
        unsafe { drive_on(kernel, m, n, &srcs, &mut e) };
        return kernel;
    }
    fwd_step_by(st, |m, n, k, a, b, c| {
        step_product(kernel, m, n, k, a, b, c)
    });
    Kernel::Portable
}

/// Fused backward step, f32: fastest kernel this CPU has.
pub fn bwd_step_f32(st: BwdStep<'_, f32>) {
    bwd_step_with(Kernel::best(), st);
}

/// Fused backward step on `kernel`; returns the path that ran (as [`fwd_step_with`]).
pub fn bwd_step_with(kernel: Kernel, st: BwdStep<'_, f32>) -> Kernel {
    kernel.assert_supported();
    st.check();
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Portable
        && st.m > 0
        && st.n > 0
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
        // SAFETY: as in `fwd_step_with`.
        unsafe { drive_on(kernel, m, n, &srcs[..ns], &mut e) };
        return kernel;
    }
    bwd_step_by(st, |m, n, k, a, b, c| {
        step_product(kernel, m, n, k, a, b, c)
    });
    Kernel::Portable
}

/// The contiguous product of a step that falls back to plain Rust.
fn step_product(kernel: Kernel, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    if kernel == Kernel::Portable {
        gemm_acc_portable(m, n, k, a, b, c);
    } else {
        gemm_acc_with(kernel, m, n, k, a, k, b, n, c, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::portable::{
        bwd_step_by, bwd_step_ref, fwd_step_by, fwd_step_ref, gemm_acc_fused,
    };
    use neuroloop_core::Transfer;

    const TRANSFERS: [Transfer; 4] = [
        Transfer::Relu,
        Transfer::Tanh,
        Transfer::Sigmoid,
        Transfer::Identity,
    ];

    /// Largest `|x − y| / (1 + |y|)` of f32 results against an f64 reference (measured
    /// on AVX2 + FMA and portable: 3.9e-7 gemm, 3.6e-6 gemm_tn, 3.5e-7 steps; each
    /// bound ≤ 3× that).
    const GEMM_TOL: f64 = 1e-6;
    /// As [`GEMM_TOL`], for the transposed weight-gradient product (k up to 5 000).
    const GEMM_TN_TOL: f64 = 1e-5;
    /// As [`GEMM_TOL`], for the fused steps.
    const STEP_TOL: f64 = 1e-6;

    fn vals(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 7919 + seed * 104729) % 1009) as f32 / 1009.0 - 0.45) * 0.8)
            .collect()
    }

    fn to64(v: &[f32]) -> Vec<f64> {
        v.iter().map(|&x| x as f64).collect()
    }

    /// Largest `|x − y| / (1 + |y|)`.
    fn rel_err(a: &[f32], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (x as f64 - y).abs() / (1.0 + y.abs()))
            .fold(0.0, f64::max)
    }

    fn assert_bits_eq(a: &[f32], b: &[f32], what: &str) {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x.to_bits(), y.to_bits(), "{what}[{k}]: {x} vs {y}");
        }
    }

    #[test]
    fn supported_kernels_start_portable_and_include_best() {
        let s = Kernel::supported();
        assert_eq!(s[0], Kernel::Portable);
        assert!(s.contains(&Kernel::best()));
        assert!(s.iter().all(|k| k.is_supported()));
        eprintln!("kernels on this CPU: {s:?}");
    }

    /// Every path the CPU supports, forced in turn: the SIMD paths bit for bit equal to
    /// the fused-multiply-add reference, every path within [`GEMM_TOL`] of f64.
    #[test]
    fn gemm_acc_every_kernel_matches_reference() {
        let mut worst = 0.0f64;
        for &(m, n, k) in &[
            (1, 1, 1),
            (25, 50, 50),
            (9, 33, 17),
            (8, 16, 16),
            (3, 7, 5),
            (25, 128, 128),
        ] {
            let a = vals(m * k, 1);
            // 16 floats of slack, so the SIMD kernels (not the portable fallback) run.
            let b = vals(k * n + 16, 2);
            let c0 = vals(m * n, 3);
            let want: Vec<f64> = (0..m * n)
                .map(|idx| {
                    let (i, j) = (idx / n, idx % n);
                    c0[idx] as f64
                        + (0..k)
                            .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                            .sum::<f64>()
                })
                .collect();
            let mut fused = c0.clone();
            gemm_acc_fused(m, n, k, &a, &b, &mut fused);
            for kernel in Kernel::supported() {
                let mut c = c0.clone();
                let ran = gemm_acc_with(kernel, m, n, k, &a, k, &b, n, &mut c, n);
                assert_eq!(ran, kernel, "{m}x{n}x{k}");
                if kernel != Kernel::Portable {
                    assert_bits_eq(&c, &fused, &format!("{kernel:?} {m}x{n}x{k}"));
                }
                let e = rel_err(&c, &want);
                assert!(e <= GEMM_TOL, "{kernel:?} {m}x{n}x{k}: error {e:.2e}");
                worst = worst.max(e);
            }
        }
        eprintln!("gemm_acc: worst relative error {worst:.2e}");
    }

    /// As above for `C += Aᵀ·B`; the SIMD reference sums `k` in order with one fused
    /// multiply-add per term.
    #[test]
    fn gemm_tn_every_kernel_matches_reference() {
        let mut worst = 0.0f64;
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
            let want: Vec<f64> = (0..m * n)
                .map(|idx| {
                    let (i, j) = (idx / n, idx % n);
                    c0[idx] as f64
                        + (0..k)
                            .map(|p| a[p * m + i] as f64 * b[p * n + j] as f64)
                            .sum::<f64>()
                })
                .collect();
            let fused: Vec<f32> = (0..m * n)
                .map(|idx| {
                    let (i, j) = (idx / n, idx % n);
                    (0..k).fold(c0[idx], |acc, p| a[p * m + i].mul_add(b[p * n + j], acc))
                })
                .collect();
            for kernel in Kernel::supported() {
                let mut c = c0.clone();
                let ran = gemm_tn_acc_with(kernel, m, n, k, &a, &b, &mut c);
                assert_eq!(ran, kernel, "{m}x{n}x{k}");
                if kernel != Kernel::Portable {
                    assert_bits_eq(&c, &fused, &format!("{kernel:?} {m}x{n}x{k}"));
                }
                let e = rel_err(&c, &want);
                assert!(e <= GEMM_TN_TOL, "{kernel:?} {m}x{n}x{k}: error {e:.2e}");
                worst = worst.max(e);
            }
        }
        eprintln!("gemm_tn_acc: worst relative error {worst:.2e}");
    }

    /// The fused steps on every path the CPU supports, forced in turn, on shapes with
    /// full, partial and single-vector column strips and uneven row blocks, every transfer
    /// function, noise on and off: the SIMD paths bit for bit equal to the portable step
    /// with fused-multiply-add products (the same arithmetic in the same order), every path
    /// within [`STEP_TOL`] of the f64 reference.
    #[test]
    fn fused_steps_every_kernel_match_reference() {
        let mut worst = 0.0f64;
        for &(m, n, ni, no) in &[
            (25, 50, 3, 2),
            (1, 1, 1, 1),
            (13, 17, 0, 3),
            (25, 128, 3, 2),
            (9, 40, 2, 5),
            (30, 8, 1, 1),
        ] {
            let (x, wi, rp) = (vals(m * ni, 1), vals(ni * n + 16, 2), vals(m * n, 3));
            let (wr, b, sp, z) = (
                vals(n * n + 16, 4),
                vals(n, 5),
                vals(m * n, 6),
                vals(m * n, 7),
            );
            let (dp, dy, wo) = (vals(m * n, 8), vals(m * no, 9), vals(no * n + 16, 10));
            let d0 = vals(m * n, 11);
            for tf in TRANSFERS {
                for noisy in [false, true] {
                    // A macro, not a closure: the step borrows the output buffers it is given.
                    macro_rules! fwd {
                        ($s:expr, $r:expr) => {
                            FwdStep {
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
                                s_next: $s,
                                r_next: $r,
                                alpha: 0.2,
                                keep: 0.8,
                                tf,
                            }
                        };
                    }
                    let (mut s_ref, mut r_ref) = (vec![9.0f64; m * n], vec![9.0f64; m * n]);
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
                        s_next: &mut s_ref,
                        r_next: &mut r_ref,
                        alpha: 0.2,
                        keep: 0.8,
                        tf,
                    });
                    let (mut s_fma, mut r_fma) = (vec![9.0f32; m * n], vec![9.0f32; m * n]);
                    fwd_step_by(fwd!(&mut s_fma, &mut r_fma), gemm_acc_fused);
                    for kernel in Kernel::supported() {
                        let what = format!("{kernel:?} {m}x{n} {tf:?} noise {noisy}");
                        let (mut s1, mut r1) = (vec![9.0f32; m * n], vec![9.0f32; m * n]);
                        assert_eq!(fwd_step_with(kernel, fwd!(&mut s1, &mut r1)), kernel);
                        if kernel != Kernel::Portable {
                            assert_bits_eq(&s1, &s_fma, &format!("{what} s"));
                            assert_bits_eq(&r1, &r_fma, &format!("{what} r"));
                        }
                        let e = rel_err(&s1, &s_ref).max(rel_err(&r1, &r_ref));
                        assert!(e <= STEP_TOL, "{what}: forward error {e:.2e}");
                        worst = worst.max(e);

                        let rr = r1.clone();
                        let frc = if noisy { 0.3 } else { 0.0 };
                        for first in [false, true] {
                            let keep = if first { 0.0 } else { 0.8 };
                            macro_rules! bwd {
                                ($d:expr, $o:expr, $t:expr) => {
                                    BwdStep {
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
                                        delta: $d,
                                        dpre_out: (!first).then_some($o),
                                        tmp: $t,
                                        alpha: 0.2,
                                        keep,
                                        tf,
                                    }
                                };
                            }
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
                                keep: keep as f64,
                                tf,
                            });
                            let (mut d_fma, mut o_fma, mut t_fma) =
                                (d0.clone(), vec![9.0f32; m * n], vec![0.0f32; m * n]);
                            bwd_step_by(
                                bwd!(&mut d_fma, &mut o_fma[..], &mut t_fma),
                                gemm_acc_fused,
                            );
                            let (mut d1, mut o1, mut t1) =
                                (d0.clone(), vec![9.0f32; m * n], vec![0.0f32; m * n]);
                            let ran = bwd_step_with(kernel, bwd!(&mut d1, &mut o1[..], &mut t1));
                            assert_eq!(ran, kernel);
                            let what = format!("{what} first {first}");
                            if kernel != Kernel::Portable {
                                assert_bits_eq(&d1, &d_fma, &format!("{what} delta"));
                                assert_bits_eq(&o1, &o_fma, &format!("{what} dpre_out"));
                            }
                            let mut e = rel_err(&d1, &d2);
                            if first {
                                assert!(o1.iter().all(|&v| v == 9.0), "{what}: dpre_out written");
                            } else {
                                e = e.max(rel_err(&o1, &o2));
                            }
                            assert!(e <= STEP_TOL, "{what}: backward error {e:.2e}");
                            worst = worst.max(e);
                        }
                    }
                }
            }
        }
        eprintln!("fused steps: worst relative error {worst:.2e}");
    }
}
