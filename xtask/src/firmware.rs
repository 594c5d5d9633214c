//! Firmware tasks: build the boards, run the QEMU end-to-end tests, sizes, MCU benchmark,
//! and the QEMU board's `defmt` build (CI checks it builds, lints and boots).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::elf::elf_sizes;
use crate::{cargo, project_root, run};

/// A board crate (own workspace and target).
pub struct Board {
    /// Folder under `firmware/boards/`.
    pub dir: &'static str,
    /// Package / binary name.
    pub bin: &'static str,
    /// Rust target.
    pub target: &'static str,
}

/// QEMU mps2-an386 (Cortex-M4F).
pub const QEMU: Board = Board {
    dir: "qemu-mps2-an386",
    bin: "neuroloop-fw-qemu-mps2-an386",
    target: "thumbv7em-none-eabihf",
};
/// Raspberry Pi Pico (RP2040).
pub const PICO: Board = Board {
    dir: "rp-pico",
    bin: "neuroloop-fw-rp-pico",
    target: "thumbv6m-none-eabi",
};
/// STM32F411 (Black Pill F411CE, Nucleo-F411RE): Cortex-M4F with core's `dsp` kernels.
pub const F411: Board = Board {
    dir: "stm32f411",
    bin: "neuroloop-fw-stm32f411",
    target: "thumbv7em-none-eabihf",
};
/// Every board `cargo xtask test` lints and builds, and `cargo xtask size` lists.
const BOARDS: [&Board; 3] = [&QEMU, &PICO, &F411];

impl Board {
    fn root(&self) -> PathBuf {
        project_root().join("firmware/boards").join(self.dir)
    }

    fn cargo(&self, args: &[&str]) -> Command {
        let mut c = cargo();
        c.current_dir(self.root());
        c.env_remove("CARGO_TARGET_DIR");
        c.args(args);
        c
    }

    /// The release ELF.
    pub fn elf(&self) -> PathBuf {
        self.root()
            .join("target")
            .join(self.target)
            .join("release")
            .join(self.bin)
    }

    /// `cargo build --release`.
    pub fn build(&self) -> Result<PathBuf, String> {
        run(self.cargo(&["build", "--release"]))?;
        Ok(self.elf())
    }

    /// fmt check + clippy -D warnings.
    pub fn lint(&self) -> Result<(), String> {
        run(self.cargo(&["fmt", "--", "--check"]))?;
        run(self.cargo(&["clippy", "--release", "--", "-D", "warnings"]))
    }

    /// Cargo for the board's feature `defmt`: own target dir (`target/defmt`, so the
    /// default ELF the end-to-end tests run is never overwritten), `DEFMT_LOG=info` unless
    /// set.
    fn cargo_defmt(&self, args: &[&str]) -> Command {
        // The flags go before a `--` (what follows it is for clippy-driver).
        let split = args.iter().position(|&a| a == "--").unwrap_or(args.len());
        let mut c = self.cargo(&args[..split]);
        c.args(["--features", "defmt", "--target-dir", "target/defmt"]);
        c.args(&args[split..]);
        if std::env::var_os("DEFMT_LOG").is_none() {
            c.env("DEFMT_LOG", "info");
        }
        c
    }

    /// The release ELF of the `defmt` build.
    pub fn defmt_elf(&self) -> PathBuf {
        self.root()
            .join("target/defmt")
            .join(self.target)
            .join("release")
            .join(self.bin)
    }

    /// `cargo build --release --features defmt` (into `target/defmt`).
    pub fn build_defmt(&self) -> Result<PathBuf, String> {
        run(self.cargo_defmt(&["build", "--release"]))?;
        Ok(self.defmt_elf())
    }
}

/// Core feature `dsp` on the embedded targets: clippy over the `asm!` kernels on
/// thumbv7em (a board's clippy does not lint its path dependencies), and a build on
/// thumbv6m, where the feature must be a no-op.
pub fn core_dsp_checks() -> Result<(), String> {
    let mut c = cargo();
    c.args([
        "clippy",
        "-p",
        "neuroloop-core",
        "--release",
        "--features",
        "dsp",
        "--target",
        QEMU.target,
        "--",
        "-D",
        "warnings",
    ]);
    run(c)?;
    for target in [QEMU.target, PICO.target] {
        let mut c = cargo();
        c.args([
            "build",
            "-p",
            "neuroloop-core",
            "--release",
            "--features",
            "dsp",
            "--target",
            target,
        ]);
        run(c)?;
    }
    Ok(())
}

