//! Black-box CLI tests: `neuroloop quantize` and `neuroloop inspect`.

use assert_cmd::Command;
use neuroloop::model::FloatModel;
use std::path::Path;

fn neuroloop() -> Command {
    Command::cargo_bin("neuroloop").unwrap()
}

fn write_model(dir: &Path) -> std::path::PathBuf {
    let mut m = FloatModel::zeros("cli-test", 2, 16, 2);
    for (k, w) in m.w_rec.iter_mut().enumerate() {
        *w = ((k * 37 % 17) as f32 - 8.0) / 40.0;
    }
    for (k, w) in m.w_in.iter_mut().enumerate() {
        *w = ((k * 11 % 7) as f32 - 3.0) / 3.0;
    }
    for (k, w) in m.w_out.iter_mut().enumerate() {
        *w = ((k * 5 % 9) as f32 - 4.0) / 10.0;
    }
    let p = dir.join("model.json");
    m.save(&p).unwrap();
    p
}

#[test]
fn quantize_then_inspect_json() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path());
    for (w, bytes_per) in [("i8", 1usize), ("i16", 2)] {
        let out = dir.path().join(format!("m-{w}.nlb"));
        neuroloop()
            .args([
                "quantize",
                model.to_str().unwrap(),
                "--weights",
                w,
                "-o",
                out.to_str().unwrap(),
            ])
            .assert()
            .success();
        let o = neuroloop()
            .args(["inspect", out.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["valid"], true);
        assert_eq!(v["crc_ok"], true);
        assert_eq!(v["n_rec"], 16);
        assert_eq!(v["name"], "cli-test");
        let w_rec = &v["tensors"][1];
        assert_eq!(w_rec["name"], "W_rec");
        assert_eq!(w_rec["dtype"], w);
        assert_eq!(w_rec["bytes"], 16 * 16 * bytes_per);
    }
}

#[test]
fn inspect_reports_crc_mismatch_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path());
    let out = dir.path().join("m.nlb");
    neuroloop()
        .args([
            "quantize",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let mut b = std::fs::read(&out).unwrap();
    let n = b.len();
    b[n / 2] ^= 0x10;
    std::fs::write(&out, &b).unwrap();
    let o = neuroloop()
        .args(["inspect", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    // Human output on stderr (stdout is for --json only).
    assert!(o.stdout.is_empty());
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(text.contains("MISMATCH"), "{text}");
    assert!(text.contains("CRC mismatch"));
}

/// Run `quantize MODEL -o DIR/out.nlb`, expect failure with stderr naming every needle,
/// and no output file.
fn quantize_fails_naming(model: &Path, needles: &[&str]) {
    let out = model.with_file_name("out.nlb");
    let o = neuroloop()
        .args([
            "quantize",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(needles.iter().all(|n| err.contains(n)), "{err}");
    assert!(!out.exists());
}

#[test]
fn quantize_refuses_non_models_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"hello world").unwrap();
    quantize_fails_naming(&junk, &["junk.bin", "not a model file"]);
}

#[test]
fn quantize_names_a_bad_field() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path());
    let text = std::fs::read_to_string(&model)
        .unwrap()
        .replace("\"tau\":100.0", "\"tau\":1.0");
    std::fs::write(&model, text).unwrap();
    quantize_fails_naming(&model, &["model.json", "tau"]);
}
