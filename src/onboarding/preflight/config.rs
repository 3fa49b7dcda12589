//! Preflight of the configuration: env vars (values never printed) and auth (secret length,
//! token endpoint, refresh, refusals of bad tokens).

use crate::client::auth::Identity;
use crate::load::drive::Clients;
use crate::model::preflight::{Check, Verdict};
use crate::plan::{AuthMode, EnvRule, Plan};

/// Each named variable is present and well formed. Values are never printed.
pub fn env_vars(rules: &[EnvRule]) -> Vec<Check> {
    rules
        .iter()
        .map(|rule| {
            let (verdict, reason) = env_verdict(rule, std::env::var(&rule.name).ok().as_deref());
            Check::new("env", &rule.name, verdict, reason)
        })
        .collect()
}

/// The verdict on one variable's value (`None`: unset).
pub fn env_verdict(rule: &EnvRule, value: Option<&str>) -> (Verdict, String) {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        let verdict = if rule.required {
            Verdict::Fail
        } else {
            Verdict::Warn
        };
        return (verdict, "not set".into());
    };
    if let Some(min) = rule.min_length {
        if value.chars().count() < min {
            return (Verdict::Fail, format!("shorter than {min} characters"));
        }
    }
    if let Some(prefix) = &rule.prefix {
        if !value.starts_with(prefix.as_str()) {
            return (Verdict::Fail, format!("does not start with `{prefix}`"));
        }
    }
    if let Some(schemes) = &rule.scheme {
        match url::Url::parse(value) {
            Ok(u) if schemes.iter().any(|s| s == u.scheme()) && u.host_str().is_some() => {}
            Ok(u) if u.host_str().is_none() => return (Verdict::Fail, "URL has no host".into()),
            Ok(u) => {
                return (
                    Verdict::Fail,
                    format!(
                        "scheme `{}` is not one of {}",
                        u.scheme(),
                        schemes.join(", ")
                    ),
                )
            }
            Err(_) => return (Verdict::Fail, "not a URL".into()),
        }
    }
    (
        Verdict::Pass,
        format!("set, {} characters, well formed", value.chars().count()),
    )
}

/// A token is obtained and renewed; the secret is long enough; bad tokens are refused.
pub async fn auth(plan: &Plan, credential: &str, clients: &Clients) -> Vec<Check> {
    let mut out = Vec::new();
    if plan.auth.mode == AuthMode::Mint {
        let verdict = if credential.chars().count() >= 32 {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        let reason = format!(
            "{} characters in {} (at least 32)",
            credential.chars().count(),
            plan.auth.secret_env
        );
        out.push(Check::new("auth", "JWT secret length", verdict, reason));
    }
    let identity = Identity::new("preflight", 0, &plan.auth.email_domain);
    let token = match clients.tokens.token(&identity).await {
        Ok(t) => {
            out.push(Check::new(
                "auth",
                "token obtained",
                Verdict::Pass,
                format!("{:?} mode", plan.auth.mode),
            ));
            Some(t)
        }
        Err(e) => {
            out.push(Check::new(
                "auth",
                "token obtained",
                Verdict::Fail,
                e.to_string(),
            ));
            None
        }
    };
    if let Some(t) = &token {
        out.push(match clients.tokens.renew(&identity, t).await {
            Ok(_) => Check::new(
                "auth",
                "token refresh",
                Verdict::Pass,
                "a renewed token was issued",
            ),
            Err(e) => Check::new("auth", "token refresh", Verdict::Fail, e.to_string()),
        });
    }
    let secret = clients.tokens.mint_secret();
    let bad = [
        ("refuses a missing token", None, true),
        (
            "refuses an expired token",
            crate::client::auth::forge(&plan.auth, secret, &identity, true),
            secret.is_some(),
        ),
        (
            "refuses a bad signature",
            crate::client::auth::forge(&plan.auth, secret, &identity, false),
            true,
        ),
    ];
    for (name, jwt, applicable) in bad {
        if !applicable {
            out.push(Check::new(
                "auth",
                name,
                Verdict::Warn,
                "login mode can not forge an expired token",
            ));
            continue;
        }
        out.push(match clients.connector.connect_with(jwt.as_deref()).await {
            Err(f) if f.kind == "auth.refused" => {
                Check::new("auth", name, Verdict::Pass, f.message)
            }
            Err(f) => Check::new(
                "auth",
                name,
                Verdict::Warn,
                format!("not an auth refusal: {f}"),
            ),
            Ok(c) => {
                let _ = crate::client::ws::close(c.ws).await;
                Check::new(
                    "auth",
                    name,
                    Verdict::Fail,
                    "the WebSocket accepted it: auth bypass",
                )
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml_text: &str) -> EnvRule {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn env_rules_judge_without_printing_values() {
        let secret = rule("name = \"JWT_SECRET_KEY\"\nmin_length = 32");
        assert_eq!(env_verdict(&secret, None).0, Verdict::Fail);
        let (v, reason) = env_verdict(&secret, Some("short-secret-value"));
        assert_eq!(v, Verdict::Fail);
        assert!(!reason.contains("short-secret-value"));
        assert_eq!(env_verdict(&secret, Some(&"x".repeat(40))).0, Verdict::Pass);

        let key = rule("name = \"OPENAI_API_KEY\"\nprefix = \"sk-\"\nrequired = false");
        assert_eq!(env_verdict(&key, None).0, Verdict::Warn);
        assert_eq!(env_verdict(&key, Some("pk-123")).0, Verdict::Fail);
        assert_eq!(env_verdict(&key, Some("sk-123")).0, Verdict::Pass);

        let db = rule("name = \"DATABASE_URL\"\nscheme = [\"postgresql\", \"postgres\"]");
        assert_eq!(
            env_verdict(&db, Some("postgresql://u:p@db.internal/app")).0,
            Verdict::Pass
        );
        assert_eq!(env_verdict(&db, Some("mysql://db/app")).0, Verdict::Fail);
        assert_eq!(env_verdict(&db, Some("not a url")).0, Verdict::Fail);
    }

    #[test]
    fn the_worst_verdict_wins() {
        let mut r = super::super::PreflightReport::default();
        assert_eq!(r.verdict(), Verdict::Pass);
        r.checks.push(Check::new("a", "b", Verdict::Warn, ""));
        assert_eq!(r.verdict(), Verdict::Warn);
        r.checks.push(Check::new("a", "c", Verdict::Fail, ""));
        assert_eq!(r.verdict(), Verdict::Fail);
        assert!(r.table().contains("FAIL  a"));
    }
}
