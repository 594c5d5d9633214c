//! [`Network`]: a validated [`Model`] plus caller-owned [`State`]; `reset` and `step`.
//!
//! No heap: the state lives in an `i16` buffer the caller provides (a `static`, the
//! stack, a firmware model slot), [`Model::state_len`] words long: state `x` and rates
//! `r` (`n_rec` each) and outputs `y` (`n_out`), then for the LSTM `n_rec` words of
//! scratch. RAM for a network is that buffer plus [`State`] itself (the buffer reference
//! and a few scalars), i.e. `4·n_rec + 2·n_out` bytes (LSTM `6·n_rec + 2·n_out`) + 48 on
//! a 64-bit host (32 on a 32-bit MCU).
//!
//! What "state" and "rates" hold per cell: leaky `x` and `f(x)`; GRU `h` and `h` (Q15,
//! both the hidden state); LSTM the cell state `c` (at `state_frac`) and the hidden state
//! `h` (Q15).
//!
//! ```
//! # let bytes = neuroloop_core::blob::tests_support::tiny_blob();
//! use neuroloop_core::{Model, Network};
//! let model = Model::from_bytes(&bytes).unwrap();
//! let mut buf = [0i16; 64];
//! let mut net = Network::new(model, &mut buf).unwrap();
//! let y = net.step(&[4096]).unwrap(); // input 1.0 in Q3.12
//! assert_eq!(y.len(), 1);
//! assert!(net.step(&[1, 2]).is_err()); // wrong input length: an error, not a panic
//! ```

use crate::cell::{gru, leaky, lstm};
use crate::rng::Rng;
use crate::{CellKind, Model};

/// A step could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StepError {
    /// The state buffer is shorter than [`Model::state_len`].
    StateBuffer {
        /// Words needed.
        need: usize,
        /// Words given.
        have: usize,
    },
    /// The input vector does not have `n_in` entries.
    InputLength {
        /// `n_in`.
        expected: usize,
        /// Entries given.
        found: usize,
    },
    /// [`State::step`] was given a model of other dimensions than the one the state was
    /// made or last reset with (reset the state with the new model first).
    ModelMismatch {
        /// `(n_in, n_rec, n_out)` the state is set up for.
        state: (usize, usize, usize),
        /// `(n_in, n_rec, n_out)` of the model given.
        model: (usize, usize, usize),
    },
    /// [`State::step`] was given a model of another cell kind than the one the state was
    /// made or last reset with (reset the state with the new model first).
    CellMismatch {
        /// The cell the state is set up for.
        state: CellKind,
        /// The cell of the model given.
        model: CellKind,
    },
}

impl core::fmt::Display for StepError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            StepError::StateBuffer { need, have } => {
                write!(f, "state buffer holds {have} words, the model needs {need}")
            }
            StepError::InputLength { expected, found } => {
                write!(f, "input has {found} values, the model takes {expected}")
            }
            StepError::ModelMismatch { state, model } => write!(
                f,
                "the state is set up for a model of n_in {}, n_rec {}, n_out {}, but this model has n_in {}, n_rec {}, n_out {}: reset the state with it first",
                state.0, state.1, state.2, model.0, model.1, model.2
            ),
            StepError::CellMismatch { state, model } => write!(
                f,
                "the state is set up for a {} cell, but this model is a {} cell: reset the state with it first",
                state.name(),
                model.name()
            ),
        }
    }
}

impl core::error::Error for StepError {}

/// Caller-owned run state of one network: `x`, `r`, `y`, the noise PRNG, a step counter.
#[derive(Debug)]
pub struct State<'s> {
    buf: &'s mut [i16],
    n_in: usize,
    n_rec: usize,
    n_out: usize,
    cell: CellKind,
    rng: Rng,
    steps: u32,
}

fn dims(model: &Model<'_>) -> (usize, usize, usize) {
    (model.n_in(), model.n_rec(), model.n_out())
}

impl<'s> State<'s> {
    /// Take `buf` (at least `model.state_len()` words) and reset it to the model's
    /// initial state.
    pub fn new(model: &Model<'_>, buf: &'s mut [i16]) -> Result<Self, StepError> {
        let mut s = State {
            buf,
            n_in: 0,
            n_rec: 0,
            n_out: 0,
            cell: CellKind::Leaky,
            rng: Rng::new(0),
            steps: 0,
        };
        s.reset(model)?;
        Ok(s)
    }

