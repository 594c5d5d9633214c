//! neuroloop MCU benchmark and exactness probe under QEMU `-icount shift=0`.
//!
//! One binary per architecture: thumbv6m for the Cortex-M0 (`-machine microbit`, nRF51),
//! thumbv7em with feature `dsp` for the Cortex-M4 (`mps2-an386`) and Cortex-M7
//! (`mps2-an500`). The host (`tests/tests/bench_qemu.rs`, run by `cargo xtask bench-mcu`
//! and `cargo xtask qemu-test`) writes a *job* file and QEMU loads it into code memory at
//! [`JOB_ADDR`] (`-device loader,file=JOB,addr=…`), so one build serves every model:
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `NLBJ` |
//! | 4 | steps `u32` LE |
//! | 8 | `n_in` `u32` LE |
//! | 12 | blob length `u32` LE |
//! | 16 | inputs: `steps · n_in` `i16` LE, zero-padded to a multiple of 4 bytes |
//! | then | the model blob |
//!
//! First it checks the multi-row kernels of this build's path against their plain
//! references ([`check_kernels`]: weights and activations at every offset mod 4, tails,
//! spans, extremes; on the DSP path also the assembly leaky row update), since the
//! assembly paths can only run here. Then it runs [`Network::step`] on each input row, times every step with SysTick
//! (core clock; with `-icount shift=0` one instruction is 1 ns, so one tick is 40
//! instructions on mps2 at 25 MHz and 62.5 on the nRF51 at 16 MHz; the host calibrates the
//! ratio with a known loop, [`CALIB_LOOPS`]), and hashes the whole trajectory (`x`, `r`,
//! `y` after every step, FNV-1a 64) so the host can check it bit for bit against its own
//! core run. It prints one line on semihosting and exits 0:
//!
//! `bench path=<kernel path> checked=K steps=S ticks=T calib_ticks=C hash=H stack=B`
//!
//! `stack` is the deepest the stack went below the loop's frame while stepping (bytes,
//! [`StackPaint`]): what [`Network::step`] needs, plus the few words of the loop's own
//! calls (the SysTick reads and the hash).
//!
//! A failed check, bad job, panic or HardFault prints a line and exits 1. `unsafe` is used
//! only to read the job QEMU placed at [`JOB_ADDR`], to view the check's word buffers as
//! bytes and `i16`s, to paint and scan the free stack ([`StackPaint`]), and for the
//! `HardFault` signature cortex-m-rt requires (`fault.rs`).
#![no_std]
#![no_main]

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use neuroloop_core::{Model, Network};

#[cfg(not(bench_m0))]
mod check_fused;
mod fault;

/// Where QEMU loads the job: above the code (96 KiB on the microbit's 256 KiB flash,
/// 1 MiB in mps2's 4 MiB code memory; `build.rs` stops the linker's code region there).
#[cfg(bench_m0)]
const JOB_ADDR: usize = 0x0001_8000;
#[cfg(not(bench_m0))]
const JOB_ADDR: usize = 0x0010_0000;
/// Largest job: the rest of the memory region.
#[cfg(bench_m0)]
const JOB_MAX: usize = 0x0004_0000 - JOB_ADDR;
#[cfg(not(bench_m0))]
const JOB_MAX: usize = 0x0040_0000 - JOB_ADDR;
/// State words: N_rec ≤ 1024 with up to 256 outputs would not fit the microbit's RAM; the
/// bench stays at N_rec ≤ 512 with ≤ 256 outputs.
const STATE_WORDS: usize = 2 * 512 + 256;
/// Calibration: `cortex_m::asm::delay(CALIB_LOOPS - 1)` runs `2 · CALIB_LOOPS`
/// instructions (`subs` + `bne` per loop).
const CALIB_LOOPS: u32 = 1_000_000;

