//! `cargo xtask bench-mcu [--json]`: the MCU benchmark on three QEMU machines and the
//! real-time table derived from it.
//!
//! Builds `firmware/boards/qemu-bench` twice (thumbv6m for the Cortex-M0 `microbit`,
//! thumbv7em + core feature `dsp` for the Cortex-M4 `mps2-an386` and Cortex-M7
//! `mps2-an500`), runs `tests/tests/bench_qemu.rs::bench_mcu` (leaky nets N_rec
//! 64/128/256 × i16/i8, n_in 2, n_out 2, tanh, no noise, `W_rec` 4-aligned in the blob
//! (`blob::encode_aligned`), 40 steps each under
//! `-icount shift=0`, every trajectory checked bit for bit against the host core), then
//! prints a table or, with `--json`, one JSON document with a fixed key order (diffable).
//!
//! Derived figures:
//! - per architecture and weight type, a two-size fit (N_rec 128 and 256) of
//!   `instr/step = a·MACs + b·rows` (`rows` = N_rec + n_out, every row with its epilogue):
//!   `a` the dot-product cost per MAC, `b` the per-row work outside the dot products;
//! - the real-time table: highest loop rate = clock / (instructions per step × CPI) per
//!   board, with the cycles-per-instruction factors of [`BOARDS`] (QEMU counts
//!   instructions, not cycles).

use std::path::PathBuf;
use std::process::Command;

use crate::elf::elf_sizes;
use crate::{cargo, project_root, run};

/// One bench build.
struct Build {
    /// Architecture it is measured as (`m4`: also run on the M7 machine).
    arch: &'static str,
    target: &'static str,
    features: &'static [&'static str],
}

const BUILDS: [Build; 2] = [
    Build {
        arch: "m0",
        target: "thumbv6m-none-eabi",
        features: &[],
    },
    Build {
        arch: "m4",
        target: "thumbv7em-none-eabihf",
        features: &["--features", "dsp"],
    },
];

/// CMSIS-NN reference figures, measured the same way (QEMU mps2-an386, `-icount`), from
/// issue 11: bare mat-vec kernels per MAC, and its LSTM s16 H 128 whole step.
const CMSIS_MATVEC_S16: f64 = 2.27;
const CMSIS_MATVEC_S8_S16: f64 = 2.82;
const CMSIS_LSTM_S16_H128_STEP: f64 = 3.61;

/// A board of the real-time table.
struct BoardRate {
    name: &'static str,
    arch: &'static str,
    mhz: f64,
    /// Cycles per QEMU-counted instruction assumed for this core and loop mix.
    cpi: f64,
    why: &'static str,
}

const BOARDS: [BoardRate; 4] = [
    BoardRate {
        name: "RP2040 (Pico)",
        arch: "m0",
        mhz: 133.0,
        cpi: 1.4,
        why: "Cortex-M0+: loads/stores 2 cycles, MULS 1 (RP2040 single-cycle multiplier), taken branches 2; about a third of the loop is loads, code from SRAM/XIP cache",
    },
    BoardRate {
        name: "STM32F4 (168 MHz)",
        arch: "m4",
        mhz: 168.0,
        cpi: 1.5,
        why: "Cortex-M4: LDR 2 cycles (1 when pipelined), SMLALD/SMLAD 1, taken branch 2-3; ART flash accelerator at 5 wait states; the notes measure 1.5-2x for load-heavy loops, 1.5 taken",
    },
    BoardRate {
        name: "STM32F411 (Black Pill / Nucleo, 96 MHz)",
        arch: "m4",
        mhz: 96.0,
        cpi: 1.5,
        why: "Cortex-M4 as the STM32F4 row, at the 96 MHz firmware/boards/stm32f411 runs (USB needs an exact 48 MHz); 3 flash wait states behind the ART accelerator",
    },
    BoardRate {
        name: "Teensy 4.x (i.MX RT1062, 600 MHz)",
        arch: "m7",
        mhz: 600.0,
        cpi: 1.0,
        why: "Cortex-M7: dual issue, code and data in tightly coupled memory (no wait states); 1.0 ignores dual issue, i.e. conservative",
    },
];

