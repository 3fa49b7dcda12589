//! The reference target on a real loopback socket, driven by a real WebSocket client.

use super::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "unit-test-secret-0123456789abcdef0123";

/// Each test reads its secret from its own env var, so tests can run in parallel.
fn args(tls: bool) -> TargetArgs {
    static N: AtomicUsize = AtomicUsize::new(0);
    let var = format!(
        "AGENTLOAD_TARGET_TEST_SECRET_{}",
        N.fetch_add(1, AtomicOrdering::SeqCst)
    );
    // SAFETY-free in edition 2021; each test owns its variable name.
    std::env::set_var(&var, SECRET);
    TargetArgs {
        port: 0,
        tls,
        jwt_secret_env: var,
        event_delay_ms: 1,
        ca_out: tls.then(|| {
            std::env::temp_dir().join(format!(
                "agentload-unit-{}-{}.pem",
                std::process::id(),
                rand::random::<u32>()
            ))
        }),
        ..TargetArgs::default()
    }
}

fn token(secret: &str, exp_offset: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"sub": "u1", "email": "u1@x.test", "iat": now, "exp": now + exp_offset, "token_type": "access"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn next_json(ws: &mut crate::client::ws::WsStream) -> Value {
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            _ => continue,
        }
    }
}

async fn connect(url: &str, bearer: Option<&str>) -> Result<crate::client::ws::WsStream, u16> {
    let mut request = url.into_client_request().unwrap();
    if let Some(t) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    match open(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("unexpected error {e}"),
    }
}

