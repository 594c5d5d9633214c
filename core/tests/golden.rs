//! Golden vectors: committed blobs and the bits they must produce, step by step.
//!
//! `tests/fixtures/golden/NAME.nlb` is a blob, `NAME.txt` its inputs and the expected
//! state, rates and outputs after the reset and after each of [`STEPS`] steps (format:
//! `reference/golden_file.rs`). The expected bits come from the independent `i128`
//! reference (`reference/mod.rs`), not from core, so a change to core's arithmetic shows
//! here as a diff against files under version control; `tests/tests/golden_qemu.rs` checks
//! the same files against the QEMU firmware.
//!
//! Regenerate (only after a deliberate, documented change of the format's semantics,
//! which also bumps the blob version):
//! `cargo test -p neuroloop-core --release --test golden -- --ignored`

mod reference;

use neuroloop_core::{Model, Network};
use reference::golden_file::{self, Step};
use reference::{Matrix, Net, RefState, Transfer};

/// Steps per golden file.
pub const STEPS: usize = 60;

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/golden")
}

/// The golden nets: (file name, net, inputs).
fn nets() -> Vec<(&'static str, Net, Vec<Vec<i16>>)> {
    vec![
        golden_net("tanh_i8_noise", Transfer::Tanh, 3, 13, 2, 1, 1500, 1),
        golden_net("relu_i16_saturating", Transfer::Relu, 2, 16, 3, 2, 0, 2),
    ]
}

