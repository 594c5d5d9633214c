//! Transfer functions `f` mapping state `x` to rates `r = f(x)`, in fixed point.
//!
//! | transfer | rates format | how |
//! |---|---|---|
//! | `relu` | same as the state (`state_frac`) | `max(x, 0)`, exact |
//! | `identity` | same as the state | `x`, exact |
//! | `tanh` | Q15 (`i16`, 15 fractional bits) | 257-entry Q15 table of `tanh(k/32)`, `k = 0..=256`, linear interpolation, odd symmetry; `|x| ≥ 8` gives 32767 |
//! | `sigmoid` | Q15 | `(1 + tanh(x/2)) / 2` from the same table |
//!
//! Numeric contract (checked over every `i16` input in the tests): `tanh_s16` is within
//! **4 LSB of Q15 (1.3·10⁻⁴)** of the exactly rounded `tanh` of the quantized input,
//! `sigmoid_s16` within **3 LSB**. The table costs 514 bytes of flash.
//!
//! ```
//! use neuroloop_core::activation::{tanh_s16, Transfer};
//! // x = 0.5 in Q3.12 → tanh(0.5) = 0.4621 in Q15 ≈ 15143
//! assert!((tanh_s16(2048, 12) as i32 - 15143).abs() <= 4);
//! assert_eq!(Transfer::Relu.apply_s16(-100, 12), 0);
//! assert_eq!(Transfer::Tanh.rate_frac(12), 15);
//! ```

use crate::fixed::{sat_i16, shift_round};

/// A transfer function. The discriminant is the blob's `transfer` byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Transfer {
    /// `max(x, 0)` (PsychRNN's default).
    Relu = 0,
    /// `tanh(x)`.
    Tanh = 1,
    /// `1 / (1 + e^{-x})`.
    Sigmoid = 2,
    /// `x`.
    Identity = 3,
}

impl Transfer {
    /// All transfer functions, in discriminant order.
    pub const ALL: [Transfer; 4] = [
        Transfer::Relu,
        Transfer::Tanh,
        Transfer::Sigmoid,
        Transfer::Identity,
    ];

    /// The transfer function for a blob byte, if it names one.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Transfer::Relu),
            1 => Some(Transfer::Tanh),
            2 => Some(Transfer::Sigmoid),
            3 => Some(Transfer::Identity),
            _ => None,
        }
    }

    /// Lower-case name as used on the command line and in model files.
    pub const fn name(self) -> &'static str {
        match self {
            Transfer::Relu => "relu",
            Transfer::Tanh => "tanh",
            Transfer::Sigmoid => "sigmoid",
            Transfer::Identity => "identity",
        }
    }

    /// Parse a lower-case name (`relu`, `tanh`, `sigmoid`, `identity`).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Fractional bits of the rates for a state with `state_frac` fractional bits.
    pub const fn rate_frac(self, state_frac: u8) -> u8 {
        match self {
            Transfer::Relu | Transfer::Identity => state_frac,
            Transfer::Tanh | Transfer::Sigmoid => 15,
        }
    }

    /// `f(x)` for a state value with `state_frac` fractional bits, in the rates format.
    #[inline]
    pub fn apply_s16(self, x: i16, state_frac: u8) -> i16 {
        match self {
            Transfer::Relu => x.max(0),
            Transfer::Identity => x,
            Transfer::Tanh => tanh_s16(x, state_frac),
            Transfer::Sigmoid => sigmoid_s16(x, state_frac),
        }
    }
}

