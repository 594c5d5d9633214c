//! Write the memory map of the QEMU machine this target runs on (`memory.x`, read by
//! cortex-m-rt's `link.x`): thumbv6m → `microbit` (nRF51, 256 KiB flash, 16 KiB RAM),
//! thumbv7em → `mps2-an386`/`mps2-an500` (4 MiB code, 4 MiB RAM). The code region stops
//! where the benchmark job is loaded (`JOB_ADDR` in `src/main.rs`), so the linker refuses
//! a binary that would overlap it. Sets `cfg(bench_m0)` on thumbv6m.
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-check-cfg=cfg(bench_m0)");
    let m0 = target.starts_with("thumbv6m");
    if m0 {
        println!("cargo:rustc-cfg=bench_m0");
    }
    let memory = if m0 {
        "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 96K\n  RAM : ORIGIN = 0x20000000, LENGTH = 16K\n}\n"
    } else {
        "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 1M\n  RAM : ORIGIN = 0x20000000, LENGTH = 4M\n}\n"
    };
    std::fs::write(out.join("memory.x"), memory).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
}
