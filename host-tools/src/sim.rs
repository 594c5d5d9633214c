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

/// Values at the `i16` rails of a fixed-point run: inputs clipped when quantized, states and
/// outputs saturated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Saturation {
    /// Input values beyond the blob's input range (clipped to the rails).
    pub inputs: usize,
    /// State values at the rails (units × steps).
    pub states: usize,
    /// Output values at the rails.
    pub outputs: usize,
}

impl Saturation {
    /// Count the saturated values of one trial: its float `inputs` and the blob's `trace`.
    pub fn of_trial(model: &Model<'_>, inputs: &[f32], trace: &Trace) -> Saturation {
        let rail = |v: f64, frac: u8| {
            let q = v * f64::from(1u32 << frac);
            q >= 32767.0 || q <= -32768.0
        };
        let count =
            |vs: &mut dyn Iterator<Item = f64>, frac: u8| vs.filter(|&v| rail(v, frac)).count();
        Saturation {
            inputs: count(&mut inputs.iter().map(|&v| v as f64), model.input_frac()),
            states: count(&mut trace.states.iter().copied(), model.state_frac()),
            outputs: count(&mut trace.outputs.iter().copied(), model.output_frac()),
        }
    }

    /// Sum of two counts.
    pub fn add(&mut self, o: Saturation) {
        self.inputs += o.inputs;
        self.states += o.states;
        self.outputs += o.outputs;
    }

    /// Whether anything saturated.
    pub fn any(&self) -> bool {
        self.inputs + self.states + self.outputs > 0
    }
}