impl core::fmt::Display for Transfer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// `round(tanh(k / 32) · 32768)`, clamped to 32767, for `k = 0..=256`.
/// Regenerate with `python3 -c "import math; print([min(32767, round(math.tanh(k/32)*32768)) for k in range(257)])"`.
pub const TANH_Q15: [i16; 257] = [
    0, 1024, 2045, 3063, 4075, 5079, 6073, 7056, 8025, 8980, 9919, 10840, 11743, 12625, 13486,
    14326, 15143, 15936, 16706, 17452, 18173, 18870, 19542, 20189, 20813, 21411, 21986, 22538,
    23066, 23571, 24054, 24516, 24956, 25376, 25776, 26157, 26519, 26864, 27191, 27502, 27797,
    28076, 28341, 28592, 28830, 29055, 29268, 29470, 29660, 29840, 30010, 30170, 30322, 30465,
    30600, 30727, 30847, 30960, 31067, 31167, 31262, 31351, 31435, 31515, 31589, 31659, 31726,
    31788, 31846, 31901, 31953, 32002, 32048, 32091, 32132, 32170, 32206, 32240, 32271, 32301,
    32329, 32356, 32381, 32404, 32426, 32447, 32466, 32484, 32501, 32517, 32532, 32547, 32560,
    32573, 32584, 32596, 32606, 32616, 32625, 32634, 32642, 32649, 32657, 32663, 32670, 32676,
    32681, 32686, 32691, 32696, 32700, 32704, 32708, 32712, 32715, 32718, 32721, 32724, 32727,
    32729, 32732, 32734, 32736, 32738, 32740, 32741, 32743, 32745, 32746, 32747, 32749, 32750,
    32751, 32752, 32753, 32754, 32755, 32755, 32756, 32757, 32758, 32758, 32759, 32759, 32760,
    32760, 32761, 32761, 32762, 32762, 32762, 32763, 32763, 32763, 32764, 32764, 32764, 32764,
    32765, 32765, 32765, 32765, 32765, 32766, 32766, 32766, 32766, 32766, 32766, 32766, 32766,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
];

/// `tanh(x)` in Q15 for `x` with `frac` fractional bits (`frac ≤ 21`).
///
/// The table position is `|x|·2^(21 − frac)` in Q16 table steps (1/32): linear
/// interpolation between the two neighbouring entries, rounded (ties toward +∞), 32767
/// past the table's end. Computed in `u32`/`i32` (the position is < 2^24 wherever the
/// table is read, the interpolation product < 2^27), which is what a Cortex-M0 can do in
/// single instructions, with one load of the packed table (`tanh_mag`: an entry and the
/// step to the next in one word); larger `frac` takes the general `i64` form
/// ([`tanh_s16_i64`]), which equals this for every input (unit test).
#[inline]
pub fn tanh_s16(x: i16, frac: u8) -> i16 {
    if frac > 21 {
        return tanh_s16_i64(x, frac);
    }
    // |x| and the sign put back without branches: `s` is 0 or −1, `(v ^ s) − s` is `±v`.
    let s = (x as i32) >> 31;
    let v = tanh_mag(((x as i32 ^ s) - s) as u32, 21 - frac as u32);
    ((v ^ s) - s) as i16
}

/// `tanh` of a magnitude `mag` through [`TANH_PACKED`] at position `mag·2^sh` (entry
/// `pos >> 16`, `t = pos mod 2^16`; 32767 from `pos ≥ 2^24` on): [`tanh_s16`]'s
/// interpolation (and the gated cells' `σ` at a given format). With the entry `e = T[k]·2^16
/// + 2^15 + 16·d`, `e + d·(t − 16) = T[k]·2^16 + d·t + 2^15` (one multiply-add; below 2^31
/// as `T[k] + d ≤ 32767`), whose top half is `T[k] + rs(d·t, 16)`.
#[inline(always)]
pub(crate) fn tanh_mag(mag: u32, sh: u32) -> i32 {
    if mag >= 1 << (24 - sh) {
        i16::MAX as i32
    } else {
        let pos = mag << sh;
        // `pos < 2^24`: the entry is `pos >> 16 ≤ 255` (the mask only spares a bound check).
        let e = TANH_PACKED[((pos >> 16) & 0xFF) as usize];
        let d = step(e);
        (e.wrapping_add(d.wrapping_mul((pos & 0xFFFF).wrapping_sub(16))) >> 16) as i32
    }
}

/// The step `d` of a [`TANH_PACKED`] entry (bits 4..15: `d ≤ 1024 < 2^11`).
#[inline(always)]
fn step(e: u32) -> u32 {
    (e >> 4) & STEP_MAX
}

/// The largest step a [`TANH_PACKED`] entry holds.
const STEP_MAX: u32 = 0x7FF;

/// The tanh table packed for [`tanh_mag`] and [`interp`]: entry `k` is `T[k] << 16 | 2^15
/// | d << 4` with `d = T[k+1] − T[k]` (0 ..= 1024), entry 256 has `d = 0`.
pub(crate) static TANH_PACKED: [u32; 257] = {
    let mut p = [0u32; 257];
    let mut k = 0;
    while k < 257 {
        let next = if k < 256 {
            TANH_Q15[k + 1]
        } else {
            TANH_Q15[k]
        };
        // Checked at compile time: the table rises, by less than 2^11 a step.
        assert!(next >= TANH_Q15[k] && (next - TANH_Q15[k]) as u32 <= STEP_MAX);
        p[k] = (TANH_Q15[k] as u32) << 16 | 1 << 15 | ((next - TANH_Q15[k]) as u32) << 4;
        k += 1;
    }
    p
};

