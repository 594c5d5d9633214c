//! The host simulator: runs a blob through the very same `neuroloop-core` code the
//! firmware runs, converting float inputs in and dequantizing states and outputs out.

use crate::model::Trace;
use neuroloop_core::fixed::dequantize;
use neuroloop_core::{Model, Network};

/// Run one trial (`inputs`: steps × n_in, row-major) from the initial state. Entry `t` of
/// the trace is the state/output after the `t`-th update (PsychRNN alignment).
pub fn run_blob(model: &Model<'_>, inputs: &[f32]) -> Trace {
    let (n_in, n_rec) = (model.n_in(), model.n_rec());
    let steps = inputs.len() / n_in;
    let mut buf = vec![0i16; model.state_len()];
    let mut net = Network::new(*model, &mut buf).expect("buffer sized by state_len");
    let mut u = vec![0i16; n_in];
    let mut y = vec![0f32; model.n_out()];
    let fx = model.state_frac();
    let mut trace = Trace {
        steps,
        states: Vec::with_capacity(steps * n_rec),
        outputs: Vec::with_capacity(steps * model.n_out()),
    };
    for t in 0..steps {
        model.quantize_inputs(&inputs[t * n_in..(t + 1) * n_in], &mut u);
        let out = net.step(&u).expect("input sized by n_in");
        model.dequantize_outputs(out, &mut y);
        trace.outputs.extend(y.iter().map(|&v| v as f64));
        trace
            .states
            .extend(net.state().iter().map(|&v| dequantize(v as i32, fx) as f64));
    }
    trace
}

/// Run one trial on already-quantized inputs; returns the raw `i16` outputs per step
/// (what the firmware's telemetry carries).
pub fn run_blob_raw(model: &Model<'_>, inputs: &[i16]) -> Vec<i16> {
    let n_in = model.n_in();
    let mut buf = vec![0i16; model.state_len()];
    let mut net = Network::new(*model, &mut buf).expect("buffer sized by state_len");
    let mut out = Vec::with_capacity(inputs.len() / n_in * model.n_out());
    for u in inputs.chunks_exact(n_in) {
        out.extend_from_slice(net.step(u).expect("input sized by n_in"));
    }
    out
}
