//! The operands of one BPTT time step over a chunk of trials ([`FwdStep`], [`BwdStep`]):
//! plain data, shared by the portable reference ([`super::portable`]) and the SIMD kernels
//! ([`super::kernel`]), so every implementation reads the very same description.
//!
//! Matrices are row-major with leading dimension = columns; `m` = trials, `n` = units.

use neuroloop_core::Transfer;

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
    pub(crate) fn check(&self) {
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
    pub(crate) fn check(&self) {
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
