//! The `neuroloop` command: parse the arguments ([`neuroloop::cli`]), run the command
//! ([`neuroloop::commands`]), report errors. Nothing else.

use std::process::ExitCode;

fn main() -> ExitCode {
    match neuroloop::commands::run(&neuroloop::cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", neuroloop::commands::error_text(&e));
            ExitCode::from(neuroloop::commands::exit_code(&e))
        }
    }
}
