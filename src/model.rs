//! The result model: every figure a load test produced, as `summary.json` holds it, and the
//! types each report section shows. Plain data and pure judgments over it (SLA verdicts,
//! capacity steps); imports nothing but the plan.

pub mod breakdown;
pub mod capacity;
pub mod compare;
pub mod comparison;
pub mod counts;
pub mod findings;
pub mod hold;
pub mod incidents;
pub mod merge;
pub mod metrics;
pub mod mix;
pub mod preflight;
pub mod resources;
pub mod scaling;
pub mod server;
pub mod sessions;
pub mod shard;
pub mod sla;
pub mod summary;
pub mod threshold;
