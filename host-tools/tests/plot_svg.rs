//! Golden structure tests of `neuroloop plot`: every kind renders, as SVG, on the
//! quickstart model and on a delayed-discrimination model (both trained tiny here), and
//! each SVG has the expected title, axis descriptions, panels and number of data series.
//! Pixels are not compared; structure is (a dropped series, a lost label or an extra
//! panel fails). `plot compare` also reads a rig session recorded against `device-sim`.

mod rig_support;

use assert_cmd::Command;
use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use neuroloop::model::FloatModel;
use neuroloop::task::{build, stream, task_trials, TaskSpec};
use std::path::Path;

fn neuroloop() -> Command {
    Command::cargo_bin("neuroloop").unwrap()
}

/// The texts of an SVG, trimmed, in order.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// Data series: polylines drawn with the series width (3 px) through more than 2 points
/// (legend samples are 2-point lines).
fn series(svg: &str) -> Vec<String> {
    series_of_width(svg, 3)
}

fn series_of_width(svg: &str, width: u32) -> Vec<String> {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| p.contains(&format!("stroke-width=\"{width}\"")))
        .filter(|p| {
            let pts = p.split("points=\"").nth(1).unwrap_or("");
            pts[..pts.find('"').unwrap_or(0)].split_whitespace().count() > 2
        })
        .map(|p| {
            let s = p.split("stroke=\"").nth(1).unwrap_or("");
            s[..s.find('"').unwrap_or(0)].to_string()
        })
        .collect()
}

fn count(svg: &str, element: &str) -> usize {
    svg.matches(&format!("<{element} ")).count()
}

fn has(t: &[String], s: &str) -> bool {
    t.iter().any(|x| x.contains(s))
}

/// `neuroloop plot ARGS -o OUT.svg --json`: the SVG and the JSON report.
fn plot(args: &[&str], out: &Path) -> (String, serde_json::Value) {
    let o = neuroloop()
        .arg("plot")
        .args(args)
        .arg("-o")
        .arg(out)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "plot {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let svg = std::fs::read_to_string(out).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    (svg, serde_json::from_slice(&o.stdout).unwrap())
}

