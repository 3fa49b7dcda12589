//! A report folder's files, one writer per format, which every command that writes a report
//! goes through: the JSON (`summary.json`, and beside it `capacity.json` or `study.json`), the
//! plan the figures came from (`plan.toml`), the page (`index.html`) and the JUnit file. Each
//! is written whole (a temporary name, then a rename: `files::write_whole`).

use super::error::ReportError;
use super::{junit, page, scaling};
use crate::model::capacity::CapacityReport;
use crate::model::compare::Comparison;
use crate::model::scaling::ScalingStudy;
use crate::model::summary::{RuleVerdict, Summary};
use std::path::{Path, PathBuf};

/// Every report's figures.
pub const SUMMARY: &str = "summary.json";
/// A load test's last checkpoint, removed once `summary.json` is in place.
pub const PARTIAL: &str = "summary.partial.json";
pub const CAPACITY: &str = "capacity.json";
pub const STUDY: &str = "study.json";
pub const PLAN: &str = "plan.toml";
pub const PAGE: &str = "index.html";

/// A load test's folder (a run, a capacity search, a merge of shards): `summary.json`, the
/// plan beside it (`report merge` judges the SLA with it), `index.html`, and JUnit when asked.
pub fn write_report(
    dir: &Path,
    summary: &Summary,
    plan_text: Option<&[u8]>,
    junit_file: Option<&Path>,
) -> Result<(), ReportError> {
    write_json(&dir.join(SUMMARY), summary)?;
    if let Some(text) = plan_text {
        write_plan(dir, text)?;
    }
    write_page(dir, summary)?;
    if let Some(path) = junit_file {
        write_junit(
            path,
            &summary.plan,
            &summary.sla,
            summary.comparison.as_ref(),
        )?;
    }
    Ok(())
}

/// A capacity search's folder: `capacity.json`, then the load test's files.
pub fn write_capacity(
    dir: &Path,
    summary: &Summary,
    report: &CapacityReport,
    plan_text: Option<&[u8]>,
    junit_file: Option<&Path>,
) -> Result<(), ReportError> {
    write_json(&dir.join(CAPACITY), report)?;
    write_report(dir, summary, plan_text, junit_file)
}

/// A scaling study's folder: `study.json` and its page.
pub fn write_study(dir: &Path, study: &ScalingStudy) -> Result<(), ReportError> {
    write_json(&dir.join(STUDY), study)?;
    write_whole(&dir.join(PAGE), scaling::render(study)?.as_bytes())
}

/// `index.html` rendered from `summary`: its path.
pub fn write_page(dir: &Path, summary: &Summary) -> Result<PathBuf, ReportError> {
    let path = dir.join(PAGE);
    write_whole(&path, page::render(summary)?.as_bytes())?;
    Ok(path)
}

/// The plan the figures came from.
pub fn write_plan(dir: &Path, text: &[u8]) -> Result<(), ReportError> {
    write_whole(&dir.join(PLAN), text)
}

/// The JUnit file (`--junit FILE`): a case per rule, and per regression when compared.
pub fn write_junit(
    path: &Path,
    suite: &str,
    rules: &[RuleVerdict],
    comparison: Option<&Comparison>,
) -> Result<(), ReportError> {
    write_whole(path, junit::junit(suite, rules, comparison).as_bytes())
}

/// A folder's summary: `summary.json`, or the last checkpoint of a test that ended before it.
pub fn read_summary(dir: &Path) -> Result<Summary, ReportError> {
    let mut path = dir.join(SUMMARY);
    let partial = dir.join(PARTIAL);
    if !path.is_file() && partial.is_file() {
        path = partial;
    }
    let bad = |message: String| ReportError::Read {
        path: path.clone(),
        message,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("not an agentload summary: {e}")))
}

/// Whether `dir` holds a report's summary (or a checkpoint of one).
pub fn has_summary(dir: &Path) -> bool {
    dir.join(SUMMARY).is_file() || dir.join(PARTIAL).is_file()
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(value).expect("the report serializes");
    write_whole(path, text.as_bytes())
}

fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    crate::files::write_whole(path, bytes).map_err(|e| ReportError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
