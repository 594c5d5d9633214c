//! `Network::step` against the independent `i128` reference (`reference/mod.rs`, written
//! from `docs/blob-v1.md`), bit for bit, on random blobs: every transfer function, i8 and
//! i16 weights (mixed per matrix), noise on and off, odd sizes, saturating and extreme
//! nets (weights, biases and inputs at the ends of their ranges, any valid fractional
//! bits), and nets wider than the kernels' 256-element blocks.
//!
//! 100 500 random cases per run (60 000 + 40 000 + 500, each a fresh blob stepped 1–16
//! times), every state, rate and output compared after the reset and after every step.

mod reference;

use neuroloop_core::{Model, Network};
use proptest::prelude::*;
use reference::random::{matrix, wide16, Regime};
use reference::{Mix, Net, RefState, Transfer};

#[derive(Clone, Copy, Debug)]
struct Knobs {
    n_in: usize,
    n_rec: usize,
    n_out: usize,
    transfer: Transfer,
    /// i16 (true) or i8 weights for W_in, W_rec, W_out.
    wide: [bool; 3],
    regime: Regime,
    noise: bool,
    seed: u64,
    steps: usize,
}

fn random_net(k: &Knobs) -> (Net, Vec<Vec<i16>>) {
    let mut m = Mix(k.seed);
    let frac = |m: &mut Mix| match k.regime {
        Regime::Typical => m.range(8, 13) as u8,
        _ => m.edgy(0, 15) as u8,
    };
    let (fx, fu, fy) = (frac(&mut m), frac(&mut m), frac(&mut m));
    let unit = |f: u8, extra: i64| 1i64 << (f as i64 + extra);
    let bias = |m: &mut Mix, f: u8| -> i64 {
        match k.regime {
            Regime::Typical => m.range(-unit(f, 9), unit(f, 9)),
            Regime::Saturating => m
                .range(-unit(f, 15), unit(f, 15))
                .clamp(i32::MIN as i64, i32::MAX as i64),
            Regime::Extreme => m.edgy(i32::MIN as i64, i32::MAX as i64),
        }
    };
    let b_rec = (0..k.n_rec).map(|_| bias(&mut m, fx)).collect();
    let b_out = (0..k.n_out).map(|_| bias(&mut m, fy)).collect();
    let init = (0..k.n_rec)
        .map(|_| match k.regime {
            Regime::Typical => m.range(-unit(fx, 1), unit(fx, 1)).clamp(-32768, 32767),
            _ => m.edgy(-32768, 32767),
        })
        .collect();
    let alpha_q15 = match k.regime {
        Regime::Typical => m.range(1, 32768),
        _ => m.edgy(1, 32768),
    } as u16;
    let noise_mul = match (k.noise, k.regime) {
        (false, _) => 0,
        (true, Regime::Typical) => m.range(1, unit(fx, 8)) as u32,
        (true, _) => m.edgy(1, u32::MAX as i64) as u32,
    };
    let seed = if m.chance(8) { 0 } else { m.next() as u32 };
    let w_in = matrix(&mut m, k.n_rec, k.n_in, k.wide[0], k.regime, 8);
    let w_rec = matrix(&mut m, k.n_rec, k.n_rec, k.wide[1], k.regime, 8);
    let w_out = matrix(&mut m, k.n_out, k.n_rec, k.wide[2], k.regime, 8);
    let inputs = (0..k.steps)
        .map(|_| {
            (0..k.n_in)
                .map(|_| match k.regime {
                    Regime::Typical => m.range(-unit(fu, 1), unit(fu, 1)).clamp(-32768, 32767),
                    _ => m.edgy(-32768, 32767),
                } as i16)
                .collect()
        })
        .collect();
    let net = Net {
        transfer: k.transfer,
        n_in: k.n_in,
        n_rec: k.n_rec,
        n_out: k.n_out,
        fx,
        fu,
        fy,
        alpha_q15,
        noise_mul,
        seed,
        w_in,
        w_rec,
        w_out,
        b_rec,
        b_out,
        init,
    };
    (net, inputs)
}

/// Steps core and the reference side by side; the first difference fails the case.
fn check(k: &Knobs) -> Result<(), TestCaseError> {
    let (net, inputs) = random_net(k);
    let blob = net.to_blob("proptest");
    let model = Model::from_bytes(&blob).expect("generated blobs are valid");
    prop_assert_eq!(&Net::from_body(model.body()), &net, "blob round trip");
    let mut buf = vec![0i16; model.state_len()];
    let mut core = Network::new(model, &mut buf).unwrap();
    let mut want = RefState::new(&net);
    for t in 0..=inputs.len() {
        if t > 0 {
            core.step(&inputs[t - 1]).unwrap();
            want.step(&net, &inputs[t - 1]);
        }
        prop_assert_eq!(wide16(core.state()), want.x.clone(), "state x, step {}", t);
        prop_assert_eq!(wide16(core.rates()), want.r.clone(), "rates r, step {}", t);
        prop_assert_eq!(
            wide16(core.outputs()),
            want.y.clone(),
            "outputs y, step {}",
            t
        );
    }
    Ok(())
}

