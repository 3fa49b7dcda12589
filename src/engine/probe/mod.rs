//! A platform looked at before any load: `probe` opens one socket as the plan's first user,
//! keeps every frame (the prelude: welcome, handshake; then a run), tries each built-in
//! profile's start message until one gets a run, and proposes a `[protocol]` section
//! (`analyze`); `record` keeps N runs' frames with their times for a replay. Nothing secret
//! leaves: frames are redacted (`redact`).

pub mod analyze;
pub mod redact;
pub mod section;

use crate::engine::auth::{Identity, Token};
use crate::engine::load::Clients;
use crate::engine::protocol::{AgentEvent, Profile, StartTemplate};
use crate::engine::scenarios::ws::WsStream;
use crate::engine::setup::SetupError;
use crate::plan::Plan;
use analyze::{Frame, Probed};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How long a socket stays quiet before its prelude, or a run, is taken as over.
const QUIET: Duration = Duration::from_secs(2);

/// One socket of a probe or a recording: its frames, timed from `since`.
struct Socket {
    ws: WsStream,
    opened: Instant,
    frames: Vec<Frame>,
}

impl Socket {
    async fn open(clients: &Clients, token: &Token) -> Result<Socket, SetupError> {
        let deadline = tokio::time::Instant::now() + clients.connector.timeout;
        let ws = clients
            .connector
            .open(Some(&token.jwt), deadline)
            .await
            .map_err(|f| SetupError::Probe(f.to_string()))?;
        Ok(Socket {
            ws,
            opened: Instant::now(),
            frames: Vec::new(),
        })
    }

    fn now_ms(&self) -> f64 {
        self.opened.elapsed().as_secs_f64() * 1000.0
    }

    async fn send(&mut self, value: Value) -> Result<(), SetupError> {
        self.frames.push(Frame {
            at_ms: self.now_ms(),
            incoming: false,
            value: value.clone(),
        });
        self.ws
            .send(Message::text(value.to_string()))
            .await
            .map_err(|e| SetupError::Probe(format!("the socket refused a message: {e}")))
    }

    /// The next text frame within `wait`; `None` when quiet (or closed).
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let value =
                        serde_json::from_str(&text).unwrap_or(Value::String(text.to_string()));
                    self.frames.push(Frame {
                        at_ms: self.now_ms(),
                        incoming: true,
                        value: value.clone(),
                    });
                    return Some(value);
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The prelude: frames until the socket is quiet. A handshake (a frame naming
    /// `handshake` with a `thread_id`) is acknowledged as the platform asks; its thread comes
    /// back with the message that offered it and the one that completed it.
    async fn prelude(&mut self) -> Result<Option<(String, String, Option<String>)>, SetupError> {
        let mut handshake: Option<(String, String, Option<String>)> = None;
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            let Some(frame) = self.next(QUIET.min(Duration::from_millis(1500))).await else {
                break;
            };
            let name = frame
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            match &mut handshake {
                None if name.contains("handshake") => {
                    if let Some(thread) = frame.get("thread_id").and_then(Value::as_str) {
                        let reply = serde_json::json!({"type": "handshake_acknowledged",
                            "thread_id": thread, "timestamp": chrono::Utc::now().to_rfc3339()});
                        handshake = Some((name, thread.to_string(), None));
                        self.send(reply).await?;
                    }
                }
                Some((_, _, complete @ None)) if name.contains("handshake") => {
                    *complete = Some(name);
                }
                _ => {}
            }
        }
        Ok(handshake)
    }
}

/// The probe's user: its own identity (a tag of its own) and a token.
async fn user(plan: &Plan, clients: &Clients) -> Result<(Identity, Token), SetupError> {
    let tag = format!("{:06x}", rand::random::<u32>() & 0xFF_FFFF);
    let identity = Identity::new(&format!("p{tag}"), 0, &plan.auth.email_domain);
    let token = clients.tokens.token(&identity).await?;
    Ok((identity, token))
}

/// What was probed, and what must not show.
pub struct ProbeOutcome {
    pub probed: Probed,
    /// Each profile tried before, with why it got no run.
    pub tried: Vec<(String, String)>,
    pub redactor: redact::Redactor,
}

