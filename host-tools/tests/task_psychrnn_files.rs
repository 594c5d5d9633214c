//! Must-show of issue 13: the three PsychRNN tasks written as task files
//! (host-tools/tasks/{perceptual-discrimination,delayed-discrimination,match-to-category}.toml)
//! give the same trials — inputs, targets, mask and condition variables — bit for bit as
//! the Rust ports, for 1 000 seeds, and the same accuracy on the same outputs.

use neuroloop::task::file::{parse, FileTask};
use neuroloop::task::{build, AnyTask, Batch, TaskRng, TaskSpec};
use rand::{Rng, SeedableRng};

const SEEDS: u64 = 1000;

fn file_task(name: &str, text: &str, dt: f32) -> FileTask {
    let f = parse(text, name).unwrap_or_else(|e| panic!("{e}"));
    FileTask::new(f, dt, 100.0)
}

/// Where two trials first differ, or `None` if every f32 bit and every variable agrees.
fn first_difference(
    name: &str,
    port: &dyn AnyTask,
    file: &dyn AnyTask,
    seed: u64,
) -> Option<String> {
    let (dp, df) = (port.dims(), file.dims());
    assert_eq!(
        (dp.n_in, dp.n_out, dp.n_steps),
        (df.n_in, df.n_out, df.n_steps),
        "{name}: sizes"
    );
    let (xi, yo) = (dp.n_steps * dp.n_in, dp.n_steps * dp.n_out);
    let mut p = (vec![0.0f32; xi], vec![0.0f32; yo], vec![0.0f32; yo]);
    let mut f = (vec![1.0f32; xi], vec![1.0f32; yo], vec![1.0f32; yo]);
    let vp = port.trial(
        &mut TaskRng::seed_from_u64(seed),
        &mut p.0,
        &mut p.1,
        &mut p.2,
    );
    let vf = file.trial(
        &mut TaskRng::seed_from_u64(seed),
        &mut f.0,
        &mut f.1,
        &mut f.2,
    );
    for (what, a, b, n) in [
        ("x", &p.0, &f.0, dp.n_in),
        ("y", &p.1, &f.1, dp.n_out),
        ("mask", &p.2, &f.2, dp.n_out),
    ] {
        if let Some(i) = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits()) {
            return Some(format!(
                "{name} seed {seed}: {what}[step {}, channel {}] port {} file {}",
                i / n,
                i % n,
                a[i],
                b[i]
            ));
        }
    }
    for (k, v) in &vp {
        match vf.iter().find(|(kf, _)| kf == k) {
            Some((_, w)) if w.to_bits() == v.to_bits() => {}
            other => {
                return Some(format!(
                    "{name} seed {seed}: variable {k} port {v} file {other:?}"
                ))
            }
        }
    }
    None
}

fn tasks(dt: f32) -> Vec<(&'static str, Box<dyn AnyTask>, FileTask)> {
    let texts = [
        (
            "perceptual-discrimination",
            include_str!("../tasks/perceptual-discrimination.toml"),
        ),
        (
            "delayed-discrimination",
            include_str!("../tasks/delayed-discrimination.toml"),
        ),
        (
            "match-to-category",
            include_str!("../tasks/match-to-category.toml"),
        ),
    ];
    texts
        .into_iter()
        .map(|(name, text)| {
            let mut spec = TaskSpec::named(name);
            spec.dt = dt;
            (name, build(&spec).unwrap(), file_task(name, text, dt))
        })
        .collect()
}

#[test]
fn psychrnn_files_match_the_ports_bit_for_bit_for_1000_seeds() {
    for (name, port, file) in tasks(10.0) {
        for seed in 0..SEEDS {
            if let Some(d) = first_difference(name, &*port, &file, seed) {
                panic!("{d}");
            }
        }
    }
}

/// Another time step moves every epoch edge onto other steps and changes the noise scale.
#[test]
fn psychrnn_files_match_the_ports_at_another_dt() {
    for (name, port, file) in tasks(7.0) {
        for seed in 0..200 {
            if let Some(d) = first_difference(name, &*port, &file, seed) {
                panic!("{d}");
            }
        }
    }
}

#[test]
fn psychrnn_files_score_like_the_ports() {
    for (name, port, file) in tasks(10.0) {
        let mut rng = TaskRng::seed_from_u64(3);
        let b = Batch::sample(&*port, 300, &mut rng);
        let mut rng = TaskRng::seed_from_u64(3);
        let bf = Batch::sample(&file, 300, &mut rng);
        // outputs: the targets with the two channels swapped in about 30 % of the trials
        let mut r = TaskRng::seed_from_u64(4);
        let mut out = b.y.clone();
        for trial in out.chunks_mut(b.n_steps * 2) {
            if r.gen_bool(0.3) {
                trial.chunks_mut(2).for_each(|o| o.swap(0, 1));
            }
        }
        let (ap, af) = (port.accuracy(&b, &out), file.accuracy(&bf, &out));
        assert_eq!(ap, af, "{name}");
        assert!(ap > 0.5 && ap < 0.9, "{name}: {ap} (about 0.7 expected)");
    }
}
