//! What the GRU and LSTM steps share: the gate sums `W_rec·h + W_in·u + b` of a chunk of
//! units, computed with the multi-row kernels and reduced to one `i32` per gate row, and
//! σ/tanh at [`GATE_FRAC`].
//!
//! Definition (`T = GATE_FRAC + G`, `rs` the rounding shift of [`crate::fixed`], row `j`
//! of gate block `k` is `k·n_rec + i`, `wⱼ`, `wⱼ'` its own fractional bits in `W_rec`, `W_in`):
//!
//! ```text
//! rec_j = rs(W_rec[j]·h, wⱼ + 15 − T)     inp_j = rs(W_in[j]·u, wⱼ' + fu − T)
//! pre_j = sat16(rs(rec_j + inp_j + b_rec[j], G))          (GATE_FRAC fractional bits)
//! ```
//!
//! Every dot product is exact in `i64` (|Σ| < 2^41 for the blob limits) and a row shift is
//! at least `0 + 0 − 19`, so `|rec|, |inp| < 2^60` and the sum with an `i32` bias is below
//! 2^62: no intermediate saturates, which is why an `i128` reference computing them
//! unbounded agrees bit for bit.
//!
//! # How it is computed (bit-identical, mostly in `i32`)
//! Why by hand: this is the per-unit work around the dot products of every GRU/LSTM step
//! (issue 12 asks ≤ 1.8 instructions per MAC on a Cortex-M4 at H 128), so it avoids
//! 64-bit shifts, saturating 64-bit adds and per-row re-decoding.
//!
//! `Gates::fill` reduces each gate row to `s_j = sat32(rec_j + inp_j + b_rec[j])` (the
//! GRU's candidate gate to `hn = sat32(rec + b_hn)` and `xn = inp + b_in`, see
//! [`super::gru`]). That is all the cells need: `sat16(rs(·, G))` is nondecreasing and
//! pinned at ±32767/−32768 once `|sum| ≥ 2^23`, so `pre_j = sat16(rs(s_j, G))` equals the
//! definition (saturating at `±2^31` cannot move a sum across the pinned range); `rs_g`
//! gives `rs(s_j, G)`, and `sigmoid` / `tanh` apply the `sat16` themselves.
//!
//! **Row shifts by one multiply.** For a shift `1 ≤ sh ≤ 32` and `m = 2^(32 − sh)`,
//! `rs(v, sh) = ⌊(v·m + 2^31) / 2^32⌋`. With `v = hi·2^32 + lo` (`lo` unsigned) and
//! `lo·m = P_hi·2^32 + P_lo` (a `UMULL`) that is `hi·m + P_hi + [P_lo ≥ 2^31]`, whose low
//! 32 bits are `hi·m + P_hi + (P_lo >> 31)` in wrapping `u32` arithmetic (an `MLA` and an
//! `ADD` with shifted operand): `rs_mul`, the exact result wherever it fits `i32`.
//! `rs_mul_wide` takes a 64-bit `m` and so also left shifts (`sh ≤ 0`, common for `i8`
//! input weights), at one more `MLA`.
//!
//! **When it fits.** A matrix with `c` columns and `i16` (`i8`) weights has `|W[j]·x| ≤
//! c·2^15·2^15` (`c·2^7·2^15`) against `i16` values, i.e. `≤ 2^P` with `P = ⌈log2 c⌉ + 30`
//! (`+ 22`), so `|rs(v, sh)| ≤ 2^(P − sh)`. A row of `W_rec` is *open* where `sh = f +
//! base ≥ 1` and `P − sh ≤ 30`, a row of `W_in` where `P − sh ≤ 29` (`RowShifts`, `f`
//! the row's fractional bits). For a row where both are open, `|rec| ≤ 2^30` and `|inp| ≤
//! 2^29` are exact `i32`s, their sum (≤ 1.5·2^30) is exact, and one saturating add of the
//! bias gives `s_j`. Every other row (left shifts of `W_rec`, short shifts on wide rows)
//! takes the definition in `i64` (`rs_dot`, plain adds: below 2^62 as argued above) and
//! saturates the sum to `i32`. Openness is monotone in `f`, so the smallest fractional bits
//! of each matrix (found once, at load: [`Model::min_row_frac`]) pick one loop per step
//! (`Path`): all rows open with right shifts only, all open with some left-shifted input
//! rows, or row by row.
//!
//! **Tests.** The unit tests check `rs_mul` / `rs_mul_wide` against the rounding shift
//! (random and extreme), that a row is open exactly where the bound allows (just outside,
//! an extreme row exceeds `2^lim`), σ/tanh against [`crate::activation`] on every input;
//! `core/tests/gated_step.rs` checks whole steps against the `i128` reference on random
//! blobs of every regime and on extreme rows at every fractional-bit count, where a bound
//! one bit too generous fails.
//!
//! **Stack.** `Gates` holds the dot products of one gate block and the sums of all gates
//! for `CHUNK` = 48 units: 2 · 48 `i64` + 4 · 48 `i32` + 48 `i64` ≈ 1.9 KiB (a larger
//! chunk means fewer kernel calls: 12 units cost 6 % more instructions per step at H 128).

