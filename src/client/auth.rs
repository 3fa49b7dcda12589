//! Tokens for simulated users: minted from a secret, or fetched from the auth service.
//!
//! Secrets and bypass keys come from env vars named in the plan and are never printed.

use crate::plan::{Auth, AuthMode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("env var {var} is not set (it must hold {what})")]
    MissingEnv { var: String, what: &'static str },
    #[error("cannot sign a token: {0}")]
    Sign(String),
    #[error("login at {url} refused: HTTP {status}")]
    LoginRefused {
        url: String,
        status: u16,
        /// The refusal's `Retry-After`, in seconds (a throttled login).
        retry_after: Option<u64>,
    },
    #[error("login at {url} failed: {message}")]
    LoginFailed { url: String, message: String },
}

/// Who a simulated user is. `sub` and `email` are unique per user and per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub email: String,
}

impl Identity {
    /// The identity of user `index` in the run tagged `run_tag`: `u<index>-al<tag>`. The user
    /// number comes first, so ids differ within their first 8 characters (a platform that
    /// shortens ids to 8 characters still tells users apart up to a million users).
    pub fn new(run_tag: &str, index: usize, email_domain: &str) -> Identity {
        let sub = format!("u{index}-al{run_tag}");
        Identity {
            email: format!("{sub}@{email_domain}"),
            sub,
        }
    }
}

/// The claims agentload signs (the platform's E2E helper signs the same set).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    pub iat: u64,
    pub exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    pub permissions: Vec<String>,
    pub token_type: String,
    pub jti: String,
}

/// A bearer token and when it expires.
#[derive(Debug, Clone)]
pub struct Token {
    pub jwt: String,
    pub expires_at: SystemTime,
    /// Login mode: what the refresh endpoint takes.
    pub refresh_token: Option<String>,
    /// The token's `sub`: the user id the platform should give this user.
    pub subject: Option<String>,
}

impl Token {
    /// Does the token expire within `margin`?
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at <= SystemTime::now() + margin
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs an HS256 token for `identity`.
pub fn mint(secret: &[u8], identity: &Identity, auth: &Auth) -> Result<Token, AuthError> {
    let iat = now_secs();
    let exp = iat + auth.lifetime.0.as_secs().max(1);
    let claims = Claims {
        sub: identity.sub.clone(),
        email: identity.email.clone(),
        iat,
        exp,
        iss: auth.issuer.clone(),
        aud: auth.audience.clone(),
        permissions: auth.permissions.clone(),
        token_type: "access".into(),
        jti: format!("{:016x}", rand::random::<u64>()),
    };
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| AuthError::Sign(e.to_string()))?;
    Ok(Token {
        jwt,
        expires_at: UNIX_EPOCH + Duration::from_secs(exp),
        refresh_token: None,
        subject: Some(identity.sub.clone()),
    })
}

/// A token that must be refused: expired (mint mode only: it needs the real secret) or signed
/// with a secret nobody holds. `None` when this mode can not make that kind.
pub fn forge(
    auth: &Auth,
    secret: Option<&[u8]>,
    identity: &Identity,
    expired: bool,
) -> Option<String> {
    let mut claims_auth = auth.clone();
    claims_auth.lifetime = crate::plan::Dur::from_secs(60);
    let token = if expired {
        let secret = secret?;
        let now = now_secs();
        let claims = serde_json::json!({
            "sub": identity.sub, "email": identity.email, "iat": now - 3600, "exp": now - 600,
            "token_type": "access", "permissions": auth.permissions,
        });
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .ok()?
    } else {
        let stranger = format!("not-the-secret-{:032x}", rand::random::<u128>());
        mint(stranger.as_bytes(), identity, &claims_auth).ok()?.jwt
    };
    Some(token)
}

pub use crate::wire::unverified_claims;

/// Reads an env var that must hold a secret; never echoes its value.
pub fn secret_from_env(var: &str, what: &'static str) -> Result<String, AuthError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(AuthError::MissingEnv {
            var: var.to_string(),
            what,
        }),
    }
}

/// Hands out tokens the way the plan says.
pub struct TokenSource {
    auth: Auth,
    kind: SourceKind,
}

enum SourceKind {
    Mint { secret: Vec<u8> },
    Login(Login),
}

