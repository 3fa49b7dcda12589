//! Api users: HTTP calls to the platform's endpoints with the user's bearer token, through
//! Goose's own requests (so they land in Goose's tables as real HTTP requests), each checked
//! for its status and the numbers its JSON body must hold.

use super::context::Context;
use crate::client::auth::{Identity, Token};
use crate::client::outcome::Failure;
use crate::plan::mix::Endpoint;
use goose::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct ApiSession {
    identity: Identity,
    token: Option<Token>,
    calls: usize,
}

type Shared = Arc<tokio::sync::Mutex<ApiSession>>;

/// The api-user scenario: one endpoint call per iteration, picked by weight.
pub fn scenario(ctx: Arc<Context>, name: &str, weight: usize) -> Result<Scenario, GooseError> {
    let think_time = ctx.think.mean();
    let on_start = {
        let ctx = ctx.clone();
        let f: TransactionFunction = Arc::new(move |user| {
            let ctx = ctx.clone();
            Box::pin(async move {
                let number = ctx.user_number(user);
                user.set_session_data::<Shared>(Arc::new(tokio::sync::Mutex::new(ApiSession {
                    identity: Identity::new(&ctx.run_tag, number, &ctx.email_domain),
                    token: None,
                    calls: number,
                })));
                // The target's TLS settings (its CA), shared by every api user.
                user.client = ctx.http.clone();
                ctx.collector
                    .user_started(user.weighted_users_index, ctx.scenario);
                Ok(())
            })
        });
        Transaction::new(f).set_name("start").set_on_start()
    };
    let call = {
        let ctx = ctx.clone();
        let f: TransactionFunction = Arc::new(move |user| {
            let ctx = ctx.clone();
            Box::pin(async move { call(&ctx, user).await })
        });
        Transaction::new(f).set_name("call")
    };
    Scenario::new(name)
        .set_weight(weight)?
        .set_wait_time(think_time, think_time)
        .map(|s| s.register_transaction(on_start).register_transaction(call))
}

/// The endpoint for call number `n`: each endpoint as often as its weight says.
fn pick(endpoints: &[Endpoint], n: usize) -> &Endpoint {
    let total: usize = endpoints.iter().map(|e| e.weight as usize).sum();
    let mut at = n % total.max(1);
    for e in endpoints {
        if at < e.weight as usize {
            return e;
        }
        at -= e.weight as usize;
    }
    &endpoints[0]
}

fn method(name: &str) -> GooseMethod {
    match name.to_uppercase().as_str() {
        "POST" => GooseMethod::Post,
        "PUT" => GooseMethod::Put,
        "PATCH" => GooseMethod::Patch,
        "DELETE" => GooseMethod::Delete,
        "HEAD" => GooseMethod::Head,
        _ => GooseMethod::Get,
    }
}

async fn call(ctx: &Context, user: &mut GooseUser) -> TransactionResult {
    // A live load's seat not admitted: wait for it (an api user holds no socket).
    if let Some(seats) = &ctx.seats {
        let seat = user.weighted_users_index;
        if !seats.admits(seat) && !seats.admitted(seat, &ctx.stop).await {
            return Ok(());
        }
    }
    let session = user.get_session_data::<Shared>().expect("on_start").clone();
    let mut s = session.lock().await;
    s.calls += 1;
    let e = pick(&ctx.endpoints, s.calls);
    // Goose keys a request by method and name: `GET /api/threads [api]`.
    let goose_name = ctx.request_name(&e.path);
    let name = format!("{} {goose_name}", e.method.to_uppercase());
    let local = user.weighted_users_index;
    if s.token
        .as_ref()
        .is_none_or(|t| t.expires_within(Duration::from_secs(30)))
    {
        match ctx.tokens.token(&s.identity).await {
            Ok(t) => s.token = Some(t),
            Err(err) => {
                let failure = Failure::new("auth.token", err.to_string());
                let collector = &ctx.collector;
                collector.endpoint_called(
                    local,
                    ctx.scenario,
                    &name,
                    Duration::ZERO,
                    Some(&failure),
                );
                return Ok(());
            }
        }
    }
    let jwt = &s.token.as_ref().expect("set above").jwt;
    let m = method(&e.method);
    let builder = user.get_request_builder(&m, &e.path)?.bearer_auth(jwt);
    let request = GooseRequest::builder()
        .method(m)
        .path(e.path.as_str())
        .name(goose_name.as_ref())
        .set_request_builder(builder)
        .expect_status_code(e.expect_status)
        .build();
    let started = Instant::now();
    let mut goose = user.request(request).await?;
    let (failure, body) = match goose.response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            let failure = if status != e.expect_status {
                let m = format!("{name}: HTTP {status}, expected {}", e.expect_status);
                Some(Failure::new("api.status", m))
            } else {
                body_failure(e, &name, &body)
            };
            (failure, body)
        }
        Err(err) => (
            Some(Failure::new("api.error", err.to_string())),
            String::new(),
        ),
    };
    let elapsed = started.elapsed();
    ctx.collector
        .endpoint_called(local, ctx.scenario, &name, elapsed, failure.as_ref());
    match failure {
        // A status Goose already judged; a body check it could not: mark the request failed.
        Some(f) if f.kind == "api.check_failed" => {
            user.set_failure(&f.message, &mut goose.request, None, Some(&body))
        }
        _ => Ok(()),
    }
}

/// The first JSON check the body misses, as a failure.
fn body_failure(e: &Endpoint, name: &str, body: &str) -> Option<Failure> {
    if e.json_path_checks.is_empty() {
        return None;
    }
    let data = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(o)) => o,
        _ => {
            let m = format!("{name}: the body is not a JSON object");
            return Some(Failure::new("api.check_failed", m));
        }
    };
    e.json_path_checks.iter().find_map(|check| {
        let (value, met) = check.evaluate(&data);
        (!met).then(|| {
            let seen = value.map_or("nothing".to_string(), |v| v.to_string());
            let m = format!(
                "{name}: {} expected {}, found {seen}",
                check.name,
                check.rule()
            );
            Failure::new("api.check_failed", m)
        })
    })
}
