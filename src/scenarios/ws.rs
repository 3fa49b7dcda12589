//! The WebSocket side of a simulated user: connect with a token, run one agent, close.

use crate::plan::Carrier;
use crate::protocol::{AgentEvent, EventKind, Progress, SequenceChecker, SequenceRules};
use crate::summary::{Failure, RunOutcome};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How to open an authenticated socket to the platform.
pub struct Connector {
    pub tls: Arc<rustls::ClientConfig>,
    pub ws_url: String,
    pub headers: Vec<(String, String)>,
    pub carriers: Vec<Carrier>,
    pub timeout: Duration,
    pub wait_for_welcome: bool,
}

impl Connector {
    /// Opens a socket carrying `jwt`; waits for `connection_established` when asked to.
    /// Connect time runs from before the TCP connect to the end of the handshake.
    pub async fn connect(&self, jwt: &str) -> Result<WsStream, Failure> {
        let request = self.request(jwt)?;
        let connector = tokio_tungstenite::Connector::Rustls(self.tls.clone());
        let deadline = tokio::time::Instant::now() + self.timeout;
        let connecting =
            tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector));
        let (mut ws, _response) = match tokio::time::timeout_at(deadline, connecting).await {
            Err(_) => {
                return Err(Failure::new(
                    "connect.timeout",
                    format!("no WebSocket handshake within {:?}", self.timeout),
                ))
            }
            Ok(Err(e)) => return Err(classify_connect_error(e)),
            Ok(Ok(pair)) => pair,
        };
        if self.wait_for_welcome {
            loop {
                match tokio::time::timeout_at(deadline, ws.next()).await {
                    Err(_) => {
                        return Err(Failure::new(
                            "connect.no_welcome",
                            "no connection_established after the handshake",
                        ))
                    }
                    Ok(Some(Ok(Message::Text(text)))) => {
                        if let Ok(e) = AgentEvent::parse(&text) {
                            match e.kind {
                                EventKind::ConnectionEstablished => break,
                                EventKind::Error => {
                                    return Err(Failure::new(
                                        "auth.refused",
                                        format!(
                                            "error before welcome: {}",
                                            crate::protocol::excerpt(&text)
                                        ),
                                    ))
                                }
                                _ => {}
                            }
                        }
                    }
                    Ok(Some(Ok(_))) => {}
                    Ok(Some(Err(e))) => return Err(Failure::new("transport.error", e.to_string())),
                    Ok(None) => {
                        return Err(Failure::new(
                            "transport.closed",
                            "socket closed before connection_established",
                        ))
                    }
                }
            }
        }
        Ok(ws)
    }

    fn request(
        &self,
        jwt: &str,
    ) -> Result<tokio_tungstenite::tungstenite::http::Request<()>, Failure> {
        let bad = |m: String| Failure::new("setup.request", m);
        let mut url = url::Url::parse(&self.ws_url).map_err(|e| bad(e.to_string()))?;
        if self.carriers.contains(&Carrier::Query) {
            url.query_pairs_mut().append_pair("token", jwt);
        }
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| bad(e.to_string()))?;
        let headers = request.headers_mut();
        let value = |v: &str| HeaderValue::from_str(v).map_err(|e| bad(e.to_string()));
        for (name, v) in &self.headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = name
                .parse()
                .map_err(|_| bad(format!("bad header name {name}")))?;
            headers.insert(name, value(v)?);
        }
        if self.carriers.contains(&Carrier::Header) {
            headers.insert("authorization", value(&format!("Bearer {jwt}"))?);
        }
        if self.carriers.contains(&Carrier::Subprotocol) {
            let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jwt);
            headers.insert("sec-websocket-protocol", value(&format!("jwt.{encoded}"))?);
        }
        Ok(request)
    }
}

/// Sorts a failed upgrade into a failure kind a performance engineer can act on.
fn classify_connect_error(e: WsError) -> Failure {
    match e {
        WsError::Http(response) => {
            let status = response.status().as_u16();
            let kind = if status == 401 || status == 403 {
                "auth.refused"
            } else {
                "connect.http_error"
            };
            Failure::new(kind, format!("upgrade answered HTTP {status}"))
        }
        WsError::Tls(e) => Failure::new("tls.failed", e.to_string()),
        WsError::Io(e) => Failure::new("connect.failed", e.to_string()),
        other => Failure::new("connect.failed", other.to_string()),
    }
}

