//! Whether a model fits a task: the one check that a model's inputs and outputs match the
//! task's, used by `eval`, `compare` and `quantize`.

use super::AnyTask;

/// A model's sizes do not fit a task.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{model} has {m_in} inputs and {m_out} outputs, task {task} has {t_in} and {t_out}")]
pub struct FitError {
    /// Which model (e.g. `model "pd"`, `the blob`).
    pub model: String,
    /// Task name.
    pub task: String,
    /// Model inputs.
    pub m_in: usize,
    /// Model outputs.
    pub m_out: usize,
    /// Task inputs.
    pub t_in: usize,
    /// Task outputs.
    pub t_out: usize,
}

/// Check that a model with `n_in` inputs and `n_out` outputs (described by `model` in
/// the error) fits `task`.
pub fn check_fit(
    model: &str,
    n_in: usize,
    n_out: usize,
    task: &dyn AnyTask,
) -> Result<(), FitError> {
    let d = task.dims();
    if (d.n_in, d.n_out) != (n_in, n_out) {
        return Err(FitError {
            model: model.into(),
            task: task.name().into(),
            m_in: n_in,
            m_out: n_out,
            t_in: d.n_in,
            t_out: d.n_out,
        });
    }
    Ok(())
}
