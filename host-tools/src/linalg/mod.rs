//! Linear algebra for the trainer: the scalar trait ([`Real`]), row-major GEMM on
//! `matrixmultiply` ([`gemm`]), the float transfer function ([`transfer`]) and the
//! hand-written kernels of one BPTT time step — the portable reference ([`portable`]) and
//! the SIMD paths ([`kernel`], picked at run time, each selectable for tests).
//!
//! Depends on nothing else in the crate: the trainer (`crate::train`), the float model
//! (`crate::model`) and the quantizer use it.
//!
//! | file | holds |
//! |---|---|
//! | `real.rs` | [`Real`] (f32/f64), [`gemm`] |
//! | `impls.rs` | `impl Real for f32, f64`: which kernels each precision runs |
//! | `fastmath.rs` | branch-free f32 `exp`, σ, tanh for the gated cells (vectorize) |
//! | `transfer.rs` | `f(x)` and `f'(x)` of every transfer function, once |
//! | `step.rs` | [`FwdStep`]/[`BwdStep`]: the operands of one time step |
//! | `portable.rs` | plain-Rust product and steps (the reference) |
//! | `isa.rs` | [`Kernel`]: portable, AVX2, AVX-512; which this CPU supports |
//! | `kernel.rs` | the f32 kernels on a chosen [`Kernel`] |
//! | `simd/` | vector trait, tile driver, epilogues, x86 vectors |

pub mod fastmath;
mod impls;
pub mod isa;
pub mod kernel;
pub mod portable;
pub mod real;
pub(crate) mod simd;
pub mod step;
pub mod transfer;

pub use isa::Kernel;
pub use real::{gemm, Real};
pub use step::{BwdStep, FwdStep};