/// One agent run to perform.
pub struct RunSpec<'a> {
    pub run_id: &'a str,
    pub thread_id: &'a str,
    pub user_request: &'a str,
    pub timeout: Duration,
    pub rules: &'a SequenceRules,
}

/// What a run measured.
pub struct RunResult {
    pub outcome: RunOutcome,
    /// From the start message's send to the run's first event.
    pub time_to_first_event: Option<Duration>,
    /// From the start message's send to the verdict.
    pub elapsed: Duration,
    /// False when the socket can not be trusted for another run (closed, timed out).
    pub socket_usable: bool,
}

/// Starts a run and reads until `agent_completed`, an error, a violation or the timeout.
pub async fn agent_run(ws: &mut WsStream, spec: RunSpec<'_>) -> RunResult {
    let start = serde_json::json!({
        "type": "start_agent",
        "payload": {
            "user_request": spec.user_request,
            "run_id": spec.run_id,
            "thread_id": spec.thread_id,
        }
    });
    let mut checker = SequenceChecker::new(spec.rules.clone());
    let mut events: BTreeMap<String, u64> = BTreeMap::new();
    let mut timeline: Vec<(String, Duration)> = Vec::new();
    let mut final_data = None;
    let mut time_to_first_event = None;
    // Latency starts when the start message is handed to the socket.
    let sent_at = Instant::now();
    let deadline = tokio::time::Instant::from_std(sent_at) + spec.timeout;
    let verdict: Result<(), (Failure, bool)> = async {
        ws.send(Message::text(start.to_string()))
            .await
            .map_err(|e| (Failure::new("transport.error", e.to_string()), false))?;
        loop {
            let frame = match tokio::time::timeout_at(deadline, ws.next()).await {
                Err(_) => {
                    let last = checker
                        .reached()
                        .iter()
                        .next_back()
                        .map(|k| k.name().to_string())
                        .unwrap_or_else(|| "none".into());
                    return Err((
                        Failure::new(
                            "transport.timeout",
                            format!(
                                "no agent_completed within {:?} (furthest event: {last})",
                                spec.timeout
                            ),
                        ),
                        false,
                    ));
                }
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                    return Err((
                        Failure::new("transport.closed", "socket closed mid-run"),
                        false,
                    ))
                }
                Ok(Some(Err(e))) => {
                    return Err((Failure::new("transport.error", e.to_string()), false))
                }
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(_))) => continue,
            };
            let Ok(event) = AgentEvent::parse(&frame) else {
                return Err((
                    Failure::new(
                        "protocol.bad_frame",
                        format!("not an event: {}", crate::protocol::excerpt(&frame)),
                    ),
                    true,
                ));
            };
            if !event.kind.is_run_event() {
                continue;
            }
            if event.run_id.as_deref().is_some_and(|id| id != spec.run_id) {
                // Another run's event on this socket: not ours to judge here.
                continue;
            }
            let at = sent_at.elapsed();
            time_to_first_event.get_or_insert(at);
            timeline.push((event.wire_name.clone(), at));
            *events.entry(event.wire_name.clone()).or_default() += 1;
            match checker.observe(&event) {
                Progress::Completed => {
                    final_data = Some(event.data);
                    return Ok(());
                }
                Progress::Failed(v) => {
                    return Err((Failure::new(v.kind(), v.to_string()), true));
                }
                Progress::Continue | Progress::Ignored => {}
            }
        }
    }
    .await;
    let elapsed = sent_at.elapsed();
    let reached: BTreeSet<EventKind> = checker.reached().clone();
    let (failure, socket_usable) = match verdict {
        Ok(()) => (None, true),
        Err((failure, usable)) => (Some(failure), usable),
    };
    RunResult {
        outcome: RunOutcome {
            failure,
            events,
            reached,
            timeline,
            elapsed,
            final_data,
        },
        time_to_first_event,
        elapsed,
        socket_usable,
    }
}

/// Closes the socket with a close frame; true when the server answered with its own close
/// frame (a clean closing handshake) within 2 s.
pub async fn close(mut ws: WsStream) -> bool {
    if ws.close(None).await.is_err() {
        return false;
    }
    let answered = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(Message::Close(_)) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
        false
    });
    answered.await.unwrap_or(false)
}
