//! The QEMU benchmark binary (`firmware/boards/qemu-bench`) on three architectures:
//! Cortex-M0 (`microbit`, thumbv6m: the Thumb-1 assembly kernels the RP2040 runs), Cortex-M4
//! (`mps2-an386`) and Cortex-M7 (`mps2-an500`), both thumbv7em with core feature `dsp`.
//!
//! - `bench_binary_is_bit_exact_on_every_machine` (run by `cargo xtask qemu-test`): first
//!   the package's `kernel-selftest` binary (the firmware's kernel self-test: every dot
//!   kernel of the build against its reference, overflowing sums included) must pass on
//!   each machine; then random i8 and i16 nets at odd and even sizes (kernel tails, `i8`
//!   rows over 256 columns), each with and without `W_rec` 4-aligned in the blob (the DSP
//!   path's `LDM` kernels and their fallbacks), saturated nets on extreme inputs and the
//!   golden blobs (noise included); the device's whole trajectory (`x`, `r`, `y` after
//!   every step, FNV-1a 64) must equal the host core's. Before it runs the model, the
//!   bench binary checks every multi-row kernel (weights and activations at every offset
//!   mod 4) and, on the DSP path, the assembly row update against their references, and
//!   fails otherwise.
//! - `bench_mcu` (run by `cargo xtask bench-mcu`): instructions per step for N_rec
//!   64/128/256 × i16/i8 on each machine (`W_rec` 4-aligned, as `encode_aligned` writes
//!   it), written as TSV to `NEUROLOOP_BENCH_OUT`; the
//!   trajectories are checked too. Figures are printed, never asserted against a time.
//!
//! ELFs: `NEUROLOOP_BENCH_M0_ELF` (thumbv6m) and `NEUROLOOP_BENCH_M4_ELF` (thumbv7em +
//! `dsp`, also run on the M7), set by the xtask commands after building them.

use std::path::{Path, PathBuf};
use std::process::Command;

use neuroloop_core::blob::{encode_to_vec_aligned, W_REC_ALIGN};
use neuroloop_core::{CellKind, Model, Network};
use neuroloop_firmware::testing::{
    discrimination_inputs, extreme_inputs, random_blob, saturated_blob, NetSpec,
};

/// A QEMU machine the bench runs on.
struct Machine {
    /// Short name in the figures (`m0`, `m4`, `m7`).
    arch: &'static str,
    machine: &'static str,
    cpu: &'static str,
    /// Env var naming the ELF for it.
    elf_var: &'static str,
}

const MACHINES: [Machine; 3] = [
    Machine {
        arch: "m0",
        machine: "microbit",
        cpu: "cortex-m0",
        elf_var: "NEUROLOOP_BENCH_M0_ELF",
    },
    Machine {
        arch: "m4",
        machine: "mps2-an386",
        cpu: "cortex-m4",
        elf_var: "NEUROLOOP_BENCH_M4_ELF",
    },
    Machine {
        arch: "m7",
        machine: "mps2-an500",
        cpu: "cortex-m7",
        elf_var: "NEUROLOOP_BENCH_M4_ELF",
    },
];

/// Where the bench binary expects the job (`JOB_ADDR` in its `main.rs`).
fn job_addr(m: &Machine) -> u32 {
    if m.arch == "m0" {
        0x0001_8000
    } else {
        0x0010_0000
    }
}

/// Instructions of the calibration loop (`2 · CALIB_LOOPS` in the bench's `main.rs`).
const CALIB_INSTR: f64 = 2_000_000.0;

/// What one run printed.
#[derive(Debug)]
struct Run {
    path: String,
    steps: u64,
    ticks: u64,
    calib_ticks: u64,
    hash: u64,
    /// Bytes of stack the steps used (the bench binary's `stack=`).
    stack: u64,
}

impl Run {
    /// Mean instructions per step (ticks scaled by the calibrated instructions per tick).
    fn instr_per_step(&self) -> f64 {
        self.ticks as f64 * (CALIB_INSTR / self.calib_ticks as f64) / self.steps as f64
    }
}

