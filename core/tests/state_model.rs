//! `State` against a model it was not set up for: an error naming both shapes, the state
//! untouched; `reset` adopts a model that fits its buffer and refuses one that does not.

mod common;
use common::Spec;
use neuroloop_core::{CellKind, Model, State, StepError};

#[test]
fn step_with_a_model_of_other_dimensions_is_an_error() {
    let a = Spec::random(2, 8, 2, 1, 1).encode();
    let b = Spec::random(2, 6, 2, 1, 2).encode(); // smaller n_rec: fits a's buffer
    let c = Spec::random(3, 8, 2, 2, 3).encode(); // other n_in only
    let (a, b, c) = (
        Model::from_bytes(&a).unwrap(),
        Model::from_bytes(&b).unwrap(),
        Model::from_bytes(&c).unwrap(),
    );
    let mut buf = vec![0i16; a.state_len()];
    let mut s = State::new(&a, &mut buf).unwrap();
    s.step(&a, &[1000, -1000]).unwrap();
    let before = (s.state().to_vec(), s.outputs().to_vec(), s.steps());
    assert_eq!(
        s.step(&b, &[1, 2]),
        Err(StepError::ModelMismatch {
            state: (2, 8, 2),
            model: (2, 6, 2)
        })
    );
    assert_eq!(
        s.step(&c, &[1, 2, 3]),
        Err(StepError::ModelMismatch {
            state: (2, 8, 2),
            model: (3, 8, 2)
        })
    );
    assert_eq!(
        (s.state().to_vec(), s.outputs().to_vec(), s.steps()),
        before,
        "a refused step leaves the state as it was"
    );
    let msg = StepError::ModelMismatch {
        state: (2, 8, 2),
        model: (3, 8, 2),
    }
    .to_string();
    assert!(msg.contains("n_in 2") && msg.contains("n_in 3"), "{msg}");

    // Reset adopts the other model; then it steps, and the first one is refused.
    s.reset(&b).unwrap();
    assert_eq!(s.state().len(), 6);
    s.step(&b, &[1, 2]).unwrap();
    assert!(matches!(
        s.step(&a, &[1, 2]),
        Err(StepError::ModelMismatch { .. })
    ));
}

#[test]
fn reset_refuses_a_model_larger_than_the_buffer() {
    let small = Spec::random(1, 4, 1, 1, 4).encode();
    let big = Spec::random(1, 40, 1, 1, 5).encode();
    let (small, big) = (
        Model::from_bytes(&small).unwrap(),
        Model::from_bytes(&big).unwrap(),
    );
    let mut buf = vec![0i16; small.state_len()];
    let mut s = State::new(&small, &mut buf).unwrap();
    s.step(&small, &[500]).unwrap();
    let before = s.state().to_vec();
    assert_eq!(
        s.reset(&big),
        Err(StepError::StateBuffer {
            need: big.state_len(),
            have: small.state_len()
        })
    );
    assert_eq!(s.state(), &before[..], "refused reset leaves the state");
    s.step(&small, &[500]).unwrap();
    assert!(matches!(
        s.step(&big, &[500]),
        Err(StepError::ModelMismatch { .. })
    ));
}

#[test]
fn step_with_a_model_of_another_cell_is_an_error() {
    // Same sizes, other cells: a GRU state must not be stepped by a leaky or LSTM model.
    let leaky = Spec::random(2, 5, 1, 1, 1).encode();
    let gru = Spec::random_cell(1, 2, 5, 1, 1, 2).encode();
    let lstm = Spec::random_cell(2, 2, 5, 1, 1, 3).encode();
    let (leaky, gru, lstm) = (
        Model::from_bytes(&leaky).unwrap(),
        Model::from_bytes(&gru).unwrap(),
        Model::from_bytes(&lstm).unwrap(),
    );
    let mut buf = vec![0i16; lstm.state_len()];
    let mut s = State::new(&gru, &mut buf).unwrap();
    s.step(&gru, &[1000, -1000]).unwrap();
    let before = s.state().to_vec();
    for other in [&leaky, &lstm] {
        assert_eq!(
            s.step(other, &[1, 2]),
            Err(StepError::CellMismatch {
                state: CellKind::Gru,
                model: other.cell()
            })
        );
    }
    assert_eq!(s.state(), &before[..], "a refused step leaves the state");
    let msg = StepError::CellMismatch {
        state: CellKind::Gru,
        model: CellKind::Lstm,
    }
    .to_string();
    assert!(msg.contains("gru") && msg.contains("lstm"), "{msg}");
    // After a reset with the LSTM (which needs n_rec more words) it steps.
    s.reset(&lstm).unwrap();
    s.step(&lstm, &[1, 2]).unwrap();
    // A buffer one word short of the LSTM's scratch is refused.
    let mut short = vec![0i16; lstm.state_len() - 1];
    assert_eq!(
        State::new(&lstm, &mut short).err(),
        Some(StepError::StateBuffer {
            need: 3 * 5 + 1,
            have: 3 * 5
        })
    );
}