/// Probes the platform: the plan's own profile first, then the other built-in ones.
pub async fn probe(
    plan: &Plan,
    clients: &Clients,
    credential: &str,
    message: &str,
) -> Result<ProbeOutcome, SetupError> {
    let (identity, token) = user(plan, clients).await?;
    let redactor = redact::Redactor::new([credential.to_string(), token.jwt.clone()]);
    let mut profiles = vec![plan.protocol.profile.clone()];
    profiles.extend(
        crate::plan::PROFILES
            .iter()
            .map(|p| p.to_string())
            .filter(|p| *p != plan.protocol.profile),
    );
    let mut tried = Vec::new();
    let mut last = None;
    for name in profiles {
        let profile = Profile::builtin(&name).expect("a built-in profile");
        let mut socket = Socket::open(clients, &token).await?;
        let handshake = socket.prelude().await?;
        let run_id = format!("{}-probe-r1", identity.sub);
        let thread = handshake
            .as_ref()
            .map_or_else(|| format!("{}-probe-thread", identity.sub), |h| h.1.clone());
        let start = StartTemplate::new(&profile, None).render(&[
            message,
            &run_id,
            &thread,
            "sk-probe-canary",
            &identity.sub,
        ]);
        let start_index = socket.frames.len();
        socket
            .send(serde_json::from_str(&start).unwrap_or(Value::String(start)))
            .await?;
        let deadline = Instant::now() + plan.scenario.run_timeout.0;
        let mut events = 0;
        while Instant::now() < deadline {
            let Some(frame) = socket.next(QUIET).await else {
                break;
            };
            let name = frame.get("type").and_then(Value::as_str).unwrap_or("");
            if !(name.contains("error") || name == "ack") {
                events += 1;
            }
        }
        let _ = socket.ws.close(None).await;
        let probed = Probed {
            frames: socket.frames,
            start: start_index,
            run_id,
            profile: name.clone(),
            handshake: handshake.map(|(offer, _, complete)| (offer, complete)),
        };
        if events >= 3 {
            return Ok(ProbeOutcome {
                probed,
                tried,
                redactor,
            });
        }
        tried.push((
            name,
            format!("{events} frame(s) after its start message, none a run"),
        ));
        last = Some(probed);
    }
    let probed = last.expect("at least one profile tried");
    Ok(ProbeOutcome {
        probed,
        tried,
        redactor,
    })
}

/// Records `runs` runs on one socket with the plan's protocol: every frame, either way, timed.
pub async fn record(
    plan: &Plan,
    clients: &Clients,
    credential: &str,
    runs: usize,
) -> Result<crate::wire::recording::Recording, SetupError> {
    use crate::wire::recording::{Header, Line, Recording};
    let (identity, token) = user(plan, clients).await?;
    let redactor = redact::Redactor::new([credential.to_string(), token.jwt.clone()]);
    let profile = &clients.connector.profile;
    let mut socket = Socket::open(clients, &token).await?;
    let handshake = socket.prelude().await?;
    let thread = handshake
        .as_ref()
        .map_or_else(|| format!("{}-thread", identity.sub), |h| h.1.clone());
    let mut lines: Vec<Line> = socket
        .frames
        .drain(..)
        .map(|f| line(0, f, &redactor))
        .collect();
    for n in 1..=runs {
        let run_id = format!("{}-r{n}", identity.sub);
        let start = StartTemplate::new(profile, None).render(&[
            &plan.scenario.user_request,
            &run_id,
            &thread,
            "sk-record-canary",
            &identity.sub,
        ]);
        socket.opened = Instant::now();
        socket
            .send(serde_json::from_str(&start).unwrap_or(Value::String(start)))
            .await?;
        let deadline = Instant::now() + plan.scenario.run_timeout.0;
        let mut ended = false;
        while !ended && Instant::now() < deadline {
            let Some(frame) = socket.next(plan.scenario.run_timeout.0).await else {
                break;
            };
            let text = frame.to_string();
            ended = AgentEvent::parse_with(&text, profile).is_ok_and(|e| e.is_terminal());
        }
        if !ended {
            return Err(SetupError::Probe(format!(
                "run {n} did not end within {:?}: is the plan's [protocol] right? (agentload probe)",
                plan.scenario.run_timeout.0
            )));
        }
        lines.extend(socket.frames.drain(..).map(|f| line(n, f, &redactor)));
    }
    let _ = socket.ws.close(None).await;
    Ok(Recording {
        header: Header {
            agentload_recording: 1,
            profile: plan.protocol.profile.clone(),
            recorded_at: chrono::Utc::now().to_rfc3339(),
            user_id: identity.sub,
            thread_id: Some(thread),
            runs,
        },
        lines,
    })
}

fn line(run: usize, f: Frame, redactor: &redact::Redactor) -> crate::wire::recording::Line {
    crate::wire::recording::Line {
        run,
        at_ms: (f.at_ms * 1000.0).round() / 1000.0,
        dir: if f.incoming { "in" } else { "out" }.to_string(),
        frame: redactor.value(&f.value),
    }
}
