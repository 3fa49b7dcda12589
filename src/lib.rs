//! agentload: load tests for AI-agent platforms that stream agent events over WebSocket.
//!
//! Layers, top to bottom; each imports only from layers below it (ARCHITECTURE.md):
//! - `commands`: `run`, `capacity`, `preflight`, `token` — thin wiring of the layers below;
//! - `engine`: Goose glue and the WebSocket client, auth, protocol and sequence checker,
//!   collector, sampler, preflight checks; and `report`, which renders the result model;
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
