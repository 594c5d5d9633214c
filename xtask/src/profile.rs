//! `cargo xtask profile-mcu JOB [--top N] [--blocks]`: where a QEMU bench step's
//! instructions go, per function (or, with `--blocks`, per translated block: the function
//! and the block's start address, to read beside `llvm-objdump -d`), exactly.
//!
//! `JOB` is a job file the MCU benchmark keeps (`cargo xtask bench-mcu` writes
//! `/tmp/neuroloop-bench-mcu-PID/job-ARCH-TAG.bin`, e.g. `job-m4-128-i16.bin`; the
//! architecture comes from the name). The job runs twice on the bench binary of its
//! architecture, once as written and once with its inputs repeated (twice the steps),
//! under QEMU's `-d in_asm,exec,nochain` log: every translated block's instructions
//! (`IN:`) and every execution of a block (`Trace`, with the symbol QEMU found for it).
//! Instructions per function of the longer run minus the shorter one, divided by the
//! extra steps, is that function's share of one step: the set-up both runs share (boot,
//! kernel self-test, calibration) cancels. The machines are those of
//! `tests/tests/bench_qemu.rs` (`microbit`, `mps2-an386`, `mps2-an500`); QEMU counts
//! instructions, not cycles.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bench::build_bench;

/// QEMU machine, CPU, bench ELF index (in `build_bench` order) and job address of an
/// architecture.
fn machine(arch: &str) -> Option<(&'static str, &'static str, usize, u32)> {
    match arch {
        "m0" => Some(("microbit", "cortex-m0", 0, 0x0001_8000)),
        "m4" => Some(("mps2-an386", "cortex-m4", 1, 0x0010_0000)),
        "m7" => Some(("mps2-an500", "cortex-m7", 1, 0x0010_0000)),
        _ => None,
    }
}