/// The generator's own upgrade (plain ws here).
async fn open(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<
    (
        crate::client::ws::WsStream,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    tokio_tungstenite::tungstenite::Error,
> {
    let tls = crate::client::tls::client_config(None, false).unwrap();
    crate::client::socket::connect(request, &tls, Default::default()).await
}

/// Polls the counters until `done` holds, bounded at 5 s.
async fn settle(t: &RunningTarget, done: impl Fn(&TargetStats) -> bool) -> TargetStats {
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let s = t.stats();
        if done(&s) || tokio::time::Instant::now() > until {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn streams_the_five_events_and_counts_them() {
    let t = start(args(false)).await.unwrap();
    let mut ws = connect(&t.ws_url, Some(&token(SECRET, 60))).await.unwrap();
    let welcome = next_json(&mut ws).await;
    assert_eq!(welcome["type"], "connection_established");
    assert_eq!(welcome["data"]["user_id"], "u1");
    let start_msg =
        json!({"type": "start_agent", "payload": {"user_request": "cut costs", "run_id": "r-1"}});
    ws.send(Message::text(start_msg.to_string())).await.unwrap();
    let mut kinds = Vec::new();
    loop {
        let e = next_json(&mut ws).await;
        assert_eq!(e["run_id"], "r-1");
        kinds.push(e["type"].as_str().unwrap().to_string());
        if e["type"] == "agent_thinking" {
            assert!(e["data"]["thought"].as_str().unwrap().len() >= 80);
        }
        if e["type"] == "agent_completed" {
            assert_eq!(e["data"]["status"], "success");
            assert!(e["data"]["result"]["monthly_savings"].as_f64().unwrap() >= 6000.0);
            break;
        }
    }
    assert_eq!(
        kinds,
        [
            "agent_started",
            "agent_thinking",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_completed"
        ]
    );
    ws.close(None).await.unwrap();
    let s = settle(&t, |s| s.connections_open == 0).await;
    assert_eq!((s.runs_started, s.runs_completed, s.events_sent), (1, 1, 6));
    assert_eq!(
        (s.connections_open, s.connections_total, s.runs_abandoned),
        (0, 1, 0)
    );
    t.shutdown().await;
}

#[tokio::test]
async fn refuses_bad_expired_and_missing_tokens_before_the_upgrade() {
    let t = start(args(false)).await.unwrap();
    let bad_signature = token("some-other-secret-entirely-0123456789", 60);
    let expired = token(SECRET, -120);
    assert_eq!(
        connect(&t.ws_url, Some(&bad_signature)).await.err(),
        Some(401)
    );
    assert_eq!(connect(&t.ws_url, Some(&expired)).await.err(), Some(401));
    assert_eq!(connect(&t.ws_url, None).await.err(), Some(401));
    let s = t.stats();
    assert_eq!((s.auth_rejections, s.connections_total), (3, 0));
    t.shutdown().await;
}

#[tokio::test]
async fn subprotocol_and_query_carriers_authenticate() {
    use base64::Engine;
    let t = start(args(false)).await.unwrap();
    let jwt = token(SECRET, 60);
    let entry = format!(
        "jwt.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&jwt)
    );
    let mut request = t.ws_url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", entry.parse().unwrap());
    let (_ws, response) = open(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"]
            .to_str()
            .unwrap(),
        entry,
        "the offered entry is echoed"
    );
    let query_url = format!("{}?token={jwt}", t.ws_url);
    assert!(connect(&query_url, None).await.is_ok());
    t.shutdown().await;
}

#[tokio::test]
async fn tls_serves_with_a_ca_the_client_trusts() {
    let t = start(args(true)).await.unwrap();
    assert!(t.base_url.starts_with("https://127.0.0.1:"));
    let tls = crate::client::tls::client_config(t.ca_file.as_deref(), false).unwrap();
    let http = crate::client::tls::http_client(&tls, Duration::from_secs(5)).unwrap();
    let health: Value = http
        .get(format!("{}/health", t.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy");
    // Without the CA the handshake fails.
    let untrusted = crate::client::tls::http_client(
        &crate::client::tls::client_config(None, false).unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(untrusted
        .get(format!("{}/health", t.base_url))
        .send()
        .await
        .is_err());
    t.shutdown().await;
}

#[tokio::test]
async fn login_and_refresh_issue_tokens_the_socket_accepts() {
    let mut a = args(false);
    let var = format!("{}_BYPASS", a.jwt_secret_env);
    std::env::set_var(&var, "open-sesame");
    a.bypass_key_env = var;
    let t = start(a).await.unwrap();
    let http = reqwest::Client::new();
    let login = format!("{}/auth/token", t.base_url);
    let refused = http
        .post(&login)
        .header("X-Bypass-Key", "wrong")
        .json(&json!({"email": "a@x.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let pair: Value = http
        .post(&login)
        .header("X-Bypass-Key", "open-sesame")
        .json(&json!({"email": "a@x.test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = pair["access_token"].as_str().unwrap();
    let refresh = pair["refresh_token"].as_str().unwrap();
    assert!(connect(&t.ws_url, Some(access)).await.is_ok());
    assert_eq!(
        connect(&t.ws_url, Some(refresh)).await.err(),
        Some(401),
        "a refresh token is no access token"
    );
    let renewed: Value = http
        .post(format!("{}/auth/refresh", t.base_url))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(connect(&t.ws_url, renewed["access_token"].as_str())
        .await
        .is_ok());
    let s = t.stats();
    assert_eq!((s.tokens_issued, s.logins_refused), (2, 1));
    t.shutdown().await;
}

/// One TLS connection over an in-memory pipe: how its handshake went, or why it failed.
async fn handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    connector: &tokio_rustls::TlsConnector,
    name: &str,
) -> std::io::Result<rustls::HandshakeKind> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (near, far) = tokio::io::duplex(64 * 1024);
    let acceptor = acceptor.clone();
    let serving = tokio::spawn(async move {
        let Ok(mut tls) = acceptor.accept(far).await else {
            return;
        };
        // Tickets go out after the handshake: a byte each way makes the client read them.
        let _ = tls.write_all(b"x").await;
        let _ = tls.flush().await;
        let mut byte = [0u8; 1];
        let _ = tls.read(&mut byte).await;
    });
    let name = rustls::pki_types::ServerName::try_from(name.to_string()).unwrap();
    let mut tls = connector.connect(name, near).await?;
    let mut byte = [0u8; 1];
    tls.read_exact(&mut byte).await?;
    tls.write_all(b"y").await?;
    tls.flush().await?;
    let kind = tls.get_ref().1.handshake_kind().unwrap();
    serving.await.unwrap();
    Ok(kind)
}

/// A server with a fresh CA (written to `dir/ca-<tag>.pem`), valid `days`.
fn tls_server(dir: &std::path::Path, tag: &str, days: i64) -> tokio_rustls::TlsAcceptor {
    let ca = dir.join(format!("ca-{tag}.pem"));
    tokio_rustls::TlsAcceptor::from(super::certs::server_config(&ca, days, None).unwrap())
}

fn tls_client(ca: &std::path::Path, resume: bool) -> tokio_rustls::TlsConnector {
    tokio_rustls::TlsConnector::from(crate::client::tls::client_config(Some(ca), resume).unwrap())
}

/// Two connections to one server with the client's config: how each handshake went.
async fn two_handshakes(resume: bool) -> Vec<rustls::HandshakeKind> {
    let dir = tempfile::tempdir().unwrap();
    let server = tls_server(dir.path(), "a", 30);
    let client = tls_client(&dir.path().join("ca-a.pem"), resume);
    let mut kinds = Vec::new();
    for _ in 0..2 {
        kinds.push(handshake(&server, &client, "localhost").await.unwrap());
    }
    kinds
}

#[tokio::test]
async fn every_connection_is_a_full_verified_handshake_unless_the_plan_asks_to_resume() {
    use rustls::HandshakeKind::{Full, Resumed};
    assert_eq!(two_handshakes(false).await, vec![Full, Full]);
    assert_eq!(two_handshakes(true).await, vec![Full, Resumed]);
}

#[tokio::test]
async fn a_chain_verified_once_is_known_only_for_its_own_bytes_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = tls_server(dir.path(), "a", 30);
    let client = tls_client(&dir.path().join("ca-a.pem"), false);
    handshake(&trusted, &client, "localhost").await.unwrap();
    handshake(&trusted, &client, "localhost").await.unwrap();
    // The remembered chain does not stand for another name it was not issued for...
    let other_name = handshake(&trusted, &client, "example.com").await;
    assert!(other_name.unwrap_err().to_string().contains("certificate"));
    // ...nor for another server's chain under the same name (an untrusted CA, every time).
    let stranger = tls_server(dir.path(), "b", 30);
    for _ in 0..2 {
        let refused = handshake(&stranger, &client, "localhost").await;
        assert!(refused.unwrap_err().to_string().contains("certificate"));
    }
    // An expired chain from a trusted CA is refused every time, never remembered.
    let expired = tls_server(dir.path(), "c", -1);
    let client = tls_client(&dir.path().join("ca-c.pem"), false);
    for _ in 0..2 {
        let refused = handshake(&expired, &client, "localhost").await.unwrap_err();
        assert!(refused.to_string().contains("expired"), "{refused}");
    }
}
