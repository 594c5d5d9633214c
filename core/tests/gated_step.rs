//! GRU and LSTM `Network::step` against the independent `i128` reference
//! (`reference/gated.rs`, written from `docs/blob-v1.md`), bit for bit, on random blobs:
//! both cells and both LSTM output nonlinearities, i8 and i16 weights (mixed per
//! matrix), odd sizes, typical, saturating and extreme nets (weights, biases, inputs and
//! formats at the ends of their ranges), and nets wider than the kernels' 256-element
//! blocks. Every hidden state, cell state and output is compared after the reset and
//! after every step.

mod reference;

use neuroloop_core::{Model, Network};
use proptest::prelude::*;
use reference::gated::{GatedNet, GatedState, Kind, T};
use reference::random::{matrix, wide16, Regime};
use reference::{Matrix, Mix};

#[derive(Clone, Copy, Debug)]
struct Knobs {
    kind: Kind,
    n_in: usize,
    n_rec: usize,
    n_out: usize,
    /// i16 (true) or i8 weights for W_in, W_rec, W_out.
    wide: [bool; 3],
    regime: Regime,
    seed: u64,
    steps: usize,
}

fn random_net(k: &Knobs) -> (GatedNet, Vec<Vec<i16>>) {
    let mut m = Mix(k.seed);
    let frac = |m: &mut Mix| match k.regime {
        Regime::Typical => m.range(8, 13) as u8,
        _ => m.edgy(0, 15) as u8,
    };
    let (fu, fy) = (frac(&mut m), frac(&mut m));
    // The LSTM cell state grows by at most 1 per step: saturating nets get formats with
    // little headroom (|c| < 1 or 2) so that a few steps pin it.
    let fx = match (k.kind, k.regime) {
        (Kind::Gru, _) => 15,
        (_, Regime::Saturating) => m.range(14, 15) as u8,
        _ => frac(&mut m),
    };
    let unit = |f: i64, extra: i64| 1i64 << (f + extra);
    let bias = |m: &mut Mix, f: i64| -> i64 {
        match k.regime {
            Regime::Typical => m.range(-unit(f, 2), unit(f, 2)),
            Regime::Saturating => m
                .range(-unit(f, 12), unit(f, 12))
                .clamp(i32::MIN as i64, i32::MAX as i64),
            Regime::Extreme => m.edgy(i32::MIN as i64, i32::MAX as i64),
        }
    };
    let n = k.n_rec;
    let b_rec = (0..4 * n).map(|_| bias(&mut m, T as i64)).collect();
    let b_out = (0..k.n_out).map(|_| bias(&mut m, fy as i64 + 8)).collect();
    let states = if k.kind == Kind::Gru { 1 } else { 2 };
    let init = (0..states * n)
        .map(|j| match k.regime {
            Regime::Typical if j >= n => m.range(-unit(fx as i64, 1), unit(fx as i64, 1)),
            Regime::Typical => m.range(-32767, 32767),
            _ => m.edgy(-32768, 32767),
        })
        .map(|v| v.clamp(-32768, 32767))
        .collect();
    let g = k.kind.gates();
    let w_in = matrix(&mut m, g * n, k.n_in, k.wide[0], k.regime, 4);
    let w_rec = matrix(&mut m, g * n, n, k.wide[1], k.regime, 4);
    let w_out = matrix(&mut m, k.n_out, n, k.wide[2], k.regime, 4);
    let inputs = (0..k.steps)
        .map(|_| {
            (0..k.n_in)
                .map(|_| match k.regime {
                    Regime::Typical => m
                        .range(-unit(fu as i64, 1), unit(fu as i64, 1))
                        .clamp(-32768, 32767),
                    _ => m.edgy(-32768, 32767),
                } as i16)
                .collect()
        })
        .collect();
    let net = GatedNet {
        kind: k.kind,
        n_in: k.n_in,
        n_rec: n,
        n_out: k.n_out,
        fx,
        fu,
        fy,
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
    let mut buf = vec![0i16; model.state_len()];
    let mut core = Network::new(model, &mut buf).unwrap();
    let mut want = GatedState::new(&net);
    for t in 0..=inputs.len() {
        if t > 0 {
            core.step(&inputs[t - 1]).unwrap();
            want.step(&net, &inputs[t - 1]);
        }
        // GRU: state and rates are both h; LSTM: state c, rates h.
        let state_want = if k.kind == Kind::Gru {
            &want.h
        } else {
            &want.c
        };
        prop_assert_eq!(&wide16(core.state()), state_want, "state, step {}", t);
        prop_assert_eq!(wide16(core.rates()), want.h.clone(), "hidden h, step {}", t);
        prop_assert_eq!(
            wide16(core.outputs()),
            want.y.clone(),
            "outputs, step {}",
            t
        );
    }
    Ok(())
}

const KINDS: [Kind; 3] = [Kind::Gru, Kind::Lstm, Kind::LstmSigmoid];

fn knobs(
    n_in: std::ops::RangeInclusive<usize>,
    n_rec: std::ops::RangeInclusive<usize>,
    n_out: std::ops::RangeInclusive<usize>,
    regimes: &'static [Regime],
    steps: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Knobs> {
    (
        (n_in, n_rec, n_out),
        0..3usize,
        any::<[bool; 3]>(),
        0..regimes.len(),
        any::<u64>(),
        steps,
    )
        .prop_map(
            move |((n_in, n_rec, n_out), kind, wide, regime, seed, steps)| Knobs {
                kind: KINDS[kind],
                n_in,
                n_rec,
                n_out,
                wide,
                regime: regimes[regime],
                seed,
                steps,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]
    #[test]
    fn gated_step_matches_reference_on_typical_and_saturating_nets(
        k in knobs(1..=6, 1..=40, 1..=4, &[Regime::Typical, Regime::Saturating], 1..=12)
    ) {
        check(&k)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]
    #[test]
    fn gated_step_matches_reference_on_extreme_nets(
        k in knobs(1..=5, 1..=29, 1..=3, &[Regime::Extreme], 1..=6)
    ) {
        check(&k)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]
    #[test]
    fn gated_step_matches_reference_on_nets_wider_than_a_kernel_block(
        k in knobs(200..=256, 250..=290, 1..=3, &[Regime::Typical, Regime::Saturating, Regime::Extreme], 1..=2)
    ) {
        check(&k)?;
    }
}

/// The `i32` paths of `core/src/cell/gate.rs` at the edges of their bounds: every weight
/// at its most negative value against `h₀ = u = −32768` (the largest dot products a row
/// can have, exactly `cols·2^30` or `cols·2^22` for these power-of-two sizes), biases at
/// the `i32` ends and 0, and one fractional-bit count for all rows of `W_rec` and one for
/// all of `W_in`, over every count 0..=30 and two input formats: each row shift is taken
/// once just inside the bound (where the shifted dot product reaches `±2^30`/`±2^29`) and
/// once just outside it (the `i64` definition). A bound one bit too generous would wrap
/// there and fail this test.
#[test]
fn row_shift_paths_match_reference_at_their_bounds() {
    let mut nets = 0;
    for kind in KINDS {
        for (wide_rec, wide_in) in [(true, true), (false, false), (true, false), (false, true)] {
            for fu in [0u8, 9, 15] {
                for f_rec in 0..=30u8 {
                    for f_in in (0..=30u8).filter(|f| f % 2 == (f_rec + fu) % 2 || *f == 30) {
                        let (n_in, n, n_out) = (2, 16, 1);
                        let g = kind.gates();
                        let extreme = |rows: usize, cols: usize, wide: bool, f: u8| Matrix {
                            rows,
                            cols,
                            bytes: if wide { 2 } else { 1 },
                            frac: vec![f; rows],
                            w: vec![if wide { -32768 } else { -128 }; rows * cols],
                        };
                        let b = |j: usize| [i32::MAX as i64, i32::MIN as i64, 0][j % 3];
                        let net = GatedNet {
                            kind,
                            n_in,
                            n_rec: n,
                            n_out,
                            fx: if kind == Kind::Gru { 15 } else { 12 },
                            fu,
                            fy: 12,
                            w_in: extreme(g * n, n_in, wide_in, f_in),
                            w_rec: extreme(g * n, n, wide_rec, f_rec),
                            w_out: extreme(n_out, n, true, 20),
                            b_rec: (0..4 * n)
                                .map(|j| if j % 5 == 4 { 0 } else { b(j) })
                                .collect(),
                            b_out: vec![0; n_out],
                            init: vec![-32768; if kind == Kind::Gru { n } else { 2 * n }],
                        };
                        let blob = net.to_blob("bounds");
                        let model = Model::from_bytes(&blob).expect("valid blob");
                        let mut buf = vec![0i16; model.state_len()];
                        let mut core = Network::new(model, &mut buf).unwrap();
                        let mut want = GatedState::new(&net);
                        for u in [[-32768i16; 2], [32767, -32768]] {
                            core.step(&u).unwrap();
                            want.step(&net, &u);
                            let what =
                                format!("{kind:?} w{wide_rec}/{wide_in} fu {fu} f {f_rec}/{f_in}");
                            assert_eq!(wide16(core.rates()), want.h, "h: {what}");
                            assert_eq!(wide16(core.outputs()), want.y, "y: {what}");
                            if kind != Kind::Gru {
                                assert_eq!(wide16(core.state()), want.c, "c: {what}");
                            }
                        }
                        nets += 1;
                    }
                }
            }
        }
    }
    assert!(nets > 4000, "{nets} nets");
}

/// The generator reaches what the proptests claim to cover: in the saturating and
/// extreme regimes many LSTM cell states pinned at the `i16` ends and GRU hidden states
/// at ±1, in the typical regime few; every kind in each.
#[test]
fn generator_covers_saturation() {
    for kind in KINDS {
        for (regime, want_saturated) in [
            (Regime::Typical, false),
            (Regime::Saturating, true),
            (Regime::Extreme, true),
        ] {
            let (mut saturated, mut total) = (0, 0);
            for seed in 0..150u64 {
                let k = Knobs {
                    kind,
                    n_in: 3,
                    n_rec: 17,
                    n_out: 2,
                    wide: [seed % 2 == 0, seed % 3 == 0, seed % 5 == 0],
                    regime,
                    seed,
                    steps: 8,
                };
                let (net, inputs) = random_net(&k);
                let mut s = GatedState::new(&net);
                for u in &inputs {
                    s.step(&net, u);
                    let v = if kind == Kind::Gru { &s.h } else { &s.c };
                    saturated += v.iter().filter(|&&v| v <= -32767 || v >= 32767).count();
                    total += v.len();
                }
            }
            let share = saturated as f64 / total as f64;
            eprintln!("{kind:?} {regime:?}: {:.1} % saturated", 100.0 * share);
            if want_saturated {
                assert!(
                    share > 0.1,
                    "{kind:?} {regime:?}: only {share:.3} saturated"
                );
            } else {
                assert!(share < 0.05, "{kind:?} {regime:?}: {share:.3} saturated");
            }
        }
    }
}

/// The reference's gated arithmetic on hand-worked values: a one-unit GRU with all
/// weights 0 has `r = z = σ(b)` and `n = tanh(b_in + r·b_hn)`; a one-unit LSTM with all
/// weights 0 adds `σ(b_i)·tanh(b_g)` to `σ(b_f)·c`.
#[test]
fn reference_gated_cells_by_hand() {
    let zero = |rows: usize, cols: usize| Matrix {
        rows,
        cols,
        bytes: 1,
        frac: vec![7; rows],
        w: vec![0; rows * cols],
    };
    // GRU: b_r = b_z = 0 (σ = 0.5 = 16384), b_in = 1.0, b_hn = 0, h₀ = 0.5.
    let one = 1i64 << T;
    let gru = GatedNet {
        kind: Kind::Gru,
        n_in: 1,
        n_rec: 1,
        n_out: 1,
        fx: 15,
        fu: 12,
        fy: 12,
        w_in: zero(3, 1),
        w_rec: zero(3, 1),
        w_out: zero(1, 1),
        b_rec: vec![0, 0, one, 0],
        b_out: vec![0],
        init: vec![16384],
    };
    let mut s = GatedState::new(&gru);
    s.step(&gru, &[0]);
    // n = tanh(1.0) = 0.76159 → table entry 32 = 24956; h' = n + ½(h − n), rounded.
    let t = reference::tanh_table();
    let n = t[32];
    assert_eq!(n, 24956);
    assert_eq!(s.h, vec![n + reference::rs(16384 * (16384 - n), 15)]);
    // LSTM: b_i = b_f = b_o = 0 (σ = 16384), b_g = 1.0; c₀ = 1.0 at fx 12.
    let lstm = GatedNet {
        kind: Kind::Lstm,
        fx: 12,
        w_in: zero(4, 1),
        w_rec: zero(4, 1),
        b_rec: vec![0, 0, one, 0],
        init: vec![0, 4096],
        ..gru.clone()
    };
    let mut s = GatedState::new(&lstm);
    s.step(&lstm, &[0]);
    // c' = ½·1.0 + ½·tanh(1.0) = 0.5 + 0.38080 in Q12.
    let c = reference::rs(16384 * 4096 * 32768 + 16384 * n * 4096, 30);
    assert_eq!(s.c, vec![c]);
    assert_eq!(
        s.h,
        vec![reference::rs(16384 * reference::tanh_q15(&t, c, 12), 15)]
    );
}
