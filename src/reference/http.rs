//! HTTP routes of the reference target: health, stats, frontend, auth service, WS upgrade.

use super::state::State;
use super::stats::bump;
use super::tokens::{self, Refusal};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State as Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/", get(frontend))
        .route(
            "/health",
            get(|s: Shared<Arc<State>>| async move { health(&s, "backend") }),
        )
        .route(
            "/auth/health",
            get(|s: Shared<Arc<State>>| async move { health(&s, "auth") }),
        )
        .route("/stats", get(stats))
        .route("/stats/users", get(users))
        .route("/metrics", get(metrics))
        .route("/auth/token", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/ws", get(upgrade))
        .merge(super::api::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), cors))
        .with_state(state)
}

/// CORS for the frontend origins `--cors-origin` allows: preflights answered with the allowed
/// methods, headers and credentials; any other origin gets no CORS headers at all.
async fn cors(
    Shared(state): Shared<Arc<State>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let origin = request
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let allowed = origin
        .as_ref()
        .filter(|o| state.args.cors_origin.iter().any(|a| a == *o));
    let preflight = request.method() == axum::http::Method::OPTIONS;
    let mut response = if preflight {
        let status = if allowed.is_some() {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::FORBIDDEN
        };
        status.into_response()
    } else {
        next.run(request).await
    };
    if let Some(origin) = allowed {
        let headers = response.headers_mut();
        let mut set = |name: &'static str, value: &str| {
            if let Ok(v) = value.parse() {
                headers.insert(name, v);
            }
        };
        set("access-control-allow-origin", origin);
        set("access-control-allow-credentials", "true");
        set("vary", "Origin");
        if preflight {
            set("access-control-allow-methods", "GET, POST, OPTIONS");
            set(
                "access-control-allow-headers",
                "Authorization, Content-Type",
            );
            set("access-control-max-age", "600");
        }
    }
    response
}

fn health(state: &State, service: &str) -> Response {
    let endpoint = match service {
        "auth" => "GET /auth/health",
        _ => "GET /health",
    };
    state.counters.http_request(endpoint);
    if state.args.faults.http_5xx(&state.counters.faults) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "injected 503");
    }
    Json(json!({"status": "healthy", "service": service})).into_response()
}

async fn frontend() -> Html<&'static str> {
    Html(
        "<!doctype html><html><head><title>agentload reference target</title></head>\
         <body><h1>agentload reference target</h1><p>Agent backend at /ws, auth at /auth.</p>\
         </body></html>",
    )
}

async fn stats(Shared(state): Shared<Arc<State>>) -> Json<super::stats::TargetStats> {
    Json(state.stats())
}

async fn metrics(Shared(state): Shared<Arc<State>>) -> Response {
    let text = super::metrics::render(&state);
    let kind = "text/plain; version=0.0.4; charset=utf-8";
    ([(axum::http::header::CONTENT_TYPE, kind)], text).into_response()
}

async fn users(Shared(state): Shared<Arc<State>>) -> Json<Vec<String>> {
    Json(state.counters.users())
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    sub: Option<String>,
}

async fn login(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    body: Option<Json<LoginBody>>,
) -> Response {
    if state.args.faults.http_5xx(&state.counters.faults) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "injected 503");
    }
    let Some(expected) = &state.bypass_key else {
        bump(&state.counters.logins_refused);
        return refuse(
            StatusCode::FORBIDDEN,
            "login disabled: no bypass key configured",
        );
    };
    let given = headers.get("x-bypass-key").and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        bump(&state.counters.logins_refused);
        return refuse(StatusCode::UNAUTHORIZED, "bad or missing X-Bypass-Key");
    }
    let Some(Json(body)) = body else {
        bump(&state.counters.logins_refused);
        return refuse(StatusCode::BAD_REQUEST, "body must be JSON with an email");
    };
    let sub = body.sub.unwrap_or_else(|| {
        format!(
            "user-{}",
            body.email.split('@').next().unwrap_or("anonymous")
        )
    });
    issue_pair(&state, &sub, &body.email)
}