fn fnv(h: &mut u64, v: &[i16]) {
    for &x in v {
        for b in x.to_le_bytes() {
            *h = (*h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
}

/// The host core's trajectory hash, computed as the bench binary does.
fn host_hash(blob: &[u8], inputs: &[Vec<i16>]) -> u64 {
    let model = Model::from_bytes(blob).expect("blob decodes");
    let mut buf = vec![0i16; model.state_len()];
    let mut net = Network::new(model, &mut buf).expect("state buffer");
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    for u in inputs {
        net.step(u).expect("input length");
        fnv(&mut h, net.state());
        fnv(&mut h, net.rates());
        fnv(&mut h, net.outputs());
    }
    h
}

fn job_bytes(blob: &[u8], inputs: &[Vec<i16>]) -> Vec<u8> {
    let n_in = inputs.first().map_or(0, Vec::len);
    let mut job = b"NLBJ".to_vec();
    for v in [inputs.len(), n_in, blob.len()] {
        job.extend_from_slice(&(v as u32).to_le_bytes());
    }
    for u in inputs {
        assert_eq!(u.len(), n_in);
        job.extend(u.iter().flat_map(|v| v.to_le_bytes()));
    }
    while job.len() % 4 != 0 {
        job.push(0);
    }
    job.extend_from_slice(blob);
    job
}

fn elf(m: &Machine) -> PathBuf {
    let p = std::env::var_os(m.elf_var).map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "{} is not set: run these through `cargo xtask bench-mcu` / `cargo xtask qemu-test`, which build firmware/boards/qemu-bench",
            m.elf_var
        )
    });
    assert!(p.exists(), "{}={} does not exist", m.elf_var, p.display());
    p
}

/// Run `blob` on `inputs` on machine `m`; panics with QEMU's output on any failure.
/// The job file is kept as `DIR/job-ARCH-TAG.bin` (to rerun or profile by hand).
fn run(m: &Machine, tag: &str, blob: &[u8], inputs: &[Vec<i16>], dir: &Path) -> Run {
    let job = dir.join(format!("job-{}-{tag}.bin", m.arch));
    std::fs::write(&job, job_bytes(blob, inputs)).unwrap();
    let out = Command::new("timeout")
        .args(["-k", "5", "600", "qemu-system-arm"])
        .args([
            "-machine",
            m.machine,
            "-cpu",
            m.cpu,
            "-nographic",
            "-monitor",
            "none",
        ])
        .args([
            "-semihosting-config",
            "enable=on,target=native",
            "-icount",
            "shift=0",
        ])
        .arg("-device")
        .arg(format!(
            "loader,file={},addr={:#x}",
            job.display(),
            job_addr(m)
        ))
        .arg("-kernel")
        .arg(elf(m))
        .output()
        .expect("cannot start `timeout qemu-system-arm`: install qemu-system-arm");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} ({}): QEMU failed: {text}",
        m.arch,
        m.machine
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("bench "))
        .unwrap_or_else(|| panic!("{}: no bench line in: {text}", m.arch));
    let field = |k: &str| -> &str {
        line.split(' ')
            .find_map(|f| f.strip_prefix(k).and_then(|f| f.strip_prefix('=')))
            .unwrap_or_else(|| panic!("{}: no {k} in {line}", m.arch))
    };
    Run {
        path: field("path").to_string(),
        steps: field("steps").parse().unwrap(),
        ticks: field("ticks").parse().unwrap(),
        calib_ticks: field("calib_ticks").parse().unwrap(),
        hash: u64::from_str_radix(field("hash"), 16).unwrap(),
        stack: field("stack").parse().unwrap(),
    }
}

/// Run the `kernel-selftest` binary built next to the bench ELF on machine `m`; panics
/// with its output unless it reports the machine's kernel path and every case passed.
fn kernel_selftest(m: &Machine) {
    let elf = elf(m).with_file_name("kernel-selftest");
    assert!(elf.exists(), "{} does not exist", elf.display());
    let out = Command::new("timeout")
        .args(["-k", "5", "600", "qemu-system-arm"])
        .args(["-machine", m.machine, "-cpu", m.cpu, "-nographic"])
        .args([
            "-monitor",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
        ])
        .args(["-icount", "shift=0", "-kernel"])
        .arg(&elf)
        .output()
        .expect("cannot start `timeout qemu-system-arm`: install qemu-system-arm");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let want = format!("selftest path={} cases=", expected_path(m));
    assert!(
        out.status.success() && text.lines().any(|l| l.starts_with(&want)),
        "{} ({}): kernel self-test failed: {text}",
        m.arch,
        m.machine
    );
    eprintln!("{}: {}", m.arch, text.trim());
}