/// `T[k] + rs((T[k+1] − T[k])·t, bits)` for `k ≤ 256` (`t = 0` at 256), `t < 2^bits ≤
/// 2^7`: one load of [`TANH_PACKED`], `T[k]·2^bits + d·t + 2^(bits−1)` shifted down:
/// `T[k]·2^bits` is a multiple of `2^bits`, so this is the rounding shift of `d·t` plus
/// `T[k]`.
#[inline(always)]
pub(crate) fn interp(k: u32, t: u32, bits: u32) -> i32 {
    let e = TANH_PACKED[(k as usize).min(256)];
    let d = step(e) as i32;
    (e >> 16) as i32 + ((d * t as i32 + (1 << (bits - 1))) >> bits)
}

/// [`tanh_s16`] written in `i64` with the general rounding shift (any `frac`): the form
/// `tanh_s16` was derived from, kept for `frac > 21` and as its test reference.
pub fn tanh_s16_i64(x: i16, frac: u8) -> i16 {
    let mag = (x as i64).abs();
    // Position in table steps (1/32), Q16.
    let pos = shift_round(mag, frac as i32 - 21);
    let idx = (pos >> 16) as usize;
    let v = match (TANH_Q15.get(idx), TANH_Q15.get(idx + 1)) {
        (Some(&a), Some(&b)) => {
            let t = pos & 0xFFFF;
            a as i64 + shift_round((b as i64 - a as i64) * t, 16)
        }
        _ => i16::MAX as i64,
    };
    sat_i16(if x < 0 { -v } else { v })
}

/// `sigmoid(x)` in Q15 (0 ..= 32767) for `x` with `frac` fractional bits (`frac ≤ 20`).
#[inline]
pub fn sigmoid_s16(x: i16, frac: u8) -> i16 {
    let t = tanh_s16(x, frac + 1) as i64;
    sat_i16(shift_round(32768 + t, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_err(f: impl Fn(i16) -> i16, g: impl Fn(f64) -> f64, frac: u8) -> i64 {
        let mut worst = 0;
        for x in i16::MIN..=i16::MAX {
            let xf = x as f64 / (1u32 << frac) as f64;
            let want = (g(xf) * 32768.0).round().min(32767.0) as i64;
            worst = worst.max((f(x) as i64 - want).abs());
        }
        worst
    }

    #[test]
    fn table_entries_are_rounded_tanh() {
        for (k, &v) in TANH_Q15.iter().enumerate() {
            let want = ((k as f64 / 32.0).tanh() * 32768.0).round().min(32767.0) as i16;
            assert_eq!(v, want, "entry {k}");
        }
    }

    #[test]
    fn tanh_s16_error_is_within_4_lsb() {
        for frac in [8u8, 10, 12, 13, 15] {
            let e = max_err(|x| tanh_s16(x, frac), f64::tanh, frac);
            assert!(e <= 4, "frac {frac}: max error {e} LSB");
        }
    }

    #[test]
    fn sigmoid_s16_error_is_within_3_lsb() {
        for frac in [8u8, 10, 12, 15] {
            let e = max_err(|x| sigmoid_s16(x, frac), |v| 1.0 / (1.0 + (-v).exp()), frac);
            assert!(e <= 3, "frac {frac}: max error {e} LSB");
        }
    }

    #[test]
    fn tanh_s16_equals_its_i64_form_everywhere() {
        for frac in 0..=24u8 {
            for x in i16::MIN..=i16::MAX {
                assert_eq!(
                    tanh_s16(x, frac),
                    tanh_s16_i64(x, frac),
                    "x {x}, frac {frac}"
                );
            }
        }
    }

    #[test]
    fn tanh_is_odd_and_monotone() {
        let mut prev = i16::MIN;
        for x in i16::MIN + 1..=i16::MAX {
            let y = tanh_s16(x, 12);
            assert_eq!(y, -tanh_s16(-x, 12));
            assert!(y >= prev);
            prev = y;
        }
    }

    #[test]
    fn transfer_round_trips_bytes_and_names() {
        for t in Transfer::ALL {
            assert_eq!(Transfer::from_u8(t as u8), Some(t));
            assert_eq!(Transfer::from_name(t.name()), Some(t));
        }
        assert_eq!(Transfer::from_u8(4), None);
        assert_eq!(Transfer::from_name("softplus"), None);
    }
}