use crate::activation::{interp, tanh_mag};
use crate::blob::{DType, GUARD_BITS, MAX_WEIGHT_FRAC};
use crate::fixed::{rs_dot, sat_i32};
use crate::kernel::Acts;
use crate::model::Weights;
use crate::Model;

/// Fractional bits of a gate pre-activation fed to the σ/tanh tables (Q4.11, ±16: σ(16)
/// and tanh(16) round to 32767 in Q15, so the `i16` clamp loses nothing).
pub const GATE_FRAC: u8 = 11;
/// `GATE_FRAC + G`: fractional bits of the gate sums and of the gated cells' `b_rec`.
pub(crate) const T: i32 = GATE_FRAC as i32 + GUARD_BITS as i32;
/// Units whose gate sums are computed together: a multiple of every kernel's row group
/// (2, 3, 4).
pub(crate) const CHUNK: usize = 48;

/// `rs(v, sh)` for `m = 2^(32 − sh)`, `1 ≤ sh ≤ 32`: the low 32 bits of the exact result
/// (see the module docs), i.e. the result itself wherever it fits `i32`.
#[inline(always)]
fn rs_mul(v: i64, m: u32) -> i32 {
    let (lo, hi) = (v as u32, (v >> 32) as u32);
    let p = lo as u64 * m as u64;
    hi.wrapping_mul(m)
        .wrapping_add((p >> 32) as u32)
        .wrapping_add(p as u32 >> 31) as i32
}

/// [`rs_mul`] with a 64-bit `m = 2^(32 − sh)`, which also covers left shifts
/// (`−31 ≤ sh ≤ 0`): `v·m ≡ lo·m_lo + (hi·m_lo + lo·m_hi)·2^32 (mod 2^64)`, so the low 32
/// bits of `⌊(v·m + 2^31) / 2^32⌋` are `hi·m_lo + lo·m_hi + P_hi + (P_lo >> 31)` with
/// `lo·m_lo = P_hi·2^32 + P_lo`; for `sh ≤ 0`, `v·m / 2^32 = v·2^−sh` is an integer and
/// the `+ 2^31` rounds nothing away.
#[inline(always)]
fn rs_mul_wide(v: i64, m: u64) -> i32 {
    let (lo, hi) = (v as u32, (v >> 32) as u32);
    let (m_lo, m_hi) = (m as u32, (m >> 32) as u32);
    let p = lo as u64 * m_lo as u64;
    hi.wrapping_mul(m_lo)
        .wrapping_add(lo.wrapping_mul(m_hi))
        .wrapping_add((p >> 32) as u32)
        .wrapping_add(p as u32 >> 31) as i32
}

/// `2^(63 − k)` for `k = 0..64`: the multipliers `m = 2^(32 − sh)` of [`rs_mul`] /
/// [`rs_mul_wide`]; a matrix reads the 32 entries from `31 + base` on, entry `f` being
/// `2^(32 − base − f)`. A table rather than a shift: the compiler would turn multiplies by
/// a visible power of two back into (longer) 64-bit shift sequences.
static POW2_DOWN: [u64; 64] = {
    let mut p = [0u64; 64];
    let mut k = 0;
    while k < 64 {
        p[k] = 1 << (63 - k);
        k += 1;
    }
    p
};

/// The row shifts `sh = f + base` of one matrix (`f` a row's fractional bits): which rows
/// take [`rs_mul`] / [`rs_mul_wide`] ("open": the shifted dot product is within `±2^lim`,
/// and `sh ≥ 1` unless left shifts are allowed, see the module docs) and their multiplier
/// `m = 2^(32 − sh)`. Both conditions hold from one `f` on (`first`); `sh ≤ 32` holds for
/// every `f ≤ 31` with the bases used (`15 − T` and `fu − T`, within −19 ..= −4).
#[derive(Clone, Copy)]
struct RowShifts {
    base: i32,
    first: i32,
    /// `m` by `f & 31`: 32 entries of [`POW2_DOWN`].
    m: &'static [u64; 32],
}

