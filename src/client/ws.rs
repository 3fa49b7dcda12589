//! The WebSocket side of a simulated user: connect with a token, run one agent, close.

use super::socket::{self, Socket};
use crate::client::outcome::Failure;
use crate::client::protocol::message::fill;
use crate::client::protocol::{excerpt, AgentEvent, EventKind, Profile};
use crate::plan::Carrier;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

pub type WsStream = WebSocketStream<Socket>;

/// How to open an authenticated socket to the platform.
#[derive(Clone)]
pub struct Connector {
    pub tls: Arc<rustls::ClientConfig>,
    pub ws_url: String,
    pub headers: Vec<(String, String)>,
    pub carriers: Vec<Carrier>,
    pub timeout: Duration,
    pub profile: Arc<Profile>,
    /// The largest frame or message read; a bigger one is an error, never a huge buffer.
    pub max_frame: usize,
}

/// An open, welcomed socket and what the server said about the session.
pub struct Connected {
    pub ws: WsStream,
    /// The user id the server's welcome names (to spot every user mapped to one id).
    pub user_id: Option<String>,
    /// The thread id a handshake assigned, when the profile has one.
    pub thread_id: Option<String>,
    /// The server's clock less ours (seconds), from the first stamped frame of the socket.
    pub clock_offset: Option<f64>,
}

impl Connector {
    /// Opens a socket carrying `jwt`, then waits for the profile's welcome and handshake.
    /// Connect time runs from before the TCP connect to the end of all that.
    pub async fn connect(&self, jwt: &str) -> Result<Connected, Failure> {
        self.connect_with(Some(jwt)).await
    }

