//! What stops a load test before it runs: one error type, printed as one line (exit 2).

use std::path::PathBuf;

/// A setup problem: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Auth(#[from] crate::client::auth::AuthError),
    #[error(transparent)]
    Tls(#[from] crate::client::tls::TlsError),
    #[error(transparent)]
    Embedded(#[from] crate::load::embedded::EmbeddedError),
    #[error("target unreachable: {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("cannot write the report folder {path}: {message}")]
    Report { path: PathBuf, message: String },
    #[error("load test could not run: {0}")]
    Goose(String),
    #[error("{0}")]
    TooManyUsers(String),
    #[error("{path}: {message}")]
    ReadReport { path: PathBuf, message: String },
    #[error("{0}")]
    Shard(String),
    /// `--metrics-addr` could not be served.
    #[error("{0}")]
    Metrics(String),
    #[error(transparent)]
    Merge(#[from] crate::model::merge::MergeError),
    /// A probe or a recording could not talk to the platform.
    #[error("{0}")]
    Probe(String),
    /// A scaling study could not reach a size (its folder holds the sizes measured).
    #[error("{0}")]
    Scaling(String),
}

impl From<crate::report::ReportError> for SetupError {
    fn from(e: crate::report::ReportError) -> Self {
        use crate::report::ReportError as R;
        match e {
            R::Write { path, message } => SetupError::Report { path, message },
            R::Read { path, message } => SetupError::ReadReport { path, message },
            R::Render(message) => SetupError::Report {
                path: PathBuf::from(crate::report::folder::PAGE),
                message,
            },
        }
    }
}
