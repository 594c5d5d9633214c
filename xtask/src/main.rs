//! Project automation, run as `cargo xtask <task>` (alias in `.cargo/config.toml`).
//!
//! | task | what |
//! |---|---|
//! | `test` | everything CI checks: fmt, clippy, workspace tests, core + firmware/app tests again with overflow checks and debug assertions (profile `overflow`), core for thumbv6m/thumbv7em, firmware boards + QEMU end-to-end tests (golden vectors included) |
//! | `qemu-test` | build the QEMU firmware and run the end-to-end protocol tests against it; the QEMU bench binary bit-exact on the Cortex-M0/M4/M7 machines |
//! | `qemu [--defmt]` | build and run the QEMU firmware, UART0 on tcp 127.0.0.1:7878; `--defmt`: the defmt build, logs decoded by `defmt-print` |
//! | `size` | flash / RAM of the firmware boards |
//! | `uf2` | the Raspberry Pi Pico firmware as a `.uf2` for drag-and-drop onto the RPI-RP2 drive, checked block by block against the ELF (`xtask/src/uf2.rs`) |
//! | `bench-mcu [--json]` | instructions per step / per MAC in QEMU on Cortex-M0, M4, M7 for N_rec 64/128/256, i16/i8, per-row fit, real-time table per board (`xtask/src/bench.rs`) |
//! | `fuzz [--secs N] [--sanitizer S] [TARGET]` | the cargo-fuzz targets in `fuzz/`, N s each, sanitizer `none` by default (nightly + cargo-fuzz installed if missing); `test` runs each 10 s |
//!
//! Needs only cargo (and rustup to add missing targets).

mod bench;
mod elf;
mod firmware;
mod fuzz;
mod profile;
mod uf2;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const TASKS: &[(&str, &str)] = &[
    (
        "test",
        "fmt + clippy + all tests + embedded builds (what CI runs)",
    ),
    ("qemu-test", "QEMU firmware end-to-end tests"),
    (
        "qemu",
        "[--defmt] run the QEMU firmware (UART0 on tcp 127.0.0.1:7878)",
    ),
    ("size", "flash/RAM of the firmware boards"),
    ("uf2", "the Pico firmware as a .uf2 (BOOTSEL drag-and-drop)"),
    ("bench-mcu", "[--json] instructions per step/MAC in QEMU"),
    (
        "profile-mcu",
        "JOB [--top N] [--blocks] instructions per step by function or block (a bench-mcu job file)",
    ),
    (
        "fuzz",
        "[--secs N] [--sanitizer S] [TARGET] run the fuzz targets N s each",
    ),
];

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    let result = match task.as_deref() {
        Some("test") => test(),
        Some("qemu-test") => firmware::qemu_test(),
        Some("qemu") => firmware::qemu_run(std::env::args().any(|a| a == "--defmt")),
        Some("size") => firmware::size(),
        Some("uf2") => uf2::uf2(),
        Some("bench-mcu") => bench::bench_mcu(std::env::args().any(|a| a == "--json")),
        Some("profile-mcu") => profile::profile_mcu(&std::env::args().skip(2).collect::<Vec<_>>()),
        Some("fuzz") => fuzz::fuzz(&std::env::args().skip(2).collect::<Vec<_>>()),
        _ => {
            eprintln!("usage: cargo xtask <task>\n\ntasks:");
            for (name, what) in TASKS {
                eprintln!("  {name:<12} {what}");
            }
            return if task.is_none() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(project_root());
    c
}

fn run(mut cmd: Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

/// Install missing rustup targets (no-op when present).
fn ensure_targets(targets: &[&str]) -> Result<(), String> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let installed = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut c = Command::new("rustup");
    c.args(["target", "add"]).args(&missing);
    run(c)
}

fn test() -> Result<(), String> {
    ensure_targets(&["thumbv6m-none-eabi", "thumbv7em-none-eabihf"])?;
    let mut c = cargo();
    c.args(["fmt", "--all", "--", "--check"]);
    run(c)?;
    let mut c = cargo();
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(c)?;
    // The app's USB CDC transport is only compiled by the board crates, which do not lint
    // their path dependencies: lint it here with its feature on.
    let mut c = cargo();
    c.args([
        "clippy",
        "-p",
        "neuroloop-firmware",
        "--features",
        "usb",
        "--",
        "-D",
        "warnings",
    ]);
    run(c)?;
    for target in ["thumbv6m-none-eabi", "thumbv7em-none-eabihf"] {
        let mut c = cargo();
        c.args([
            "build",
            "-p",
            "neuroloop-core",
            "--release",
            "--target",
            target,
        ]);
        run(c)?;
    }
    let mut c = cargo();
    c.args(["test", "--workspace", "--release"]);
    run(c)?;
    // The no_std crates again with overflow checks and debug assertions (profile
    // `overflow` in Cargo.toml): the fixed-point "never wraps" claims, exercised.
    let mut c = cargo();
    c.args([
        "test",
        "--profile",
        "overflow",
        "-p",
        "neuroloop-core",
        "-p",
        "neuroloop-firmware",
    ]);
    run(c)?;
    // Firmware: every board lints + builds, then the QEMU end-to-end tests.
    firmware::test_all()?;
    // The Pico's default build (test_all built the `uart` one last) as a UF2, checked
    // block by block against its ELF.
    uf2::uf2()?;

    // Fuzzing: every cargo-fuzz target for a short time (see xtask/src/fuzz.rs).
    fuzz::ci()?;

    eprintln!("xtask: all checks passed");
    Ok(())
}