/// `blob` re-encoded with `W_rec`'s data 4-aligned in it ([`encode_to_vec_aligned`]).
fn aligned(blob: &[u8]) -> Vec<u8> {
    let model = Model::from_bytes(blob).expect("blob decodes");
    let out = encode_to_vec_aligned(model.body()).expect("re-encodes");
    let again = Model::from_bytes(&out).expect("aligned blob decodes");
    assert_eq!(
        (again.body().tensors.w_rec.data.as_ptr() as usize - out.as_ptr() as usize) % W_REC_ALIGN,
        0,
        "W_rec aligned"
    );
    out
}

fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("neuroloop-bench-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The kernel path each machine's binary must report.
fn expected_path(m: &Machine) -> &'static str {
    if m.arch == "m0" {
        "arm-v6m"
    } else {
        "arm-dsp"
    }
}

#[test]
#[ignore = "needs the QEMU bench binaries: cargo xtask qemu-test"]
fn bench_binary_is_bit_exact_on_every_machine() {
    let dir = tmp_dir("exact");
    let mut cases: Vec<(String, Vec<u8>, Vec<Vec<i16>>)> = Vec::new();
    // Leaky nets, each as the plain encoder writes it and with `W_rec` 4-aligned in the
    // blob (the DSP path's `LDM` kernels and its fused row loop; the other blobs take
    // their fallbacks): odd sizes, column counts with kernel tails (68: `i8` 16 + 4, `i16`
    // 8 + 4), `i8` rows longer than one `i32` span (260 > 256), the fused loop with `W_in`
    // in the row (2 inputs, 64) and from the narrow kernels (3 inputs, 96).
    let sizes = [
        (3usize, 37usize, 2usize),
        (2, 64, 3),
        (4, 68, 2),
        (3, 96, 2),
        (5, 131, 4),
        (2, 260, 2),
    ];
    for (n_in, n_rec, n_out) in sizes {
        for (wbytes, dt) in [(1usize, "i8"), (2, "i16")] {
            let mut leaky = Vec::new();
            // relu and tanh at fx 12, tanh at fx 9 (the clamped table lookup).
            for (transfer, fx) in [(0u8, 12u8), (1, 12), (1, 9)] {
                let mut spec = NetSpec::new(n_in, n_rec, n_out, wbytes, transfer, 7 + n_rec as u64);
                spec.state_frac = fx;
                leaky.push((
                    format!("random {dt} {n_in}x{n_rec}x{n_out} f{transfer} fx{fx}"),
                    random_blob(&spec),
                    discrimination_inputs(30, n_in, 5),
                ));
            }
            let spec = NetSpec::new(n_in, n_rec, n_out, wbytes, 0, 11 + n_rec as u64);
            leaky.push((
                format!("saturated {dt} {n_in}x{n_rec}x{n_out}"),
                saturated_blob(&spec),
                extreme_inputs(30, n_in, 9),
            ));
            for (name, blob, inputs) in leaky {
                cases.push((
                    format!("{name} W_rec aligned"),
                    aligned(&blob),
                    inputs.clone(),
                ));
                cases.push((name, blob, inputs));
            }
        }
    }
    // GRU and LSTM (issue 12): random and saturating, i8 and i16, odd N_rec; and N_rec 64
    // with `W_rec` 4-aligned (the DSP path's `LDM` kernels against the old `h` prepared
    // once per step).
    for cell in [CellKind::Gru, CellKind::Lstm] {
        for wbytes in [1usize, 2] {
            let spec = NetSpec::gated(cell, 2, 64, 2, wbytes, 19 + wbytes as u64);
            let name = format!("{} W_rec aligned", spec.name);
            cases.push((
                name.clone(),
                aligned(&random_blob(&spec)),
                discrimination_inputs(30, 2, 5),
            ));
            cases.push((
                format!("saturated {name}"),
                aligned(&saturated_blob(&spec)),
                extreme_inputs(30, 2, 9),
            ));
            let spec = NetSpec::gated(cell, 3, 37, 2, wbytes, 17 + wbytes as u64);
            let inputs = discrimination_inputs(30, 3, 5);
            cases.push((spec.name.clone(), random_blob(&spec), inputs));
            let inputs = extreme_inputs(30, 3, 9);
            cases.push((
                format!("saturated {}", spec.name),
                saturated_blob(&spec),
                inputs,
            ));
        }
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden");
    for name in ["tanh_i8_noise", "relu_i16_saturating"] {
        let blob = std::fs::read(golden.join(format!("{name}.nlb"))).unwrap();
        let n_in = Model::from_bytes(&blob).unwrap().n_in();
        cases.push((format!("golden {name}"), blob, extreme_inputs(40, n_in, 3)));
    }
    for m in &MACHINES {
        kernel_selftest(m);
        for (k, (name, blob, inputs)) in cases.iter().enumerate() {
            let r = run(m, &k.to_string(), blob, inputs, &dir);
            assert_eq!(r.path, expected_path(m), "{}: kernel path", m.arch);
            assert_eq!(r.steps, inputs.len() as u64);
            assert_eq!(
                r.hash,
                host_hash(blob, inputs),
                "{} ({}): {name}: trajectory differs from the host core",
                m.arch,
                m.machine
            );
        }
        eprintln!("{}: {} cases bit-exact", m.arch, cases.len());
    }
}

#[test]
#[ignore = "benchmark: cargo xtask bench-mcu"]
fn bench_mcu() {
    let dir = tmp_dir("mcu");
    let mut rows = String::from(
        "arch\tmachine\tn_rec\tweights\tn_in\tn_out\tblob_bytes\tmacs\tinstr_per_step\tinstr_per_tick\tstep_stack_bytes\n",
    );
    let archs = std::env::var("NEUROLOOP_BENCH_ARCHS").unwrap_or_else(|_| "m0,m4,m7".into());
    for m in MACHINES
        .iter()
        .filter(|m| archs.split(',').any(|a| a == m.arch))
    {
        let gated = [CellKind::Gru, CellKind::Lstm]
            .into_iter()
            .flat_map(|c| [(c, 64), (c, 128)]);
        let sizes = [64usize, 128, 256].map(|n| (CellKind::Leaky, n));
        for (cell, n_rec) in sizes.into_iter().chain(gated) {
            for (wbytes, dt) in [(2usize, "i16"), (1, "i8")] {
                // Gated rows name the cell in `weights` (`gru-i16`): the fits skip them.
                let (spec, name) = match cell {
                    CellKind::Leaky => (
                        NetSpec::new(2, n_rec, 2, wbytes, 1, 40 + n_rec as u64),
                        dt.to_string(),
                    ),
                    _ => (
                        NetSpec::gated(cell, 2, n_rec, 2, wbytes, 40 + n_rec as u64),
                        format!("{}-{dt}", cell.name()),
                    ),
                };
                // `W_rec` 4-aligned in the blob, as `neuroloop quantize` writes it.
                let blob = aligned(&random_blob(&spec));
                let inputs = discrimination_inputs(40, 2, 3);
                let r = run(m, &format!("{n_rec}-{name}"), &blob, &inputs, &dir);
                assert_eq!(
                    r.hash,
                    host_hash(&blob, &inputs),
                    "{}: N_rec {n_rec} {name}",
                    m.arch
                );
                let instr = r.instr_per_step();
                let macs = cell.gates() * n_rec * (n_rec + spec.n_in) + spec.n_out * n_rec;
                eprintln!(
                    "{} N_rec {n_rec} {name}: {instr:.0} instructions/step, {:.2} /MAC ({} path)",
                    m.arch,
                    instr / macs as f64,
                    r.path
                );
                rows.push_str(&format!(
                    "{}\t{}\t{n_rec}\t{name}\t{}\t{}\t{}\t{macs}\t{instr:.0}\t{:.3}\t{}\n",
                    m.arch,
                    m.machine,
                    spec.n_in,
                    spec.n_out,
                    blob.len(),
                    CALIB_INSTR / r.calib_ticks as f64,
                    r.stack
                ));
            }
        }
    }
    if let Some(p) = std::env::var_os("NEUROLOOP_BENCH_OUT") {
        std::fs::write(p, rows).unwrap();
    }
}
