//! The closed sets of the command line as clap [`ValueEnum`]s, each converted to the
//! library's own type (the library never depends on clap): transfer functions, weight
//! formats, task names and the recurrent-noise setting. `--help` lists the values; a wrong one is refused by clap with
//! the valid ones named.

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

/// A built-in task (the names of [`crate::task::TASK_NAMES`]).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskArg {
    /// PsychRNN `PerceptualDiscrimination`.
    PerceptualDiscrimination,
    /// PsychRNN `DelayedDiscrimination` (Romo).
    DelayedDiscrimination,
    /// PsychRNN `MatchToCategory`.
    MatchToCategory,
}

impl TaskArg {
    /// The task's name, as [`crate::task::build`] takes it.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_arg_names_are_the_library_task_names() {
        let names: Vec<String> = TaskArg::value_variants().iter().map(|t| t.name()).collect();
        assert_eq!(names, crate::task::TASK_NAMES);
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