/// Run the profile with the command-line arguments after `profile-mcu`.
pub fn profile_mcu(args: &[String]) -> Result<(), String> {
    let mut job = None;
    let mut top = 30usize;
    let mut blocks = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--top" => {
                let v = it.next().ok_or("--top needs a number")?;
                top = v
                    .parse()
                    .map_err(|_| format!("--top: `{v}` is not a count"))?;
            }
            "--blocks" => blocks = true,
            s if s.starts_with('-') => return Err(format!("unknown flag `{s}`")),
            s => job = Some(PathBuf::from(s)),
        }
    }
    let job = job.ok_or(
        "give a job file: cargo xtask profile-mcu /tmp/neuroloop-bench-mcu-PID/job-m4-128-i16.bin (written by cargo xtask bench-mcu)",
    )?;
    let name = job.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let arch = name
        .strip_prefix("job-")
        .and_then(|n| n.split('-').next())
        .unwrap_or("");
    let (mach, cpu, elf_idx, addr) = machine(arch).ok_or_else(|| {
        format!(
            "{}: the name must start with job-m0-, job-m4- or job-m7- (as bench-mcu writes it)",
            job.display()
        )
    })?;
    let bytes = std::fs::read(&job).map_err(|e| format!("reading {}: {e}", job.display()))?;
    let (steps, doubled) = double_job(&bytes).map_err(|e| format!("{}: {e}", job.display()))?;
    let elf = build_bench()?.swap_remove(elf_idx);
    let dir = std::env::temp_dir().join(format!("neuroloop-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let long = dir.join("job-doubled.bin");
    std::fs::write(&long, doubled).map_err(|e| format!("writing {}: {e}", long.display()))?;
    let run = |j: &Path| qemu_counts(&elf, j, (mach, cpu, addr), blocks, &dir);
    let (short, long) = (run(&job)?, run(&long)?);
    let _ = std::fs::remove_dir_all(&dir);
    let mut per: Vec<(f64, String)> = long
        .iter()
        .map(|(f, &n)| {
            let d = n as f64 - short.get(f).copied().unwrap_or(0) as f64;
            let name = match f.split_once(' ') {
                Some((sym, at)) => format!("{:#} {at}", rustc_demangle::demangle(sym)),
                None => format!("{:#}", rustc_demangle::demangle(f)),
            };
            (d / steps as f64, name)
        })
        .filter(|(d, _)| d.abs() >= 0.5)
        .collect();
    per.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = per.iter().map(|p| p.0).sum();
    println!(
        "{}: {arch} ({mach}), instructions per step by function (difference of {steps} and {} steps):",
        job.display(),
        2 * steps
    );
    for (d, f) in per.iter().take(top) {
        println!("{d:10.1}  {f}");
    }
    if per.len() > top {
        let rest: f64 = per[top..].iter().map(|p| p.0).sum();
        println!("{rest:10.1}  ({} more functions)", per.len() - top);
    }
    println!("{total:10.1}  total (includes the bench loop's own hashing of each step)");
    Ok(())
}

/// The job with its inputs repeated once (the format of `job_bytes` in
/// `tests/tests/bench_qemu.rs`: `NLBJ`, steps, n_in, blob length as `u32` LE, the inputs
/// as `i16` LE, zero padding to 4 bytes, the blob); returns the original step count too.
fn double_job(b: &[u8]) -> Result<(u32, Vec<u8>), String> {
    let word = |at: usize| {
        b.get(at..at + 4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    };
    if b.get(..4) != Some(b"NLBJ".as_slice()) {
        return Err("not a bench job (no NLBJ header)".into());
    }
    let (Some(steps), Some(n_in), Some(len)) = (word(4), word(8), word(12)) else {
        return Err("truncated header".into());
    };
    let inputs = 2 * steps as usize * n_in as usize;
    let blob_at = (16 + inputs).next_multiple_of(4);
    let (Some(inp), Some(blob)) = (
        b.get(16..16 + inputs),
        b.get(blob_at..blob_at + len as usize),
    ) else {
        return Err(format!(
            "shorter than its header says ({steps} steps × {n_in} inputs, blob {len} B)"
        ));
    };
    if steps == 0 {
        return Err("the job has no steps".into());
    }
    let mut out = b"NLBJ".to_vec();
    for v in [2 * steps, n_in, len] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(inp);
    out.extend_from_slice(inp);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(blob);
    Ok((steps, out))
}

/// Instructions executed per function (QEMU's symbol for each block) in one run of `job`.
fn qemu_counts(
    elf: &Path,
    job: &Path,
    (mach, cpu, addr): (&str, &str, u32),
    blocks: bool,
    dir: &Path,
) -> Result<HashMap<String, u64>, String> {
    let log = dir.join("qemu.log");
    let out = Command::new("qemu-system-arm")
        .args([
            "-machine",
            mach,
            "-cpu",
            cpu,
            "-nographic",
            "-monitor",
            "none",
        ])
        .args(["-semihosting-config", "enable=on,target=native"])
        .args(["-icount", "shift=0", "-d", "in_asm,exec,nochain", "-D"])
        .arg(&log)
        .arg("-device")
        .arg(format!("loader,file={},addr={addr:#x}", job.display()))
        .arg("-kernel")
        .arg(elf)
        .output()
        .map_err(|e| format!("cannot start qemu-system-arm: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "QEMU failed on {}: {}{}",
            job.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let f = std::fs::File::open(&log).map_err(|e| format!("reading {}: {e}", log.display()))?;
    // Instructions of the block last translated at each address.
    let mut block: HashMap<u32, u64> = HashMap::new();
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut open: Option<(u32, u64)> = None;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|e| format!("reading {}: {e}", log.display()))?;
        if let Some(pc) = line
            .strip_prefix("0x")
            .and_then(|l| l.split(':').next())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        {
            let (start, n) = open.get_or_insert((pc, 0));
            *n += 1;
            block.insert(*start, *n);
        } else if line.starts_with("IN:") || line.trim().is_empty() {
            open = None;
        } else if let Some(rest) = line.strip_prefix("Trace ") {
            open = None;
            // `Trace N: HOST [CS_BASE/PC/FLAGS/CFLAGS] SYMBOL`
            let Some((fields, sym)) = rest.split_once("] ") else {
                continue;
            };
            let pc = fields
                .rsplit('[')
                .next()
                .and_then(|f| f.split('/').nth(1))
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            if let Some((pc, n)) = pc.and_then(|pc| Some((pc, block.get(&pc)?))) {
                let key = if blocks {
                    format!("{} @{pc:#x}", sym.trim())
                } else {
                    sym.trim().to_string()
                };
                *counts.entry(key).or_default() += n;
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(steps: u32, n_in: u32, inputs: &[i16], blob: &[u8]) -> Vec<u8> {
        let mut j = b"NLBJ".to_vec();
        for v in [steps, n_in, blob.len() as u32] {
            j.extend_from_slice(&v.to_le_bytes());
        }
        j.extend(inputs.iter().flat_map(|v| v.to_le_bytes()));
        j.resize(j.len().next_multiple_of(4), 0);
        j.extend_from_slice(blob);
        j
    }

    #[test]
    fn doubled_job_repeats_the_inputs_and_keeps_the_blob() {
        let blob = [9u8, 8, 7, 6, 5];
        let (steps, d) = double_job(&job(3, 1, &[1, -2, 3], &blob)).unwrap();
        assert_eq!(steps, 3);
        assert_eq!(d, job(6, 1, &[1, -2, 3, 1, -2, 3], &blob));
    }

    #[test]
    fn bad_jobs_are_named() {
        assert!(double_job(b"XXXX").unwrap_err().contains("NLBJ"));
        let mut short = job(3, 2, &[1, 2, 3, 4, 5, 6], &[1, 2, 3]);
        short.truncate(short.len() - 1);
        assert!(double_job(&short)
            .unwrap_err()
            .contains("3 steps × 2 inputs"));
        assert!(double_job(&job(0, 1, &[], &[1]))
            .unwrap_err()
            .contains("no steps"));
    }
}