/// Every kind on `model` (float) and its int8 blob `blob`, task `task`.
fn every_kind(dir: &Path, log: &Path, model: &Path, blob: &Path, task: &str, xs: &[&str]) {
    let m = model.to_str().unwrap();
    let name = model.file_name().unwrap().to_str().unwrap();

    // loss: two panels (loss, accuracy), each a pale per-batch line and a running mean
    let (svg, j) = plot(&["loss", log.to_str().unwrap()], &dir.join("loss.svg"));
    let t = texts(&svg);
    assert!(has(&t, "training: ") && has(&t, "trials trained"), "{t:?}");
    assert!(has(&t, "loss") && has(&t, "accuracy"), "{t:?}");
    assert_eq!(t.iter().filter(|x| *x == "trials trained").count(), 2);
    let s = series(&svg);
    assert_eq!(s.len(), 2, "{s:?}");
    assert!(j["rows"].as_u64().unwrap() >= 2);

    // psychometric: one point per bin (+1 in the legend), one error bar per bin, one fit
    let (svg, j) = plot(
        &["psychometric", "--model", m, "--trials", "400"],
        &dir.join("psy.svg"),
    );
    let t = texts(&svg);
    let x = j["x_name"].as_str().unwrap();
    assert!(xs.contains(&x), "default x {x}, expected one of {xs:?}");
    assert!(has(&t, &format!("{name} on {task}")), "{t:?}");
    assert!(has(&t, x) && has(&t, "P(choose output 1)"), "{t:?}");
    assert!(
        has(&t, "fit: bias ") && has(&t, "400 trials, binned"),
        "{t:?}"
    );
    let bins = j["bins"].as_array().unwrap().len();
    assert!(bins >= 3, "{j}");
    assert_eq!(count(&svg, "circle"), bins + 1);
    assert_eq!(series(&svg).len(), 1, "one fitted curve");
    assert_eq!(
        j["bins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["n"].as_u64().unwrap())
            .sum::<u64>(),
        400
    );

    // trials: one panel per condition, output channels × panels solid series
    let (svg, j) = plot(
        &["trials", "--model", m, "--trials", "60"],
        &dir.join("trials.svg"),
    );
    let t = texts(&svg);
    let by = j["by"].as_str().unwrap().to_string();
    let panels = j["conditions"].as_u64().unwrap() as usize;
    assert!((2..=8).contains(&panels), "{j}");
    assert_eq!(
        t.iter()
            .filter(|x| x.starts_with(&format!("{by} = ")))
            .count(),
        panels
    );
    assert_eq!(t.iter().filter(|x| *x == "time (ms)").count(), panels);
    assert!(has(&t, "output 0") && has(&t, "target 1") && has(&t, "mask 0 (not scored)"));
    assert_eq!(series(&svg).len(), 2 * panels, "two outputs per panel");
    assert!(count(&svg, "rect") > panels, "shaded mask spans");

    // pca: trajectories coloured by condition, a start dot per trajectory
    let (svg, j) = plot(
        &["pca", "--model", m, "--trials", "60"],
        &dir.join("pca.svg"),
    );
    let t = texts(&svg);
    assert!(
        has(&t, "PC1 (") && has(&t, "PC2 (") && has(&t, "% of variance"),
        "{t:?}"
    );
    let groups = j["conditions"].as_u64().unwrap() as usize;
    let by = j["by"].as_str().unwrap();
    assert_eq!(
        t.iter()
            .filter(|x| x.starts_with(&format!("{by} = ")))
            .count(),
        groups
    );
    let n = series_of_width(&svg, 2).len();
    assert_eq!(count(&svg, "circle"), n, "a start dot per trajectory");
    assert!(
        n >= groups && n <= 4 * groups,
        "{n} trajectories, {groups} groups"
    );

    // compare: blob against float, 3 trial panels of 2 outputs
    let (svg, j) = plot(
        &[
            "compare",
            "--model",
            blob.to_str().unwrap(),
            "--against",
            m,
            "--trials",
            "5",
        ],
        &dir.join("cmp.svg"),
    );
    let t = texts(&svg);
    assert!(
        has(&t, "RMSE") && has(&t, "(fixed point)") && has(&t, "(float)"),
        "{t:?}"
    );
    assert_eq!(t.iter().filter(|x| x.starts_with("trial ")).count(), 3);
    assert_eq!(series(&svg).len(), 3 * 2, "A's outputs in 3 panels");
    let rmse = j["rmse"].as_f64().unwrap();
    assert!(
        rmse > 0.0 && rmse < 0.05 * j["range"].as_f64().unwrap(),
        "{j}"
    );

    // compare against a `neuroloop run` output of the float model on recorded inputs:
    // the float model against its own run is exact.
    let task = build(&TaskSpec::named(task)).unwrap();
    let b = task_trials(&*task, 4, 9, stream::EVAL);
    let x_path = dir.join("x.npz");
    let xa = Array {
        shape: vec![4, b.n_steps, b.n_in],
        data: Data::F32(b.x.clone()),
    };
    std::fs::write(&x_path, npz::write([("x", &xa)])).unwrap();
    let y_path = dir.join("y.npz");
    neuroloop()
        .args(["run", "--model", m, "--inputs"])
        .arg(&x_path)
        .arg("-o")
        .arg(&y_path)
        .assert()
        .success();
    let (svg, j) = plot(
        &[
            "compare",
            "--model",
            m,
            "--against",
            y_path.to_str().unwrap(),
            "--inputs",
            x_path.to_str().unwrap(),
        ],
        &dir.join("cmp-run.svg"),
    );
    assert!(has(&texts(&svg), "(run output)"));
    assert!(j["max_abs"].as_f64().unwrap() < 1e-6, "{j}");
    // and the blob against the float model's run differs, as above
    let (_, j) = plot(
        &[
            "compare",
            "--model",
            blob.to_str().unwrap(),
            "--against",
            y_path.to_str().unwrap(),
            "--inputs",
            x_path.to_str().unwrap(),
        ],
        &dir.join("cmp-run2.svg"),
    );
    assert!(j["max_abs"].as_f64().unwrap() > 1e-6, "{j}");
}

#[test]
fn every_kind_on_the_quickstart_and_a_delayed_discrimination_model() {
    let d = tempfile::tempdir().unwrap();
    let q = d.path().join("qs");
    neuroloop()
        .args([
            "quickstart",
            "--train-trials",
            "300",
            "--trials",
            "50",
            "--dir",
        ])
        .arg(&q)
        .assert()
        .success();
    // quickstart's own plots: real PNGs
    for f in ["loss", "psychometric", "trials"] {
        let b = std::fs::read(q.join(format!("hello-world-{f}.png"))).unwrap();
        assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{f}");
    }
    every_kind(
        d.path(),
        &q,
        &q.join("hello-world.json"),
        &q.join("hello-world-int8.nlb"),
        "perceptual-discrimination",
        &["signed_coherence"],
    );

    let dd = d.path().join("dd");
    std::fs::create_dir(&dd).unwrap();
    let m = dd.join("dd.json");
    neuroloop()
        .args([
            "train",
            "--task",
            "delayed-discrimination",
            "--trials",
            "1500",
            "--n-rec",
            "16",
            "-o",
        ])
        .arg(&m)
        .assert()
        .success();
    let blob = dd.join("dd.nlb");
    neuroloop()
        .arg("quantize")
        .arg(&m)
        .args(["--weights", "i8", "--allow-drop", "-o"])
        .arg(&blob)
        .assert()
        .success();
    // a barely trained model: any variable with 3 or more values may predict its choice best
    every_kind(
        &dd,
        &dd,
        &m,
        &blob,
        "delayed-discrimination",
        &["f1", "f2", "f2_minus_f1"],
    );
}

/// `plot compare` against a rig session folder: a blob recorded on `device-sim` over TCP
/// is the same run as the blob on the host (difference exactly 0); the float model it was
/// quantized from differs from the recording (difference > 0).
#[test]
fn compare_reads_a_rig_session_recorded_on_device_sim() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    // A float model with distinct weights, its int8 blob, and 4 trials × 150 steps of inputs.
    let mut m = FloatModel::zeros("rig-compare", 2, 16, 2);
    for (k, w) in m.w_rec.iter_mut().enumerate() {
        *w = ((k * 37 % 17) as f32 - 8.0) / 40.0;
    }
    for (k, w) in m.w_in.iter_mut().enumerate() {
        *w = ((k * 11 % 7) as f32 - 3.0) / 3.0;
    }
    for (k, w) in m.w_out.iter_mut().enumerate() {
        *w = ((k * 5 % 9) as f32 - 4.0) / 10.0;
    }
    m.save(&p("model.json")).unwrap();
    neuroloop()
        .arg("quantize")
        .arg(p("model.json"))
        .args(["--weights", "i8", "-o"])
        .arg(p("model.nlb"))
        .assert()
        .success();
    let (_, x) = rig_support::fixture(d.path(), 4, 150);
    let sim = rig_support::SimProcess::start();
    let sess = p("session");
    neuroloop()
        .args(["rig", "run", "--tcp", &sim.addr, "--ping", "0", "--blob"])
        .arg(p("model.nlb"))
        .arg("--inputs")
        .arg(&x)
        .arg("--session")
        .arg(&sess)
        .timeout(std::time::Duration::from_secs(300))
        .assert()
        .success();
    assert_eq!(
        rig_support::session(&sess)["outcome"]["ended_by"],
        "completed"
    );
    let compare = |model: &str, out: &str| {
        plot(
            &[
                "compare",
                "--model",
                p(model).to_str().unwrap(),
                "--against",
                sess.to_str().unwrap(),
                "--inputs",
                x.to_str().unwrap(),
            ],
            &p(out),
        )
    };
    // The blob that ran on the device: identical, panel by panel.
    let (svg, j) = compare("model.nlb", "blob.svg");
    let t = texts(&svg);
    assert!(
        has(&t, "model.nlb (fixed point)") && has(&t, "session (rig recording)"),
        "{t:?}"
    );
    assert!(has(&t, "RMSE 0.000e0, max |A−B| 0.000e0"), "{t:?}");
    let panels: Vec<&String> = t.iter().filter(|x| x.starts_with("trial ")).collect();
    assert_eq!(panels.len(), 3, "the first 3 of 4 trials: {t:?}");
    assert!(
        panels.iter().all(|x| x.ends_with("max |A−B| 0.000e0")),
        "{t:?}"
    );
    assert_eq!(t.iter().filter(|x| *x == "step").count(), 3, "x in steps");
    assert_eq!(series(&svg).len(), 3 * 2, "A's 2 outputs in 3 panels");
    // B's 2 outputs dashed (many short polylines), in the darker shade of A's colour.
    let mut a_colours = series(&svg);
    a_colours.sort();
    a_colours.dedup();
    let mut b_colours = series_of_width(&svg, 2);
    b_colours.sort();
    b_colours.dedup();
    assert_eq!((a_colours.len(), b_colours.len()), (2, 2), "{b_colours:?}");
    assert!(
        b_colours.iter().all(|c| !a_colours.contains(c)),
        "{b_colours:?}"
    );
    assert_eq!(
        (j["rmse"].as_f64(), j["max_abs"].as_f64()),
        (Some(0.0), Some(0.0)),
        "{j}"
    );
    assert!(j["range"].as_f64().unwrap() > 0.0, "{j}");
    // The float model it came from: the quantization error, small against the range.
    let (svg, j) = compare("model.json", "float.svg");
    assert!(has(&texts(&svg), "model.json (float)"));
    let (rmse, max_abs) = (j["rmse"].as_f64().unwrap(), j["max_abs"].as_f64().unwrap());
    assert!(rmse > 0.0 && max_abs >= rmse, "{j}");
    assert!(max_abs < 0.1 * j["range"].as_f64().unwrap(), "{j}");
}

