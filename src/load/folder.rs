//! A report folder and the files written into it, whole (a temporary name, then a rename):
//! what `run`, `capacity` and `report` write with.

use crate::load::drive::SetupError;
use crate::plan::Plan;
use std::path::{Path, PathBuf};

/// A report folder being filled. Dropped with nothing of value in it (a setup error before
/// any figure was written), it is removed, so a failed start leaves no empty folder behind.
pub struct ReportFolder(PathBuf);

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
pub fn report_folder(
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

/// Writes a report file whole (a temporary name, then a rename).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SetupError> {
    crate::files::write_whole(path, bytes).map_err(|e| SetupError::Report {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The plan the shards ran, as the first shard's folder keeps it (`plan.toml`): its path and
/// text. `needed` says what for, in the error when it cannot be read.
pub fn shard_plan(first: &Path, needed: &str) -> Result<(PathBuf, String), SetupError> {
    let path = first.join(crate::report::folder::PLAN);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((path, text)),
        Err(e) => Err(SetupError::ReadReport {
            message: format!("the shard's plan is needed to {needed}: {e}"),
            path,
        }),
    }
}

/// Where a merge of shards writes, made: `out`, or `<plan>-<kind>-<run id>` beside the first
/// shard's folder.
pub fn merged_folder(
    out: Option<&Path>,
    first: &Path,
    plan: &str,
    kind: &str,
    run_id: &str,
) -> Result<PathBuf, SetupError> {
    let out = match out {
        Some(dir) => dir.to_path_buf(),
        None => first
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{plan}-{kind}-{}", safe(run_id))),
    };
    std::fs::create_dir_all(&out).map_err(|e| SetupError::Report {
        path: out.clone(),
        message: e.to_string(),
    })?;
    Ok(out)
}

/// A run id as a folder name.
pub fn safe(id: &str) -> String {
    id.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                true => c,
                false => '_',
            },
        )
        .collect()
}
