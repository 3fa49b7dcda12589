//! Goose request names (method `WS`) the users record; SLA rules refer to them.

pub const REQ_CONNECT: &str = "WS connect";
pub const REQ_FIRST_EVENT: &str = "WS first_event";
pub const REQ_AGENT_RUN: &str = "WS agent_run";
