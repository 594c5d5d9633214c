//! `neuroloop rig run --control -` against `device-sim`: stimulus changes piped through
//! standard input are made as their lines arrive (or at their `@MS` device time) and
//! logged in session.json (`param_changes`) and events.tsv (`change` column); a bad line
//! ends the run with an error naming stdin, the line and what was wrong.

mod rig_support;
use rig_support::*;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

/// Stimulus maps: `a` pulses pin 1 (rule 0), `b` drives PWM 0 (rule 0, no events) and
/// pulses pin 2 (rule 1), each pulse at random intervals of 20–30 ms of device time.
fn stimulus_files(dir: &Path) {
    let rsync = |pin: u8, seed: u8| {
        format!("[[rule]]\nkind = \"random_sync\"\npin = {pin}\nseed = {seed}\nmin_ms = 20\nmax_ms = 30\npulse_ms = 5\n")
    };
    std::fs::write(dir.join("a.toml"), rsync(1, 1)).unwrap();
    let pwm = "[[rule]]\nkind = \"pwm\"\nsource = \"output:0\"\nchannel = 0\nlo = 0.0\nhi = 1.0\n";
    std::fs::write(dir.join("b.toml"), format!("{pwm}{}", rsync(2, 2))).unwrap();
}

/// session.json's `param_changes` once there are `n` (the run writes it after each).
fn wait_for_changes(sess: &Path, n: usize) -> Vec<serde_json::Value> {
    let t0 = Instant::now();
    loop {
        let s = std::fs::read_to_string(sess.join("session.json")).unwrap_or_default();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&s) {
            let ch = v["param_changes"].as_array().cloned().unwrap_or_default();
            if ch.len() >= n {
                return ch;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no {n} parameter changes in {} after 120 s",
            sess.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed on drop (when an assertion fails before it ends).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn stimulus_changes_from_stdin_are_made_as_lines_arrive_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let (blob, _) = fixture(dir.path(), 1, 1);
    stimulus_files(dir.path());
    let sim = SimProcess::start();
    let sess = p("session");
    // Timer mode for up to 10 minutes, stopped by Ctrl-C (SIGINT below).
    let mut child = Reaped(
        StdCommand::new(bin())
            .args(["rig", "run", "--tcp", &sim.addr, "--ping", "0", "--events"])
            .args(["--rate", "1000", "--duration", "600", "--blob"])
            .arg(&blob)
            .arg("--stimulus")
            .arg(p("a.toml"))
            .args(["--control", "-", "--session"])
            .arg(&sess)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    // A comment, a blank line and a change at once (a path relative to the working
    // directory).
    stdin
        .write_all(b"# from a pipe\n\nstimulus b.toml\n")
        .unwrap();
    stdin.flush().unwrap();
    let first = wait_for_changes(&sess, 1);
    let s = session(&sess);
    let start = s["start"]["device_us"].as_i64().unwrap();
    let t1 = first[0]["at"]["device_us"].as_i64().unwrap() - start;
    // The second line is written only now, after the first change was made: it is read
    // while the run goes on, and made at its device time, 300 ms after the first change.
    let at2_ms = t1 / 1000 + 300;
    writeln!(stdin, "@{at2_ms} stimulus clear  # off").unwrap();
    stdin.flush().unwrap();
    let ch = wait_for_changes(&sess, 2);
    let ok = StdCommand::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    drop(stdin);
    let mut err = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!child.0.wait().unwrap().success());
    assert!(err.contains("stopped by Ctrl-C"), "{err}");
    let s = session(&sess);
    assert_eq!(s["outcome"]["ended_by"], "interrupted");
    let ch2 = s["param_changes"].as_array().unwrap();
    assert_eq!(ch2, &ch, "no more changes than the two lines");
    assert_eq!(ch.len(), 2, "{ch:?}");
    let at: Vec<i64> = ch
        .iter()
        .map(|c| c["at"]["device_us"].as_i64().unwrap() - start)
        .collect();
    assert_eq!(at[0], t1);
    assert!(
        at[1] >= at2_ms * 1000,
        "{at:?}, second change due at {at2_ms} ms"
    );
    assert!(ch
        .iter()
        .all(|c| c["what"] == "stimulus" && c["at"]["host_ns"].is_u64()));
    assert_eq!(ch[0]["value"]["line"], "stimulus b.toml");
    assert_eq!(ch[0]["value"]["file"], "b.toml");
    assert_eq!(ch[0]["value"]["at_ms"], serde_json::Value::Null);
    assert_eq!(ch[0]["value"]["rules"].as_array().unwrap().len(), 2);
    assert_eq!(ch[1]["value"]["line"], format!("@{at2_ms} stimulus clear"));
    assert_eq!(ch[1]["value"]["at_ms"], at2_ms);
    assert_eq!(ch[1]["value"]["file"], serde_json::Value::Null);
    assert_eq!(ch[1]["value"]["rules"].as_array().unwrap().len(), 0);
    // events.tsv: the two changes in the `change` column at the same device times (with
    // the new map's rule count), and pin 2's pulses (map b's rule 1) only between them.
    let ev = std::fs::read_to_string(sess.join("events.tsv")).unwrap();
    let mut lines = ev.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(
        (header[0], header[6]),
        ("device_us", "change"),
        "{header:?}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let changes: Vec<&Vec<&str>> = rows.iter().filter(|r| !r[6].is_empty()).collect();
    assert_eq!(changes.len(), 2, "{ev}");
    assert_eq!((changes[0][6], changes[1][6]), ("stimulus:2", "stimulus:0"));
    for (c, a) in changes.iter().zip(&ch) {
        assert_eq!(c[0], a["at"]["device_us"].to_string());
    }
    let (c1, c2) = (start + at[0], start + at[1]);
    let rule1: Vec<i64> = rows
        .iter()
        .filter(|r| r[6].is_empty() && r[3] == "1" && r[4] == "1")
        .map(|r| r[0].parse().unwrap())
        .collect();
    // ≥ 300 ms of device time between the changes, a pulse every 20–30 ms.
    assert!(rule1.len() >= 9, "pulses of map b: {ev}");
    assert!(rule1.iter().all(|&t| t > c1 && t < c2), "{ev}");
}

#[test]
fn a_bad_stdin_control_line_ends_the_run_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let (blob, _) = fixture(dir.path(), 1, 1);
    let sim = SimProcess::start();
    let sess = dir.path().join("session");
    let out = neuroloop()
        .args(["rig", "run", "--tcp", &sim.addr, "--ping", "0"])
        .args(["--rate", "1000", "--ticks", "5000", "--blob"])
        .arg(&blob)
        .args(["--control", "-", "--session"])
        .arg(&sess)
        .write_stdin("# ok\n@100 stimulus /no/such/map.toml\n")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["<stdin> (--control -)", "line 2", "/no/such/map.toml"] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let s = session(&sess);
    let ended = s["outcome"]["ended_by"].as_str().unwrap();
    assert!(
        ended.starts_with("error: ") && ended.contains("line 2"),
        "{ended}"
    );
    assert_eq!(s["param_changes"].as_array().map_or(0, Vec::len), 0);
}