fn word(job: &[u8], at: usize) -> Option<usize> {
    let b = job.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// SysTick ticks elapsed between two readings of the down-counter (24 bits).
fn elapsed(t0: u32, t1: u32) -> u32 {
    t0.wrapping_sub(t1) & 0x00FF_FFFF
}

struct Fnv(u64);

impl Fnv {
    fn add(&mut self, v: &[i16]) {
        for &x in v {
            for b in x.to_le_bytes() {
                self.0 = (self.0 ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3);
            }
        }
    }
}

fn fail(what: &str) -> ! {
    hprintln!("bench error: {}", what);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The free stack between the end of the static data (cortex-m-rt's `__sheap`) and a
/// margin below the caller's stack pointer, painted with [`StackPaint::WORD`], to find
/// later how deep the stack went ([`StackPaint::used`]). Nothing else runs meanwhile (no
/// interrupt is enabled), so only the caller's calls write there.
struct StackPaint {
    /// The lowest painted word.
    low: usize,
    /// The caller's stack pointer when painted.
    top: usize,
}

impl StackPaint {
    /// The paint.
    const WORD: u32 = 0xA5C3_5A3C;
    /// Bytes below the stack pointer left alone (this function's own frame).
    const MARGIN: usize = 256;

    /// Paint from `__sheap` up to [`StackPaint::MARGIN`] bytes below the stack pointer.
    #[inline(always)]
    fn below_here() -> StackPaint {
        extern "C" {
            static __sheap: u32;
        }
        let top = cortex_m::register::msp::read() as usize;
        let low = core::ptr::addr_of!(__sheap) as usize;
        let end = top.saturating_sub(Self::MARGIN) & !3;
        let mut p = low;
        while p < end {
            // SAFETY: `low..end` is RAM above the static data and below the stack in use
            // (cortex-m-rt places the stack at the top of RAM, growing down to `__sheap`);
            // nothing lives there, and the words are 4-aligned.
            unsafe { core::ptr::write_volatile(p as *mut u32, Self::WORD) };
            p += 4;
        }
        StackPaint { low, top }
    }

    /// Bytes from the painting caller's stack pointer down to the deepest word written
    /// since (the lowest word no longer holding the paint).
    fn used(&self) -> usize {
        let mut p = self.low;
        // SAFETY: as in `below_here`: reads of the painted, 4-aligned RAM words.
        while p < self.top && unsafe { core::ptr::read_volatile(p as *const u32) } == Self::WORD {
            p += 4;
        }
        self.top - p
    }
}

/// Largest column count of the kernel check.
const CHECK_COLS: usize = 300;
/// Rows per kernel check case: several row groups and a remainder of every kernel.
const CHECK_ROWS: usize = 7;

/// The multi-row kernels (`dot_rows_*` and the prepared `*_acts` forms) against their
/// plain references, on this machine's path, before the benchmark: weights and
/// activations at every offset mod 4 (aligned, peeled, unaligned `LDM` paths and their
/// fallbacks), column counts with and without tails, `i8` spans over 256 columns, random
/// and all-`MIN` values; then the assembly leaky row update against its reference.
/// Returns the number of cases, or the first failing one (kernel, columns or case
/// number, weight offset or rows done, activation offset or rows the reference did).
fn check_kernels() -> Result<u32, (&'static str, usize, usize, usize)> {
    use neuroloop_core::blob::DType;
    use neuroloop_core::kernel::*;
    let w = cortex_m::singleton!(: [u32; 1 + CHECK_ROWS * CHECK_COLS / 2] = [0; 1 + CHECK_ROWS * CHECK_COLS / 2])
        .unwrap_or_else(|| fail("check buffer"));
    let x = cortex_m::singleton!(: [u32; 2 + CHECK_COLS / 2] = [0; 2 + CHECK_COLS / 2])
        .unwrap_or_else(|| fail("check buffer"));
    let mut seed = 0x1234_5678u32;
    let mut cases = 0;
    for extreme in [false, true] {
        for v in w.iter_mut().chain(x.iter_mut()) {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v = if extreme { 0x8080_8000 } else { seed };
        }
        let wb: &[u8] = bytemuck_bytes(&w[..]);
        let xb: &[i16] = bytemuck_i16(&x[..]);
        for cols in [8usize, 16, 36, 64, 68, 70, 128, 131, 260, CHECK_COLS] {
            for w_off in 0..4 {
                for x_off in 0..2 {
                    let xs = &xb[x_off..x_off + cols];
                    for (size, dtype) in [(1usize, DType::I8), (2, DType::I16)] {
                        let wr = &wb[w_off..w_off + size * cols * CHECK_ROWS - 1];
                        let (mut got, mut acts_got, mut want) =
                            ([0i64; CHECK_ROWS], [0i64; CHECK_ROWS], [0i64; CHECK_ROWS]);
                        if size == 1 {
                            dot_rows_s8_s16_s64(wr, cols, xs, &mut got);
                            with_acts(xs, dtype, |a| {
                                dot_rows_s8_s16_s64_acts(wr, cols, a, &mut acts_got)
                            });
                            dot_rows_s8_s16_s64_ref(wr, cols, xs, &mut want);
                        } else {
                            dot_rows_s16_s16_s64(wr, cols, xs, &mut got);
                            with_acts(xs, dtype, |a| {
                                dot_rows_s16_s16_s64_acts(wr, cols, a, &mut acts_got)
                            });
                            dot_rows_s16_s16_s64_ref(wr, cols, xs, &mut want);
                        }
                        if got != want {
                            return Err((
                                if size == 1 {
                                    "dot_rows_s8"
                                } else {
                                    "dot_rows_s16"
                                },
                                cols,
                                w_off,
                                x_off,
                            ));
                        }
                        if acts_got != want {
                            return Err((
                                if size == 1 {
                                    "dot_rows_s8_acts"
                                } else {
                                    "dot_rows_s16_acts"
                                },
                                cols,
                                w_off,
                                x_off,
                            ));
                        }
                        cases += 1;
                    }
                }
            }
        }
    }
    // The assembly row update against its reference (DSP path only: elsewhere
    // `leaky_rows_i32` does nothing): dot products at the edges of the window each row
    // shift allows (`|v >> c| < 2^30`), saturating biases and states, shifts of every size
    // 0..=31, α from its smallest allowed value to its largest, 0 to 6 rows.
    #[cfg(not(bench_m0))]
    for case in 0..400u32 {
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        // A dot product for window `c` (−29..=31): |v·2^−c| < 2^30, edges and small values.
        let dot = |v: u32, k: u32, c: i32| -> i64 {
            let hi = (1i64 << (30 + c)) - 1;
            match k % 5 {
                0 => hi - (v % 3) as i64,
                1 => -hi + (v % 3) as i64,
                2 => (v as i32 >> (v % 24)) as i64 % (hi + 1),
                3 => ((v as i32 as i64) << (v % 31)) % (hi + 1),
                _ => {
                    ((((v as i32 >> 1) as i64) << c.max(0)) % (hi + 1))
                        | ((v >> 7) as i64 & ((1i64 << c.max(0)) - 1))
                }
            }
        };
        let fr: [u8; 6] = core::array::from_fn(|_| (next() % 31) as u8);
        let fi: [u8; 6] = core::array::from_fn(|_| (next() % 31) as u8);
        // Row shifts c = f + k: `W_rec` in 0..=31 (k in −min f ..= 31 − max f); `W_in` from
        // −a on with a pre-shift a ≤ 29 (c + a in 0..=31).
        let k_of = |f: &[u8; 6], v: u32| {
            let lo = -(f.iter().copied().min().unwrap_or(0) as i32);
            let hi = 31 - f.iter().copied().max().unwrap_or(0) as i32;
            lo + (v % (hi - lo + 1) as u32) as i32
        };
        let k_rec = k_of(&fr, next());
        let a_in = [0, 0, 1 + next() % 8, next() % 30][case as usize % 4];
        let k_in = k_of(&fi, next());
        let rec: [i64; 6] = core::array::from_fn(|i| dot(next(), next(), fr[i] as i32 + k_rec));
        let inp: [i64; 6] =
            core::array::from_fn(|i| dot(next(), next(), fi[i] as i32 + k_in - a_in as i32));
        let b: [u8; 24] = core::array::from_fn(|_| next() as u8);
        let x0: [i16; 6] = core::array::from_fn(|_| next() as i16);
        let p = neuroloop_core::kernel::LeakyRows {
            alpha: [512, 16383, 3277, 512 + (next() % 15872) as i32][case as usize % 4],
            k_rec,
            k_in,
            a_in,
        };
        // 0 to 6 rows: the routine's odd-count entry and its two-row loop.
        let rows = case as usize % 7;
        let (mut got, mut want) = (x0, x0);
        let n = neuroloop_core::kernel::leaky_rows_i32(
            &p,
            (&rec, &fr),
            (&inp, &fi),
            &b,
            &mut got[..rows],
        );
        let m = neuroloop_core::kernel::leaky_rows_i32_ref(
            &p,
            (&rec, &fr),
            (&inp, &fi),
            &b,
            &mut want[..rows],
        );
        if (n, got) != (m, want) {
            return Err(("leaky_rows_i32", case as usize, n, m));
        }
        cases += 1;
    }
    // The fused leaky row loop (DSP path only).
    #[cfg(not(bench_m0))]
    {
        cases += check_fused::run(&mut seed)?;
    }
    Ok(cases)
}

/// The bytes of a word buffer (little-endian, as the blob stores weights).
fn bytemuck_bytes(w: &[u32]) -> &[u8] {
    // SAFETY: `u8` has no alignment or validity requirement; the length covers exactly
    // the words' bytes, borrowed for as long as `w`.
    unsafe { core::slice::from_raw_parts(w.as_ptr().cast::<u8>(), 4 * w.len()) }
}

/// The `i16`s of a word buffer.
fn bytemuck_i16(w: &[u32]) -> &[i16] {
    // SAFETY: `u32` is 4-aligned (so 2-aligned), every bit pattern is a valid `i16`; the
    // length covers exactly the words' halves, borrowed for as long as `w`.
    unsafe { core::slice::from_raw_parts(w.as_ptr().cast::<i16>(), 2 * w.len()) }
}

#[entry]
fn main() -> ! {
    let mut cp = cortex_m::Peripherals::take().unwrap_or_else(|| fail("peripherals"));
    let syst: &mut SYST = &mut cp.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00FF_FFFF);
    syst.clear_current();
    syst.enable_counter();

    // SAFETY: QEMU's `-device loader` placed the job at JOB_ADDR before reset; the region
    // (flash / code memory above this binary, see build.rs) is mapped, readable for
    // JOB_MAX bytes and never written while the program runs.
    let job: &'static [u8] = unsafe { core::slice::from_raw_parts(JOB_ADDR as *const u8, JOB_MAX) };
    if job.get(..4) != Some(b"NLBJ".as_slice()) {
        fail("no job at JOB_ADDR (missing -device loader?)");
    }
    let (steps, n_in, blob_len) = match (word(job, 4), word(job, 8), word(job, 12)) {
        (Some(s), Some(n), Some(b)) => (s, n, b),
        _ => fail("job header"),
    };
    let in_bytes = (2 * steps * n_in).next_multiple_of(4);
    let inputs = job
        .get(16..16 + 2 * steps * n_in)
        .unwrap_or_else(|| fail("job inputs"));
    let blob = job
        .get(16 + in_bytes..16 + in_bytes + blob_len)
        .unwrap_or_else(|| fail("job blob"));
    let model = Model::from_bytes(blob).unwrap_or_else(|_| fail("blob does not decode"));
    let state = cortex_m::singleton!(: [i16; STATE_WORDS] = [0; STATE_WORDS])
        .unwrap_or_else(|| fail("state"));
    let mut net = Network::new(model, state).unwrap_or_else(|_| fail("state buffer"));

    let checked = match check_kernels() {
        Ok(n) => n,
        Err((kernel, cols, w_off, x_off)) => {
            hprintln!(
                "bench error: kernel check: {} differs from its reference: case {} {} {}",
                kernel,
                cols,
                w_off,
                x_off
            );
            debug::exit(debug::EXIT_FAILURE);
            #[allow(clippy::empty_loop)]
            loop {}
        }
    };

    let t0 = SYST::get_current();
    cortex_m::asm::delay(CALIB_LOOPS - 1);
    let calib = elapsed(t0, SYST::get_current());

    let mut hash = Fnv(0xCBF2_9CE4_8422_2325);
    let mut u = [0i16; 256];
    let mut ticks = 0u64;
    let paint = StackPaint::below_here();
    for k in 0..steps {
        for (i, ui) in u[..n_in].iter_mut().enumerate() {
            let at = 2 * (k * n_in + i);
            *ui = i16::from_le_bytes([inputs[at], inputs[at + 1]]);
        }
        let t0 = SYST::get_current();
        let r = net.step(&u[..n_in]);
        let t1 = SYST::get_current();
        if r.is_err() {
            fail("step refused the input");
        }
        ticks += elapsed(t0, t1) as u64;
        hash.add(net.state());
        hash.add(net.rates());
        hash.add(net.outputs());
    }
    let stack = paint.used();
    hprintln!(
        "bench path={} checked={} steps={} ticks={} calib_ticks={} hash={:016x} stack={}",
        neuroloop_core::kernel::PATH,
        checked,
        steps,
        ticks,
        calib,
        hash.0,
        stack
    );
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}
