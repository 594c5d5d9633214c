//! `neuroloop tasks …` flags → [`TasksCmd`].

use crate::commands::tasks::TasksCmd;

/// `neuroloop tasks`.
#[derive(clap::Subcommand, Debug)]
pub enum TasksCommand {
    /// Every built-in task: inputs, outputs, trial time, default trials, measured accuracy.
    List,
    /// Print a built-in task's file (docs/tasks.md explains the keys).
    Show {
        /// Task name.
        name: String,
    },
    /// Check a task file; print its summary or the first error (file, line, key).
    Check {
        /// Task file (.toml).
        file: String,
    },
    /// Draw trials from a task (a name or FILE.toml): variables, inputs, targets, mask.
    Sample {
        /// Task name or file.
        task: String,
        /// Trials to draw.
        #[arg(long, default_value_t = 4)]
        trials: usize,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Time step, ms.
        #[arg(long, default_value_t = 10.0)]
        dt: f32,
        /// JSON on stdout (x, y, mask per trial); without it, a summary per trial.
        #[arg(long)]
        json: bool,
    },
}

impl From<TasksCommand> for TasksCmd {
    fn from(c: TasksCommand) -> Self {
        match c {
            TasksCommand::List => TasksCmd::List,
            TasksCommand::Show { name } => TasksCmd::Show(name),
            TasksCommand::Check { file } => TasksCmd::Check(file),
            TasksCommand::Sample {
                task,
                trials,
                seed,
                dt,
                json,
            } => TasksCmd::Sample {
                task,
                trials,
                seed,
                dt,
                json,
            },
        }
    }
}
