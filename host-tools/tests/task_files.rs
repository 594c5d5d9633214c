//! Task files (docs/tasks.md): malformed files each give one error naming the file, the
//! line and the key (none panics); every built-in file builds and samples; and a user-written
//! variant with changed timings trains, quantizes and evaluates end to end.

use assert_cmd::Command;
use neuroloop::task::file::parse;
use neuroloop::task::{build, task_trials, TaskSpec, TASK_NAMES};

const BASE: &str = r#"name = "probe"
n_in = 2
n_out = 2
t = 1000
noise = 0.1

[vars]
go = { choice = [0, 1] }

[[epoch]]
name = "stim"
duration = 200
inputs = [{ channel = 0, value = "go" }]

[[epoch]]
name = "decision"
duration = { uniform = [200, 400] }
targets = [{ channel = 1, value = "go" }]

[accuracy]
rule = "sign"
epoch = "decision"
channel = 1
expect = "go"
"#;

/// (replace this, with this, key named, text on the reported line, more text in the message)
const BAD: &[(&str, &str, &str, &str, &str)] = &[
    (
        "noise = 0.1",
        "nosie = 0.1",
        "`nosie`",
        "nosie",
        "did you mean \"noise\"",
    ),
    ("n_in = 2", "n_in = \"two\"", "`n_in`", "n_in", "\"two\""),
    (
        "duration = 200",
        "duration = -5",
        "`epoch[0].duration`",
        "-5",
        "-5",
    ),
    ("t = 1000", "t = 300", "`t`", "t = 300", "600"),
    (
        "t = 1000",
        "t = 1000\nlstm_chrono_tmax = -2",
        "`lstm_chrono_tmax`",
        "lstm_chrono_tmax",
        "-2",
    ),
    (
        "go = { choice = [0, 1] }",
        "go = { choice = [] }",
        "`vars.go.choice`",
        "go =",
        "empty",
    ),
    (
        "{ channel = 0, value = \"go\" }",
        "{ channel = 5, value = \"go\" }",
        "`epoch[0].inputs[0].channel`",
        "channel = 5",
        "0..=1",
    ),
    (
        "go = { choice = [0, 1] }",
        "go = { choise = [0, 1] }",
        "`vars.go.choise`",
        "choise",
        "did you mean \"choice\"",
    ),
    (
        "value = \"go\" }]\n\n[[epoch]]\nname = \"decision\"",
        "value = \"gp\" }]\n\n[[epoch]]\nname = \"decision\"",
        "`epoch[0].inputs[0].value`",
        "\"gp\"",
        "did you mean \"go\"",
    ),
    (
        "epoch = \"decision\"",
        "epoch = \"decison\"",
        "`accuracy.epoch`",
        "decison",
        "did you mean \"decision\"",
    ),
    (
        "rule = \"sign\"",
        "rule = \"sing\"",
        "`accuracy.rule`",
        "sing",
        "did you mean \"sign\"",
    ),
    (
        "name = \"probe\"",
        "name = \"probe",
        "`(syntax)`",
        "name = \"probe",
        "string",
    ),
    (
        "{ uniform = [200, 400] }",
        "{ uniform = [400, 200] }",
        "`epoch[1].duration.uniform`",
        "400, 200",
        "low <= high",
    ),
    (
        "name = \"decision\"",
        "name = \"stim\"",
        "`epoch[1].name`",
        "name = \"stim\"\nduration = { uniform",
        "already",
    ),
    ("n_out = 2\n", "", "`n_out`", "name = \"probe\"", "missing"),
    (
        "{ channel = 0, value = \"go\" }",
        "{ ring = [1, 4], angle = 0 }",
        "`epoch[0].inputs[0].ring`",
        "ring = [1, 4]",
        "<= 2",
    ),
    (
        "{ uniform = [200, 400] }",
        "{ exponential = { mean = 100, min = 300, max = 200 } }",
        "`epoch[1].duration.exponential`",
        "exponential",
        "min <= max",
    ),
    (
        "duration = 200",
        "duraton = 200",
        "`epoch[0].duraton`",
        "duraton",
        "did you mean \"duration\"",
    ),
    (
        "duration = 200",
        "duration = \"go * 100\"",
        "`epoch[0].duration`",
        "go * 100",
        "max",
    ),
    (
        "channel = 1\nexpect",
        "channel = 7\nexpect",
        "`accuracy.channel`",
        "channel = 7",
        "0..=1",
    ),
    (
        "go = { choice = [0, 1] }",
        "go = { normal = [0, 1] }",
        "`vars.go.normal`",
        "normal",
        "choice, uniform",
    ),
    (
        "rule = \"sign\"",
        "rule = 3",
        "`accuracy.rule`",
        "rule = 3",
        "string",
    ),
    // the keys that let a file reproduce the PsychRNN ports (task_psychrnn_files.rs)
    (
        "name = \"decision\"",
        "name = \"decision\"\nopen_start = true",
        "`epoch[1].open_start`",
        "open_start",
        "timing = \"exact\"",
    ),
    (
        "duration = 200",
        "duration = \"rest\"",
        "`epoch[0].duration`",
        "\"rest\"",
        "only the last epoch",
    ),
    (
        "noise = 0.1",
        "noise = 0.1\nnoise_amp = \"0.1 * sqrt(dt)\"",
        "`noise_amp`",
        "noise_amp",
        "one of them",
    ),
    (
        "noise = 0.1",
        "noise_amp = \"sqrt(dtt)\"",
        "`noise_amp`",
        "noise_amp",
        "did you mean \"dt\"",
    ),
    (
        "go = { choice = [0, 1] }",
        "go = { choice = [0, 1], f32 = \"yes\" }",
        "`vars.go.f32`",
        "go =",
        "true or false",
    ),
    (
        "n_in = 2",
        "n_in = 2\ntiming = \"exactly\"",
        "`timing`",
        "timing",
        "did you mean \"exact\"",
    ),
];

fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the file"));
    text[..at].matches('\n').count() + 1
}

#[test]
fn base_file_is_valid() {
    let f = parse(BASE, "probe.toml").unwrap();
    assert_eq!((f.n_in, f.n_out, f.t_ms), (2, 2, 1000.0));
}

#[test]
fn malformed_files_name_file_line_and_key() {
    assert!(BAD.len() >= 15);
    for (from, to, key, on_line, more) in BAD {
        assert!(BASE.contains(from), "{from:?}");
        let text = BASE.replacen(from, to, 1);
        let e = parse(&text, "bad.toml").expect_err(to).to_string();
        let line = line_of(&text, on_line);
        let head = format!("bad.toml:{line}: {key}");
        assert!(e.starts_with(&head), "{to:?}: want {head:?}, got {e}");
        assert!(e.contains(more), "{to:?}: want {more:?} in {e}");
        assert_eq!(e.lines().count(), 1, "one error line: {e}");
    }
}

#[test]
fn garbage_never_panics() {
    // every prefix of a valid file, and of each malformed one: an error or a task, no panic
    for text in
        std::iter::once(BASE.to_string()).chain(BAD.iter().map(|b| BASE.replacen(b.0, b.1, 1)))
    {
        for cut in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            let _ = parse(&text[..cut], "cut.toml");
        }
    }
}

#[test]
fn every_builtin_builds_samples_and_reports_its_variables() {
    for name in TASK_NAMES {
        let t = build(&TaskSpec::named(name)).unwrap();
        let b = task_trials(&*t, 20, 7, 3);
        assert!(
            b.x.iter().chain(&b.y).chain(&b.mask).all(|v| v.is_finite()),
            "{name}"
        );
        assert!(
            b.mask.iter().any(|&m| m > 0.0),
            "{name}: nothing to train on"
        );
        assert!(b.vars.iter().all(|v| !v.is_empty()), "{name}");
        // the targets themselves score 1.0 (argmax/sign rules)
        if name != "ready-set-go" {
            assert_eq!(t.accuracy(&b, &b.y), 1.0, "{name}");
        }
    }
}

#[test]
fn ready_set_go_target_crosses_on_time() {
    let t = build(&TaskSpec::named("ready-set-go")).unwrap();
    let b = task_trials(&*t, 50, 3, 3);
    assert_eq!(t.accuracy(&b, &b.y), 1.0);
    // a go output shifted 40 % late is wrong on every trial
    let d = t.dims();
    let mut late = vec![0.0f32; b.y.len()];
    for i in 0..b.n_trials {
        let prod = b.vars[i].iter().find(|(k, _)| k == "production").unwrap().1;
        let shift = (0.4 * prod / f64::from(d.dt)) as usize;
        for k in shift..d.n_steps {
            let at = (i * d.n_steps + k) * 2 + 1;
            late[at] = b.y[(i * d.n_steps + k - shift) * 2 + 1];
        }
    }
    assert_eq!(t.accuracy(&b, &late), 0.0);
}

