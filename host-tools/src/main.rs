//! The `neuroloop` command: parses arguments (see `cli`) and reports errors. Nothing else.

use std::process::ExitCode;

fn main() -> ExitCode {
    match neuroloop::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