struct Login {
    url: String,
    refresh_url: String,
    bypass_key: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct LoginReply {
    access_token: String,
    refresh_token: Option<String>,
}

impl TokenSource {
    /// `credential` is the HS256 secret (mint) or the bypass key (login), read by the caller
    /// from the env var the plan names.
    pub fn new(
        auth: &Auth,
        auth_base_url: &str,
        http: reqwest::Client,
        credential: String,
    ) -> Self {
        let kind = match auth.mode {
            AuthMode::Mint => SourceKind::Mint {
                secret: credential.into_bytes(),
            },
            AuthMode::Login => SourceKind::Login(Login {
                url: format!("{}{}", auth_base_url.trim_end_matches('/'), auth.login_path),
                refresh_url: format!(
                    "{}{}",
                    auth_base_url.trim_end_matches('/'),
                    auth.refresh_path
                ),
                bypass_key: credential,
                http,
            }),
        };
        TokenSource {
            auth: auth.clone(),
            kind,
        }
    }

    /// The HS256 secret, in mint mode.
    pub fn mint_secret(&self) -> Option<&[u8]> {
        match &self.kind {
            SourceKind::Mint { secret } => Some(secret),
            SourceKind::Login(_) => None,
        }
    }

    /// A fresh token for `identity`.
    pub async fn token(&self, identity: &Identity) -> Result<Token, AuthError> {
        match &self.kind {
            SourceKind::Mint { secret } => mint(secret, identity, &self.auth),
            SourceKind::Login(login) => self.login(login, identity).await,
        }
    }

    /// A renewed token: the refresh endpoint with the old token's refresh token (login), or a
    /// new signature (mint).
    pub async fn renew(&self, identity: &Identity, old: &Token) -> Result<Token, AuthError> {
        match (&self.kind, &old.refresh_token) {
            (SourceKind::Login(login), Some(refresh)) => {
                let request = login
                    .http
                    .post(&login.refresh_url)
                    .json(&serde_json::json!({ "refresh_token": refresh }));
                self.token_reply(&login.refresh_url, request).await
            }
            _ => self.token(identity).await,
        }
    }

    async fn login(&self, login: &Login, identity: &Identity) -> Result<Token, AuthError> {
        let request = login
            .http
            .post(&login.url)
            .header(self.auth.bypass_header.as_str(), &login.bypass_key)
            .json(&serde_json::json!({ "email": identity.email, "sub": identity.sub }));
        self.token_reply(&login.url, request).await
    }

    /// Sends a login or refresh request and reads the token pair from the reply.
    async fn token_reply(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Token, AuthError> {
        let failed = |message: String| AuthError::LoginFailed {
            url: url.to_string(),
            message,
        };
        let reply = request
            .send()
            .await
            .map_err(|e| failed(crate::errors::chain(&e)))?;
        let status = reply.status();
        if !status.is_success() {
            let retry_after = reply
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            return Err(AuthError::LoginRefused {
                url: url.to_string(),
                status: status.as_u16(),
                retry_after,
            });
        }
        let body: LoginReply = reply
            .json()
            .await
            .map_err(|e| failed(format!("reply has no access_token: {e}")))?;
        let claims = unverified_claims(&body.access_token);
        let exp = claims
            .as_ref()
            .and_then(|c| c.get("exp").and_then(serde_json::Value::as_u64))
            .ok_or_else(|| failed("the access token has no exp claim".into()))?;
        let subject = claims
            .as_ref()
            .and_then(|c| c.get("sub").and_then(serde_json::Value::as_str))
            .map(String::from);
        Ok(Token {
            jwt: body.access_token,
            expires_at: UNIX_EPOCH + Duration::from_secs(exp),
            refresh_token: body.refresh_token,
            subject,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_token_carries_identity_and_verifies() {
        let auth = Auth::default();
        let id = Identity::new("abc", 7, "example.test");
        let token = mint(b"0123456789abcdef0123456789abcdef", &id, &auth).unwrap();
        let claims = unverified_claims(&token.jwt).unwrap();
        assert_eq!(claims["sub"], "u7-alabc");
        assert_eq!(claims["email"], "u7-alabc@example.test");
        assert_eq!(claims["token_type"], "access");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.validate_aud = false;
        let key = jsonwebtoken::DecodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        assert!(jsonwebtoken::decode::<Claims>(&token.jwt, &key, &validation).is_ok());
        let wrong = jsonwebtoken::DecodingKey::from_secret(b"another secret entirely, 32 bytes");
        assert!(jsonwebtoken::decode::<Claims>(&token.jwt, &wrong, &validation).is_err());
        assert!(!token.expires_within(Duration::from_secs(60)));
    }

    #[test]
    fn missing_secret_names_the_variable_only() {
        let err =
            secret_from_env("AGENTLOAD_TEST_SURELY_UNSET_VAR", "the HS256 JWT secret").unwrap_err();
        assert_eq!(
            err.to_string(),
            "env var AGENTLOAD_TEST_SURELY_UNSET_VAR is not set (it must hold the HS256 JWT secret)"
        );
    }
}
