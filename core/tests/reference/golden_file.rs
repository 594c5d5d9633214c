//! The text format of the golden vectors in `tests/fixtures/golden/NAME.txt` (next to
//! `NAME.nlb`, the blob they belong to).
//!
//! `#` lines are comments. Every other line is one step:
//! `t | inputs u | state x | rates r | outputs y`, each field decimal `i16`s separated by
//! spaces. Line `t = 0` is the state right after a reset (no inputs); line `t` the state
//! after the `t`-th step on its inputs.
//!
//! Written by hand: a dozen lines, and both `core/tests/golden.rs` (host) and
//! `tests/tests/golden_qemu.rs` (QEMU firmware) read it with no extra dependency.
#![allow(dead_code)]

/// One line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub t: usize,
    pub u: Vec<i16>,
    pub x: Vec<i16>,
    pub r: Vec<i16>,
    pub y: Vec<i16>,
}

/// Parse a golden file; panics naming the line on malformed input (test data).
pub fn parse(text: &str) -> Vec<Step> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, l)| {
            let f: Vec<&str> = l.split('|').collect();
            assert_eq!(f.len(), 5, "golden line {}: 5 fields expected: {l}", n + 1);
            let ints = |s: &str| -> Vec<i16> {
                s.split_whitespace()
                    .map(|v| {
                        v.parse()
                            .unwrap_or_else(|e| panic!("golden line {}: {v:?}: {e}", n + 1))
                    })
                    .collect()
            };
            Step {
                t: f[0].trim().parse().expect("step number"),
                u: ints(f[1]),
                x: ints(f[2]),
                r: ints(f[3]),
                y: ints(f[4]),
            }
        })
        .collect()
}

/// Format steps (after a `header` of `#` comment lines).
pub fn format(header: &str, steps: &[Step]) -> String {
    let join = |v: &[i16]| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = String::new();
    for l in header.lines() {
        out.push_str("# ");
        out.push_str(l);
        out.push('\n');
    }
    for s in steps {
        out.push_str(&format!(
            "{} | {} | {} | {} | {}\n",
            s.t,
            join(&s.u),
            join(&s.x),
            join(&s.r),
            join(&s.y)
        ));
    }
    out
}
