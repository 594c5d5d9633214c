//! BPTT against central finite differences in f64, every constraint on (leaky) and for
//! every gated cell, with every regulariser; the trainer's forward pass against the float
//! reference `Effective::run` (leaky) and against a plain per-unit transcription of the
//! PyTorch / PsychRNN equations written here (gated cells).

use neuroloop::model::init::{init_model, Arch, InitConfig};
use neuroloop::model::{Cell, Constraints, FloatModel, Transfer};
use neuroloop::train::{Eff, LossKind, Net, Objective, Params, Workspace, TENSOR_NAMES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const N_IN: usize = 3;
const N_REC: usize = 7;
const N_OUT: usize = 2;
const STEPS: usize = 9;
const BATCH: usize = 3;

fn model(transfer: Transfer, seed: u64) -> FloatModel {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mask = |r: usize, c: usize, rng: &mut ChaCha8Rng| -> Vec<f32> {
        (0..r * c)
            .map(|_| if rng.gen::<f32>() < 0.75 { 1.0 } else { 0.0 })
            .collect()
    };
    let constraints = Constraints {
        dale_ratio: Some(0.6),
        input_connectivity: Some(mask(N_REC, N_IN, &mut rng)),
        rec_connectivity: Some(mask(N_REC, N_REC, &mut rng)),
        output_connectivity: Some(mask(N_OUT, N_REC, &mut rng)),
        autapses: false,
    };
    let arch = Arch {
        name: "gradcheck".into(),
        n_in: N_IN,
        n_rec: N_REC,
        n_out: N_OUT,
        dt: 10.0,
        tau: 50.0,
        rec_noise: 0.0,
        transfer,
        cell: Cell::Leaky,
        constraints,
    };
    let mut m = init_model(&arch, &InitConfig::default(), &mut rng);
    // Non-zero biases and a lively init state so every path carries gradient.
    m.b_rec = (0..N_REC).map(|_| rng.gen_range(-0.3..0.3)).collect();
    m.b_out = (0..N_OUT).map(|_| rng.gen_range(-0.3..0.3)).collect();
    m.init_state = (0..N_REC).map(|_| rng.gen_range(-0.5..1.0)).collect();
    m.w_in.iter_mut().for_each(|w| *w *= 3.0);
    m
}

struct Data {
    x: Vec<f32>,
    y: Vec<f32>,
    mask: Vec<f32>,
}

fn data(seed: u64) -> Data {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = (0..BATCH * STEPS * N_IN)
        .map(|_| rng.gen_range(-1.0..1.5))
        .collect();
    let y = (0..BATCH * STEPS * N_OUT)
        .map(|_| rng.gen_range(0.05..0.95))
        .collect();
    let mask = (0..BATCH * STEPS * N_OUT)
        .map(|_| if rng.gen::<f32>() < 0.7 { 1.0 } else { 0.0 })
        .collect();
    Data { x, y, mask }
}

fn loss_and_grad(net: &Net<f64>, d: &Data, obj: &Objective) -> (f64, Params<f64>) {
    let mut eff = Eff::default();
    net.effective(&mut eff);
    let mut ws = Workspace::new(net, BATCH, STEPS);
    ws.load(&d.x, &d.y, &d.mask, 0);
    ws.forward::<ChaCha8Rng>(net, &eff, None);
    let l = ws.backward(net, &eff, obj, BATCH);
    let mut g = ws.grads.clone();
    let reg = obj.weight_reg(&eff, Some(&mut g));
    net.chain_to_raw(&mut g);
    (l + reg, g)
}

fn loss_only(net: &Net<f64>, d: &Data, obj: &Objective) -> f64 {
    let mut eff = Eff::default();
    net.effective(&mut eff);
    let mut ws = Workspace::new(net, BATCH, STEPS);
    ws.load(&d.x, &d.y, &d.mask, 0);
    ws.forward::<ChaCha8Rng>(net, &eff, None);
    ws.loss(obj, BATCH) + obj.weight_reg(&eff, None)
}

/// A gated model with every tensor lively (biases, initial states, larger input weights).
fn gated_model(cell: Cell, seed: u64) -> FloatModel {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let arch = Arch {
        name: "gradcheck".into(),
        n_in: N_IN,
        n_rec: N_REC,
        n_out: N_OUT,
        dt: 10.0,
        tau: 50.0,
        rec_noise: 0.0,
        transfer: Transfer::Relu,
        cell,
        constraints: Constraints::default(),
    };
    let mut m = init_model(&arch, &InitConfig::default(), &mut rng);
    let mut lively = |v: &mut Vec<f32>, lo: f32, hi: f32| {
        v.iter_mut().for_each(|x| *x = rng.gen_range(lo..hi));
    };
    lively(&mut m.w_in, -1.0, 1.0);
    lively(&mut m.w_rec, -0.6, 0.6);
    lively(&mut m.b_rec, -0.5, 0.5);
    lively(&mut m.b_out, -0.3, 0.3);
    lively(&mut m.init_state, -0.8, 0.8);
    lively(&mut m.b_hn, -0.5, 0.5);
    m.validate().unwrap();
    m
}

fn check(transfer: Transfer, obj: Objective, seed: u64) {
    check_model(&model(transfer, seed), &format!("{transfer:?}"), obj, seed);
}

fn check_model(m: &FloatModel, label: &str, obj: Objective, seed: u64) {
    let transfer = label;
    let m = m.clone();
    let d = data(seed + 100);
    let net: Net<f64> = Net::from_model(&m);
    let (_, g) = loss_and_grad(&net, &d, &obj);
    let h = 1e-6;
    let mut checked = 0;
    for (k, name) in TENSOR_NAMES.iter().enumerate() {
        let len = net.params.tensors()[k].len();
        if len == 0 {
            continue; // b_hn of a cell that has none
        }
        checked += 1;
        let mut fd = vec![0.0; len];
        for (e, fd_e) in fd.iter_mut().enumerate() {
            let mut plus = net.clone();
            plus.params.tensors_mut()[k][e] += h;
            let mut minus = net.clone();
            minus.params.tensors_mut()[k][e] -= h;
            *fd_e = (loss_only(&plus, &d, &obj) - loss_only(&minus, &d, &obj)) / (2.0 * h);
        }
        let bp = &g.tensors()[k];
        let diff = bp
            .iter()
            .zip(&fd)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let scale = bp
            .iter()
            .map(|a| a * a)
            .sum::<f64>()
            .sqrt()
            .max(fd.iter().map(|a| a * a).sum::<f64>().sqrt());
        assert!(
            scale > 1e-8,
            "{transfer} {name}: gradient is zero, the check would be vacuous"
        );
        let rel = diff / scale;
        eprintln!("{transfer} {:?} {name}: relative error {rel:.2e}", obj.loss);
        assert!(
            rel <= 1e-5,
            "{transfer} {:?} {name}: relative error {rel:e}",
            obj.loss
        );
    }
    let want = if m.cell == Cell::Gru { 7 } else { 6 };
    assert_eq!(checked, want, "{transfer}: tensors checked");
}

fn all_regs(loss: LossKind) -> Objective {
    Objective {
        loss,
        l1_in: 0.01,
        l1_rec: 0.02,
        l1_out: 0.03,
        l2_in: 0.04,
        l2_rec: 0.05,
        l2_out: 0.06,
        l2_firing_rate: 0.07,
    }
}

#[test]
fn gradcheck_relu_mse_every_constraint() {
    check(Transfer::Relu, all_regs(LossKind::MeanSquaredError), 1);
}

#[test]
fn gradcheck_tanh_mse_every_constraint() {
    check(Transfer::Tanh, all_regs(LossKind::MeanSquaredError), 2);
}

#[test]
fn gradcheck_sigmoid_bce_every_constraint() {
    check(Transfer::Sigmoid, all_regs(LossKind::BinaryCrossEntropy), 3);
}

#[test]
fn gradcheck_identity_plain_mse() {
    check(Transfer::Identity, Objective::default(), 4);
}

/// Both losses with every regulariser; for cross-entropy the readout is centred on 0.5 so
/// the outputs stay inside (ε, 1−ε), where the loss is smooth (at the clip the finite
/// difference straddles a kink and measures nothing).
fn check_gated(cell: Cell, seed: u64) {
    let m = gated_model(cell, seed);
    check_model(&m, cell.name(), all_regs(LossKind::MeanSquaredError), seed);
    let mut b = m.clone();
    b.w_out.iter_mut().for_each(|w| *w *= 0.3);
    b.b_out.iter_mut().for_each(|v| *v = 0.5 + 0.2 * *v);
    check_model(
        &b,
        cell.name(),
        all_regs(LossKind::BinaryCrossEntropy),
        seed + 1,
    );
}

#[test]
fn gradcheck_gru_every_regulariser() {
    check_gated(Cell::Gru, 5);
}

#[test]
fn gradcheck_lstm_every_regulariser() {
    check_gated(Cell::Lstm, 7);
}

#[test]
fn gradcheck_lstm_psychrnn_every_regulariser() {
    check_gated(Cell::LstmPsychrnn, 9);
}

#[test]
fn gradcheck_gated_plain_mse() {
    for (k, cell) in [Cell::Gru, Cell::Lstm, Cell::LstmPsychrnn]
        .into_iter()
        .enumerate()
    {
        let m = gated_model(cell, 11 + k as u64);
        check_model(&m, cell.name(), Objective::default(), 11 + k as u64);
    }
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Row `row` of a row-major matrix with `cols` columns, dotted with `v`.
fn dot(w: &[f32], row: usize, v: &[f64]) -> f64 {
    let cols = v.len();
    (0..cols).map(|c| w[row * cols + c] as f64 * v[c]).sum()
}

/// One trial of a gated model, unit by unit, straight from PyTorch's `nn.GRU` / `nn.LSTM`
/// documentation and PsychRNN 1.0.0's `LSTM.recurrent_timestep`: outputs, steps × n_out.
fn reference_run(m: &FloatModel, x: &[f32]) -> Vec<f64> {
    let n = m.n_rec;
    let mut h: Vec<f64> = m.init_state[..n].iter().map(|&v| v as f64).collect();
    let mut c: Vec<f64> = m.init_state[n..].iter().map(|&v| v as f64).collect();
    let mut out = Vec::new();
    for u in x.chunks_exact(m.n_in) {
        let u: Vec<f64> = u.iter().map(|&v| v as f64).collect();
        // Gate pre-activation: W_ih[row]·x + W_hh[row]·h + b[row].
        let pre = |row: usize, h: &[f64]| {
            dot(&m.w_in, row, &u) + dot(&m.w_rec, row, h) + m.b_rec[row] as f64
        };
        let mut next = vec![0.0; n];
        match m.cell {
            Cell::Gru => {
                for j in 0..n {
                    let r = sig(pre(j, &h));
                    let z = sig(pre(n + j, &h));
                    let hn = dot(&m.w_rec, 2 * n + j, &h) + m.b_hn[j] as f64;
                    let cand =
                        (dot(&m.w_in, 2 * n + j, &u) + m.b_rec[2 * n + j] as f64 + r * hn).tanh();
                    next[j] = (1.0 - z) * cand + z * h[j];
                }
            }
            _ => {
                for j in 0..n {
                    let i = sig(pre(j, &h));
                    let f = sig(pre(n + j, &h));
                    let g = pre(2 * n + j, &h).tanh();
                    let o = sig(pre(3 * n + j, &h));
                    c[j] = f * c[j] + i * g;
                    next[j] = o * if m.cell == Cell::Lstm {
                        c[j].tanh()
                    } else {
                        sig(c[j])
                    };
                }
            }
        }
        h = next;
        for k in 0..m.n_out {
            out.push(dot(&m.w_out, k, &h) + m.b_out[k] as f64);
        }
    }
    out
}

#[test]
fn gated_forward_matches_the_equations() {
    for (k, cell) in [Cell::Gru, Cell::Lstm, Cell::LstmPsychrnn]
        .into_iter()
        .enumerate()
    {
        let m = gated_model(cell, 30 + k as u64);
        let d = data(40 + k as u64);
        let net: Net<f64> = Net::from_model(&m);
        let mut eff = Eff::default();
        net.effective(&mut eff);
        let mut ws = Workspace::new(&net, BATCH, STEPS);
        ws.load(&d.x, &d.y, &d.mask, 0);
        ws.forward::<ChaCha8Rng>(&net, &eff, None);
        let mut spread = 0.0f64;
        for b in 0..BATCH {
            let want = reference_run(&m, &d.x[b * STEPS * N_IN..(b + 1) * STEPS * N_IN]);
            for t in 0..STEPS {
                for o in 0..N_OUT {
                    let mine = ws.out[(t * BATCH + b) * N_OUT + o];
                    let theirs = want[t * N_OUT + o];
                    spread = spread.max((theirs - want[o]).abs());
                    assert!(
                        (mine - theirs).abs() <= 1e-12,
                        "{cell} trial {b} step {t} output {o}: {mine} vs {theirs}"
                    );
                }
            }
        }
        assert!(
            spread > 1e-2,
            "{cell}: outputs barely move, the test would be weak"
        );
    }
}

#[test]
fn forward_matches_effective_run() {
    for (k, tf) in [
        Transfer::Relu,
        Transfer::Tanh,
        Transfer::Sigmoid,
        Transfer::Identity,
    ]
    .into_iter()
    .enumerate()
    {
        let m = model(tf, 10 + k as u64);
        let d = data(20 + k as u64);
        let net: Net<f64> = Net::from_model(&m);
        let mut eff = Eff::default();
        net.effective(&mut eff);
        let want = m.effective();
        for (a, b) in eff
            .w_rec
            .iter()
            .zip(&want.w_rec)
            .chain(eff.w_in.iter().zip(&want.w_in))
            .chain(eff.w_out.iter().zip(&want.w_out))
        {
            assert_eq!(a, b, "effective weights differ");
        }
        let mut ws = Workspace::new(&net, BATCH, STEPS);
        ws.load(&d.x, &d.y, &d.mask, 0);
        ws.forward::<ChaCha8Rng>(&net, &eff, None);
        let mut out = vec![0.0f32; BATCH * STEPS * N_OUT];
        ws.store_outputs(&mut out, 0);
        for b in 0..BATCH {
            let tr = want.run(&d.x[b * STEPS * N_IN..(b + 1) * STEPS * N_IN], None);
            for t in 0..STEPS {
                for o in 0..N_OUT {
                    let mine = ws.out[(t * BATCH + b) * N_OUT + o];
                    let theirs = tr.outputs[t * N_OUT + o];
                    assert!(
                        (mine - theirs).abs() <= 1e-9,
                        "{tf:?} trial {b} step {t}: {mine} vs {theirs}"
                    );
                }
                for i in 0..N_REC {
                    let mine = ws.s[((t + 1) * BATCH + b) * N_REC + i];
                    assert!((mine - tr.states[t * N_REC + i]).abs() <= 1e-9);
                }
            }
        }
    }
}
