//! The last cheap reading of a running test, and when it was made.

use crate::model::summary::Summary;
use std::sync::Arc;
use std::time::Instant;

/// The last reading and when it was made.
#[derive(Default)]
pub(crate) struct Cached(pub(crate) Option<(Instant, Arc<Summary>)>);
