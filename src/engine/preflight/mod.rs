//! The preflight checks over HTTP and WebSocket; TLS is in `tls_check`.

use super::{Check, Verdict};
use crate::auth::Identity;
use crate::plan::{AuthMode, EnvRule, Plan};
use crate::runner::{Clients, Resolved};
use crate::scenarios::run::{Run, RunSpec, Step};
use std::time::{Duration, Instant};

/// The seed's API budget: average ≤ 10 s, P95 ≤ 20 s.
const AVG_BUDGET: Duration = Duration::from_secs(10);
const P95_BUDGET: Duration = Duration::from_secs(20);
/// A foreign origin the CORS policy must not allow.
const FOREIGN_ORIGIN: &str = "https://malicious-site.example";

fn url(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!("{}{path}", base.trim_end_matches('/'))
    }
}

fn auth_base(plan: &Plan, resolved: &Resolved) -> String {
    plan.target
        .auth_url
        .clone()
        .unwrap_or_else(|| resolved.base_url.clone())
}

/// Backend, auth service and frontend answer 2xx.
pub async fn health(plan: &Plan, resolved: &Resolved, http: &reqwest::Client) -> Vec<Check> {
    let p = &plan.preflight;
    let frontend = p
        .frontend_url
        .clone()
        .unwrap_or_else(|| resolved.base_url.clone());
    let services = [
        ("backend", url(&resolved.base_url, &p.backend_health)),
        (
            "auth service",
            url(&auth_base(plan, resolved), &p.auth_health),
        ),
        ("frontend", frontend),
    ];
    let mut out = Vec::new();
    for (name, target) in services {
        let started = Instant::now();
        let reply = http.get(&target).send().await;
        let ms = started.elapsed().as_millis();
        out.push(match reply {
            Ok(r) if r.status().is_success() => Check::new(
                "health",
                name,
                Verdict::Pass,
                format!("{} in {ms} ms ({target})", r.status().as_u16()),
            ),
            Ok(r) => Check::new(
                "health",
                name,
                Verdict::Fail,
                format!("HTTP {} from {target}", r.status().as_u16()),
            ),
            Err(e) => Check::new(
                "health",
                name,
                Verdict::Fail,
                format!("{target}: {}", crate::errors::chain(&e)),
            ),
        });
    }
    out
}

