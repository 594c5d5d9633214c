//! The human report's shared pieces: one number format for accuracy across commands
//! ([`accuracy`]: a fraction with 4 decimals, `0.9990`), the float-vs-fixed comparison
//! table, and saturation lines. Every command's human output uses these, so `eval`,
//! `quantize`, `run`, `train` and `quickstart` print the same numbers the same way.

use crate::compare::Comparison;
use crate::sim::Saturation;

/// Accuracy as every command prints it: a fraction with 4 decimals (`0.9990`).
pub fn accuracy(a: f64) -> String {
    format!("{a:.4}")
}

/// Human-readable lines for a comparison (noise setting stated; quantization error noise-off).
pub fn comparison(c: &Comparison, label: &str) -> String {
    let mut s = format!(
        "{label}: {} trials of {} (seed {}), recurrent noise {}\n",
        c.trials,
        c.task,
        c.seed,
        c.noise.name()
    );
    let line = |f: Option<f64>, x: f64, drop: bool| match f {
        Some(f) if drop => format!(
            "float {}   fixed {}   drop {:+.2} points",
            accuracy(f),
            accuracy(x),
            100.0 * (f - x)
        ),
        Some(f) => format!("float {}   fixed {}", accuracy(f), accuracy(x)),
        None => format!("fixed {}", accuracy(x)),
    };
    s += &format!(
        "  accuracy      {} (noise {})\n",
        line(c.float_accuracy, c.fixed_accuracy, true),
        c.noise.name()
    );
    if let Some(o) = &c.other_noise {
        s += &format!(
            "  with noise {:<3} {}\n",
            o.noise.name(),
            line(o.float_accuracy, o.fixed_accuracy, true)
        );
    }
    if let (Some(r), Some(range)) = (c.output_rmse, c.output_range) {
        s += &format!(
            "  output RMSE   {r:.3e} ({:.3} % of the float output range {range:.3}; noise off)\n",
            100.0 * r / range.max(f64::MIN_POSITIVE)
        );
    }
    if let Some(m) = c.max_state_error {
        s += &format!("  state error   max {m:.3e} (noise off)\n");
    }
    s += &format!(
        "  saturation    {} of {} state values, {} outputs, {} inputs clipped\n",
        c.state_saturations, c.state_values, c.output_saturations, c.input_saturations
    );
    s
}

/// One line of saturation counts.
pub fn saturation(s: &Saturation) -> String {
    format!(
        "saturation: {} inputs clipped, {} state values and {} outputs at the i16 rails",
        s.inputs, s.states, s.outputs
    )
}
