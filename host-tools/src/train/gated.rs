//! What the gated cells' passes ([`super::gru`], [`super::lstm`]) share: the input
//! projection of every step before the recurrent loop, and the weight gradients as one
//! GEMM each over all `steps × trials` rows after it. The cells differ only in their gate
//! equations, which stay in their own files.

use super::net::{transpose, Eff, Params};
use crate::linalg::{Kernel, Real};

/// `act` (`rows` × `g`) = `b_rec` + `x · W_inᵀ` for the `rows` = steps × trials input rows
/// `x` (`rows` × `n_in`): every gate's input-side pre-activation, one GEMM.
pub fn input_projection<T: Real>(
    kernel: Kernel,
    b_rec: &[T],
    eff: &Eff<T>,
    x: &[T],
    rows: usize,
    n_in: usize,
    act: &mut [T],
) {
    let g = b_rec.len();
    let act = &mut act[..rows * g];
    for row in act.chunks_exact_mut(g) {
        row.copy_from_slice(b_rec);
    }
    T::gemm_acc(kernel, rows, g, n_in, x, &eff.w_in_t, act);
}

/// `out` = the sum of the `out.len()`-wide rows of `rows` (`out` is overwritten).
pub fn sum_rows<T: Real>(rows: &[T], out: &mut [T]) {
    out.iter_mut().for_each(|v| *v = T::ZERO);
    for row in rows.chunks_exact(out.len()) {
        for (a, &b) in out.iter_mut().zip(row) {
            *a += b;
        }
    }
}

/// Fill `W_in`, `W_rec` and `b_rec` of `g` from the gate gradients of all `rows` = steps ×
/// trials rows: `d_in` (input side, rows × gw), `d_rec` (recurrent side, rows × gw; the
/// same buffer as `d_in` where the two are equal), the inputs `x` (rows × n_in) and the
/// states `h` the recurrent products read (rows × n). `gint` (n_in × gw) is scratch.
#[allow(clippy::too_many_arguments)]
pub fn weight_grads<T: Real>(
    kernel: Kernel,
    d_in: &[T],
    d_rec: &[T],
    x: &[T],
    h: &[T],
    rows: usize,
    (n_in, n): (usize, usize),
    gint: &mut [T],
    g: &mut Params<T>,
) {
    let gw = g.b_rec.len();
    g.w_rec.iter_mut().for_each(|v| *v = T::ZERO);
    T::gemm_tn_acc(kernel, gw, n, rows, d_rec, h, &mut g.w_rec);
    gint.iter_mut().for_each(|v| *v = T::ZERO);
    T::gemm_tn_acc(kernel, n_in, gw, rows, x, d_in, gint);
    transpose(gint, n_in, gw, &mut g.w_in);
    sum_rows(&d_in[..rows * gw], &mut g.b_rec);
}
