//! Sets `cfg(neuroloop_arm_dsp)` when the target core has the Armv7E-M DSP extension.
//!
//! Stable Rust does not expose Arm target features to `cfg` (`target_feature = "dsp"` is
//! never set on stable), so the kernel's DSP path (`src/kernel/arm_dsp.rs`, feature `dsp`)
//! is selected by target name: `thumbv7em-*` (Cortex-M4/M7), or any Arm target where the
//! compiler does report `dsp` (nightly, `-C target-feature=+dsp`). Every other target
//! (thumbv7m, thumbv8m, the host) keeps the portable kernels.
//!
//! Sets `cfg(neuroloop_arm_v6m)` on `thumbv6m-*` (Cortex-M0/M0+, e.g. the RP2040): the
//! Thumb-1 assembly multi-row kernels (`src/kernel/arm_v6m.rs`, always on there).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(neuroloop_arm_dsp)");
    println!("cargo:rustc-check-cfg=cfg(neuroloop_arm_v6m)");
    let target = std::env::var("TARGET").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let dsp = arch == "arm"
        && (target.starts_with("thumbv7em-") || features.split(',').any(|f| f == "dsp"));
    if dsp {
        println!("cargo:rustc-cfg=neuroloop_arm_dsp");
    }
    if arch == "arm" && target.starts_with("thumbv6m-") {
        println!("cargo:rustc-cfg=neuroloop_arm_v6m");
    }
}
