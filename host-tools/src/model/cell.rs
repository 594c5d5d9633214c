//! [`Cell`]: which recurrent cell a float model runs — PsychRNN's leaky rate unit, a GRU
//! or an LSTM (standard, or PsychRNN 1.0.0's variant) — and the shapes of its tensors.
//!
//! A gated cell keeps the float model's tensor names, with the gates stacked along the
//! rows in PyTorch's order (`weight_ih_l0` / `weight_hh_l0` layout):
//!
//! | cell | gates (row blocks of `w_in`, `w_rec`, `b_rec`) | `init_state` | `b_hn` |
//! |---|---|---|---|
//! | `leaky` | — (`w_rec` n×n) | `s₀`, n | — |
//! | `gru` | `r, z, n` (3n rows) | `h₀`, n | n |
//! | `lstm`, `lstm-psychrnn` | `i, f, g, o` (4n rows) | `h₀` then `c₀`, 2n | — |
//!
//! `b_rec` is the input-side bias (PyTorch `bias_ih`) with, for the GRU's `r, z` gates and
//! every LSTM gate, the recurrent bias (`bias_hh`) folded in (they are only ever summed);
//! the GRU's `n` gate keeps its recurrent bias apart in `b_hn`, because it sits inside
//! `r ⊙ (W_hn h + b_hn)`. The equations and the BPTT of each cell are in
//! `crate::train::gru` and `crate::train::lstm`.
//!
//! Gated cells have no leak and no recurrent noise: `dt` and `tau` only set the task's
//! time step (as in PsychRNN's LSTM, whose `recurrent_timestep` ignores `alpha` and adds
//! no noise), `rec_noise` must be 0, and the biological constraints (Dale's law,
//! connectivity masks, `autapses = false`) are refused, as PsychRNN's LSTM does not
//! enable them either. `transfer` is not used: the cells have their own σ and tanh.

use serde::{Deserialize, Serialize};

/// The recurrent cell of a float model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cell {
    /// PsychRNN's leaky rate unit (`Basic`): the default, and the only cell that quantizes.
    #[default]
    Leaky,
    /// Gated recurrent unit, PyTorch `nn.GRU` equations and gate layout.
    Gru,
    /// LSTM, `h = o ⊙ tanh(c)` (PyTorch `nn.LSTM`).
    Lstm,
    /// PsychRNN 1.0.0's LSTM: `h = o ⊙ σ(c)`.
    LstmPsychrnn,
}

/// Every cell, in the order the docs list them.
pub const ALL_CELLS: [Cell; 4] = [Cell::Leaky, Cell::Gru, Cell::Lstm, Cell::LstmPsychrnn];

impl Cell {
    /// The name used by `--cell`, `model.cell` and the model file.
    pub const fn name(self) -> &'static str {
        match self {
            Cell::Leaky => "leaky",
            Cell::Gru => "gru",
            Cell::Lstm => "lstm",
            Cell::LstmPsychrnn => "lstm-psychrnn",
        }
    }

    /// The cell with this name.
    pub fn from_name(name: &str) -> Option<Cell> {
        ALL_CELLS.into_iter().find(|c| c.name() == name)
    }

    /// Whether this is the leaky cell (serde's skip test: leaky files stay as they were).
    pub fn is_leaky(&self) -> bool {
        *self == Cell::Leaky
    }

    /// Row blocks of `w_in`, `w_rec` and `b_rec` (1 for the leaky cell).
    pub const fn gates(self) -> usize {
        match self {
            Cell::Leaky => 1,
            Cell::Gru => 3,
            Cell::Lstm | Cell::LstmPsychrnn => 4,
        }
    }

    /// State vectors per unit in `init_state` (2 for an LSTM: hidden and cell).
    pub const fn states(self) -> usize {
        match self {
            Cell::Lstm | Cell::LstmPsychrnn => 2,
            _ => 1,
        }
    }

    /// Length of `b_hn` for `n_rec` units (the GRU's only).
    pub const fn b_hn_len(self, n_rec: usize) -> usize {
        match self {
            Cell::Gru => n_rec,
            _ => 0,
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_uses_them() {
        for c in ALL_CELLS {
            assert_eq!(Cell::from_name(c.name()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.name())
            );
        }
        assert_eq!(Cell::from_name("rnn"), None);
        assert_eq!(Cell::default(), Cell::Leaky);
    }
}
