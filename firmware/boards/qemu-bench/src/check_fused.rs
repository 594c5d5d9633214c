//! The fused leaky row loop ([`leaky_fused`], Cortex-M4/M7 DSP path) against its plain
//! reference ([`leaky_fused_ref`]) before the benchmark: every routine (`i16`/`i8`
//! weights × `W_in` summed in the row or given × no rate, `tanh`, `tanh` with the clamp),
//! 1 to 5 rows of 16 to 256 columns, random and extreme weights, rates, states and
//! inputs, row shifts over their whole range `0..=31`, `W_in` pre-shifts, α from its
//! smallest to its largest allowed value. An `i16` pair with an input of −32768 must be
//! refused (the routine's `SMUAD` would not be exact there).

use neuroloop_core::blob::DType;
use neuroloop_core::kernel::{
    leaky_fused, leaky_fused_ref, FusedIn, FusedRate, LeakyFused, LeakyRows, FUSED_COLS_MAX,
};

/// Rows per case.
const ROWS: usize = 5;
/// Column counts checked (whole blocks of both weight types).
const COLS: [usize; 6] = [16, 32, 48, 64, 128, FUSED_COLS_MAX];

/// Runs the cases; the count, or the first mismatch (name, case, rows done, rows the
/// reference did).
pub fn run(seed: &mut u32) -> Result<u32, (&'static str, usize, usize, usize)> {
    let w =
        cortex_m::singleton!(: [u32; ROWS * FUSED_COLS_MAX / 2] = [0; ROWS * FUSED_COLS_MAX / 2])
            .ok_or(("leaky_fused buffer", 0, 0, 0))?;
    let mut next = || {
        *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *seed
    };
    let mut cases = 0;
    for case in 0..6 * 48u32 {
        let s8 = case % 2 == 1;
        let pair = (case / 2) % 2 == 0;
        let rate = (case / 4) % 3;
        // One case in four: every weight, rate, state and input at an extreme.
        let extreme = (case / 12) % 4 == 3;
        let cols = COLS[(case / 48) as usize];
        let rows = 1 + (next() % ROWS as u32) as usize;
        let pattern = [0x8000_8000u32, 0x7FFF_7FFF, 0x8080_8080, 0x7F7F_8000][case as usize % 4];
        for v in w.iter_mut() {
            *v = if extreme { pattern } else { next() };
        }
        let mut value = |k: u32| -> i16 {
            if extreme {
                [i16::MIN, i16::MAX, -1, i16::MIN + 1][k as usize % 4]
            } else {
                next() as i16
            }
        };
        let r0: [i16; FUSED_COLS_MAX] = core::array::from_fn(|k| value(k as u32 + case));
        let x0: [i16; ROWS] = core::array::from_fn(|k| value(k as u32 * 3 + case));
        let u = [value(case), value(case / 3)];
        let w_in: [u8; 4 * ROWS] =
            core::array::from_fn(|_| if extreme { 0x80 } else { next() as u8 });
        let dots: [i64; ROWS] = core::array::from_fn(|_| (next() as i64) << 32 | next() as i64);
        let b: [u8; 4 * ROWS] = core::array::from_fn(|_| next() as u8);
        let fr: [u8; ROWS] = core::array::from_fn(|_| (next() % 31) as u8);
        let fi: [u8; ROWS] = core::array::from_fn(|_| (next() % 31) as u8);
        // `k` such that every row's `f + k` is in 0..=31.
        let mut k_of = |f: &[u8; ROWS]| {
            let lo = -(f[..rows].iter().copied().min().unwrap_or(0) as i32);
            let hi = 31 - f[..rows].iter().copied().max().unwrap_or(0) as i32;
            lo + (next() % (hi - lo + 1) as u32) as i32
        };
        let (k_rec, k_in) = (k_of(&fr), k_of(&fi));
        // `W_in`'s pre-shift: any for given dot products (bit operations on the `i64`),
        // none for an `i16` pair, at most 6 for an `i8` pair (its sum stays below 2^31).
        let a_in = match (pair, s8) {
            (false, _) => next() % 32,
            (true, false) => 0,
            (true, true) => next() % 7,
        };
        let alpha = [512, 16383, 3277, 512 + (next() % 15872) as i32][(case / 3) as usize % 4];
        let frac = (next() % 10) as u8;
        let p = LeakyFused {
            w_rec: super::bytemuck_bytes(&w[..]),
            dtype: if s8 { DType::I8 } else { DType::I16 },
            cols,
            fr: &fr[..rows],
            w_in: if pair {
                FusedIn::Pair(&w_in, u)
            } else {
                FusedIn::Dots(&dots)
            },
            fi: &fi[..rows],
            b: &b,
            rows: LeakyRows {
                alpha,
                k_rec,
                k_in,
                a_in,
            },
            rate: match rate {
                0 => FusedRate::None,
                1 => FusedRate::Tanh(12 + frac),
                _ => FusedRate::Tanh(2 + frac),
            },
        };
        let (mut gx, mut gr, mut wx, mut wr) = (x0, r0, x0, r0);
        let n = leaky_fused(&p, &mut gx[..rows], &mut gr[..cols]);
        let m = leaky_fused_ref(&p, &mut wx[..rows], &mut wr[..cols]);
        let refused = pair && !s8 && u.contains(&i16::MIN);
        let ok = if refused {
            n == 0 && (gx, gr) == (x0, r0)
        } else {
            n == rows && m == rows && (gx, gr) == (wx, wr)
        };
        if !ok {
            return Err(("leaky_fused", case as usize, n, m));
        }
        cases += 1;
    }
    Ok(cases)
}