impl RowShifts {
    /// For a matrix of `dtype` weights with `cols` columns (dot products against `i16`
    /// values), row shifts `f + base` (`−31 ≤ base ≤ 0`), results within `±2^lim`; `left`:
    /// also shifts `sh ≤ 0` (for [`rs_mul_wide`]; without it every `m` fits `u32`, for
    /// [`rs_mul`]).
    fn new(dtype: DType, cols: usize, base: i32, lim: i32, left: bool) -> RowShifts {
        let lowest = if left { -31 } else { 1 };
        let first = (lowest - base).max(dot_log2(dtype, cols) - lim - base);
        let at = (31 + base).clamp(0, 32) as usize;
        let m = POW2_DOWN[at..at + 32].try_into().unwrap_or(&[0; 32]);
        RowShifts { base, first, m }
    }

    /// Whether a row with `f` fractional bits is open.
    #[inline(always)]
    fn open(&self, f: u8) -> bool {
        f as i32 >= self.first && f as i32 + self.base <= 32
    }

    /// Whether a row with `f` fractional bits is open with a right shift (`m` fits `u32`).
    #[inline(always)]
    fn right(&self, f: u8) -> bool {
        self.open(f) && f as i32 + self.base >= 1
    }

    /// `m` of an open row with a right shift (`1 ≤ sh ≤ 32`).
    #[inline(always)]
    fn m(&self, f: u8) -> u32 {
        self.m_wide(f) as u32
    }

    /// `m` of an open row (`−31 ≤ sh ≤ 32`).
    #[inline(always)]
    fn m_wide(&self, f: u8) -> u64 {
        self.m[(f & 31) as usize]
    }

    /// `rs(v, f + base)` by the definition, in `i64` (exact: `|v| < 2^41`).
    #[inline(always)]
    fn slow(&self, v: i64, f: u8) -> i64 {
        rs_dot(v, f as i32 + self.base)
    }
}

/// `P` with `|W[j]·x| ≤ 2^P` for every row of a `dtype` matrix with `cols` columns
/// against `i16` values `x`: `⌈log2 cols⌉ + 15 + 15` (`i16` weights) or `+ 7 + 15` (`i8`).
fn dot_log2(dtype: DType, cols: usize) -> i32 {
    let wbits = if dtype == DType::I16 { 15 } else { 7 };
    cols.next_power_of_two().trailing_zeros() as i32 + wbits + 15
}

/// Stand-ins for fractional bits and biases of rows a (decoded, hence validated) model
/// always has: never read in practice, they keep a short tensor from panicking.
static ZEROS: [u8; 4 * CHUNK] = [0; 4 * CHUNK];

/// How the rows of a step are reduced, decided once per step from the smallest row
/// fractional bits of `W_rec` and `W_in` (found at load; the tables are monotone in `f`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Every row takes [`rs_mul`], the inputs' too (all their shifts are right shifts).
    Right,
    /// Every row takes [`rs_mul`], the inputs' [`rs_mul_wide`] (some left shifts).
    Wide,
    /// Row by row: [`rs_mul`] where both tables allow it, else the `i64` definition.
    Any,
}

/// The kernels' dot products of one gate block of a chunk: `W_rec` rows, then `W_in` rows.
struct Dots {
    rec: [i64; CHUNK],
    inp: [i64; CHUNK],
}

/// The gate sums of one chunk of units (see the module docs), and what it takes to
/// compute them, set up once per step.
pub(crate) struct Gates<'a> {
    w_rec: Weights<'a>,
    w_in: Weights<'a>,
    b: &'a [u8],
    n: usize,
    rec_shift: RowShifts,
    in_shift: RowShifts,
    path: Path,
    dots: Dots,
    /// `s_j = sat32(rec + inp + b)` at `T`, `[gate][unit in chunk]`; for the GRU's
    /// candidate gate (block 2) `hn = sat32(rec + b_hn)`.
    pub s: [[i32; CHUNK]; 4],
    /// GRU candidate gate: `xn = inp + b_in` at `T` (exact, or clamped to ±[`XN_CLAMP`]).
    pub xn: [i64; CHUNK],
}

