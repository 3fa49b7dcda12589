//! agentload: load tests for AI-agent platforms that stream agent events over WebSocket.
//!
//! The data flows plan → scenarios (on Goose) → summary → report; `target` is the embedded
//! reference platform the tests and the smoke plan run against.

pub mod auth;
pub mod capacity;
pub mod checks;
pub mod collector;
pub mod embedded;
pub mod errors;
pub mod metrics;
pub mod plan;
pub mod preflight;
pub mod protocol;
pub mod report;
pub mod runner;
pub mod sampler;
pub mod scenarios;
pub mod sla;
pub mod summary;
pub mod target;
pub mod tls;
pub mod token_cli;