/// The QEMU board's feature `defmt`: clippy over the app's log macros with defmt on (a
/// board's clippy skips path dependencies), clippy and build the board with it, then boot
/// it under QEMU ([`defmt_boot_check`]). Needs no `defmt-print`.
pub fn defmt_checks() -> Result<(), String> {
    let mut c = cargo();
    c.args([
        "clippy",
        "-p",
        "neuroloop-firmware",
        "--release",
        "--features",
        "defmt",
        "--target",
        QEMU.target,
        "--",
        "-D",
        "warnings",
    ]);
    run(c)?;
    run(QEMU.cargo_defmt(&["clippy", "--release", "--", "-D", "warnings"]))?;
    let elf = QEMU.build_defmt()?;
    which("qemu-system-arm")?;
    defmt_boot_check(&elf)
}

/// Boot the `defmt` build under QEMU (no UART client): it must pass the kernel self-test
/// (a failure panics, which exits QEMU with status 1), emit defmt frames on stdout and
/// keep running; then it is stopped. With `defmt-print` on PATH the frames are decoded and
/// must contain the self-test line.
pub fn defmt_boot_check(elf: &std::path::Path) -> Result<(), String> {
    let out = elf.with_extension("boot.defmt");
    let file = std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut qemu = Command::new("qemu-system-arm");
    qemu.args(QEMU_ARGS)
        .args(["-serial", "null", "-kernel"])
        .arg(elf);
    qemu.stdin(Stdio::null()).stdout(file);
    let mut child = qemu.spawn().map_err(|e| format!("qemu-system-arm: {e}"))?;
    let start = Instant::now();
    let mut first_bytes: Option<Instant> = None;
    let size = || std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let outcome = loop {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break Err(format!(
                "defmt build exited during boot ({st}); decode {} with `defmt-print -e {}`",
                out.display(),
                elf.display()
            ));
        }
        if first_bytes.is_none() && size() > 0 {
            first_bytes = Some(Instant::now());
        }
        // Logged, then still running a second later: booted.
        if first_bytes.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            break Ok(());
        }
        if start.elapsed() > Duration::from_secs(60) {
            break Err("defmt build printed nothing within 60 s".to_string());
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    outcome?;
    if on_path("defmt-print") {
        let log = Command::new("defmt-print")
            .arg("-e")
            .arg(elf)
            .stdin(std::fs::File::open(&out).map_err(|e| e.to_string())?)
            .output()
            .map_err(|e| format!("defmt-print: {e}"))?;
        let text = String::from_utf8_lossy(&log.stdout);
        if !text.contains("kernel self-test:") || !text.contains("bit-exact") {
            return Err(format!(
                "no kernel self-test line in the defmt log:\n{text}"
            ));
        }
        eprintln!("xtask: defmt build booted under QEMU (decoded with defmt-print)");
    } else {
        eprintln!(
            "xtask: defmt build booted under QEMU ({} B of frames; `cargo install defmt-print` to decode them too)",
            size()
        );
    }
    Ok(())
}

/// Check core's `dsp` feature, build every board (lint them too), check the QEMU board's
/// `defmt` build, then run the QEMU end-to-end tests.
pub fn test_all() -> Result<(), String> {
    core_dsp_checks()?;
    crate::bench::lint_bench()?;
    for b in BOARDS {
        b.lint()?;
        b.build()?;
    }
    // The UART transports of the USB boards (default: USB CDC), linted and built too.
    for b in [&PICO, &F411] {
        run(b.cargo(&[
            "clippy",
            "--release",
            "--features",
            "uart",
            "--",
            "-D",
            "warnings",
        ]))?;
        run(b.cargo(&["build", "--release", "--features", "uart"]))?;
    }
    defmt_checks()?;
    qemu_test()
}