impl<'a> Gates<'a> {
    /// The per-step setup for `model`.
    pub fn new(model: &Model<'a>) -> Gates<'a> {
        let (w_rec, w_in) = (model.w_rec(), model.w_in());
        let rec_shift = RowShifts::new(w_rec.dtype(), w_rec.cols(), 15 - T, 30, false);
        let fu = model.input_frac() as i32;
        let in_shift = RowShifts::new(w_in.dtype(), w_in.cols(), fu - T, 29, true);
        // Open is monotone in f: the smallest fractional bits (found at load) decide.
        let (min_in, min_rec) = model.min_row_frac();
        let path = if !rec_shift.right(min_rec) || !in_shift.open(min_in) {
            Path::Any
        } else if in_shift.right(min_in) {
            Path::Right
        } else {
            Path::Wide
        };
        Gates {
            path,
            rec_shift,
            in_shift,
            w_rec,
            w_in,
            b: model.b_rec_bytes(),
            n: model.n_rec(),
            dots: Dots {
                rec: [0; CHUNK],
                inp: [0; CHUNK],
            },
            s: [[0; CHUNK]; 4],
            xn: [0; CHUNK],
        }
    }

    /// Bytes of the biases of `len` rows from `first` (4 each), or zeros standing in.
    fn biases(&self, first: usize, len: usize) -> &'a [u8] {
        self.b.get(4 * first..4 * (first + len)).unwrap_or(&ZEROS)
    }

    /// [`Gates::s`] (and for the GRU, `split` = `Some(2)`, [`Gates::xn`]) of gates
    /// `0..gates` for units `first .. first + len` (`len ≤ CHUNK`), from the old hidden
    /// state `h` (Q15, prepared once per step: [`crate::kernel::with_acts`]) and inputs `u`
    /// (at `fu`).
    pub fn fill(
        &mut self,
        gates: usize,
        split: Option<usize>,
        first: usize,
        len: usize,
        u: &[i16],
        h: &Acts<'_>,
    ) {
        let len = len.min(CHUNK);
        for k in 0..gates.min(4) {
            let row0 = k * self.n + first;
            self.w_rec.dot_rows_acts(row0, h, &mut self.dots.rec[..len]);
            self.w_in.dot_rows(row0, u, &mut self.dots.inp[..len]);
            let fr = self.w_rec.fracs().get(row0..row0 + len).unwrap_or(&ZEROS);
            let fi = self.w_in.fracs().get(row0..row0 + len).unwrap_or(&ZEROS);
            let rows = Rows {
                dots: &self.dots,
                fr: &fr[..len.min(fr.len())],
                fi,
                b: self.biases(row0, len),
                tabs: (&self.rec_shift, &self.in_shift),
            };
            if split == Some(k) {
                // GRU candidate: b_in is block 2 of the biases, b_hn block 3.
                let b_hn = self.biases(row0 + self.n, len);
                let out = (&mut self.s[k], &mut self.xn);
                match self.path {
                    Path::Right => rows.split::<false, false>(out, b_hn),
                    Path::Wide => rows.split::<true, false>(out, b_hn),
                    Path::Any => rows.split::<true, true>(out, b_hn),
                }
            } else {
                match self.path {
                    Path::Right => rows.sums::<false, false>(&mut self.s[k]),
                    Path::Wide => rows.sums::<true, false>(&mut self.s[k]),
                    Path::Any => rows.sums::<true, true>(&mut self.s[k]),
                }
            }
        }
    }
}

/// One gate block of a chunk: its dot products, row fractional bits, biases and tables.
struct Rows<'r> {
    dots: &'r Dots,
    fr: &'r [u8],
    fi: &'r [u8],
    b: &'r [u8],
    tabs: (&'r RowShifts, &'r RowShifts),
}