    /// Set the state up for `model` (which may differ from the previous one): `x` back to
    /// `init_state`, rates and outputs recomputed, PRNG reseeded, counter 0.
    ///
    /// A model needing more than the buffer's words is refused with
    /// [`StepError::StateBuffer`] and the state is left as it was.
    pub fn reset(&mut self, model: &Model<'_>) -> Result<(), StepError> {
        let need = model.state_len();
        if self.buf.len() < need {
            return Err(StepError::StateBuffer {
                need,
                have: self.buf.len(),
            });
        }
        (self.n_in, self.n_rec, self.n_out) = dims(model);
        self.cell = model.cell();
        let (x, r, y, _) = self.split();
        match model.cell() {
            CellKind::Leaky | CellKind::Gru => {
                for (i, xi) in x.iter_mut().enumerate() {
                    *xi = model.init_state(i);
                }
                if model.cell() == CellKind::Gru {
                    gru::rates(x, r);
                } else {
                    leaky::rates(model, x, r);
                }
            }
            CellKind::Lstm => {
                let n = r.len();
                for (i, (hi, ci)) in r.iter_mut().zip(x.iter_mut()).enumerate() {
                    *hi = model.init_state(i);
                    *ci = model.init_state(n + i);
                }
            }
        }
        leaky::outputs(model, r, y);
        self.rng = Rng::new(model.seed());
        self.steps = 0;
        Ok(())
    }

    /// `x`, `r`, `y` and the LSTM's scratch (empty for the other cells). `reset` checked
    /// the buffer holds them all.
    fn split(&mut self) -> (&mut [i16], &mut [i16], &mut [i16], &mut [i16]) {
        let (x, rest) = self.buf.split_at_mut(self.n_rec);
        let (r, rest) = rest.split_at_mut(self.n_rec);
        let (y, rest) = rest.split_at_mut(self.n_out);
        let scratch = if self.cell == CellKind::Lstm {
            &mut rest[..self.n_rec]
        } else {
            &mut rest[..0]
        };
        (x, r, y, scratch)
    }

    /// One time step of `model` on `input`; returns the outputs.
    ///
    /// `model` must be the one this state was made or last reset with: a model of other
    /// dimensions is [`StepError::ModelMismatch`] (the state is left untouched; call
    /// [`State::reset`] with the new model first), an input that is not `n_in` long
    /// [`StepError::InputLength`].
    pub fn step(&mut self, model: &Model<'_>, input: &[i16]) -> Result<&[i16], StepError> {
        let state = (self.n_in, self.n_rec, self.n_out);
        if dims(model) != state {
            return Err(StepError::ModelMismatch {
                state,
                model: dims(model),
            });
        }
        if model.cell() != self.cell {
            return Err(StepError::CellMismatch {
                state: self.cell,
                model: model.cell(),
            });
        }
        if input.len() != model.n_in() {
            return Err(StepError::InputLength {
                expected: model.n_in(),
                found: input.len(),
            });
        }
        let mut rng = self.rng;
        let (x, r, y, scratch) = self.split();
        match model.cell() {
            CellKind::Leaky => leaky::step(model, input, x, r, y, &mut rng),
            CellKind::Gru => gru::step(model, input, x, r, y),
            CellKind::Lstm => lstm::step(model, input, x, r, y, scratch),
        }
        self.rng = rng;
        self.steps = self.steps.wrapping_add(1);
        Ok(self.outputs())
    }

    /// State `x` (`n_rec`, at `state_frac`; GRU `h`, LSTM `c`).
    pub fn state(&self) -> &[i16] {
        &self.buf[..self.n_rec]
    }
    /// Rates `r` (`n_rec`, at `rate_frac`: leaky `f(x)`, gated cells the hidden `h` in Q15).
    pub fn rates(&self) -> &[i16] {
        &self.buf[self.n_rec..2 * self.n_rec]
    }
    /// Outputs `y` (`n_out`, at `output_frac`).
    pub fn outputs(&self) -> &[i16] {
        &self.buf[2 * self.n_rec..2 * self.n_rec + self.n_out]
    }
    /// Steps since the last reset.
    pub fn steps(&self) -> u32 {
        self.steps
    }
}

/// A model and its state: the usual way to run a network.
#[derive(Debug)]
pub struct Network<'m, 's> {
    model: Model<'m>,
    state: State<'s>,
}

impl<'m, 's> Network<'m, 's> {
    /// A network over `model` with state in `buf` (≥ `model.state_len()` words), reset.
    pub fn new(model: Model<'m>, buf: &'s mut [i16]) -> Result<Self, StepError> {
        let state = State::new(&model, buf)?;
        Ok(Network { model, state })
    }
    /// Back to the initial state (and the noise seed).
    pub fn reset(&mut self) {
        // Cannot fail: `new` checked the buffer against this very model.
        let _ = self.state.reset(&self.model);
    }
    /// One time step; `input` has `n_in` values at `input_frac`. Returns the outputs.
    pub fn step(&mut self, input: &[i16]) -> Result<&[i16], StepError> {
        self.state.step(&self.model, input)
    }
    /// The model.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }
    /// The state.
    pub fn state(&self) -> &[i16] {
        self.state.state()
    }
    /// The rates.
    pub fn rates(&self) -> &[i16] {
        self.state.rates()
    }
    /// The outputs of the last step.
    pub fn outputs(&self) -> &[i16] {
        self.state.outputs()
    }
    /// Steps since the last reset.
    pub fn steps(&self) -> u32 {
        self.state.steps()
    }
}
