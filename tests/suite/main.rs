//! agentload's integration tests, in one crate (as cargo's own `tests/testsuite/`): one link
//! instead of one per file, and one pool of test threads, so a test that waits on a load's
//! timers overlaps with the others. A module per area; `common` holds the helpers: the real
//! `agentload` binary, the reference target as a child process on an ephemeral loopback port,
//! plans written to a temp dir, and what tests may not do at the same time (`common::serial`).
//!
//! Run one area with a filter: `cargo test --test suite capacity::`. The searches checked
//! against a simulation (`measuring::`) measure the machine: CI runs them in a phase of their
//! own, after the rest.

mod common;

mod architecture;
mod bad_input;
mod breakdown;
mod capacity;
mod deploy;
mod docs;
mod faults;
mod guards;
mod interrupt;
mod measuring;
mod metrics_truth;
mod mix;
mod onboarding;
mod operator;
mod outages;
mod plan_env;
mod plan_mutants;
mod preflight;
mod prometheus;
mod protocols;
mod report_browser;
mod run_plan;
mod scale;
mod server_metrics;
mod sessions;
mod sessions_shards;
mod shards;
mod stop;
mod studies;
mod token_cli;
mod verdict;