impl Rows<'_> {
    /// `rs(inp_j, ·)` for row `j`: [`rs_mul`] or (`WIDE`) [`rs_mul_wide`], or `None` if
    /// the row's table entry is closed (only where `ANY`).
    #[inline(always)]
    fn inp<const WIDE: bool, const ANY: bool>(&self, j: usize, fi: u8) -> Option<i32> {
        let (_, is) = self.tabs;
        let v = self.dots.inp[j % CHUNK];
        if WIDE {
            (!ANY || is.open(fi)).then(|| rs_mul_wide(v, is.m_wide(fi)))
        } else {
            Some(rs_mul(v, is.m(fi)))
        }
    }

    /// `rs(rec_j, ·)` for row `j` by [`rs_mul`], or `None` if its table entry is closed
    /// (only where `ANY`).
    #[inline(always)]
    fn rec<const ANY: bool>(&self, j: usize, fr: u8) -> Option<i32> {
        let (rs, _) = self.tabs;
        (!ANY || rs.right(fr)).then(|| rs_mul(self.dots.rec[j % CHUNK], rs.m(fr)))
    }

    /// `s_j = sat32(rec_j + inp_j + b_j)` for every row.
    #[inline(always)]
    fn sums<const WIDE: bool, const ANY: bool>(&self, s: &mut [i32; CHUNK]) {
        let (rs, is) = self.tabs;
        let rows = self.fr.iter().zip(self.fi).zip(self.b.chunks_exact(4));
        for (j, ((&fr, &fi), b)) in rows.enumerate() {
            let b = bias(b);
            s[j % CHUNK] = match (self.rec::<ANY>(j, fr), self.inp::<WIDE, ANY>(j, fi)) {
                // |rec| ≤ 2^30, |inp| ≤ 2^29: the sum is exact.
                (Some(rec), Some(inp)) => (rec + inp).saturating_add(b),
                _ => sat_i32(
                    rs.slow(self.dots.rec[j % CHUNK], fr)
                        + is.slow(self.dots.inp[j % CHUNK], fi)
                        + b as i64,
                ),
            };
        }
    }

    /// The GRU candidate: `hn = sat32(rec + b_hn)`, `xn = inp + b_in` (`self.b` holds
    /// `b_in`).
    #[inline(always)]
    fn split<const WIDE: bool, const ANY: bool>(
        &self,
        (hn, xn): (&mut [i32; CHUNK], &mut [i64; CHUNK]),
        b_hn: &[u8],
    ) {
        let (rs, is) = self.tabs;
        let bs = self.b.chunks_exact(4).zip(b_hn.chunks_exact(4));
        let rows = self.fr.iter().zip(self.fi).zip(bs);
        for (j, ((&fr, &fi), (b_in, b_hn))) in rows.enumerate() {
            let (b_in, b_hn) = (bias(b_in) as i64, bias(b_hn));
            hn[j % CHUNK] = match self.rec::<ANY>(j, fr) {
                Some(rec) => rec.saturating_add(b_hn),
                None => sat_i32(rs.slow(self.dots.rec[j % CHUNK], fr) + b_hn as i64),
            };
            xn[j % CHUNK] = match self.inp::<WIDE, ANY>(j, fi) {
                Some(inp) => inp as i64 + b_in,
                None => (is.slow(self.dots.inp[j % CHUNK], fi) + b_in).clamp(-XN_CLAMP, XN_CLAMP),
            };
        }
    }
}

/// Bound on the GRU's `xn = inp + b_in` where it is computed in `i64` (the exact value
/// beyond it is replaced by ±2^34): the candidate's sum `xn + rs(r·hn, 15)` with
/// `|rs(r·hn, 15)| < 2^31` is then beyond ±(2^34 − 2^31), where `sat16(rs(·, G))` is
/// pinned, whether clamped or not; and every sum stays below 2^35, so [`rs_g_wide`]
/// applies. On the `rs_mul` path `|xn| ≤ 2^29 + 2^31` anyway.
const XN_CLAMP: i64 = 1 << 34;

/// A little-endian `i32` from 4 bytes (one unaligned `LDR` on the M4).
#[inline(always)]
fn bias(b: &[u8]) -> i32 {
    b.try_into().map_or(0, i32::from_le_bytes)
}

/// `rs(s, G)` of a gate sum at `T` (`((s >> 7) + 1) >> 1` cannot overflow): the gate
/// pre-activation at [`GATE_FRAC`] before its `sat16`, which [`sigmoid`] and [`tanh`]
/// make unnecessary.
#[inline(always)]
pub(crate) fn rs_g(s: i32) -> i32 {
    ((s >> (GUARD_BITS - 1)) + 1) >> 1
}

/// [`rs_g`] of a sum `|acc| < 2^38` (the GRU candidate's, see [`XN_CLAMP`]): the result
/// is within ±2^30, so its low 32 bits are it.
#[inline(always)]
pub(crate) fn rs_g_wide(acc: i64) -> i32 {
    ((acc + (1 << (GUARD_BITS - 1))) >> GUARD_BITS) as i32
}

