//! The commands: one file per subcommand, each `typed config → library call → report`.
//!
//! A command takes the typed config its [`crate::cli`] counterpart builds (clap never
//! reaches this layer), checks it in `validate()` before any work starts, calls the
//! library, and reports: a human summary on stderr, the `--json` report on stdout. This is
//! the only layer that uses `anyhow` (context on errors for the person at the terminal);
//! the library modules return typed errors.

pub mod bench;
pub mod device_sim;
pub mod eval;
pub mod export;
pub mod import;
pub mod inspect;
pub mod plot;
pub mod quantize;
pub mod quickstart;
pub mod report;
pub mod rig;
pub mod run;
pub mod sweep;
pub mod tasks;
pub mod train;

/// One subcommand with its typed config.
#[derive(Clone, Debug)]
pub enum Command {
    /// `neuroloop quantize`.
    Quantize(quantize::QuantizeCmd),
    /// `neuroloop inspect`.
    Inspect(inspect::InspectCmd),
    /// `neuroloop run`.
    Run(run::RunCmd),
    /// `neuroloop import psychrnn`.
    Import(import::ImportCmd),
    /// `neuroloop export psychrnn`.
    Export(export::ExportCmd),
    /// `neuroloop train`.
    Train(train::TrainCmd),
    /// `neuroloop eval`.
    Eval(eval::EvalCmd),
    /// `neuroloop bench train`.
    Bench(bench::BenchCmd),
    /// `neuroloop quickstart`.
    Quickstart(quickstart::QuickstartCmd),
    /// `neuroloop rig …`.
    Rig(rig::RigCmd),
    /// `neuroloop device-sim`.
    DeviceSim(device_sim::DeviceSimCmd),
    /// `neuroloop sweep …`.
    Sweep(sweep::SweepCmd),
    /// `neuroloop tasks …`.
    Tasks(tasks::TasksCmd),
    /// `neuroloop plot …`.
    Plot(plot::PlotCmd),
}

/// Validate the command's config, then run it.
pub fn run(cmd: &Command) -> anyhow::Result<()> {
    match cmd {
        Command::Quantize(c) => c.validate().and_then(|()| quantize::run(c)),
        Command::Inspect(c) => c.validate().and_then(|()| inspect::run(c)),
        Command::Run(c) => c.validate().and_then(|()| run::run(c)),
        Command::Import(c) => c.validate().and_then(|()| import::run(c)),
        Command::Export(c) => c.validate().and_then(|()| export::run(c)),
        Command::Train(c) => c.validate().and_then(|()| train::run(c)),
        Command::Eval(c) => c.validate().and_then(|()| eval::run(c)),
        Command::Bench(c) => c.validate().and_then(|()| bench::run(c)),
        Command::Quickstart(c) => c.validate().and_then(|()| quickstart::run(c)),
        Command::Rig(c) => c.validate().and_then(|()| rig::run(c)),
        Command::DeviceSim(c) => c.validate().and_then(|()| device_sim::run(c)),
        Command::Sweep(c) => c.validate().and_then(|()| sweep::run(c)),
        Command::Tasks(c) => c.validate().and_then(|()| tasks::run(c)),
        Command::Plot(c) => c.validate().and_then(|()| plot::run(c)),
    }
}

/// The error as one message: the chain of causes joined with `: `, each cause written
/// once. A library error that already includes its source in its own text (`"{path}:
/// {source}"`) is not followed by that source again.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if text.contains(&c) {
            continue;
        }
        if !text.is_empty() {
            text += ": ";
        }
        text += &c;
    }
    text
}

/// The process exit code for a failed command: 130 (as for SIGINT) when training or a
/// sweep was stopped by Ctrl-C, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<crate::sweep::runner::Interrupted>()
        .is_some()
    {
        return 130;
    }
    match e.downcast_ref::<crate::train::TrainError>() {
        Some(crate::train::TrainError::Interrupted { .. }) => 130,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_text_writes_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let lib = crate::model::ModelError::Io {
            path: "m.json".into(),
            source: io,
        };
        let e = anyhow::Error::new(lib).context("loading");
        assert_eq!(super::error_text(&e), "loading: m.json: No such file");
    }
}
