//! Tile epilogues: plain accumulation ([`PlainEpi`], `C += Σ A·B`) and the element-wise
//! ends of the fused BPTT steps ([`FwdEpi`]: leak, noise, transfer function; [`BwdEpi`]:
//! transfer derivative, leak of δ). Each is the lane-wise twin of the equations in
//! [`crate::linalg::portable`].

use super::{ld, st, Epi, Simd};
use crate::linalg::transfer;
use neuroloop_core::Transfer;

/// `C += Σ A·B`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub struct PlainEpi {
    pub c: *mut f32,
    pub ldc: usize,
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
pub struct FwdEpi {
    pub bias: *const f32,
    pub s_prev: *const f32,
    pub noise: *const f32,
    pub s_next: *mut f32,
    pub r_next: *mut f32,
    pub ld: usize,
    pub alpha: f32,
    pub keep: f32,
    pub tf: Transfer,
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
                        *self.r_next.add(o + l) = transfer::apply(tf, *self.s_next.add(o + l));
                    }
                }
            }
        }
    }
}

/// Backward step epilogue (see [`BwdStep`]).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub struct BwdEpi {
    pub s: *const f32,
    pub r: *const f32,
    pub delta: *mut f32,
    pub out: *mut f32,
    pub ld: usize,
    pub frc: f32,
    pub alpha: f32,
    pub keep: f32,
    pub tf: Transfer,
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