/// `sigmoid_s16(sat16(p), GATE_FRAC)` ([`crate::activation::sigmoid_s16`]) for any `p`,
/// written for that one format: the tanh at 12 fractional bits reads table entry `|x| >>
/// 7` and interpolates with `|x| mod 2^7` (`rs(d·t·2^9, 16) = rs(d·t, 7)`); `|x| = 32768`
/// reads entry 256 (32767, with `t = 0`), as the general function's clamp gives. Then
/// `rs(32768 + t, 1)`, at most 32768, clamped to 32767. Equal for every input (unit test).
#[inline(always)]
pub(crate) fn sigmoid(p: i32) -> i32 {
    let x = p.clamp(i16::MIN as i32, i16::MAX as i32);
    let mag = x.unsigned_abs();
    let v = interp(mag >> 7, mag & 127, 7);
    let t = if x < 0 { -v } else { v };
    ((32768 + t + 1) >> 1).clamp(0, i16::MAX as i32)
}

/// `tanh_s16(sat16(p), GATE_FRAC)` ([`crate::activation::tanh_s16`]) for any `p`: entry
/// `|x| >> 6`, interpolated with `|x| mod 2^6` (`rs(d·t·2^10, 16) = rs(d·t, 6)`); 32767
/// from `|x| = 2^14 − 1` on (entry 255 with the largest `t`), so `|x|` is capped there.
/// Equal for every input (unit test).
#[inline(always)]
pub(crate) fn tanh(p: i32) -> i32 {
    let x = p.clamp(i16::MIN as i32, i16::MAX as i32);
    let mag = x.unsigned_abs().min((1 << 14) - 1);
    let v = interp(mag >> 6, mag & 63, 6);
    if x < 0 {
        -v
    } else {
        v
    }
}

/// [`crate::activation::tanh_s16`]`(x, frac)` for `frac ≤ 15` (the LSTM's `act(c)` at
/// `fx`), as an `i32`.
#[inline(always)]
pub(crate) fn tanh_at(x: i16, frac: u8) -> i32 {
    crate::activation::tanh_s16(x, frac.min(15)) as i32
}

/// [`crate::activation::sigmoid_s16`]`(x, frac)` for `frac ≤ 15`: [`tanh_at`] one
/// fractional bit further (`frac + 1 ≤ 16`, the same formula with `sh ≥ 5`), then `rs(32768
/// + t, 1)` clamped to 32767. Equal for every input (unit test).
#[inline(always)]
pub(crate) fn sigmoid_at(x: i16, frac: u8) -> i32 {
    let v = tanh_mag((x as i32).unsigned_abs(), 20 - frac.min(15) as u32);
    let t = if x < 0 { -v } else { v };
    ((32768 + t + 1) >> 1).clamp(0, i16::MAX as i32)
}

