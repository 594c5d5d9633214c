//! The closed sets of the command line as clap [`ValueEnum`]s, each converted to the
//! library's own type (the library never depends on clap): transfer functions, weight
//! formats, cells, task names and the recurrent-noise setting. `--help` lists the values; a wrong one is refused by clap with
//! the valid ones named.

use crate::model::Cell;
use crate::noise::Noise;
use crate::quantize::WeightFormat;
use clap::ValueEnum;
use neuroloop_core::Transfer;

/// A transfer function.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferArg {
    /// `max(x, 0)` (PsychRNN default).
    Relu,
    /// `tanh x`.
    Tanh,
    /// `1 / (1 + e^(−x))`.
    Sigmoid,
    /// `x`.
    Identity,
}

impl From<TransferArg> for Transfer {
    fn from(t: TransferArg) -> Transfer {
        match t {
            TransferArg::Relu => Transfer::Relu,
            TransferArg::Tanh => Transfer::Tanh,
            TransferArg::Sigmoid => Transfer::Sigmoid,
            TransferArg::Identity => Transfer::Identity,
        }
    }
}

/// A recurrent cell (`--cell`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellArg {
    /// PsychRNN's leaky rate unit (`Basic`; the default).
    Leaky,
    /// GRU, PyTorch `nn.GRU` equations and gate layout.
    Gru,
    /// LSTM, `h = o·tanh(c)` (PyTorch `nn.LSTM`).
    Lstm,
    /// PsychRNN 1.0.0's LSTM, `h = o·σ(c)`.
    LstmPsychrnn,
}

impl From<CellArg> for Cell {
    fn from(c: CellArg) -> Cell {
        match c {
            CellArg::Leaky => Cell::Leaky,
            CellArg::Gru => Cell::Gru,
            CellArg::Lstm => Cell::Lstm,
            CellArg::LstmPsychrnn => Cell::LstmPsychrnn,
        }
    }
}

/// A weight format.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightArg {
    /// 8-bit weights.
    I8,
    /// 16-bit weights.
    I16,
}

impl From<WeightArg> for WeightFormat {
    fn from(w: WeightArg) -> WeightFormat {
        match w {
            WeightArg::I8 => WeightFormat::I8,
            WeightArg::I16 => WeightFormat::I16,
        }
    }
}

/// Recurrent noise on or off (`--noise`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NoiseArg {
    /// Apply the model's recurrent noise (a blob: its own noise and seed).
    On,
    /// No recurrent noise (deterministic; the default for accuracy).
    #[default]
    Off,
}

impl From<NoiseArg> for Noise {
    fn from(n: NoiseArg) -> Noise {
        match n {
            NoiseArg::On => Noise::On,
            NoiseArg::Off => Noise::Off,
        }
    }
}

/// A task: a built-in name ([`crate::task::TASK_NAMES`]) or a task file `FILE.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskArg(String);

impl TaskArg {
    /// The task's name or file path, as [`crate::task::TaskSpec::from_arg`] takes it.
    pub fn name(self) -> String {
        self.0
    }
}

impl std::str::FromStr for TaskArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.ends_with(".toml") || crate::task::TASK_NAMES.contains(&s) {
            return Ok(TaskArg(s.to_string()));
        }
        Err(format!(
            "{s:?} is neither a built-in task{} nor a task file (FILE.toml); tasks: {}",
            crate::task::file::suggest(s, crate::task::TASK_NAMES.iter().copied()),
            crate::task::TASK_NAMES.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_arg_takes_names_and_files() {
        for n in crate::task::TASK_NAMES {
            assert_eq!(n.parse::<TaskArg>().unwrap().name(), n);
        }
        assert_eq!("my.toml".parse::<TaskArg>().unwrap().name(), "my.toml");
        let e = "go-nogo".parse::<TaskArg>().unwrap_err();
        assert!(e.contains("\"go-no-go\""), "{e}");
    }

    #[test]
    fn transfer_arg_names_are_the_library_names() {
        for t in TransferArg::value_variants() {
            let name = t.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(Transfer::from(*t).name(), name);
        }
    }

    #[test]
    fn noise_arg_names_are_the_library_names() {
        for n in NoiseArg::value_variants() {
            let name = n.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(Noise::from(*n).name(), name);
        }
    }

    #[test]
    fn weight_arg_names_are_the_library_names() {
        for w in WeightArg::value_variants() {
            let name = w.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(WeightFormat::from(*w).name(), name);
        }
    }
}
