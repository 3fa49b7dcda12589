//! What the client and the reference platform share, and nothing else: how a JWT's payload
//! reads, the process-wide TLS crypto provider, and a recording's format (`agentload record`
//! writes it, `agentload target --replay` serves it).

pub mod recording;

use base64::Engine;

/// Installs the one crypto provider compiled in (aws-lc-rs). Safe to call many times.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The payload of a JWT, decoded without checking its signature (for `exp`, `sub` and
/// inspection).
pub fn unverified_claims(jwt: &str) -> Option<serde_json::Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