const _: () = assert!(
    MAX_WEIGHT_FRAC < 32,
    "RowShifts tables index fracs by f & 31"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{sigmoid_s16, tanh_s16};
    use crate::fixed::shift_round;
    use crate::kernel::{dot_s16_s16_s64_ref, dot_s8_s16_s64_ref};
    use proptest::prelude::*;

    /// `sat16(rs(s, G))` by the definition.
    fn pre(s: i64) -> i16 {
        shift_round(s, GUARD_BITS as i32).clamp(-32768, 32767) as i16
    }

    #[test]
    fn lstm_act_equals_the_general_functions_on_every_i16_and_format() {
        for frac in 0..=15u8 {
            for x in i16::MIN..=i16::MAX {
                assert_eq!(
                    tanh_at(x, frac),
                    tanh_s16(x, frac) as i32,
                    "tanh({x}) at {frac}"
                );
                assert_eq!(
                    sigmoid_at(x, frac),
                    sigmoid_s16(x, frac) as i32,
                    "σ({x}) at {frac}"
                );
            }
        }
    }

    #[test]
    fn gate_sigmoid_and_tanh_equal_the_general_ones_after_sat16() {
        let sums = (i16::MIN..=i16::MAX)
            .flat_map(|x| [-129, -128, -1, 0, 127, 128].map(|d| ((x as i64) << 8) + d))
            .chain((-(1i64 << 26)..(1 << 26)).step_by(4093))
            .chain([
                i32::MIN as i64,
                i32::MIN as i64 + 1,
                i32::MAX as i64 - 1,
                i32::MAX as i64,
            ]);
        for s in sums.clone().filter(|&s| i32::try_from(s).is_ok()) {
            let p = rs_g(s as i32);
            assert_eq!(p as i64, shift_round(s, GUARD_BITS as i32), "rs_g({s})");
            assert_eq!(
                sigmoid(p),
                sigmoid_s16(pre(s), GATE_FRAC) as i32,
                "σ at {s}"
            );
            assert_eq!(tanh(p), tanh_s16(pre(s), GATE_FRAC) as i32, "tanh at {s}");
        }
        let wide = sums.chain([
            XN_CLAMP + (1 << 31),
            -XN_CLAMP - (1 << 31),
            (1 << 38) - 1,
            -(1 << 38),
        ]);
        for acc in wide {
            assert_eq!(
                rs_g_wide(acc) as i64,
                shift_round(acc, GUARD_BITS as i32),
                "rs_g_wide({acc})"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
        #[test]
        fn rs_mul_is_the_rounding_shift_where_it_fits(
            v in prop_oneof![-(1i64 << 41)..(1i64 << 41), any::<i32>().prop_map(i64::from), Just(1i64 << 41), Just(-(1i64 << 41))],
            sh in 1i32..=32,
        ) {
            let want = shift_round(v, sh);
            let got = rs_mul(v, 1u32 << (32 - sh));
            prop_assert_eq!(got, want as i32, "low 32 bits");
            prop_assert_eq!(rs_mul_wide(v, 1u64 << (32 - sh)), want as i32);
        }

        #[test]
        fn rs_mul_wide_is_the_rounding_shift_left_too(
            v in prop_oneof![-(1i64 << 41)..(1i64 << 41), any::<i32>().prop_map(i64::from), Just(1i64 << 41), Just(-(1i64 << 41))],
            sh in -31i32..=32,
        ) {
            let v = if sh < 0 { v >> -sh } else { v };
            prop_assert_eq!(rs_mul_wide(v, 1u64 << (32 - sh)), shift_round(v, sh) as i32, "low 32 bits");
        }
    }

    #[test]
    fn tables_open_exactly_where_the_shifted_dot_fits() {
        for dtype in [DType::I16, DType::I8] {
            for cols in [1usize, 2, 3, 5, 64, 100, 128, 256, 1024] {
                for (base, lim, left) in [
                    (-4, 30, false),
                    (-19, 29, true),
                    (-8, 29, true),
                    (-4, 29, false),
                    (-19, 30, false),
                ] {
                    let t = RowShifts::new(dtype, cols, base, lim, left);
                    // The largest |dot|: every weight at −2^15 (−2^7), every activation
                    // at −2^15.
                    let x = vec![i16::MIN; cols];
                    let v = match dtype {
                        DType::I16 => dot_s16_s16_s64_ref(&i16::MIN.to_le_bytes().repeat(cols), &x),
                        _ => dot_s8_s16_s64_ref(&vec![i8::MIN as u8; cols], &x),
                    };
                    let wb = if dtype == DType::I16 { 30 } else { 22 };
                    assert_eq!(v, (cols as i64) << wb);
                    for f in 0..32u8 {
                        let sh = f as i32 + base;
                        let m = if t.open(f) { t.m_wide(f) } else { 0 };
                        if m == 0 {
                            // Closed rows: a left shift where none is allowed, or the
                            // bound fails; where it fails for a column count that is a
                            // power of two, the extreme dot product really exceeds 2^lim.
                            assert!(!left || sh >= -31 || sh > 32);
                            if (sh >= 1 || left) && cols.is_power_of_two() {
                                assert!(shift_round(v, sh) > 1i64 << lim, "{dtype:?} {cols} f {f}");
                            }
                            continue;
                        }
                        assert!(sh >= 1 || left);
                        for v in [v, -v, v - 1, 1 - v] {
                            let want = shift_round(v, sh);
                            assert!(want.abs() <= 1i64 << lim, "{dtype:?} {cols} f {f}");
                            assert_eq!(
                                rs_mul_wide(v, m) as i64,
                                want,
                                "{dtype:?} {cols} f {f} v {v}"
                            );
                            if !left {
                                assert!(t.right(f));
                                assert_eq!(m >> 32, 0);
                                assert_eq!(
                                    rs_mul(v, t.m(f)) as i64,
                                    want,
                                    "{dtype:?} {cols} f {f} v {v}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
