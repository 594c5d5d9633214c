//! Plots a lab reads: loss over training, psychometric curves, output traces against
//! targets, state trajectories in PCA space, and float against fixed point (or a
//! recording), drawn with `plotters` to PNG or SVG (chosen by the output's extension).
//!
//! | file | holds |
//! |---|---|
//! | `style.rs` | the one look: font (DejaVu Sans, embedded), colours, sizes, legends (marks, the legend box, the row above panels), [`save`] (PNG/SVG, atomic) |
//! | `rollout.rs` | model + task → trials run, their condition variables and choices; default variables |
//! | `logistic.rs` | the maximum-likelihood psychometric fit (bias, slope, optional lapses) |
//! | `loss.rs` | `plot loss`: the training log ([`crate::train::log`]) |
//! | `psychometric.rs` | `plot psychometric`: choices binned against a variable, with the fit |
//! | `trials.rs` | `plot trials`: outputs against targets, mask shaded, one panel per condition |
//! | `pca.rs` | `plot pca`: state trajectories in the first two principal components |
//! | `compare.rs` | `plot compare`: two runs of the same inputs overlaid, and their difference |
//!
//! Each kind computes plain data first (tested on its own) and then draws it through
//! [`Figure`], so the same code writes either format. The library never sees the command
//! line; `commands/plot.rs` picks the model, task and variables.

pub mod compare;
pub mod logistic;
pub mod loss;
pub mod pca;
pub mod psychometric;
pub mod rollout;
pub mod style;
pub mod trials;

pub use style::{save, Figure, Format};

use std::path::PathBuf;

/// Why a plot could not be made; each names what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The output's extension is neither `.png` nor `.svg`.
    #[error("{path}: the plot format comes from the extension, which must be .png or .svg")]
    Format {
        /// The output.
        path: PathBuf,
    },
    /// Drawing or writing failed.
    #[error("{path}: {reason}")]
    Write {
        /// The output.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A variable name the task does not have.
    #[error("the task has no trial variable `{name}`; it has: {available}")]
    UnknownVar {
        /// The name asked for.
        name: String,
        /// The task's variables, comma-separated.
        available: String,
    },
    /// Nothing to plot (e.g. an empty log, no variable that varies).
    #[error("{0}")]
    NoData(String),
}

/// An error while drawing (plotters' error type depends on the backend).
pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Write {
        path: PathBuf::new(),
        reason: e.to_string(),
    }
}
