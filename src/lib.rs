//! agentload: load tests for AI-agent platforms that stream agent events over WebSocket.
//!
//! Rooms, top to bottom; each imports only from rooms below it (ARCHITECTURE.md):
//! - `commands`: one verb each, thin wiring of the rooms below;
//! - `capacity` (the capacity search, scaling studies) and `onboarding` (probe, preflight);
//! - `load`: drives the load (one load test end to end, Goose's attack, arrivals, watchers);
//! - `measure` (the collector, the sampler) and `report` (the report folder's files, rendered
//!   from the result model alone);
//! - `client`: the agent platform's client (tokens, TLS, WebSocket, one run checked);
//! - `plan` (the parsed, validated load plan) and `model` (the result model: `summary.json`
//!   and every type a report shows), plain data;
//! - `wire`, `errors` and `files` (reports written whole): what everything shares.
//!
//! `reference` is the embedded reference platform (`agentload target`), a separate tree that
//! imports nothing of the client side but `wire`.

pub mod capacity;
pub mod client;
pub mod commands;
pub mod errors;
pub mod files;
pub mod load;
pub mod measure;
pub mod model;
pub mod onboarding;
pub mod plan;
pub mod reference;
pub mod report;
pub mod wire;

// Paths the integration tests and the README's examples use.
pub use client::tls;