#[test]
fn two_choice_tasks_report_signed_evidence() {
    for (name, var) in [
        ("context-dependent-dm", "signed_coherence"),
        ("go-no-go", "signed_evidence"),
        ("delay-match-sample", "signed_evidence"),
        ("delay-comparison", "f2_minus_f1"),
        ("multi-sensory-integration", "signed_coherence"),
        ("interval-discrimination", "d2_minus_d1"),
        ("perceptual-dm-delay-response", "signed_coherence"),
    ] {
        let t = build(&TaskSpec::named(name)).unwrap();
        let b = task_trials(&*t, 5, 1, 3);
        assert!(
            b.vars[0].iter().any(|(k, _)| k == var),
            "{name} lacks {var}"
        );
    }
}

fn bin() -> Command {
    Command::cargo_bin("neuroloop").unwrap()
}

#[test]
fn cli_check_reports_the_error_and_sample_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, BASE.replacen("noise", "nosie", 1)).unwrap();
    let out = bin().args(["tasks", "check"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:5: `nosie`"), "{err}");
    let good = dir.path().join("good.toml");
    std::fs::write(&good, BASE).unwrap();
    let out = bin()
        .args(["tasks", "sample"])
        .arg(&good)
        .args(["--trials", "4", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let trials = v["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    assert_eq!(trials[0]["x"].as_array().unwrap().len(), 100);
    assert!(trials[0]["vars"]["go"].is_number());
}

#[test]
fn user_task_file_trains_quantizes_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    // go-no-go with shorter stimulus and delay, a longer decision: a user-written variant
    let text = neuroloop::task::builtin::find("go-no-go")
        .unwrap()
        .text
        .replace("name = \"go-no-go\"", "name = \"my-go-no-go\"")
        .replacen("duration = 500", "duration = 200", 2)
        .replacen("duration = 500", "duration = 300", 1);
    let file = dir.path().join("my-go-no-go.toml");
    std::fs::write(&file, &text).unwrap();
    let model = dir.path().join("m.json");
    let blob = dir.path().join("m.nlb");
    bin()
        .args(["train", "--task"])
        .arg(&file)
        .args(["--trials", "10000", "--threads", "1", "-o"])
        .arg(&model)
        .assert()
        .success();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(m["task"], "my-go-no-go");
    assert_eq!(m["task_file"].as_str().unwrap(), text);
    // the task file can go away: the model carries it
    std::fs::remove_file(&file).unwrap();
    bin()
        .arg("quantize")
        .arg(&model)
        .arg("-o")
        .arg(&blob)
        .assert()
        .success();
    let out = bin()
        .args(["eval", "--model"])
        .arg(&model)
        .args(["--trials", "200", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let acc = v["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.9, "variant accuracy {acc}: {v}");
    // trial length is the variant's: 200 + 200 + 300 ms at dt 10
    let t = build(&TaskSpec {
        file: Some(text),
        ..TaskSpec::named("my-go-no-go")
    })
    .unwrap();
    assert_eq!(t.dims().n_steps, 70);
}

/// `[accuracy] only`: perceptual-dm-delay-response does not score its coherence-0 trials
/// (they have no right answer) — wrong answers there leave the accuracy at 1; without
/// `only` the same outputs score below 1.
#[test]
fn accuracy_only_skips_trials_without_an_answer() {
    let name = "perceptual-dm-delay-response";
    let text = neuroloop::task::builtin::find(name).unwrap().text;
    let without = text.replace("only = \"coherence > 0\"", "");
    assert_ne!(text, without, "the file scores only coherence > 0");
    let mut accs = Vec::new();
    for t in [text.to_string(), without] {
        let spec = TaskSpec {
            file: Some(t),
            ..TaskSpec::named(name)
        };
        let task = build(&spec).unwrap();
        let b = task_trials(&*task, 300, 5, 1);
        let per = b.n_steps * b.n_out;
        let mut out = b.y.clone();
        let mut zero = 0;
        for (i, vars) in b.vars.iter().enumerate() {
            let coh = vars.iter().find(|(k, _)| k == "coherence").unwrap().1;
            if coh == 0.0 {
                zero += 1;
                for o in out[i * per..(i + 1) * per].chunks_mut(b.n_out) {
                    o.swap(1, 2);
                }
            }
        }
        assert!(zero > 20, "{zero} coherence-0 trials");
        accs.push((task.accuracy(&b, &out), zero));
    }
    assert_eq!(accs[0].0, 1.0);
    assert_eq!(accs[1].0, 1.0 - accs[1].1 as f64 / 300.0);
}
