//! `agentload token mint|inspect`: a token exactly as a plan's users get it, and what a token
//! says. Secrets are never printed.

use crate::client::auth::{unverified_claims, Identity, TokenSource};
use crate::errors::{chain, Exit};
use crate::plan::{AuthMode, Plan};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Prints user `user`'s token for `plan` on stdout (its claims on stderr).
pub async fn mint(plan_path: &Path, user: usize) -> Exit {
    let result = async {
        let plan = Plan::load(plan_path).map_err(|e| e.to_string())?;
        let var = match plan.auth.mode {
            AuthMode::Mint => &plan.auth.secret_env,
            AuthMode::Login => &plan.auth.bypass_key_env,
        };
        let credential = crate::client::auth::secret_from_env(var, "the plan's credential")
            .map_err(|e| e.to_string())?;
        let tls = crate::client::tls::client_config(
            plan.target.ca_file.as_deref(),
            plan.target.tls_resumption,
        )
        .map_err(|e| e.to_string())?;
        let http = crate::client::tls::http_client(&tls, Duration::from_secs(20))
            .map_err(|e| e.to_string())?;
        let base = plan
            .target
            .auth_url
            .clone()
            .or_else(|| plan.target.base_url.clone())
            .unwrap_or_default();
        let source = TokenSource::new(&plan.auth, &base, http, credential);
        let identity = Identity::new("manual", user, &plan.auth.email_domain);
        source.token(&identity).await.map_err(|e| chain(&e))
    }
    .await;
    match result {
        Ok(token) => {
            if let Some(claims) = unverified_claims(&token.jwt) {
                eprintln!(
                    "{}",
                    serde_json::to_string_pretty(&claims).unwrap_or_default()
                );
            }
            println!("{}", token.jwt);
            Exit::Pass
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Setup
        }
    }
}

/// Prints a token's header and claims, when it expires, and (given the secret's env var)
/// whether its signature verifies.
pub fn inspect(jwt: &str, secret_env: Option<&str>) -> Exit {
    let Ok(header) = jsonwebtoken::decode_header(jwt) else {
        eprintln!("error: not a JWT (three base64url parts separated by dots)");
        return Exit::Setup;
    };
    let Some(claims) = unverified_claims(jwt) else {
        eprintln!("error: the JWT's payload is not JSON");
        return Exit::Setup;
    };
    println!(
        "header: {}",
        serde_json::json!({"alg": format!("{:?}", header.alg), "typ": header.typ})
    );
    println!(
        "claims: {}",
        serde_json::to_string_pretty(&claims).unwrap_or_default()
    );
    if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_u64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if exp > now {
            println!("expires in {} s", exp - now);
        } else {
            println!("EXPIRED {} s ago", now - exp);
        }
    }
    let Some(var) = secret_env else {
        return Exit::Pass;
    };
    let secret = match crate::client::auth::secret_from_env(var, "the HS256 JWT secret") {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Setup;
        }
    };
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
    match jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &validation) {
        Ok(_) => {
            println!("signature: valid for the secret in {var}");
            Exit::Pass
        }
        Err(e) => {
            println!("signature: INVALID for the secret in {var} ({e})");
            Exit::SlaFailed
        }
    }
}
