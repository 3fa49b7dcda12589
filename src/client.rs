//! The agent platform's client, without Goose: tokens (`auth`), TLS, the socket and the
//! WebSocket (`socket`, `ws`), one agent run's frames read, checked and ended (`run`, with
//! `continuity`, `isolation`, `idle`, `refresh`), the event model and sequence checker
//! (`protocol`), what a run came to (`outcome`), and the client's courtesies (`backoff`,
//! `security`). The load, the probe, the preflight and the examples use it alike.

pub mod auth;
pub mod backoff;
pub mod continuity;
pub mod idle;
pub mod isolation;
pub mod outcome;
pub mod protocol;
pub mod refresh;
pub mod run;
pub mod security;
pub mod socket;
pub mod tls;
pub mod ws;