/// One measured configuration (a TSV row of `bench_qemu::bench_mcu`).
struct Row {
    arch: String,
    machine: String,
    n_rec: u64,
    weights: String,
    n_out: u64,
    blob_bytes: u64,
    macs: u64,
    instr: f64,
    /// Bytes of stack the steps used (measured by the bench binary).
    stack: u64,
}

impl Row {
    fn per_mac(&self) -> f64 {
        self.instr / self.macs as f64
    }
    fn rows(&self) -> f64 {
        (self.n_rec + self.n_out) as f64
    }
    fn state_ram(&self) -> u64 {
        (2 * self.n_rec + self.n_out) * 2
    }
}

fn bench_elf(b: &Build) -> PathBuf {
    project_root()
        .join("firmware/boards/qemu-bench/target")
        .join(b.target)
        .join("release/neuroloop-bench-qemu")
}

/// Build the bench binaries (M0, M4/M7); returns their ELFs in [`BUILDS`] order.
pub fn build_bench() -> Result<Vec<PathBuf>, String> {
    BUILDS
        .iter()
        .map(|b| {
            let mut c = cargo();
            c.current_dir(project_root().join("firmware/boards/qemu-bench"));
            c.env_remove("CARGO_TARGET_DIR");
            c.args(["build", "--release", "--target", b.target]);
            c.args(b.features);
            run(c)?;
            Ok(bench_elf(b))
        })
        .collect()
}

/// Clippy + fmt check of the bench crate for both targets.
pub fn lint_bench() -> Result<(), String> {
    for b in &BUILDS {
        let mut c = cargo();
        c.current_dir(project_root().join("firmware/boards/qemu-bench"));
        c.env_remove("CARGO_TARGET_DIR");
        c.args(["clippy", "--release", "--target", b.target]);
        c.args(b.features);
        c.args(["--", "-D", "warnings"]);
        run(c)?;
    }
    let mut c = cargo();
    c.current_dir(project_root().join("firmware/boards/qemu-bench"));
    c.args(["fmt", "--", "--check"]);
    run(c)
}

/// Set the env vars `tests/tests/bench_qemu.rs` reads.
pub fn bench_env(c: &mut Command, elfs: &[PathBuf]) {
    c.env("NEUROLOOP_BENCH_M0_ELF", &elfs[0]);
    c.env("NEUROLOOP_BENCH_M4_ELF", &elfs[1]);
}

/// Least-squares-free two-point fit of `instr = a·macs + b·rows` through `r1`, `r2`.
fn fit(r1: &Row, r2: &Row) -> (f64, f64) {
    let (m1, n1, i1) = (r1.macs as f64, r1.rows(), r1.instr);
    let (m2, n2, i2) = (r2.macs as f64, r2.rows(), r2.instr);
    let det = m1 * n2 - m2 * n1;
    ((i1 * n2 - i2 * n1) / det, (m1 * i2 - m2 * i1) / det)
}

fn cmsis_matvec(weights: &str) -> f64 {
    if weights == "i16" {
        CMSIS_MATVEC_S16
    } else {
        CMSIS_MATVEC_S8_S16
    }
}

