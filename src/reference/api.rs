//! The platform's HTTP API as api users call it: the user's threads and the agents' config,
//! each behind the bearer token; every call counted by path in `/stats`.

use super::state::State;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use std::sync::Arc;

pub fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/api/threads", get(threads))
        .route("/api/agents/config", get(agents_config))
}

/// The caller's user id, from a valid bearer token.
fn caller(state: &State, headers: &HeaderMap) -> Option<String> {
    let jwt = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    let claims = state.keys.validate(jwt, "access").ok()?;
    claims["sub"].as_str().map(str::to_string)
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "missing or invalid token"})),
    )
        .into_response()
}

async fn threads(Shared(state): Shared<Arc<State>>, headers: HeaderMap) -> Response {
    state.counters.http_request("GET /api/threads");
    let Some(user) = caller(&state, &headers) else {
        return unauthorized();
    };
    let threads: Vec<_> = (1..=3)
        .map(|i| json!({"id": format!("thread-{user}-{i}"), "title": format!("Thread {i}")}))
        .collect();
    Json(json!({"user_id": user, "count": threads.len(), "threads": threads})).into_response()
}

async fn agents_config(Shared(state): Shared<Arc<State>>, headers: HeaderMap) -> Response {
    state.counters.http_request("GET /api/agents/config");
    if caller(&state, &headers).is_none() {
        return unauthorized();
    }
    let agents: Vec<_> = super::agents::AGENTS
        .iter()
        .map(|a| json!({"name": a.name, "tools": a.tools}))
        .collect();
    Json(json!({"count": agents.len(), "agents": agents})).into_response()
}
