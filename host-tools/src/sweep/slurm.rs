//! Slurm job arrays: the `sbatch` script for the runs of a sweep that are not done, and
//! its submission.
//!
//! The script is plain bash with `#SBATCH` lines a person can read and edit: one array
//! task per run, each running `neuroloop sweep run-one FILE --index $SLURM_ARRAY_TASK_ID
//! -o DIR`. Only the runs that are not done go in the array (`--array=0-5%4` for a fresh
//! sweep, `--array=2,7%4` when two are missing), so submitting again runs only what is
//! missing. `run-one` is given the plan's fingerprint and refuses to run if the sweep file
//! has changed since the script was written (indices would name other runs).

use std::path::Path;
use std::process::Command;

/// `#SBATCH` settings of the array job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (e.g. `1:00:00`).
    pub time: Option<String>,
    /// `--mem` (e.g. `4G`).
    pub mem: Option<String>,
    /// `--cpus-per-task` (also the run's training threads).
    pub cpus_per_task: usize,
    /// `--account`.
    pub account: Option<String>,
    /// Most array tasks running at once (`%N`).
    pub max_parallel: Option<usize>,
    /// `--job-name`.
    pub job_name: String,
}

/// Errors talking to Slurm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlurmError {
    /// `sbatch` could not be started.
    #[error("cannot run {program}: {source} (is Slurm installed and on PATH? try --dry-run to only write the script)")]
    Spawn {
        /// The program.
        program: String,
        /// OS error.
        source: std::io::Error,
    },
    /// `sbatch` refused the script.
    #[error("{program} failed ({status}): {stderr}")]
    Refused {
        /// The program.
        program: String,
        /// Exit status.
        status: String,
        /// What it printed.
        stderr: String,
    },
}

/// The `--array` value for `indices` (sorted, distinct): ranges joined by commas, then
/// `%max_parallel`, e.g. `0-5%2` or `1,3,7-9`.
pub fn array_spec(indices: &[usize], max_parallel: Option<usize>) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    let mut s = parts.join(",");
    if let Some(k) = max_parallel {
        s += &format!("%{k}");
    }
    s
}

/// What the script runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptJob<'a> {
    /// The `neuroloop` binary (absolute: the compute nodes run it).
    pub exe: &'a Path,
    /// The sweep file (absolute).
    pub sweep_file: &'a Path,
    /// The output folder (absolute).
    pub dir: &'a Path,
    /// The plan fingerprint `run-one` checks.
    pub fingerprint: &'a str,
    /// Array indices to run.
    pub indices: &'a [usize],
    /// Runs in the plan.
    pub total: usize,
}

/// The sbatch script.
pub fn script(job: &ScriptJob, opts: &SlurmOptions) -> String {
    // Paths are quoted for bash by shlex; a path never holds a NUL byte, the one thing
    // shlex refuses.
    let q = |p: &Path| {
        let s = p.display().to_string();
        shlex::try_quote(&s).map_or_else(|_| s.clone(), |q| q.into_owned())
    };
    let mut s = String::new();
    s += "#!/bin/bash\n";
    s += &format!(
        "# neuroloop sweep: {} of the {} runs of {} (the ones not done yet).\n",
        job.indices.len(),
        job.total,
        job.sweep_file.display()
    );
    s += "# Written by `neuroloop sweep slurm`; edit it freely, then submit it with\n";
    s += &format!("#   sbatch {}\n", q(&job.dir.join("sweep.sbatch")));
    s += "# Each array task trains, quantizes and evaluates one run into DIR/runs/ID/;\n";
    s += "# `neuroloop sweep status DIR` shows what landed, `sweep collect DIR` tabulates it.\n";
    s += &format!("#SBATCH --job-name={}\n", opts.job_name);
    s += &format!(
        "#SBATCH --array={}\n",
        array_spec(job.indices, opts.max_parallel)
    );
    s += "#SBATCH --ntasks=1\n";
    s += &format!("#SBATCH --cpus-per-task={}\n", opts.cpus_per_task);
    for (flag, v) in [
        ("partition", &opts.partition),
        ("time", &opts.time),
        ("mem", &opts.mem),
        ("account", &opts.account),
    ] {
        if let Some(v) = v {
            s += &format!("#SBATCH --{flag}={v}\n");
        }
    }
    s += &format!(
        "#SBATCH --output={}\n",
        job.dir.join("logs").join("%A_%a.out").display()
    );
    s += "\nset -euo pipefail\n";
    s += &format!("NEUROLOOP={}\n", q(job.exe));
    s += &format!("SWEEP={}\n", q(job.sweep_file));
    s += &format!("OUT={}\n", q(job.dir));
    s += "\n";
    s += "exec \"$NEUROLOOP\" sweep run-one \"$SWEEP\" --index \"$SLURM_ARRAY_TASK_ID\" -o \"$OUT\" \\\n";
    s += &format!(
        "    --threads \"${{SLURM_CPUS_PER_TASK:-1}}\" --plan {}\n",
        job.fingerprint
    );
    s
}

/// Submit `script_path` with `sbatch --parsable`; returns the job id.
pub fn submit(script_path: &Path) -> Result<String, SlurmError> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(script_path)
        .output()
        .map_err(|source| SlurmError::Spawn {
            program: "sbatch".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(SlurmError::Refused {
            program: "sbatch".into(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.trim().split(';').next().unwrap_or("").to_string())
}

/// Whether Slurm still knows job `id` as pending or running (`squeue`); `None` when
/// `squeue` cannot be asked.
pub fn job_active(id: &str) -> Option<bool> {
    let out = Command::new("squeue")
        .args(["-h", "-j", id, "-o", "%i"])
        .output()
        .ok()?;
    if !out.status.success() {
        // squeue fails for a job id it no longer knows.
        return Some(false);
    }
    Some(!String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_specs() {
        assert_eq!(array_spec(&[0, 1, 2, 3, 4, 5], Some(2)), "0-5%2");
        assert_eq!(array_spec(&[1, 3, 7, 8, 9], None), "1,3,7-9");
        assert_eq!(array_spec(&[4], Some(10)), "4%10");
    }

    #[test]
    fn script_runs_run_one_for_the_array_index() {
        let s = script(
            &ScriptJob {
                exe: Path::new("/opt/bin/neuroloop"),
                sweep_file: Path::new("/home/a b/s.toml"),
                dir: Path::new("/scratch/out{1,2}"),
                fingerprint: "abc",
                indices: &[0, 1, 2],
                total: 3,
            },
            &SlurmOptions {
                cpus_per_task: 2,
                partition: Some("short".into()),
                max_parallel: Some(2),
                job_name: "neuroloop-sweep".into(),
                ..Default::default()
            },
        );
        assert!(s.contains("#SBATCH --array=0-2%2\n"), "{s}");
        assert!(s.contains("#SBATCH --partition=short\n"), "{s}");
        assert!(s.contains("#SBATCH --cpus-per-task=2\n"), "{s}");
        assert!(!s.contains("--account"), "{s}");
        assert!(s.contains("SWEEP='/home/a b/s.toml'\n"), "{s}");
        // bash would expand the braces of an unquoted word
        assert!(s.contains("OUT='/scratch/out{1,2}'\n"), "{s}");
        assert!(
            s.contains("sweep run-one \"$SWEEP\" --index \"$SLURM_ARRAY_TASK_ID\" -o \"$OUT\""),
            "{s}"
        );
    }
}
