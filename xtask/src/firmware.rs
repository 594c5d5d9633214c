//! Firmware tasks: build the boards, run the QEMU end-to-end tests, sizes, MCU benchmark.

use std::path::PathBuf;
use std::process::Command;

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

/// Check core's `dsp` feature, build both boards (lint them too), then run the QEMU
/// end-to-end tests.
pub fn test_all() -> Result<(), String> {
    core_dsp_checks()?;
    for b in [&QEMU, &PICO] {
        b.lint()?;
        b.build()?;
    }
    qemu_test()
}

/// Build the QEMU firmware and run `tests/tests/firmware_qemu.rs` against it.
pub fn qemu_test() -> Result<(), String> {
    let elf = QEMU.build()?;
    which("qemu-system-arm")?;
    let mut c = cargo();
    c.env(ELF_VAR, &elf);
    c.args([
        "test",
        "-p",
        "neuroloop-tests",
        "--release",
        "--test",
        "firmware_qemu",
        "--",
        "--ignored",
        "--test-threads",
        "1",
    ]);
    run(c)
}

const ELF_VAR: &str = "NEUROLOOP_FW_QEMU_ELF";

fn which(tool: &str) -> Result<(), String> {
    match Command::new(tool).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!(
            "`{tool}` not found: apt-get install -y qemu-system-arm"
        )),
    }
}

/// Build and run the QEMU firmware in the foreground, UART0 on TCP 127.0.0.1:7878.
pub fn qemu_run() -> Result<(), String> {
    let elf = QEMU.build()?;
    which("qemu-system-arm")?;
    eprintln!("xtask: UART0 on tcp 127.0.0.1:7878 (QEMU waits for a client); Ctrl-C to stop");
    let mut c = Command::new("qemu-system-arm");
    c.args([
        "-machine",
        "mps2-an386",
        "-cpu",
        "cortex-m4",
        "-nographic",
        "-monitor",
        "none",
    ]);
    c.args([
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=0",
    ]);
    c.args(["-serial", "tcp:127.0.0.1:7878,server=on,wait=on", "-kernel"])
        .arg(elf);
    run(c)
}

/// Section sizes of an ELF32 file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sizes {
    /// Executable sections.
    pub text: u64,
    /// Read-only data (incl. vector table, built-in model).
    pub rodata: u64,
    /// Initialised RAM (its image also sits in flash).
    pub data: u64,
    /// Zeroed/uninitialised RAM (incl. model slots; stack excluded).
    pub bss: u64,
}

impl Sizes {
    /// Flash bytes: text + rodata + the .data image.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }
    /// Static RAM bytes: data + bss.
    pub fn ram(&self) -> u64 {
        self.data + self.bss
    }
}

/// Read section sizes from an ELF32 little-endian file (what `size -A` would sum).
pub fn elf_sizes(path: &std::path::Path) -> Result<Sizes, String> {
    let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let u16_at = |o: usize| {
        b.get(o..o + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64)
    };
    if b.get(..5) != Some(&[0x7f, b'E', b'L', b'F', 1][..]) {
        return Err(format!("{}: not an ELF32 file", path.display()));
    }
    let bad = || format!("{}: truncated ELF", path.display());
    let shoff = u32_at(0x20).ok_or_else(bad)? as usize;
    let shentsize = u16_at(0x2E).ok_or_else(bad)?;
    let shnum = u16_at(0x30).ok_or_else(bad)?;
    let mut s = Sizes::default();
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let (ty, flags, size) = (
            u32_at(h + 4).ok_or_else(bad)?,
            u32_at(h + 8).ok_or_else(bad)?,
            u32_at(h + 20).ok_or_else(bad)?,
        );
        const WRITE: u64 = 1;
        const ALLOC: u64 = 2;
        const EXEC: u64 = 4;
        const NOBITS: u64 = 8;
        if flags & ALLOC == 0 {
            continue;
        }
        match (flags & WRITE != 0, flags & EXEC != 0, ty == NOBITS) {
            (_, true, _) => s.text += size,
            (false, false, _) => s.rodata += size,
            (true, _, false) => s.data += size,
            (true, _, true) => s.bss += size,
        }
    }
    Ok(s)
}

/// `cargo xtask size`: build both boards and print flash/RAM.
pub fn size() -> Result<(), String> {
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "board", "text", "rodata", "data", "bss", "flash", "ram"
    );
    for b in [&QEMU, &PICO] {
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

/// `cargo xtask bench-mcu [--json]`: instructions per step and per MAC in QEMU, and the
/// firmware's flash/RAM.
pub fn bench_mcu(json: bool) -> Result<(), String> {
    let elf = QEMU.build()?;
    which("qemu-system-arm")?;
    let sizes = elf_sizes(&elf)?;
    let out = project_root().join("target").join("bench-mcu.tsv");
    let _ = std::fs::create_dir_all(out.parent().unwrap());
    let mut c = cargo();
    c.env(ELF_VAR, &elf).env("NEUROLOOP_BENCH_OUT", &out);
    c.args([
        "test",
        "-p",
        "neuroloop-tests",
        "--release",
        "--test",
        "firmware_bench",
        "--",
        "--ignored",
        "--test-threads",
        "1",
    ]);
    c.stdout(std::process::Stdio::null());
    run(c)?;
    let tsv = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let rows: Vec<Vec<&str>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .filter(|r: &Vec<&str>| r.len() == 7)
        .collect();
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    if json {
        let items: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{{\"n_rec\":{},\"weights\":\"{}\",\"blob_bytes\":{},\"macs\":{},\"instr_per_step\":{},\"instr_per_mac\":{:.3},\"state_ram_bytes\":{}}}",
                    r[0],
                    r[1],
                    r[4],
                    r[5],
                    r[6],
                    num(r[6]) / num(r[5]),
                    (2 * num(r[0]) as u64 + num(r[3]) as u64) * 2
                )
            })
            .collect();
        println!(
            "{{\"board\":\"qemu-mps2-an386\",\"cpu\":\"cortex-m4\",\"firmware_flash_bytes\":{},\"firmware_static_ram_bytes\":{},\"rows\":[{}]}}",
            sizes.flash(),
            sizes.ram(),
            items.join(",")
        );
        return Ok(());
    }
    println!(
        "MCU benchmark: QEMU mps2-an386 (Cortex-M4F), -icount shift=0, leaky RNN, n_in 2, n_out 2"
    );
    println!(
        "firmware: flash (text+rodata+data) {} B, static RAM (data+bss) {} B (incl. 2 model slots), built-in model included",
        sizes.flash(),
        sizes.ram()
    );
    println!(
        "{:>6} {:>7} {:>10} {:>8} {:>14} {:>12}",
        "N_rec", "weights", "blob B", "MACs", "instr/step", "instr/MAC"
    );
    for r in &rows {
        println!(
            "{:>6} {:>7} {:>10} {:>8} {:>14} {:>12.2}",
            r[0],
            r[1],
            r[4],
            r[5],
            r[6],
            num(r[6]) / num(r[5])
        );
    }
    Ok(())
}
