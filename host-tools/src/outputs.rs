//! Output paths that never destroy work, checked **before** a command starts its work.
//!
//! Every command that writes a file asks [`check_output`] first, with the files it reads:
//!
//! * an output that is one of the inputs (same file, however it is spelled: symlinks,
//!   `./a` vs `a`, hard links) is refused, whatever `--force` says;
//! * an existing output is refused unless `force` is set (the error says to pass `--force`);
//! * the output's folder must exist and accept a new file: probed by creating and removing
//!   a temporary file there, so an unwritable `-o nodir/out.json` fails in the first
//!   millisecond instead of after an hour of training.
//!
//! The writers themselves stay atomic (temp file + rename, `model::file`), so a fault
//! while writing never leaves a half-written output either.

use std::path::{Path, PathBuf};

/// Why an output path was refused; each names the path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputError {
    /// The output is one of the command's inputs.
    #[error("output {output} is the input file {input}: writing it would destroy the input; choose another output path")]
    SameAsInput {
        /// The output as given.
        output: PathBuf,
        /// The input it names.
        input: PathBuf,
    },
    /// The output exists and `--force` was not given.
    #[error("output {path} already exists; pass --force to overwrite it")]
    Exists {
        /// The output.
        path: PathBuf,
    },
    /// The output exists and is a folder.
    #[error("output {path} is a folder, not a file")]
    IsDir {
        /// The output.
        path: PathBuf,
    },
    /// The output's folder does not exist or does not accept a new file.
    #[error("cannot write {path}: {reason}")]
    NotWritable {
        /// The output.
        path: PathBuf,
        /// What the OS said, or which folder is missing.
        reason: String,
    },
}

/// Whether `a` and `b` are the same existing file (same device and inode), or, when
/// either does not exist, the same path once its folder is resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    match (resolved(a), resolved(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `path` with its folder canonicalised (the file itself need not exist).
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    let name = path.file_name()?;
    let dir = parent_dir(path).canonicalize().ok()?;
    Some(dir.join(name))
}

/// The folder a relative or absolute file path lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Check that `output` may be written: not one of `inputs`, not existing unless `force`,
/// not a folder, and its folder writable. Creates nothing that stays.
pub fn check_output(output: &Path, inputs: &[&Path], force: bool) -> Result<(), OutputError> {
    for input in inputs {
        if same_file(output, input) {
            return Err(OutputError::SameAsInput {
                output: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
    }
    if output.is_dir() {
        return Err(OutputError::IsDir {
            path: output.to_path_buf(),
        });
    }
    if output.exists() && !force {
        return Err(OutputError::Exists {
            path: output.to_path_buf(),
        });
    }
    check_writable_dir(output)
}

/// Check that the folder of `path` exists and accepts a new file (probe: create and
/// remove a uniquely named temporary file there).
pub fn check_writable_dir(path: &Path) -> Result<(), OutputError> {
    let dir = parent_dir(path);
    let not_writable = |reason: String| OutputError::NotWritable {
        path: path.to_path_buf(),
        reason,
    };
    if !dir.is_dir() {
        return Err(not_writable(format!(
            "folder {} does not exist",
            dir.display()
        )));
    }
    let probe = dir.join(format!(
        ".neuroloop-write-probe-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(not_writable(format!(
            "folder {} does not accept new files ({})",
            dir.display(),
            e.kind()
        ))),
    }
}

/// Check several outputs of one command: each as [`check_output`], and no two the same.
pub fn check_outputs(outputs: &[&Path], inputs: &[&Path], force: bool) -> Result<(), OutputError> {
    for (i, out) in outputs.iter().enumerate() {
        check_output(out, inputs, force)?;
        for other in &outputs[..i] {
            if same_file(out, other) {
                return Err(OutputError::SameAsInput {
                    output: out.to_path_buf(),
                    input: other.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_file_through_other_spellings() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("m.json");
        std::fs::write(&a, "{}").unwrap();
        let dotted = d.path().join(".").join("m.json");
        assert!(same_file(&a, &dotted));
        #[cfg(unix)]
        {
            let link = d.path().join("link.json");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert!(same_file(&a, &link));
        }
        assert!(!same_file(&a, &d.path().join("other.json")));
    }

    #[test]
    fn output_equal_to_input_is_refused_even_with_force() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("m.json");
        std::fs::write(&a, "{}").unwrap();
        let e = check_output(&a, &[&a], true).unwrap_err();
        assert!(matches!(e, OutputError::SameAsInput { .. }), "{e}");
        assert!(e.to_string().contains("destroy the input"), "{e}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "{}");
    }

    #[test]
    fn existing_output_needs_force() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("in.json");
        let o = d.path().join("out.json");
        std::fs::write(&a, "{}").unwrap();
        assert_eq!(check_output(&o, &[&a], false), Ok(()));
        std::fs::write(&o, "x").unwrap();
        let e = check_output(&o, &[&a], false).unwrap_err();
        assert!(e.to_string().contains("--force"), "{e}");
        assert_eq!(check_output(&o, &[&a], true), Ok(()));
    }

    #[test]
    fn missing_folder_is_named_and_nothing_is_left() {
        let d = tempfile::tempdir().unwrap();
        let o = d.path().join("nodir").join("o.json");
        let e = check_output(&o, &[], false).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(e.to_string().contains("nodir"), "{e}");
        check_output(&d.path().join("o.json"), &[], false).unwrap();
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn folder_as_output_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let e = check_output(d.path(), &[], true).unwrap_err();
        assert!(matches!(e, OutputError::IsDir { .. }), "{e}");
    }

    #[test]
    fn two_outputs_naming_one_file_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let o = d.path().join("o.json");
        let e = check_outputs(&[&o, &d.path().join(".").join("o.json")], &[], false).unwrap_err();
        assert!(matches!(e, OutputError::SameAsInput { .. }), "{e}");
    }
}
