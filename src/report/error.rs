//! What can go wrong reading or writing a report: one error, naming its file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot render the report: {0}")]
    Render(String),
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
}