fn issue_pair(state: &State, sub: &str, email: &str) -> Response {
    bump(&state.counters.tokens_issued);
    Json(json!({
        "access_token": state.keys.issue(sub, email, "access"),
        "refresh_token": state.keys.issue(sub, email, "refresh"),
        "token_type": "bearer",
        "expires_in": state.keys.lifetime_secs,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(Shared(state): Shared<Arc<State>>, body: Option<Json<RefreshBody>>) -> Response {
    if state.args.faults.http_5xx(&state.counters.faults) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "injected 503");
    }
    let Some(Json(body)) = body else {
        bump(&state.counters.logins_refused);
        return refuse(
            StatusCode::BAD_REQUEST,
            "body must be JSON with a refresh_token",
        );
    };
    match state.keys.validate(&body.refresh_token, "refresh") {
        Ok(claims) => {
            let sub = claims["sub"].as_str().unwrap_or_default().to_string();
            let email = claims["email"].as_str().unwrap_or_default().to_string();
            issue_pair(&state, &sub, &email)
        }
        Err(e) => {
            bump(&state.counters.logins_refused);
            refuse(StatusCode::UNAUTHORIZED, &e.to_string())
        }
    }
}

/// Upgrades only with a valid access token; anything else is refused before the upgrade.
async fn upgrade(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let offered: Vec<String> = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .collect();
    let subprotocol = offered.iter().find(|p| p.starts_with("jwt."));
    // `--token-carrier`: a platform that reads its token from one place only.
    let only = state.args.dialect.token_carrier.as_deref();
    let takes = |carrier: &str| only.is_none_or(|c| c == carrier);
    let token = bearer
        .filter(|_| takes("header"))
        .or_else(|| {
            let p = subprotocol.filter(|_| takes("subprotocol"))?;
            tokens::from_subprotocol(p)
        })
        .or_else(|| query.get("token").filter(|_| takes("query")).cloned());
    let claims = match &token {
        None => Err(Refusal::Missing),
        Some(jwt) => state.keys.validate(jwt, "access"),
    };
    let claims = match (claims, state.args.faults.accept_bad_tokens) {
        (Ok(c), _) => c,
        (Err(_), true) => {
            // The auth bypass fault: take the token's word for who this is, or nobody.
            bump(&state.counters.faults.bad_token_accepted);
            let unverified = token.as_deref().and_then(crate::wire::unverified_claims);
            let sub = unverified
                .as_ref()
                .and_then(|c| c["sub"].as_str())
                .unwrap_or("anonymous");
            json!({"sub": sub, "exp": u64::MAX / 2})
        }
        (Err(e), false) => {
            bump(&state.counters.auth_rejections);
            if state.args.profile == super::layouts::TargetProfile::Netra {
                let upgrade = match subprotocol {
                    Some(p) => upgrade.protocols([p.clone()]),
                    None => upgrade,
                };
                let reason = e.to_string();
                return upgrade
                    .on_upgrade(move |socket| super::ws::refuse_socket(state, socket, reason));
            }
            return refuse(StatusCode::UNAUTHORIZED, &e.to_string());
        }
    };
    let user_id = match &state.args.faults.single_user_id {
        Some(one) => one.clone(),
        None => claims["sub"].as_str().unwrap_or_default().to_string(),
    };
    let upgrade = match subprotocol {
        Some(p) => upgrade.protocols([p.clone()]),
        None => upgrade,
    };
    // Small buffers, as the client's: the target's cost per connection is then mostly what
    // `--ballast-kb-per-connection` says (tungstenite reserves 128 KiB each way by default).
    let upgrade = upgrade.read_buffer_size(4 * 1024).write_buffer_size(0);
    let Some(admitted) = state.shedding.admit(state.args.max_connections, &user_id) else {
        return match state.args.profile {
            super::layouts::TargetProfile::Netra => {
                upgrade.on_upgrade(move |socket| super::ws::throttle_socket(state, socket))
            }
            super::layouts::TargetProfile::Reference => {
                let retry = super::shedding::RETRY_AFTER_SECS.to_string();
                let mut refused = refuse(StatusCode::TOO_MANY_REQUESTS, "too many connections");
                if let Ok(value) = retry.parse() {
                    refused.headers_mut().insert("retry-after", value);
                }
                refused
            }
        };
    };
    if let Some(replay) = state.replay.clone() {
        return upgrade.on_upgrade(move |socket| async move {
            super::replay::serve(&state.counters, replay, socket, user_id).await;
            drop(admitted);
        });
    }
    let session = super::ws::Session {
        user_id,
        expires_at: claims["exp"].as_u64().unwrap_or(u64::MAX / 2),
    };
    upgrade.on_upgrade(move |socket| async move {
        super::ws::serve_socket(state, socket, session).await;
        drop(admitted);
    })
}
