//! How a command ends: its exit code, a setup error as one line, a signal while reporting.

use crate::errors::{chain, Exit};
use crate::load::drive::SetupError;

/// A command's exit code; a setup error is printed as one line (exit 2).
pub(crate) fn exit_code(result: Result<Exit, SetupError>) -> Exit {
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", chain(&e));
        Exit::Setup
    })
}

/// `exit`, or 3 when a signal came while the reports were being written (they were finished
/// first: nothing is lost).
pub(crate) fn stopped_while_reporting(exit: Exit) -> Exit {
    match crate::load::watch::signals::signalled_while_reporting() {
        true => {
            eprintln!("agentload: the reports are written; stopped by a signal (exit 3)");
            Exit::Stopped
        }
        false => exit,
    }
}
