//! The three PsychRNN task ports: sizes, timing semantics, accuracy, and a short training
//! run per task whose loss must fall.

use neuroloop::task::{build, trial_rng, Batch, TaskSpec, TASK_NAMES};
use neuroloop::train::config::TrainConfig;
use neuroloop::train::Trainer;

fn batch(name: &str, n: usize) -> Batch {
    let task = build(&TaskSpec::named(name)).unwrap();
    let mut b = Batch::new(task.dims(), n);
    let mut rng = trial_rng(7, 9, 0, 0);
    b.generate(&*task, &mut rng);
    b
}

#[test]
fn task_dims_match_psychrnn() {
    for (name, i, o) in [
        ("perceptual-discrimination", 2, 2),
        ("delayed-discrimination", 2, 2),
        ("match-to-category", 16, 2),
    ] {
        let t = build(&TaskSpec::named(name)).unwrap();
        let d = t.dims();
        assert_eq!((d.n_in, d.n_out, d.n_steps), (i, o, 200), "{name}");
    }
}

#[test]
fn task_perceptual_mask_and_targets() {
    let b = batch("perceptual-discrimination", 200);
    for tr in 0..b.n_trials {
        let mut seen_mask = false;
        let mut dir = None;
        for t in 0..b.n_steps {
            let k = (tr * b.n_steps + t) * 2;
            let (m0, m1) = (b.mask[k], b.mask[k + 1]);
            assert_eq!(m0, m1);
            if seen_mask {
                assert_eq!(m0, 1.0, "mask stays on once on");
            }
            seen_mask |= m0 == 1.0;
            let (y0, y1) = (b.y[k], b.y[k + 1]);
            if y0 != 0.0 || y1 != 0.0 {
                assert!(m0 == 1.0, "targets only under the mask");
                let d = if y0 == 1.0 { 0 } else { 1 };
                assert!((y0 + y1 - 1.2f32).abs() < 1e-6);
                assert!(dir.is_none() || dir == Some(d));
                dir = Some(d);
            }
        }
        assert!(
            seen_mask && dir.is_some(),
            "trial {tr} has a response period"
        );
    }
    // Inputs: the chosen channel has the larger mean during the stimulus.
    let acc = {
        let t = build(&TaskSpec::named("perceptual-discrimination")).unwrap();
        // Use the inputs as the "output": mean over the masked period is noise only, so
        // instead check the task's accuracy of the targets against themselves is 1.
        t.accuracy(&b, &b.y)
    };
    assert_eq!(acc, 1.0);
}

#[test]
fn task_delayed_choice_matches_frequencies() {
    let b = batch("delayed-discrimination", 300);
    let mut both = [0usize; 2];
    for tr in 0..b.n_trials {
        // Mean input on channel 0 during the two stimuli decides; find the targets' choice.
        let mut choice = None;
        for t in 0..b.n_steps {
            let k = (tr * b.n_steps + t) * 2;
            if b.mask[k] == 1.0 {
                choice = Some(if b.y[k] == 1.0 { 0 } else { 1 });
            }
        }
        if let Some(c) = choice {
            both[c] += 1;
        }
    }
    assert!(
        both[0] > 100 && both[1] > 100,
        "both choices occur: {both:?}"
    );
}

#[test]
fn task_match_to_category_targets_one_hot() {
    let b = batch("match-to-category", 100);
    for tr in 0..b.n_trials {
        for t in 0..b.n_steps {
            let k = (tr * b.n_steps + t) * 2;
            let time = t as f32 * 10.0;
            let on = (1200.0..2000.0).contains(&time);
            assert_eq!(b.mask[k], if on { 1.0 } else { 0.0 }, "t = {time}");
            if on {
                assert_eq!(b.y[k] + b.y[k + 1], 1.0);
            }
        }
    }
}

#[test]
fn task_unknown_name_lists_valid() {
    let e = build(&TaskSpec::named("romo")).err().unwrap().to_string();
    assert!(TASK_NAMES.iter().all(|n| e.contains(n)), "{e}");
}

/// A short run per PsychRNN port (the first three names; task files are trained in
/// tests/task_files.rs): the loss over the last batches is clearly below the first ones.
#[test]
fn train_short_run_loss_falls_every_task() {
    for name in &TASK_NAMES[..3] {
        let mut cfg = TrainConfig::for_task(name);
        cfg.model.n_rec = 32;
        cfg.train.batch = 16;
        cfg.train.trials = 16 * 81; // 80 batches
        cfg.train.learning_rate = 0.01;
        let mut t = Trainer::new(cfg).unwrap();
        let mut losses = Vec::new();
        for _ in 0..80 {
            losses.push(t.step().unwrap().0);
        }
        let first: f64 = losses[..10].iter().sum::<f64>() / 10.0;
        let last: f64 = losses[70..].iter().sum::<f64>() / 10.0;
        assert!(last < 0.7 * first, "{name}: loss {first} -> {last}");
    }
}

/// Each trial's condition variables agree with the trial they describe: the variable that
/// says which output is correct names the channel whose masked target mean is larger.
#[test]
fn task_trial_vars_name_the_correct_output() {
    for (name, key, to_channel) in [
        (
            "perceptual-discrimination",
            "direction",
            (|v: f64| v as usize) as fn(f64) -> usize,
        ),
        ("delayed-discrimination", "choice", |v| v as usize),
        ("match-to-category", "category", |v| v as usize),
    ] {
        let b = batch(name, 300);
        assert_eq!(b.vars.len(), 300, "{name}");
        let yo = b.n_steps * b.n_out;
        let mut checked = 0;
        for t in 0..b.n_trials {
            let v = b.vars[t]
                .iter()
                .find(|(k, _)| k == key)
                .unwrap_or_else(|| panic!("{name}: trial {t} has no {key:?} in {:?}", b.vars[t]))
                .1;
            let (y, m) = (&b.y[t * yo..(t + 1) * yo], &b.mask[t * yo..(t + 1) * yo]);
            let mean = |c: usize| -> f32 {
                (0..b.n_steps)
                    .map(|s| y[s * b.n_out + c] * m[s * b.n_out + c])
                    .sum()
            };
            let best = (0..b.n_out).fold(0, |a, c| if mean(c) > mean(a) { c } else { a });
            if (0..b.n_out).all(|c| mean(c) == mean(best)) {
                continue; // no response period inside T (random period lengths)
            }
            checked += 1;
            assert_eq!(
                best,
                to_channel(v),
                "{name}: trial {t}, vars {:?}",
                b.vars[t]
            );
        }
        assert!(
            checked > 200,
            "{name}: only {checked} of 300 trials have a response"
        );
    }
    // the signed evidence variable agrees in sign with the direction
    let b = batch("perceptual-discrimination", 100);
    for v in &b.vars {
        let get = |k: &str| v.iter().find(|(n, _)| n == k).unwrap().1;
        assert_eq!(
            get("signed_coherence") > 0.0,
            get("direction") == 1.0,
            "{v:?}"
        );
    }
}
