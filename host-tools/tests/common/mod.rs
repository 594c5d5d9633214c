//! What the interop tests share: the committed fixtures, edited copies of them, and the
//! CLI run that must refuse one.
#![allow(dead_code)] // each test binary uses its own part

use assert_cmd::Command;
use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use std::path::{Path, PathBuf};

/// `tests/fixtures/{dir}/{name}`.
pub fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(dir)
        .join(name)
}

/// The arrays of a fixture npz.
pub fn arrays(dir: &str, name: &str) -> npz::Arrays {
    npz::read(&std::fs::read(fixture(dir, name)).unwrap()).unwrap()
}

/// `base`'s arrays changed by `edit`, written to `out_dir/bad.npz`.
pub fn edited_npz(base: &Path, out_dir: &Path, edit: impl FnOnce(&mut npz::Arrays)) -> PathBuf {
    let mut a = npz::read(&std::fs::read(base).unwrap()).unwrap();
    edit(&mut a);
    let p = out_dir.join("bad.npz");
    std::fs::write(&p, npz::write(a.iter().map(|(k, v)| (k.as_str(), v)))).unwrap();
    p
}

/// A float32 array of `shape`, every element `v`.
pub fn f32_array(shape: Vec<usize>, v: f32) -> Array {
    let len = shape.iter().product();
    Array {
        shape,
        data: Data::F32(vec![v; len]),
    }
}

/// `neuroloop import {format} BAD {args} -o dir/model.json` fails and writes nothing; its
/// stderr.
pub fn import_refused(format: &str, bad: &Path, args: &[&str], dir: &Path) -> String {
    let out = dir.join("model.json");
    let a = Command::cargo_bin("neuroloop")
        .unwrap()
        .args(["import", format])
        .arg(bad)
        .args(args)
        .arg("-o")
        .arg(&out)
        .assert()
        .failure();
    assert!(!out.exists(), "import wrote {out:?}");
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}
