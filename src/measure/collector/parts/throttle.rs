//! Shed attempts as the throttle part holds them: the first one, the counts, and per second.

use crate::model::incidents::Throttled;
use std::collections::BTreeMap;

/// What a shed attempt was.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attempt {
    Connect,
    Run,
    Other,
}

#[derive(Debug, Default)]
pub(crate) struct Throttle {
    pub(crate) seen: Option<Throttled>,
    pub(crate) per_second: BTreeMap<u32, u64>,
}