/// `cargo xtask bench-mcu [--json]`.
pub fn bench_mcu(json: bool) -> Result<(), String> {
    let elfs = build_bench()?;
    // Code bytes (text + rodata + data) of each build, by architecture.
    let code: Vec<(&str, u64)> = BUILDS
        .iter()
        .zip(&elfs)
        .map(|(b, e)| elf_sizes(e).map(|s| (b.arch, s.text + s.rodata + s.data)))
        .collect::<Result<_, _>>()?;
    let out = project_root().join("target").join("bench-mcu.tsv");
    let _ = std::fs::create_dir_all(out.parent().unwrap());
    let mut c = cargo();
    bench_env(&mut c, &elfs);
    c.env("NEUROLOOP_BENCH_OUT", &out);
    c.args([
        "test",
        "-p",
        "neuroloop-tests",
        "--release",
        "--test",
        "bench_qemu",
        "--",
        "--ignored",
        "--exact",
        "bench_mcu",
    ]);
    c.stdout(std::process::Stdio::null());
    run(c)?;
    let tsv = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let rows: Vec<Row> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f.len() >= 9)
        .map(|f| Row {
            arch: f[0].into(),
            machine: f[1].into(),
            n_rec: f[2].parse().unwrap_or(0),
            weights: f[3].into(),
            n_out: f[5].parse().unwrap_or(0),
            blob_bytes: f[6].parse().unwrap_or(0),
            macs: f[7].parse().unwrap_or(0),
            instr: f[8].parse().unwrap_or(f64::NAN),
            stack: f.get(10).and_then(|v| v.parse().ok()).unwrap_or(0),
        })
        .collect();
    // The M7 runs the M4 build.
    let code_of = |arch: &str| {
        let arch = if arch == "m7" { "m4" } else { arch };
        code.iter().find(|c| c.0 == arch).map_or(0, |c| c.1)
    };
    let find = |arch: &str, w: &str, n: u64| {
        rows.iter()
            .find(|r| r.arch == arch && r.weights == w && r.n_rec == n)
    };
    let fits: Vec<(String, String, f64, f64)> = ["m0", "m4", "m7"]
        .iter()
        .flat_map(|&a| ["i16", "i8"].map(move |w| (a, w)))
        .filter_map(|(a, w)| {
            let (r1, r2) = (find(a, w, 128)?, find(a, w, 256)?);
            let (per_mac, per_row) = fit(r1, r2);
            Some((a.to_string(), w.to_string(), per_mac, per_row))
        })
        .collect();
    if json {
        print_json(&rows, &fits, &code_of);
    } else {
        print_text(&rows, &fits, &code_of);
    }
    Ok(())
}

fn print_text(rows: &[Row], fits: &[(String, String, f64, f64)], code_of: &dyn Fn(&str) -> u64) {
    println!("MCU benchmark: QEMU -icount shift=0 (instructions, not cycles); leaky RNN n_in 2, n_out 2, tanh, whole step (W_rec, W_in, epilogue, rates, W_out)");
    println!(
        "{:<4} {:<11} {:>6} {:>4} {:>11} {:>9} {:>9} {:>10} {:>9} {:>9} {:>11}",
        "arch",
        "machine",
        "N_rec",
        "w",
        "instr/step",
        "instr/MAC",
        "CMSIS mv",
        "flash B",
        "state B",
        "stack B",
        "code B"
    );
    for r in rows {
        println!(
            "{:<4} {:<11} {:>6} {:>4} {:>11.0} {:>9.2} {:>9.2} {:>10} {:>9} {:>9} {:>11}",
            r.arch,
            r.machine,
            r.n_rec,
            r.weights,
            r.instr,
            r.per_mac(),
            cmsis_matvec(&r.weights),
            code_of(&r.arch) + r.blob_bytes,
            r.state_ram(),
            r.stack,
            code_of(&r.arch)
        );
    }
    println!("CMSIS-NN (issue 11, mps2-an386): mat-vec {CMSIS_MATVEC_S16} instr/MAC s16 and s8, {CMSIS_MATVEC_S8_S16} s8×s16; LSTM s16 H128 whole step {CMSIS_LSTM_S16_H128_STEP}");
    println!("\nfit of N_rec 128 and 256: instr/step = a·MACs + b·rows (rows = N_rec + n_out)");
    for (a, w, m, r) in fits {
        println!("{a:<4} {w:<4} a = {m:.3} instr/MAC in the dot products, b = {r:.0} instr/row outside them");
    }
    println!("\nreal-time table: highest loop rate (Hz) = clock / (instr/step × CPI)");
    for b in &BOARDS {
        let rates: Vec<String> = rows
            .iter()
            .filter(|r| r.arch == b.arch)
            .map(|r| format!("N{} {}: {:.0}", r.n_rec, r.weights, rate(b, r)))
            .collect();
        println!(
            "{} ({} MHz, CPI {}): {}",
            b.name,
            b.mhz,
            b.cpi,
            rates.join(", ")
        );
        println!("  CPI: {}", b.why);
    }
}