/// Build the QEMU firmware and run `tests/tests/firmware_qemu.rs`,
/// `tests/tests/golden_qemu.rs` and `tests/tests/gated_qemu.rs` against it.
pub fn qemu_test() -> Result<(), String> {
    let elf = QEMU.build()?;
    which("qemu-system-arm")?;
    // The bench binary on the Cortex-M0, M4 and M7 machines: whole trajectories bit-exact.
    let bench = crate::bench::build_bench()?;
    let mut c = cargo();
    crate::bench::bench_env(&mut c, &bench);
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
        "bench_binary_is_bit_exact_on_every_machine",
    ]);
    run(c)?;
    let mut c = cargo();
    c.env(ELF_VAR, &elf);
    c.args([
        "test",
        "-p",
        "neuroloop-tests",
        "--release",
        "--test",
        "firmware_qemu",
        "--test",
        "golden_qemu",
        "--test",
        "gated_qemu",
        "--",
        "--ignored",
        "--test-threads",
        "1",
    ]);
    run(c)?;
    // `neuroloop rig` against the same firmware (lockstep replay bit-exact with `run`).
    let mut c = cargo();
    c.env(ELF_VAR, &elf);
    c.args([
        "test",
        "-p",
        "neuroloop",
        "--release",
        "--test",
        "rig_sim",
        "--",
        "--ignored",
    ]);
    run(c)
}

const ELF_VAR: &str = "NEUROLOOP_FW_QEMU_ELF";

fn on_path(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn which(tool: &str) -> Result<(), String> {
    if on_path(tool) {
        Ok(())
    } else {
        Err(format!(
            "`{tool}` not found: apt-get install -y qemu-system-arm"
        ))
    }
}

/// mps2-an386 with semihosting on stdout, deterministic instruction count; the caller adds
/// `-serial` and `-kernel`.
const QEMU_ARGS: &[&str] = &[
    "-machine",
    "mps2-an386",
    "-cpu",
    "cortex-m4",
    "-nographic",
    "-monitor",
    "none",
    "-semihosting-config",
    "enable=on,target=native",
    "-icount",
    "shift=0",
];

/// Build and run the QEMU firmware in the foreground, UART0 on TCP 127.0.0.1:7878. With
/// `defmt`: the `defmt` build, its stdout decoded by `defmt-print -e ELF` (which must be on
/// PATH).
pub fn qemu_run(defmt: bool) -> Result<(), String> {
    if defmt && !on_path("defmt-print") {
        return Err(
            "`defmt-print` not found on PATH: `cargo install defmt-print` (about 2 min), then retry"
                .to_string(),
        );
    }
    let elf = if defmt {
        QEMU.build_defmt()?
    } else {
        QEMU.build()?
    };
    which("qemu-system-arm")?;
    eprintln!("xtask: UART0 on tcp 127.0.0.1:7878 (QEMU waits for a client); Ctrl-C to stop");
    let mut c = Command::new("qemu-system-arm");
    c.args(QEMU_ARGS)
        .args(["-serial", "tcp:127.0.0.1:7878,server=on,wait=on", "-kernel"])
        .arg(&elf);
    if !defmt {
        return run(c);
    }
    c.stdout(Stdio::piped());
    let mut qemu = c.spawn().map_err(|e| format!("qemu-system-arm: {e}"))?;
    let frames = qemu.stdout.take().expect("piped stdout");
    let mut print = match Command::new("defmt-print")
        .arg("-e")
        .arg(&elf)
        .stdin(frames)
        .spawn()
    {
        Ok(p) => p,
        Err(e) => {
            let _ = qemu.kill();
            let _ = qemu.wait();
            return Err(format!("defmt-print: {e}"));
        }
    };
    // QEMU spins forever if its stdout reader goes away: stop it when defmt-print ends.
    loop {
        if let Some(st) = qemu.try_wait().map_err(|e| e.to_string())? {
            let _ = print.wait();
            return if st.success() {
                Ok(())
            } else {
                Err(format!("qemu-system-arm: {st}"))
            };
        }
        if let Some(st) = print.try_wait().map_err(|e| e.to_string())? {
            let _ = qemu.kill();
            let _ = qemu.wait();
            return Err(format!("defmt-print exited ({st}); QEMU stopped"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `cargo xtask size`: build every board and print flash/RAM.
pub fn size() -> Result<(), String> {
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "board", "text", "rodata", "data", "bss", "flash", "ram"
    );
    for b in BOARDS {
        let s = elf_sizes(&b.build()?)?;
        println!(
            "{:<22} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
            b.dir,
            s.text,
            s.rodata,
            s.data,
            s.bss,
            s.flash(),
            s.ram()
        );
    }
    Ok(())
}