#[test]
fn bad_plot_requests_are_refused_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    let err = |args: &[&str]| {
        let o = neuroloop().arg("plot").args(args).output().unwrap();
        assert!(!o.status.success(), "{args:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let log = d.path().join("m.json.log.tsv");
    std::fs::write(
        &log,
        "batch\ttrials\tloss\taccuracy\tseconds\n1\t50\t0.2\t0.5\t0.1\n",
    )
    .unwrap();
    let l = log.to_str().unwrap();
    let out = d.path().join("a.pdf");
    assert!(err(&["loss", l, "-o", out.to_str().unwrap()]).contains(".png or .svg"));
    let png = d.path().join("a.png");
    std::fs::write(&png, b"x").unwrap();
    assert!(err(&["loss", l, "-o", png.to_str().unwrap()]).contains("--force"));
    let e = err(&[
        "loss",
        d.path().join("none").to_str().unwrap(),
        "-o",
        "/tmp/x.svg",
    ]);
    assert!(e.contains("does not exist"), "{e}");
    // a folder without a log, and a file that is not one
    let empty = tempfile::tempdir().unwrap();
    let svg = d.path().join("b.svg");
    let e = err(&[
        "loss",
        empty.path().to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert!(e.contains("no training log"), "{e}");
    std::fs::write(&log, "hello\n").unwrap();
    let e = err(&["loss", l, "-o", svg.to_str().unwrap()]);
    assert!(e.contains("not a neuroloop training log"), "{e}");
    assert!(!svg.exists(), "nothing written on error");
}
