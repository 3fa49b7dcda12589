//! `[protocol]`: a built-in profile by name, overridable key by key.

use crate::protocol::profile::{Handshake, Profile};
use serde::Deserialize;
use std::collections::BTreeMap;

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
    pub timeout: super::Dur,
}

impl Default for Protocol {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

impl Protocol {
    /// The built-in profile with this plan's overrides applied. The profile name was checked
    /// when the plan was validated.
    pub fn resolve(&self) -> Profile {
        let mut p = Profile::builtin(&self.profile).expect("validated profile name");
        if let Some(v) = &self.type_path {
            p.type_path = v.clone();
        }
        if let Some(v) = &self.wrappers {
            p.wrappers = v.clone();
        }
        if let Some(v) = &self.merge {
            p.merge = v.clone();
        }
        if let Some(v) = &self.aliases {
            p.aliases = v.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
        }
        if let Some(v) = &self.error_events {
            p.errors = v.clone();
        }
        if let Some(v) = &self.start_message {
            p.start_message = v.clone();
        }
        if let Some(v) = &self.refresh_message {
            p.refresh_message = v.clone();
        }
        if let Some(v) = self.server_assigns_run_id {
            p.server_assigns_run_id = v;
        }
        if let Some(v) = &self.welcome {
            p.welcome = Some(v.clone());
        }
        if !self.wait_for_welcome {
            p.welcome = None;
        }
        if let Some(h) = &self.handshake {
            p.handshake = Some(Handshake {
                wait_for: h.wait_for.clone(),
                reply: h.reply.clone(),
                complete: h.complete.clone(),
                timeout_ms: h.timeout.0.as_millis() as u64,
            });
        }
        p
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
fn default_handshake_timeout() -> super::Dur {
    super::Dur::from_secs(10)
}
