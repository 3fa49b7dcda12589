//! `[protocol]`: a built-in profile by name, overridable key by key.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The built-in profile names (`client::protocol::Profile::builtin` knows each).
pub const PROFILES: [&str; 2] = ["reference", "netra"];

/// How the token travels on the WebSocket upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Carrier {
    /// `Authorization: Bearer <jwt>`.
    Header,
    /// `Sec-WebSocket-Protocol: jwt.<base64url(jwt)>`.
    Subprotocol,
    /// `?token=<jwt>`.
    Query,
}

impl Carrier {
    /// Every carrier.
    pub const ALL: [Carrier; 3] = [Carrier::Header, Carrier::Subprotocol, Carrier::Query];

    /// The carrier as a plan names it in `token_carriers`.
    pub fn name(self) -> &'static str {
        match self {
            Carrier::Header => "header",
            Carrier::Subprotocol => "subprotocol",
            Carrier::Query => "query",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Built-in profile: `reference` (our target) or `netra`.
    #[serde(default = "default_profile")]
    pub profile: String,
    #[serde(default = "default_carriers")]
    pub token_carriers: Vec<Carrier>,
    /// Wait for the welcome frame (`connection_established`) before the first run.
    #[serde(default = "yes")]
    pub wait_for_welcome: bool,
    /// Overrides of the profile, each optional.
    pub welcome: Option<String>,
    pub type_path: Option<String>,
    pub wrappers: Option<Vec<String>>,
    pub merge: Option<Vec<String>>,
    pub aliases: Option<BTreeMap<String, String>>,
    pub error_events: Option<Vec<String>>,
    pub start_message: Option<serde_json::Value>,
    pub refresh_message: Option<serde_json::Value>,
    pub server_assigns_run_id: Option<bool>,
    /// Words an error's code or text names when the platform sheds load (`rate_limited`,
    /// `circuit_breaker_open`, …): replaces the profile's list.
    pub throttle_markers: Option<Vec<String>>,
    pub handshake: Option<HandshakePlan>,
}

/// `[protocol.handshake]`: wait for a server message, optionally answer, optionally wait again.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakePlan {
    pub wait_for: String,
    pub reply: Option<serde_json::Value>,
    pub complete: Option<String>,
    #[serde(default = "default_handshake_timeout")]
    pub timeout: super::values::Dur,
}

impl Default for Protocol {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn yes() -> bool {
    true
}
fn default_profile() -> String {
    "reference".into()
}
fn default_carriers() -> Vec<Carrier> {
    vec![Carrier::Header]
}
fn default_handshake_timeout() -> super::values::Dur {
    super::values::Dur::from_secs(10)
}