fn rate(b: &BoardRate, r: &Row) -> f64 {
    b.mhz * 1e6 / (r.instr * b.cpi)
}

fn print_json(rows: &[Row], fits: &[(String, String, f64, f64)], code_of: &dyn Fn(&str) -> u64) {
    let mut o = String::from("{\n");
    o.push_str("  \"method\": \"QEMU 7.2 -icount shift=0: instructions per whole leaky step (n_in 2, n_out 2, tanh, no noise), mean of 40 steps; every trajectory bit-identical to the host core\",\n");
    o.push_str(&format!(
        "  \"cmsis_nn_reference\": {{\"lstm_s16_h128_whole_step_instr_per_mac\": {CMSIS_LSTM_S16_H128_STEP:.2}, \"matvec_s16_instr_per_mac\": {CMSIS_MATVEC_S16:.2}, \"matvec_s8_instr_per_mac\": {CMSIS_MATVEC_S16:.2}, \"matvec_s8_s16_instr_per_mac\": {CMSIS_MATVEC_S8_S16:.2}, \"machine\": \"mps2-an386\"}},\n"
    ));
    o.push_str("  \"rows\": [\n");
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "    {{\"arch\": \"{}\", \"machine\": \"{}\", \"n_rec\": {}, \"weights\": \"{}\", \"macs\": {}, \"instr_per_step\": {:.0}, \"instr_per_mac\": {:.3}, \"cmsis_nn_matvec_instr_per_mac\": {:.2}, \"code_flash_bytes\": {}, \"blob_bytes\": {}, \"flash_bytes\": {}, \"state_ram_bytes\": {}, \"step_stack_bytes\": {}}}",
                r.arch,
                r.machine,
                r.n_rec,
                r.weights,
                r.macs,
                r.instr,
                r.per_mac(),
                cmsis_matvec(&r.weights),
                code_of(&r.arch),
                r.blob_bytes,
                code_of(&r.arch) + r.blob_bytes,
                r.state_ram(),
                r.stack
            )
        })
        .collect();
    o.push_str(&items.join(",\n"));
    o.push_str("\n  ],\n  \"fits\": [\n");
    let items: Vec<String> = fits
        .iter()
        .map(|(a, w, m, r)| {
            format!(
                "    {{\"arch\": \"{a}\", \"weights\": \"{w}\", \"sizes\": [128, 256], \"dot_instr_per_mac\": {m:.3}, \"per_row_instr\": {r:.0}}}"
            )
        })
        .collect();
    o.push_str(&items.join(",\n"));
    o.push_str("\n  ],\n  \"real_time\": [\n");
    let mut items = Vec::new();
    for b in &BOARDS {
        for r in rows.iter().filter(|r| r.arch == b.arch) {
            items.push(format!(
                "    {{\"board\": \"{}\", \"arch\": \"{}\", \"mhz\": {:.0}, \"cpi\": {:.2}, \"n_rec\": {}, \"weights\": \"{}\", \"max_loop_hz\": {:.0}}}",
                b.name, b.arch, b.mhz, b.cpi, r.n_rec, r.weights, rate(b, r)
            ));
        }
    }
    o.push_str(&items.join(",\n"));
    o.push_str("\n  ],\n  \"cpi_rationale\": {\n");
    let items: Vec<String> = BOARDS
        .iter()
        .map(|b| format!("    \"{}\": \"{}\"", b.arch, b.why))
        .collect();
    o.push_str(&items.join(",\n"));
    o.push_str("\n  }\n}");
    println!("{o}");
}
