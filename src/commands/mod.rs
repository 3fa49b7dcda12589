//! The commands: each wires the engine, the plan, the result model and the reports for one
//! verb of the command line, and turns the outcome into an exit code.

pub mod capacity;
mod capacity_ladder;
mod capacity_live;
mod capacity_merge;
mod capacity_output;
pub mod merge;
pub mod preflight;
pub mod probe;
pub mod report;
pub mod run;
pub mod shard;
pub mod token;

use crate::engine::load::SetupError;
use crate::errors::{chain, Exit};
use crate::plan::Plan;
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
    match crate::engine::watch::signals::signalled_while_reporting() {
        true => {
            eprintln!("agentload: the reports are written; stopped by a signal (exit 3)");
            Exit::Stopped
        }
        false => exit,
    }
}

/// A report folder being filled. Dropped with nothing of value in it (a setup error before
/// any figure was written), it is removed, so a failed start leaves no empty folder behind.
pub(crate) struct ReportFolder(PathBuf);

impl std::ops::Deref for ReportFolder {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ReportFolder {
    fn drop(&mut self) {
        // The embedded target's CA alone is no report.
        let worth_keeping = std::fs::read_dir(&self.0).map_or(true, |entries| {
            entries
                .flatten()
                .any(|e| e.file_name() != std::ffi::OsStr::new("target-ca.pem"))
        });
        if !worth_keeping {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Makes `reports/<plan>[-<kind>]-<timestamp>/`.
pub(crate) fn report_folder(
    plan: &Plan,
    kind: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<ReportFolder, SetupError> {
    let kind = if kind.is_empty() {
        String::new()
    } else {
        format!("-{kind}")
    };
    let dir = plan.report.dir.join(format!(
        "{}{kind}-{}",
        plan.name(),
        at.format("%Y%m%d-%H%M%S")
    ));
    std::fs::create_dir_all(&dir).map_err(|e| SetupError::Report {
        path: dir.clone(),
        message: e.to_string(),
    })?;
    Ok(ReportFolder(dir))
}

/// What `report merge` was asked.
pub struct MergeArgs<'a> {
    pub dirs: &'a [PathBuf],
    pub out: Option<&'a Path>,
    pub allow_partial: bool,
    pub junit: Option<&'a Path>,
}

/// A run id as a folder name.
pub(crate) fn safe(id: &str) -> String {
    id.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                true => c,
                false => '_',
            },
        )
        .collect()
}
