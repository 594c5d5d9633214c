//! `cargo xtask fuzz [--secs N] [--sanitizer S] [TARGET]`: the cargo-fuzz targets in
//! `fuzz/`, each run for N seconds on the nightly toolchain; and the short run `cargo xtask
//! test` does.
//!
//! Installs what is missing: the nightly toolchain (rustup) and cargo-fuzz (`cargo install
//! cargo-fuzz --locked`, from crates.io).
//!
//! Builds with `-s none` by default: the code under test is safe Rust (core forbids
//! `unsafe` outside `kernel::arm_dsp` and `kernel::arm_v6m`, which the host build does
//! not compile), so
//! AddressSanitizer finds nothing a panic would not, and costs ~14 min of CPU to build and
//! ~2× per execution. Debug assertions are on (`--debug-assertions`), and `fuzz/Cargo.toml`
//! turns overflow checks on in its release profile, so any arithmetic overflow is a crash.
//! `--sanitizer address` gives the ASan build back. Each target starts from its committed seed corpus
//! `fuzz/corpus/<target>/` (read, never written) and keeps what it finds in
//! `fuzz/target/corpus/<target>/` (ignored by git), so reruns continue where they stopped.
//! A crash stops the run and names the input libFuzzer saved under `fuzz/artifacts/`.

use std::path::PathBuf;
use std::process::Command;

use crate::{project_root, run};

/// Seconds per target in `cargo xtask test` (CI).
const CI_SECS: u64 = 10;
/// Sanitizer when `--sanitizer` is not given (see the module doc).
const DEFAULT_SANITIZER: &str = "none";
/// Seconds per target when `--secs` is not given.
const DEFAULT_SECS: u64 = 60;
/// An input running longer than this (seconds) is reported as a hang.
const TIMEOUT_SECS: u64 = 10;

fn fuzz_dir() -> PathBuf {
    project_root().join("fuzz")
}

/// `cargo` of the nightly toolchain, in `fuzz/`, without the variables the outer (stable)
/// cargo set for us.
fn nightly_cargo() -> Command {
    let mut c = Command::new("rustup");
    c.args(["run", "nightly", "cargo"]).current_dir(fuzz_dir());
    for v in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
    ] {
        c.env_remove(v);
    }
    c
}

fn succeeds(mut c: Command) -> bool {
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Install the nightly toolchain and cargo-fuzz if they are missing.
fn ensure_tools() -> Result<(), String> {
    let mut c = Command::new("rustup");
    c.args(["run", "nightly", "rustc", "--version"]);
    if !succeeds(c) {
        eprintln!(
            "xtask: fuzz: no nightly toolchain; installing it \
             (rustup toolchain install nightly --profile minimal)"
        );
        let mut c = Command::new("rustup");
        c.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
        run(c)?;
    }
    let mut c = nightly_cargo();
    c.args(["fuzz", "--version"]);
    if !succeeds(c) {
        eprintln!(
            "xtask: fuzz: cargo-fuzz missing; installing it \
             (cargo install cargo-fuzz --locked, ~3 min)"
        );
        let mut c = Command::new("cargo");
        c.args(["install", "cargo-fuzz", "--locked"]);
        run(c)?;
    }
    Ok(())
}

/// The build options every `cargo fuzz build|run` gets.
fn build_args(c: &mut Command, sanitizer: &str) {
    c.args(["--sanitizer", sanitizer, "--debug-assertions"]);
}

/// Build every target once (so the runs below do not each rebuild).
fn build(sanitizer: &str) -> Result<(), String> {
    eprintln!("xtask: fuzz: building the targets (sanitizer {sanitizer}, debug assertions)");
    let mut c = nightly_cargo();
    c.args(["fuzz", "build"]);
    build_args(&mut c, sanitizer);
    run(c)
}

/// The targets `fuzz/Cargo.toml` declares (`cargo fuzz list`).
fn targets() -> Result<Vec<String>, String> {
    let mut c = nightly_cargo();
    c.args(["fuzz", "list"]);
    let out = c
        .output()
        .map_err(|e| format!("cannot run cargo fuzz list: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// Run `target` for `secs` seconds from its seed corpus.
fn run_target(target: &str, secs: u64, sanitizer: &str) -> Result<(), String> {
    let work = fuzz_dir().join("target").join("corpus").join(target);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let seeds = fuzz_dir().join("corpus").join(target);
    let mut c = nightly_cargo();
    c.args(["fuzz", "run"]);
    build_args(&mut c, sanitizer);
    c.arg(target)
        .arg(&work)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={secs}"))
        .arg(format!("-timeout={TIMEOUT_SECS}"))
        .arg("-print_final_stats=1");
    run(c)
        .map_err(|e| format!("fuzz target {target}: {e} (crash input in fuzz/artifacts/{target}/)"))
}

/// `cargo xtask fuzz [--secs N] [--sanitizer S] [TARGET]`.
pub fn fuzz(args: &[String]) -> Result<(), String> {
    let mut secs = DEFAULT_SECS;
    let mut sanitizer = DEFAULT_SANITIZER.to_string();
    let mut only = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => {
                let v = it.next().ok_or("--secs needs a number of seconds")?;
                secs = v
                    .parse()
                    .map_err(|_| format!("--secs {v:?}: expected whole seconds"))?;
            }
            "--sanitizer" => {
                sanitizer = it
                    .next()
                    .ok_or("--sanitizer needs a name (none, address, memory, thread, leak)")?
                    .clone();
            }
            t if !t.starts_with('-') && only.is_none() => only = Some(t.to_string()),
            other => return Err(format!("fuzz: unexpected argument {other:?}")),
        }
    }
    ensure_tools()?;
    let all = targets()?;
    let chosen: Vec<String> = match only {
        Some(t) if all.contains(&t) => vec![t],
        Some(t) => return Err(format!("no fuzz target {t:?}; targets: {}", all.join(", "))),
        None => all,
    };
    build(&sanitizer)?;
    for t in &chosen {
        run_target(t, secs, &sanitizer)?;
    }
    eprintln!(
        "xtask: fuzz: {} target(s), {secs} s each, no crash",
        chosen.len()
    );
    Ok(())
}

/// The short run of every target that `cargo xtask test` (CI) does.
pub fn ci() -> Result<(), String> {
    fuzz(&["--secs".to_string(), CI_SECS.to_string()])
}
