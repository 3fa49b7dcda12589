//! A platform looked at before any load: `probe` opens sockets as the plan's first user,
//! keeps every frame (the prelude: welcome, handshake; then runs), tries start messages
//! (`starts`: the plan's, the built-in profiles', common shapes) and token carriers until one
//! gets a run, reads several runs on two sockets (more while new frame shapes appear), and
//! proposes a `[protocol]` section that reads them all (`analyze`, `section`); `record` keeps
//! N runs' frames with their times for a replay. Nothing secret leaves: frames are redacted
//! (`redact`).

pub mod analyze;
pub mod choose;
pub mod redact;
pub mod section;
pub mod starts;

use crate::client::auth::{Identity, Token};
use crate::client::protocol::{AgentEvent, Profile, StartTemplate};
use crate::client::ws::{Connector, WsStream};
use crate::load::drive::Clients;
use crate::load::setup::SetupError;
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
    /// The handshake its prelude answered: offer, thread, completion.
    handshake: Option<(String, String, Option<String>)>,
}

impl Socket {
    async fn open(connector: &Connector, token: &Token) -> Result<Socket, SetupError> {
        let deadline = tokio::time::Instant::now() + connector.timeout;
        let ws = connector
            .open(Some(&token.jwt), deadline)
            .await
            .map_err(|f| SetupError::Probe(f.to_string()))?;
        Ok(Socket {
            ws,
            opened: Instant::now(),
            frames: Vec::new(),
            handshake: None,
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

/// Most runs a probe reads: past the runs asked for, it reads more only while new frame
/// shapes keep appearing.
const MAX_RUNS: usize = 20;

/// What was probed, and what must not show.
pub struct ProbeOutcome {
    /// Every run read, in order; a socket's first run holds its prelude.
    pub runs: Vec<Probed>,
    /// Each start message (or token carrier) tried before one got a run, with why not.
    pub tried: Vec<(String, String)>,
    /// The start message that got the runs (`None`: none did).
    pub start: Option<starts::Start>,
    /// The token carriers the sockets opened with, when the plan's were refused.
    pub carriers: Option<Vec<crate::plan::Carrier>>,
    /// Sockets the runs were read on.
    pub sockets: usize,
    pub redactor: redact::Redactor,
}

/// Probes the platform: a start message that gets a run (the plan's, each built-in
/// profile's, then common shapes), then `runs` runs across two sockets, and more while new
/// frame shapes appear (at most `MAX_RUNS`).
pub async fn probe(
    plan: &Plan,
    clients: &Clients,
    credential: &str,
    message: &str,
    runs: usize,
) -> Result<ProbeOutcome, SetupError> {
    let (identity, token) = user(plan, clients).await?;
    let mut outcome = ProbeOutcome {
        runs: Vec::new(),
        tried: Vec::new(),
        start: None,
        carriers: None,
        sockets: 0,
        redactor: redact::Redactor::new([credential.to_string(), token.jwt.clone()]),
    };
    let (connector, carriers) = carriers_that_open(clients, &token, &mut outcome.tried).await?;
    outcome.carriers = carriers;
    let own = Profile::from_plan(&plan.protocol);
    let mut reader = Reader {
        plan,
        connector,
        token,
        identity,
        message: message.to_string(),
        n: 0,
    };
    let mut found = None;
    for start in starts::candidates(&own, &plan.protocol.profile) {
        let mut socket = reader.socket().await?;
        outcome.sockets += 1;
        let run = reader.run(&mut socket, &start).await?;
        let events = run.events();
        if events >= 3 {
            found = Some((start, socket));
            outcome.runs = vec![run];
            break;
        }
        outcome.tried.push((
            format!("{} start message", start.label),
            format!("{events} frame(s) after it, none a run"),
        ));
        let _ = socket.ws.close(None).await;
        outcome.runs = vec![run];
    }
    let Some((start, mut socket)) = found else {
        return Ok(outcome);
    };
    // Half the runs on the first socket, the rest on a second one.
    let first = runs.max(2).div_ceil(2);
    while outcome.runs.len() < first {
        outcome.runs.push(reader.run(&mut socket, &start).await?);
    }
    let _ = socket.ws.close(None).await;
    let mut socket = reader.socket().await?;
    outcome.sockets += 1;
    loop {
        let run = reader.run(&mut socket, &start).await?;
        let new = analyze::new_shapes(&outcome.runs, &run);
        outcome.runs.push(run);
        let wanted = outcome.runs.len() < runs.max(2);
        if !wanted && (new == 0 || outcome.runs.len() >= MAX_RUNS) {
            break;
        }
    }
    let _ = socket.ws.close(None).await;
    outcome.start = Some(start);
    Ok(outcome)
}

/// The plan's token carriers, or (refused) each other one alone: the connector that opened a
/// socket, and the carriers when they are not the plan's.
async fn carriers_that_open(
    clients: &Clients,
    token: &Token,
    tried: &mut Vec<(String, String)>,
) -> Result<(Connector, Option<Vec<crate::plan::Carrier>>), SetupError> {
    let plan = clients.connector.carriers.clone();
    let refused = match Socket::open(&clients.connector, token).await {
        Ok(mut socket) => {
            let _ = socket.ws.close(None).await;
            return Ok((clients.connector.clone(), None));
        }
        Err(e) => e,
    };
    for carriers in starts::other_carriers(&plan) {
        let connector = Connector {
            carriers: carriers.clone(),
            ..clients.connector.clone()
        };
        if let Ok(mut socket) = Socket::open(&connector, token).await {
            let _ = socket.ws.close(None).await;
            let names: Vec<&str> = plan.iter().map(|c| c.name()).collect();
            tried.push((
                format!("the token in {}", names.join(", ")),
                refused.to_string(),
            ));
            return Ok((connector, Some(carriers)));
        }
    }
    Err(refused)
}

/// Reads runs for a probe: its sockets (prelude and handshake read), its runs (numbered).
struct Reader<'a> {
    plan: &'a Plan,
    connector: Connector,
    token: Token,
    identity: Identity,
    message: String,
    n: usize,
}

impl Reader<'_> {
    async fn socket(&self) -> Result<Socket, SetupError> {
        let mut socket = Socket::open(&self.connector, &self.token).await?;
        socket.handshake = socket.prelude().await?;
        Ok(socket)
    }

    /// One run on `socket` with `start`: every frame from the socket's last run (its prelude,
    /// for the first) until the run ends or goes quiet.
    async fn run(
        &mut self,
        socket: &mut Socket,
        start: &starts::Start,
    ) -> Result<Probed, SetupError> {
        self.n += 1;
        let sub = &self.identity.sub;
        let run_id = format!("{sub}-probe-r{}", self.n);
        let thread = socket
            .handshake
            .as_ref()
            .map_or_else(|| format!("{sub}-probe-thread"), |h| h.1.clone());
        let message = start.render(&[&self.message, &run_id, &thread, "sk-probe-canary", sub]);
        let start_index = socket.frames.len();
        socket.send(message).await?;
        let deadline = Instant::now() + self.plan.scenario.run_timeout.0;
        let mut quiet = QUIET;
        while Instant::now() < deadline {
            let Some(frame) = socket.next(quiet).await else {
                break;
            };
            // Past the run's end (by its name), only what trails it.
            if analyze::ends_run(&frame) {
                quiet = TRAILING;
            }
        }
        Ok(Probed {
            frames: std::mem::take(&mut socket.frames),
            start: start_index,
            run_id,
            profile: start.profile.clone().unwrap_or_else(|| "reference".into()),
            handshake: socket
                .handshake
                .as_ref()
                .map(|(offer, _, complete)| (offer.clone(), complete.clone())),
        })
    }
}

/// After a run's last event, how long its socket is read for what trails it.
const TRAILING: Duration = Duration::from_millis(400);

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
    let mut socket = Socket::open(&clients.connector, &token).await?;
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