/// Each listed endpoint over a few calls: average and P95 within the budget.
pub async fn endpoints(plan: &Plan, resolved: &Resolved, http: &reqwest::Client) -> Vec<Check> {
    let mut out = Vec::new();
    for path in &plan.preflight.endpoints {
        let target = url(&resolved.base_url, path);
        let mut times = Vec::new();
        let mut failed = None;
        for _ in 0..plan.preflight.samples.max(1) {
            let started = Instant::now();
            match http.get(&target).send().await {
                Ok(r) if r.status().is_success() => times.push(started.elapsed()),
                Ok(r) => failed = Some(format!("HTTP {}", r.status().as_u16())),
                Err(e) => failed = Some(crate::errors::chain(&e)),
            }
        }
        if let Some(reason) = failed {
            out.push(Check::new("api", path, Verdict::Fail, reason));
            continue;
        }
        times.sort();
        let avg = times.iter().sum::<Duration>() / times.len() as u32;
        let p95 = times[((times.len() - 1) as f64 * 0.95).round() as usize];
        let verdict = if avg > AVG_BUDGET || p95 > P95_BUDGET {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        let reason = format!(
            "avg {} ms, p95 {} ms over {} calls",
            avg.as_millis(),
            p95.as_millis(),
            times.len()
        );
        out.push(Check::new("api", path, verdict, reason));
    }
    out
}

/// The frontend origin passes a CORS preflight; a foreign origin does not.
pub async fn cors(plan: &Plan, resolved: &Resolved, http: &reqwest::Client) -> Vec<Check> {
    let target = url(&resolved.base_url, &plan.preflight.backend_health);
    let preflight = |origin: &str| {
        http.request(reqwest::Method::OPTIONS, &target)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
    };
    let origin = &plan.preflight.frontend_origin;
    let own = match preflight(origin).await {
        Err(e) => Check::new(
            "cors",
            "frontend origin",
            Verdict::Fail,
            crate::errors::chain(&e),
        ),
        Ok(r) => {
            let h = r.headers();
            let get = |name: &str| {
                h.get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let mut missing = Vec::new();
            if get("access-control-allow-origin") != *origin {
                missing.push(format!(
                    "Allow-Origin is `{}`",
                    get("access-control-allow-origin")
                ));
            }
            if !get("access-control-allow-methods")
                .to_uppercase()
                .contains("GET")
            {
                missing.push("Allow-Methods lacks GET".into());
            }
            let headers = get("access-control-allow-headers").to_lowercase();
            if !headers.contains("authorization") || !headers.contains("content-type") {
                missing.push("Allow-Headers lacks Authorization or Content-Type".into());
            }
            if get("access-control-allow-credentials") != "true" {
                missing.push("Allow-Credentials is not true".into());
            }
            if missing.is_empty() {
                Check::new(
                    "cors",
                    "frontend origin",
                    Verdict::Pass,
                    format!("{origin} allowed with credentials"),
                )
            } else {
                Check::new(
                    "cors",
                    "frontend origin",
                    Verdict::Fail,
                    format!("{origin}: {}", missing.join("; ")),
                )
            }
        }
    };
    let foreign = match preflight(FOREIGN_ORIGIN).await {
        Err(e) => Check::new(
            "cors",
            "foreign origin",
            Verdict::Warn,
            crate::errors::chain(&e),
        ),
        Ok(r) => {
            let allowed = r
                .headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == FOREIGN_ORIGIN || v == "*");
            if allowed {
                Check::new(
                    "cors",
                    "foreign origin",
                    Verdict::Fail,
                    format!("{FOREIGN_ORIGIN} is allowed"),
                )
            } else {
                Check::new(
                    "cors",
                    "foreign origin",
                    Verdict::Pass,
                    format!("{FOREIGN_ORIGIN} refused"),
                )
            }
        }
    };
    vec![own, foreign]
}

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
            crate::auth::forge(&plan.auth, secret, &identity, true),
            secret.is_some(),
        ),
        (
            "refuses a bad signature",
            crate::auth::forge(&plan.auth, secret, &identity, false),
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
                let _ = crate::scenarios::ws::close(c.ws).await;
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

/// One agent run end to end, through the full sequence check.
pub async fn agent_run(plan: &Plan, clients: &Clients) -> Check {
    let identity = Identity::new("preflight", 1, &plan.auth.email_domain);
    let jwt = match clients.tokens.token(&identity).await {
        Ok(t) => t.jwt,
        Err(e) => return Check::new("agent", "one run end to end", Verdict::Fail, e.to_string()),
    };
    let mut connected = match clients.connector.connect(&jwt).await {
        Ok(c) => c,
        Err(f) => return Check::new("agent", "one run end to end", Verdict::Fail, f.to_string()),
    };
    let isolation = crate::scenarios::isolation::Isolation::new("preflight");
    let rules = crate::protocol::SequenceRules {
        min_thinking_events: plan.scenario.min_thinking_events,
        min_thinking_chars: plan.scenario.min_thinking_chars,
        require_tool: plan.scenario.require_tool,
    };
    let thread = connected
        .thread_id
        .clone()
        .unwrap_or_else(|| format!("{}-thread", identity.sub));
    let run_id = format!("{}-r1", identity.sub);
    let mut run = Run::new(RunSpec {
        profile: &clients.connector.profile,
        run_id: &run_id,
        thread_id: &thread,
        user_id: &identity.sub,
        canary: "sk-preflight",
        user_request: &plan.scenario.user_request,
        timeout: plan.scenario.run_timeout.0,
        rules: &rules,
        isolation: &isolation,
        user_index: 1,
        resume: false,
        drop_after_events: 0,
        retired: &[],
        token_expires_at: None,
    });
    let verdict = match run.start(&mut connected.ws, None).await {
        Step::Done(v) => v,
        Step::Interrupted(f) => Err((f, false)),
    };
    let result = run.finish(verdict);
    let _ = crate::scenarios::ws::close(connected.ws).await;
    let events: u64 = result.outcome.events.values().sum();
    match result.outcome.failure {
        None => Check::new(
            "agent",
            "one run end to end",
            Verdict::Pass,
            format!(
                "{events} events in {} ms, all five in order",
                result.elapsed.as_millis()
            ),
        ),
        Some(f) => Check::new("agent", "one run end to end", Verdict::Fail, f.to_string()),
    }
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
