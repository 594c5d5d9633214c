//! End to end on real tasks: train (short: 10 000 trials) → quantize with task
//! calibration → run the blob in the fixed-point core → task accuracy on 600 held-out
//! trials. The trained float model and both fixed-point models must reach the task's
//! bound (an untrained model scores about chance, 0.5, and fails), and int16 must lose
//! ≤ 0.5 accuracy points and int8 ≤ 2 points against the float model.
//!
//! Measured (this short run; default seeds): perceptual-discrimination 1.000 / 1.000 /
//! 1.000 (float / int16 / int8), delayed-discrimination 0.932 / 0.932 / 0.932,
//! match-to-category 1.000 / 1.000 / 1.000. The bounds sit just under those.

use neuroloop::compare::compare;
use neuroloop::quantize::{quantize, QuantConfig, WeightFormat};
use neuroloop::task::calibration_inputs;
use neuroloop::train::config::TrainConfig;
use neuroloop::train::Trainer;

fn check_task(name: &str, trials: u64, min_acc: f64) {
    let mut cfg = TrainConfig::for_task(name);
    cfg.train.trials = trials;
    let mut trainer = Trainer::new(cfg).unwrap();
    trainer.run(None, &mut |_| {}).unwrap();
    let model = trainer.model();
    let task = trainer.task();
    let calib = calibration_inputs(task, 64, 11);
    for (weights, max_drop) in [(WeightFormat::I16, 0.5), (WeightFormat::I8, 2.0)] {
        let q = quantize(
            &model,
            &QuantConfig {
                weights,
                ..Default::default()
            },
            &calib,
        )
        .unwrap();
        let c = compare(
            Some(&model),
            &q.bytes,
            task,
            600,
            12,
            neuroloop::noise::Noise::Off,
        )
        .unwrap();
        let float_acc = c.float_accuracy.unwrap();
        let drop = c.accuracy_drop_points.unwrap();
        eprintln!(
            "{name} {}: float {:.3}, fixed {:.3}, drop {drop:+.2} points, output RMSE {:.2e}, {} saturated states",
            weights.name(),
            float_acc,
            c.fixed_accuracy,
            c.output_rmse.unwrap(),
            c.state_saturations
        );
        assert!(
            float_acc >= min_acc,
            "{name}: the trained float model reached accuracy {float_acc:.3} (< {min_acc})"
        );
        assert!(
            c.fixed_accuracy >= min_acc,
            "{name} {}: the fixed-point model reached accuracy {:.3} (< {min_acc})",
            weights.name(),
            c.fixed_accuracy
        );
        assert!(
            drop <= max_drop,
            "{name} {}: fixed point loses {drop:.2} points (max {max_drop})",
            weights.name()
        );
    }
}

#[test]
fn perceptual_discrimination_survives_quantization() {
    check_task("perceptual-discrimination", 10_000, 0.97);
}

#[test]
fn delayed_discrimination_survives_quantization() {
    check_task("delayed-discrimination", 10_000, 0.9);
}

#[test]
fn match_to_category_survives_quantization() {
    check_task("match-to-category", 10_000, 0.97);
}
