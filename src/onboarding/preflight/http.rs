//! Preflight over HTTP: health of backend, auth and frontend, API timings, CORS.

use crate::load::drive::Resolved;
use crate::model::preflight::{Check, Verdict};
use crate::plan::Plan;
use std::time::{Duration, Instant};

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
