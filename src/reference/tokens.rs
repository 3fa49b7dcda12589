//! The target's side of JWTs: issue on login/refresh, validate on upgrade.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub lifetime_secs: u64,
}

/// Why an upgrade is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no token (Authorization: Bearer, jwt.<base64url> subprotocol or ?token=)")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("not an access token")]
    WrongType,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Keys {
    pub fn new(secret: &[u8], lifetime_secs: u64) -> Keys {
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime_secs,
        }
    }

    /// Signs a token of `token_type` ("access" or "refresh") for `sub`/`email`.
    pub fn issue(&self, sub: &str, email: &str, token_type: &str) -> String {
        let iat = now();
        let lifetime = if token_type == "refresh" {
            self.lifetime_secs * 4
        } else {
            self.lifetime_secs
        };
        let claims = json!({
            "sub": sub, "email": email, "iat": iat, "exp": iat + lifetime,
            "iss": "agentload-target", "token_type": token_type,
            "jti": format!("{:016x}", rand::random::<u64>()),
        });
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with a byte secret cannot fail")
    }

    /// Verifies signature and expiry; returns the claims.
    pub fn validate(&self, jwt: &str, want_type: &str) -> Result<Value, Refusal> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Value>(jwt, &self.decoding, &validation)
            .map_err(|e| Refusal::Invalid(e.to_string()))?;
        match data.claims.get("token_type").and_then(Value::as_str) {
            Some(t) if t != want_type => Err(Refusal::WrongType),
            _ => Ok(data.claims),
        }
    }
}

/// The token from a `jwt.<base64url(JWT)>` subprotocol entry (raw JWT accepted too).
pub fn from_subprotocol(entry: &str) -> Option<String> {
    let rest = entry.trim().strip_prefix("jwt.")?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(rest.trim_end_matches('='))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|s| s.split('.').count() == 3);
    Some(decoded.unwrap_or_else(|| rest.to_string()))
}
