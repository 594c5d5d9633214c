//! Every kernel path this CPU supports ([`Kernel::supported`]), forced in turn on the
//! trainer's workspace: forward with recurrent noise, loss and BPTT on the same batch of
//! task trials, for an even and an odd network size and two transfer functions.
//!
//! Each path is compared with the portable path and with the f64 workspace (the reference
//! `train_gradcheck.rs` validates against finite differences). The SIMD paths do the same
//! arithmetic in the same order, so where the CPU has more than one they must agree bit
//! for bit.

use neuroloop::linalg::{Kernel, Real};
use neuroloop::model::init::{init_model, Arch, InitConfig};
use neuroloop::model::{Constraints, Transfer};
use neuroloop::task::{build, stream, trial_rng, Batch, TaskRng, TaskSpec};
use neuroloop::train::{Eff, LossKind, Net, Objective, Workspace};
use rand::SeedableRng;

/// Largest `max|x − y| / max|y|` per tensor between an f32 path and the f64 workspace
/// (measured 3.7e-6 on AVX2 + FMA and portable; the test prints it).
const TOL_F64: f64 = 1e-5;
/// The same between a SIMD path and the portable path (measured 2.5e-6 on AVX2 + FMA).
const TOL_PORTABLE: f64 = 7e-6;

/// Loss, outputs and the six gradient tensors of one forward + backward pass.
struct Pass {
    loss: f64,
    tensors: Vec<(String, Vec<f64>)>,
}

fn pass<T: Real>(net: &Net<T>, batch: &Batch, kernel: Kernel) -> Pass {
    let n = batch.n_trials;
    let mut eff = Eff::default();
    net.effective(&mut eff);
    let mut ws = Workspace::new(net, n, batch.n_steps);
    ws.set_kernel(kernel);
    assert_eq!(ws.kernel(), kernel);
    ws.load(&batch.x, &batch.y, &batch.mask, 0);
    let mut rngs: Vec<TaskRng> = (0..n as u64)
        .map(|j| trial_rng(7, stream::TRAIN, 1, j))
        .collect();
    ws.forward(net, &eff, Some(&mut rngs[..]));
    let obj = Objective {
        loss: LossKind::MeanSquaredError,
        l2_firing_rate: 0.05,
        ..Objective::default()
    };
    let loss = ws.backward(net, &eff, &obj, n);
    let mut out = vec![0f32; batch.y.len()];
    ws.store_outputs(&mut out, 0);
    let mut tensors = vec![(
        "outputs".to_string(),
        out.iter().map(|&v| v as f64).collect(),
    )];
    for (name, t) in neuroloop::train::TENSOR_NAMES
        .iter()
        .zip(ws.grads.tensors())
    {
        tensors.push((
            format!("grad {name}"),
            t.iter().map(|v| v.to_f64()).collect(),
        ));
    }
    Pass { loss, tensors }
}

/// Largest `max|a − b| / max|b|` over the tensors, and the loss's relative difference.
fn diff(a: &Pass, b: &Pass) -> f64 {
    let mut worst = (a.loss - b.loss).abs() / b.loss.abs().max(f64::MIN_POSITIVE);
    for ((name, x), (_, y)) in a.tensors.iter().zip(&b.tensors) {
        assert_eq!(x.len(), y.len(), "{name}");
        let scale = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let d = x
            .iter()
            .zip(y)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
        if scale > 0.0 {
            worst = worst.max(d / scale);
        } else {
            assert_eq!(d, 0.0, "{name}");
        }
    }
    worst
}

fn bits(p: &Pass) -> Vec<u64> {
    let mut v = vec![p.loss.to_bits()];
    for (_, t) in &p.tensors {
        v.extend(t.iter().map(|x| x.to_bits()));
    }
    v
}

#[test]
fn every_supported_kernel_matches_portable_and_f64_on_one_batch() {
    let kernels = Kernel::supported();
    eprintln!("kernels on this CPU: {kernels:?}");
    let task = build(&TaskSpec::named("perceptual-discrimination")).unwrap();
    let d = task.dims();
    let (mut worst_f64, mut worst_portable) = (0.0f64, 0.0f64);
    for (n_rec, transfer, trials) in [(50, Transfer::Relu, 25), (37, Transfer::Tanh, 13)] {
        let arch = Arch {
            name: "kernels".into(),
            n_in: d.n_in,
            n_rec,
            n_out: d.n_out,
            dt: d.dt,
            tau: d.tau,
            rec_noise: 0.1,
            transfer,
            cell: neuroloop::model::Cell::Leaky,
            constraints: Constraints {
                dale_ratio: Some(0.8),
                ..Constraints::default()
            },
        };
        let mut rng = TaskRng::seed_from_u64(3);
        let model = init_model(&arch, &InitConfig::default(), &mut rng);
        let batch = Batch::sample(&*task, trials, &mut rng);
        let reference = pass(&Net::<f64>::from_model(&model), &batch, Kernel::Portable);
        let net = Net::<f32>::from_model(&model);
        let portable = pass(&net, &batch, Kernel::Portable);
        let mut simd_bits: Option<(Kernel, Vec<u64>)> = None;
        for &kernel in &kernels {
            let p = pass(&net, &batch, kernel);
            let what = format!("{kernel:?}, n_rec {n_rec}, {transfer:?}");
            let e = diff(&p, &reference);
            assert!(e <= TOL_F64, "{what}: {e:.2e} from the f64 workspace");
            worst_f64 = worst_f64.max(e);
            if kernel != Kernel::Portable {
                let e = diff(&p, &portable);
                assert!(e <= TOL_PORTABLE, "{what}: {e:.2e} from the portable path");
                worst_portable = worst_portable.max(e);
                match &simd_bits {
                    None => simd_bits = Some((kernel, bits(&p))),
                    Some((k0, b0)) => assert!(*b0 == bits(&p), "{what}: differs from {k0:?}"),
                }
            }
        }
    }
    eprintln!(
        "worst relative difference: {worst_f64:.2e} from f64, {worst_portable:.2e} from portable"
    );
}
