//! The SIMD machinery behind the f32 kernels: a vector trait ([`Simd`]) with one
//! implementation per ISA ([`x86`]), register tiles that sum product terms ([`RawSrc`])
//! over `k`, and epilogues ([`Epi`], in [`epilogue`]) that turn finished accumulators into
//! results. [`drive`] walks an `m × n` result in column strips of two vectors and balanced
//! row blocks; the last strip uses masked loads and stores, so nothing is read or written
//! past column `n`.
//!
//! Written by hand (raw pointers, `unsafe`) because the fused steps need an epilogue per
//! tile that no GEMM crate offers; every path is tested against [`super::portable`].

pub mod epilogue;
#[cfg(target_arch = "x86_64")]
pub mod x86;

/// Whether `B` (`k` rows `ldb` apart) may be read in whole 16-lane vectors up to column
/// `n` rounded up to 16, as the SIMD tiles do (the matrices carry slack for this).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub fn b_slack_ok(b_len: usize, k: usize, ldb: usize, n: usize) -> bool {
    k == 0 || (k - 1) * ldb + n.next_multiple_of(16) <= b_len
}

/// One product term `A (m×k) · B (k×n)`: `A[i][p] = a[i·rsa + p·csa]`, `B[p][j] = b[p·ldb + j]`.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub struct RawSrc {
    pub a: *const f32,
    pub rsa: usize,
    pub csa: usize,
    pub b: *const f32,
    pub ldb: usize,
    pub k: usize,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl RawSrc {
    /// No term.
    pub const EMPTY: RawSrc = RawSrc {
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
pub trait Simd: Copy {
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
pub unsafe fn ld<V: Simd, const M: bool>(p: *const f32, m: V::Mask) -> V {
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
pub unsafe fn st<V: Simd, const M: bool>(v: V, p: *mut f32, m: V::Mask) {
    // SAFETY: caller's contract.
    unsafe {
        if M {
            v.store_m(p, m)
        } else {
            v.store(p)
        }
    }
}
/// What a tile starts from and what it does with its finished accumulators.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub trait Epi {
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
pub unsafe fn drive<V: Simd, E: Epi, const RMAX: usize>(
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