fn knobs(
    n_in: std::ops::RangeInclusive<usize>,
    n_rec: std::ops::RangeInclusive<usize>,
    n_out: std::ops::RangeInclusive<usize>,
    regimes: &'static [Regime],
    steps: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Knobs> {
    (
        (n_in, n_rec, n_out),
        0..4usize,
        any::<[bool; 3]>(),
        0..regimes.len(),
        any::<bool>(),
        any::<u64>(),
        steps,
    )
        .prop_map(
            move |((n_in, n_rec, n_out), t, wide, regime, noise, seed, steps)| Knobs {
                n_in,
                n_rec,
                n_out,
                transfer: Transfer::ALL[t],
                wide,
                regime: regimes[regime],
                noise,
                seed,
                steps,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60_000, ..ProptestConfig::default() })]
    #[test]
    fn step_matches_reference_on_typical_and_saturating_nets(
        k in knobs(1..=6, 1..=48, 1..=4, &[Regime::Typical, Regime::Saturating], 1..=16)
    ) {
        check(&k)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40_000, ..ProptestConfig::default() })]
    #[test]
    fn step_matches_reference_on_extreme_nets(
        k in knobs(1..=5, 1..=33, 1..=3, &[Regime::Extreme], 1..=8)
    ) {
        check(&k)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]
    #[test]
    fn step_matches_reference_on_nets_wider_than_a_kernel_block(
        k in knobs(200..=256, 250..=300, 1..=3, &[Regime::Typical, Regime::Saturating, Regime::Extreme], 1..=2)
    ) {
        check(&k)?;
    }
}

/// The reference's table, built from the doc's definition, is core's table.
#[test]
fn tanh_table_is_the_documented_one() {
    let want = reference::tanh_table();
    let core: Vec<i128> = neuroloop_core::activation::TANH_Q15
        .iter()
        .map(|&v| v as i128)
        .collect();
    assert_eq!(core, want);
}

/// The reference itself on hand-worked values (so a reference bug that core happened to
/// share would still show).
#[test]
fn reference_rounding_by_hand() {
    use reference::rs;
    assert_eq!(rs(5, 1), 3); // 2.5 → 3
    assert_eq!(rs(-5, 1), -2); // −2.5 → −2
    assert_eq!(rs(-6, 2), -1); // −1.5 → −1
    assert_eq!(rs(-7, 2), -2); // −1.75 → −2
    assert_eq!(rs(3, -2), 12);
    assert_eq!(reference::sat16(40_000), 32767);
    let t = reference::tanh_table();
    // tanh(0.5) with x = 0.5 in Q12: exactly table entry 16.
    assert_eq!(reference::tanh_q15(&t, 2048, 12), t[16]);
    assert_eq!(reference::tanh_q15(&t, -2048, 12), -t[16]);
    // Halfway between entries 16 and 17 (x = 16.5/32 in Q12 is 2112).
    assert_eq!(
        reference::tanh_q15(&t, 2112, 12),
        t[16] + rs((t[17] - t[16]) * 32768, 16)
    );
}

/// The generator does reach what the proptests claim to cover: saturated states in the
/// saturating and extreme regimes, unsaturated ones in the typical regime, and both
/// weight widths and every transfer function.
#[test]
fn generator_covers_saturation() {
    for (regime, want_saturated) in [
        (Regime::Typical, false),
        (Regime::Saturating, true),
        (Regime::Extreme, true),
    ] {
        let (mut saturated, mut total) = (0, 0);
        for seed in 0..200u64 {
            let k = Knobs {
                n_in: 3,
                n_rec: 17,
                n_out: 2,
                transfer: Transfer::ALL[seed as usize % 4],
                wide: [seed % 2 == 0, seed % 3 == 0, seed % 5 == 0],
                regime,
                noise: seed % 2 == 1,
                seed,
                steps: 8,
            };
            let (net, inputs) = random_net(&k);
            let mut s = RefState::new(&net);
            for u in &inputs {
                s.step(&net, u);
                saturated += s.x.iter().filter(|&&v| v == -32768 || v == 32767).count();
                total += s.x.len();
            }
        }
        let share = saturated as f64 / total as f64;
        eprintln!("{regime:?}: {:.1} % of states saturated", 100.0 * share);
        if want_saturated {
            assert!(share > 0.2, "{regime:?}: only {share:.3} saturated");
        } else {
            assert!(share < 0.05, "{regime:?}: {share:.3} saturated");
        }
    }
}
