//! The commands: each wires its room (the load, capacity, onboarding), the plan and the report
//! for one verb of the command line, and turns the outcome into an exit code.

pub mod capacity;
pub mod merge;
pub mod preflight;
pub mod probe;
pub mod report;
pub mod run;
pub mod shard;
pub mod token;

use crate::errors::{chain, Exit};
use crate::load::drive::SetupError;
use std::path::{Path, PathBuf};

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

/// What `report merge` was asked.
pub struct MergeArgs<'a> {
    pub dirs: &'a [PathBuf],
    pub out: Option<&'a Path>,
    pub allow_partial: bool,
    pub junit: Option<&'a Path>,
}

pub(crate) use crate::load::folder::{report_folder, write_file};