    /// As `connect`; `None` presents no token at all (a security probe).
    pub async fn connect_with(&self, jwt: Option<&str>) -> Result<Connected, Failure> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let ws = self.open(jwt, deadline).await?;
        let mut connected = Connected {
            ws,
            user_id: None,
            thread_id: None,
            clock_offset: None,
        };
        self.greet(&mut connected, deadline).await?;
        Ok(connected)
    }

    /// The upgrade alone (no welcome awaited): a socket as the platform hands it over.
    pub async fn open(
        &self,
        jwt: Option<&str>,
        deadline: tokio::time::Instant,
    ) -> Result<WsStream, Failure> {
        let request = self.request(jwt)?;
        let connecting = socket::connect(request, &self.tls, socket_config(self.max_frame));
        let (ws, _response) = match tokio::time::timeout_at(deadline, connecting).await {
            Err(_) => {
                return Err(Failure::new(
                    "connect.timeout",
                    format!("no WebSocket handshake within {:?}", self.timeout),
                ))
            }
            Ok(Err(e)) => return Err(classify_connect_error(e)),
            Ok(Ok(pair)) => pair,
        };
        Ok(ws)
    }

    /// Reads frames until the welcome (and the handshake's message, if any) have arrived;
    /// answers the handshake.
    async fn greet(
        &self,
        c: &mut Connected,
        deadline: tokio::time::Instant,
    ) -> Result<(), Failure> {
        let p = &self.profile;
        let handshake = p.handshake.as_ref();
        let deadline = match handshake {
            Some(h) => {
                deadline.max(tokio::time::Instant::now() + Duration::from_millis(h.timeout_ms))
            }
            None => deadline,
        };
        let mut need_welcome = p.welcome.is_some();
        let mut need_handshake = handshake.is_some();
        let mut need_complete = false;
        let mut shed: Option<Failure> = None;
        while need_welcome || need_handshake || need_complete {
            let text = match tokio::time::timeout_at(deadline, c.ws.next()).await {
                Err(_) => {
                    let missing = if need_welcome {
                        p.welcome.clone().unwrap_or_default()
                    } else if need_handshake {
                        handshake.map(|h| h.wait_for.clone()).unwrap_or_default()
                    } else {
                        handshake
                            .and_then(|h| h.complete.clone())
                            .unwrap_or_default()
                    };
                    return Err(Failure::new(
                        "connect.no_welcome",
                        format!("no {missing} after the upgrade"),
                    ));
                }
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Close(Some(close))))) if close.code == CloseCode::Policy => {
                    return Err(Failure::new(
                        "auth.refused",
                        format!("closed before the welcome: {}", close.reason),
                    ))
                }
                Ok(Some(Ok(Message::Close(Some(close))))) if sheds(&close).is_some() => {
                    return Err(shed.unwrap_or(sheds(&close).expect("checked")))
                }
                Ok(None | Some(Ok(Message::Close(_))) | Some(Err(_))) if shed.is_some() => {
                    return Err(shed.expect("checked"))
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => return Err(Failure::new("transport.error", e.to_string())),
                Ok(None) => {
                    return Err(Failure::new(
                        "transport.closed",
                        "socket closed before the welcome",
                    ))
                }
            };
            let Ok(e) = AgentEvent::parse_with(&text, p) else {
                continue;
            };
            if c.clock_offset.is_none() {
                c.clock_offset = crate::client::protocol::stamp(&e)
                    .map(|at| at - crate::client::protocol::unix_now());
            }
            if e.kind == EventKind::Error {
                let failure = Failure::from_error_event(&e, excerpt(&text), None, p);
                if failure.is_throttled() {
                    // The throttler says why, then closes (1013): the close is the same refusal.
                    shed = Some(failure);
                    continue;
                }
                return Err(Failure::new(
                    "auth.refused",
                    format!("error before the welcome: {}", excerpt(&text)),
                ));
            }
            if p.welcome.as_deref() == Some(&*e.wire_name) {
                need_welcome = false;
                c.user_id = e.str_field("user_id").map(String::from);
            }
            if let Some(h) = handshake.filter(|h| h.wait_for == e.wire_name) {
                need_handshake = false;
                c.thread_id = e.str_field("thread_id").map(String::from);
                if let Some(reply) = &h.reply {
                    let thread = c.thread_id.clone().unwrap_or_default();
                    let reply = fill(reply, &[("thread_id", &thread)]);
                    c.ws.send(Message::text(reply.to_string()))
                        .await
                        .map_err(|e| Failure::new("transport.error", e.to_string()))?;
                }
                need_complete = h.complete.is_some();
            } else if handshake.and_then(|h| h.complete.as_deref()) == Some(&*e.wire_name) {
                need_complete = false;
            }
        }
        Ok(())
    }

    fn request(
        &self,
        jwt: Option<&str>,
    ) -> Result<tokio_tungstenite::tungstenite::http::Request<()>, Failure> {
        let bad = |m: String| Failure::new("setup.request", m);
        let mut url = url::Url::parse(&self.ws_url).map_err(|e| bad(e.to_string()))?;
        let carries = |c: Carrier| jwt.is_some() && self.carriers.contains(&c);
        let jwt = jwt.unwrap_or_default();
        if carries(Carrier::Query) {
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
        if carries(Carrier::Header) {
            headers.insert("authorization", value(&format!("Bearer {jwt}"))?);
        }
        if carries(Carrier::Subprotocol) {
            let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jwt);
            headers.insert("sec-websocket-protocol", value(&format!("jwt.{encoded}"))?);
        }
        Ok(request)
    }
}

/// Buffers sized for agent events (small text frames): tungstenite's defaults reserve 128 KiB
/// to read and 128 KiB to write per socket, most of what a simulated user costs at scale.
/// The read buffer grows when a frame needs it, up to `max_frame`; writes go out at once.
fn socket_config(max_frame: usize) -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_frame_size(Some(max_frame))
        .max_message_size(Some(max_frame))
}

/// A close that sheds load: 1013 (Try Again Later) or 1012 (Service Restart).
pub fn sheds(close: &CloseFrame) -> Option<Failure> {
    let code = u16::from(close.code);
    matches!(close.code, CloseCode::Again | CloseCode::Restart).then(|| {
        let message = format!("closed by the server with {code}: {}", close.reason);
        Failure::throttled(format!("close {code}"), message, None)
    })
}

/// Sorts a failed upgrade into a failure kind a performance engineer can act on: 429, or 503
/// with `Retry-After`, is the platform shedding load (its wait is kept).
fn classify_connect_error(e: WsError) -> Failure {
    match e {
        WsError::Http(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            if status == 429 || (status == 503 && retry_after.is_some()) {
                let message = format!("upgrade answered HTTP {status}");
                return Failure::throttled(format!("HTTP {status}"), message, retry_after);
            }
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