/// A deterministic small net from `seed` (a 64-bit LCG; the values only need to be fixed
/// and varied). Units 0 and 1 get large positive / negative biases so that they saturate.
#[allow(clippy::too_many_arguments)]
fn golden_net(
    name: &'static str,
    transfer: Transfer,
    n_in: usize,
    n_rec: usize,
    n_out: usize,
    bytes: usize,
    noise_mul: u32,
    seed: u64,
) -> (&'static str, Net, Vec<Vec<i16>>) {
    let mut s = seed;
    let mut next = move |lo: i64, hi: i64| -> i64 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + ((s >> 33) % (hi - lo + 1) as u64) as i64
    };
    let (lo, hi, bits) = if bytes == 1 {
        (-128, 127, 7)
    } else {
        (-32768, 32767, 15)
    };
    let mut mat = |rows: usize, cols: usize, extra: u8| Matrix {
        rows,
        cols,
        bytes,
        frac: (0..rows).map(|_| bits + extra + next(0, 2) as u8).collect(),
        w: (0..rows * cols).map(|_| next(lo, hi)).collect(),
    };
    let (fx, fu, fy) = (11u8, 12u8, 12u8);
    let w_in = mat(n_rec, n_in, 0);
    let w_rec = mat(n_rec, n_rec, 1);
    let w_out = mat(n_out, n_rec, 1);
    let one = 1i64 << (fx + 8);
    let mut b_rec: Vec<i64> = (0..n_rec).map(|_| next(-one / 2, one / 2)).collect();
    b_rec[0] = 40 * one;
    b_rec[1] = -40 * one;
    let b_out = (0..n_out).map(|_| next(-one / 4, one / 4)).collect();
    let init = (0..n_rec)
        .map(|_| next(-(1 << fx) / 4, (1 << fx) / 4))
        .collect();
    // Fixation, stimulus on (per-channel levels plus noise), then silence.
    let levels: Vec<i64> = (0..n_in).map(|_| next(0, 1 << fu)).collect();
    let inputs = (0..STEPS)
        .map(|t| {
            (0..n_in)
                .map(|c| {
                    if (6..40).contains(&t) {
                        (levels[c] + next(-(1 << fu) / 8, (1 << fu) / 8)) as i16
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    let net = Net {
        transfer,
        n_in,
        n_rec,
        n_out,
        fx,
        fu,
        fy,
        alpha_q15: 3277,
        noise_mul,
        seed: 0x5EED_0000 + seed as u32,
        w_in,
        w_rec,
        w_out,
        b_rec,
        b_out,
        init,
    };
    (name, net, inputs)
}

fn narrow(v: &[i128]) -> Vec<i16> {
    v.iter()
        .map(|&x| i16::try_from(x).expect("reference values are saturated to i16"))
        .collect()
}

/// The reference run of `net` on `inputs`, as golden lines.
fn reference_run(net: &Net, inputs: &[Vec<i16>]) -> Vec<Step> {
    let mut s = RefState::new(net);
    let mut out = vec![Step {
        t: 0,
        u: vec![],
        x: narrow(&s.x),
        r: narrow(&s.r),
        y: narrow(&s.y),
    }];
    for (t, u) in inputs.iter().enumerate() {
        s.step(net, u);
        out.push(Step {
            t: t + 1,
            u: u.clone(),
            x: narrow(&s.x),
            r: narrow(&s.r),
            y: narrow(&s.y),
        });
    }
    out
}

fn load(name: &str) -> (Vec<u8>, Vec<Step>) {
    let blob = std::fs::read(dir().join(format!("{name}.nlb")))
        .unwrap_or_else(|e| panic!("{name}.nlb: {e} (regenerate: see core/tests/golden.rs)"));
    let text = std::fs::read_to_string(dir().join(format!("{name}.txt"))).unwrap();
    (blob, golden_file::parse(&text))
}

#[test]
#[ignore = "writes tests/fixtures/golden/: cargo test -p neuroloop-core --release --test golden -- --ignored"]
fn regenerate_golden_vectors() {
    std::fs::create_dir_all(dir()).unwrap();
    for (name, net, inputs) in nets() {
        let blob = net.to_blob(name);
        let header = format!(
            "neuroloop golden vectors: {name}.nlb ({} transfer, {}, n_in {} n_rec {} n_out {}, noise_mul {}), {STEPS} steps.\n\
             t | inputs u | state x | rates r | outputs y   (t = 0: after reset)\n\
             Generated by the i128 reference core/tests/reference/ (not by core):\n\
             cargo test -p neuroloop-core --release --test golden -- --ignored",
            net.transfer.name(),
            if net.w_rec.bytes == 1 { "i8 weights" } else { "i16 weights" },
            net.n_in,
            net.n_rec,
            net.n_out,
            net.noise_mul
        );
        let steps = reference_run(&net, &inputs);
        std::fs::write(dir().join(format!("{name}.nlb")), &blob).unwrap();
        std::fs::write(
            dir().join(format!("{name}.txt")),
            golden_file::format(&header, &steps),
        )
        .unwrap();
        eprintln!("wrote {name}.nlb ({} B) and {name}.txt", blob.len());
    }
}

/// Core on the host reproduces every committed bit.
#[test]
fn core_reproduces_the_golden_vectors() {
    for (name, _, _) in nets() {
        let (blob, steps) = load(name);
        assert_eq!(steps.len(), STEPS + 1, "{name}: lines");
        let model = Model::from_bytes(&blob).unwrap();
        let mut buf = vec![0i16; model.state_len()];
        let mut net = Network::new(model, &mut buf).unwrap();
        for s in &steps {
            if s.t > 0 {
                net.step(&s.u).unwrap();
            }
            assert_eq!(net.state(), &s.x[..], "{name}: state x at step {}", s.t);
            assert_eq!(net.rates(), &s.r[..], "{name}: rates r at step {}", s.t);
            assert_eq!(net.outputs(), &s.y[..], "{name}: outputs y at step {}", s.t);
        }
    }
}

/// The committed files are what the generator writes today (blob and vectors), and they
/// exercise what they claim: noise in one, saturated states in the other, varying outputs.
#[test]
fn golden_files_are_current_and_meaningful() {
    for (name, net, inputs) in nets() {
        let (blob, steps) = load(name);
        assert_eq!(
            blob,
            net.to_blob(name),
            "{name}.nlb differs from the generator"
        );
        let model = Model::from_bytes(&blob).unwrap();
        assert_eq!(Net::from_body(model.body()), net);
        assert_eq!(
            steps,
            reference_run(&net, &inputs),
            "{name}.txt differs from the reference"
        );
        let xs: Vec<i16> = steps.iter().flat_map(|s| s.x.clone()).collect();
        let ys: Vec<i16> = steps.iter().flat_map(|s| s.y.clone()).collect();
        assert!(
            ys.iter().any(|&v| v != ys[0]),
            "{name}: outputs never change"
        );
        assert!(
            xs.contains(&i16::MAX) && xs.contains(&i16::MIN),
            "{name}: no unit saturates"
        );
    }
    assert!(nets().iter().any(|(_, n, _)| n.noise_mul != 0));
    assert!(nets().iter().any(|(_, n, _)| n.w_rec.bytes == 1));
    assert!(nets().iter().any(|(_, n, _)| n.w_rec.bytes == 2));
}
