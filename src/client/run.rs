//! One agent run on an open socket: send the start message, read the run's events through the
//! sequence checker, renew the token when it nears expiry, time everything from the send.

mod ending;
mod spec;
mod trace;

use super::continuity::Continuity;
pub use super::refresh::Refresher;
use super::ws::WsStream;
use crate::client::outcome::{event_name, Failure, RunOutcome};
use crate::client::protocol::{AgentEvent, EventKind, Progress, SequenceChecker};
use futures_util::{SinkExt, StreamExt};
pub use spec::{Grace, Run, RunResult, RunSpec, Step};
use std::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

impl<'a> Run<'a> {
    pub fn new(spec: RunSpec<'a>) -> Run<'a> {
        let sent_at = Instant::now();
        Run {
            checker: SequenceChecker::new(spec.rules.clone()),
            timeline: Vec::with_capacity(8),
            final_data: None,
            time_to_first_event: None,
            run_id: spec.run_id.to_string(),
            adopted: !spec.profile.server_assigns_run_id,
            leaks: Vec::new(),
            resumed: false,
            dropped_on_purpose: false,
            continuity: Continuity::default(),
            stale_frames: 0,
            draining: None,
            last_was_terminal: false,
            tracer: trace::Tracer::new(spec.clock_offset),
            deadline: tokio::time::Instant::from_std(sent_at) + spec.timeout,
            sent_at,
            spec,
        }
    }

    /// Sends the start message and reads. Latency starts when it is handed to the socket.
    pub async fn start(&mut self, ws: &mut WsStream, refresher: Option<Refresher<'_>>) -> Step {
        let spec = &self.spec;
        // In template::START_VARS' order.
        let values = [
            spec.user_request,
            spec.run_id,
            spec.thread_id,
            spec.canary,
            spec.user_id,
        ];
        let start = spec.start.render(&values);
        self.sent_at = Instant::now();
        self.deadline = tokio::time::Instant::from_std(self.sent_at) + spec.timeout;
        if let Err(e) = ws.send(Message::text(start)).await {
            return Step::Done(Err((Failure::new("transport.error", e.to_string()), false)));
        }
        self.read(ws, refresher).await
    }

    /// Asks a new socket for the rest of the run, after the last `seq` seen.
    pub async fn resume(&mut self, ws: &mut WsStream, refresher: Option<Refresher<'_>>) -> Step {
        self.resumed = true;
        let resume = serde_json::json!({"type": "resume", "payload": {
            "run_id": self.run_id, "after_seq": self.continuity.last_seq.unwrap_or(0)}});
        if let Err(e) = ws.send(Message::text(resume.to_string())).await {
            return Step::Done(Err((Failure::new("transport.error", e.to_string()), false)));
        }
        self.read(ws, refresher).await
    }

    async fn read(&mut self, ws: &mut WsStream, mut refresher: Option<Refresher<'_>>) -> Step {
        // One timer for the run (not one per frame read).
        let deadline = tokio::time::sleep_until(self.deadline);
        tokio::pin!(deadline);
        // And one for the token's renewal, moved on when the token is renewed.
        let mut due = refresher.as_ref().map(Refresher::due);
        let renewal = tokio::time::sleep_until(due.unwrap_or(self.deadline));
        tokio::pin!(renewal);
        let stop = self.spec.stop;
        let grace_over = stop.grace_over();
        tokio::pin!(grace_over);
        loop {
            let next = tokio::select! {
                // A frame that is there is read before the deadline is looked at.
                biased;
                frame = ws.next() => Ok(frame),
                _ = deadline.as_mut() => Err(()),
                _ = grace_over.as_mut() => return self.done(Failure::interrupted(stop.grace()), false),
                _ = renewal.as_mut(), if due.is_some() => {
                    if let Some(r) = refresher.as_mut() {
                        if let Err(f) = r.renew(ws).await {
                            return self.done(f, false);
                        }
                    }
                    due = refresher.as_ref().map(Refresher::due);
                    renewal.as_mut().reset(due.unwrap_or(self.deadline));
                    continue;
                }
            };
            let frame = match next {
                Err(_) => {
                    let last = self.checker.reached().iter().next_back();
                    let message = format!(
                        "no agent_completed within {:?} (furthest event: {})",
                        self.spec.timeout,
                        last.map_or("none", |k| k.name())
                    );
                    return self.done(Failure::new("transport.timeout", message), false);
                }
                Ok(Some(Ok(Message::Close(Some(close))))) if close.code == CloseCode::Policy => {
                    let message = format!("closed by the server: {}", close.reason);
                    return self.done(Failure::new("auth.token_expired", message), false);
                }
                Ok(Some(Ok(Message::Close(Some(close))))) if super::ws::sheds(&close).is_some() => {
                    let failure = super::ws::sheds(&close).expect("checked");
                    return self.done(failure, false);
                }
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                    return self
                        .interrupted(Failure::new("transport.closed", "socket closed mid-run"));
                }
                Ok(Some(Err(WsError::Capacity(e)))) => {
                    let failure = Failure::new("protocol.frame_too_large", e.to_string());
                    return self.done(failure, false);
                }
                Ok(Some(Err(e))) => {
                    return self.interrupted(Failure::new("transport.error", e.to_string()));
                }
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Binary(b)))) if self.draining.is_none() => {
                    let message = format!("a binary frame of {} bytes", b.len());
                    let failure = Failure::new("protocol.bad_frame", message);
                    self.draining = Some((failure, self.sent_at.elapsed()));
                    continue;
                }
                Ok(Some(Ok(_))) => continue,
            };
            if self.draining.is_some() {
                if self.drain(&frame) {
                    return self.done_draining(true);
                }
                continue;
            }
            match self.frame(&frame) {
                // A verdict before the run's last event: read the rest of the run first.
                Some(Step::Done(Err((failure, true)))) if !self.last_was_terminal => {
                    self.draining = Some((failure, self.sent_at.elapsed()));
                    continue;
                }
                Some(step) => return step,
                None => {}
            }
            let wanted = self.spec.drop_after_events;
            if wanted > 0 && !self.dropped_on_purpose && self.timeline.len() >= wanted {
                self.dropped_on_purpose = true;
                return Step::Interrupted(Failure::new(
                    "reconnect.client_drop",
                    format!("dropped the socket after {wanted} events"),
                ));
            }
        }
    }

    /// Judges one frame; `Some` when the run has its verdict.
    fn frame(&mut self, frame: &str) -> Option<Step> {
        self.last_was_terminal = false;
        let spec = &self.spec;
        // Isolation first: a frame with another user's data is a violation, whatever it is.
        if let Some(owner) = spec.isolation.check(spec.user_index, frame) {
            self.leaks.push(owner);
            return None;
        }
        let Ok(event) = AgentEvent::parse_with(frame, spec.profile) else {
            let message = format!("not an event: {}", crate::client::protocol::excerpt(frame));
            return Some(Step::Done(Err((
                Failure::new("protocol.bad_frame", message),
                true,
            ))));
        };
        if event.wire_name == "token_refresh_failed" {
            let message = crate::client::protocol::excerpt(frame);
            return Some(Step::Done(Err((
                Failure::new("auth.refresh_failed", message),
                false,
            ))));
        }
        if self.resumed
            && event.wire_name == "ack"
            && event.str_field("received_type").as_deref() == Some("resume")
        {
            // The platform acknowledges message types it does not handle: no resume here.
            let message = format!(
                "the server acknowledged resume without resuming: {}",
                crate::client::protocol::excerpt(frame)
            );
            return Some(Step::Done(Err((
                Failure::new("reconnect.not_resumable", message),
                false,
            ))));
        }
        if !event.kind.is_run_event() {
            return None;
        }
        // Another id than this run's: a late frame of an earlier run, a foreign run, or (first
        // event, when the server names runs) this run's own name.
        if let Some(id) = event.run_id.as_deref().filter(|id| *id != self.run_id) {
            if spec.retired.iter().any(|r| r == id) {
                // A late frame of an earlier run of this user: not this run's to judge.
                self.stale_frames += 1;
                return None;
            }
            if self.adopted {
                let message = format!(
                    "an event of run {id} arrived during run {}: {}",
                    self.run_id,
                    crate::client::protocol::excerpt(frame)
                );
                self.last_was_terminal = event.is_terminal();
                return Some(Step::Done(Err((
                    Failure::new("sequence.foreign_run", message),
                    true,
                ))));
            }
            // The server named the run itself: the first run event says how.
            self.run_id = id.to_string();
        }
        self.adopted = true;
        self.last_was_terminal = event.is_terminal();
        if let Err(failure) = self.continuity.check(&event, frame, self.resumed) {
            return Some(Step::Done(Err((failure, true))));
        }
        let at = self.sent_at.elapsed();
        self.time_to_first_event.get_or_insert(at);
        self.timeline.push((event_name(&event), at));
        self.tracer.observe(&event, at, spec.profile);
        match self.checker.observe(&event) {
            Progress::Completed => {
                if spec.keep_final_data {
                    self.final_data = Some(event.data.to_map());
                }
                Some(Step::Done(Ok(())))
            }
            Progress::Failed(v) => {
                let failure = if event.kind == EventKind::Error {
                    let (at, profile) = (spec.token_expires_at, spec.profile);
                    Failure::from_error_event(&event, v.to_string(), at, profile)
                } else {
                    Failure::new(v.kind(), v.to_string())
                };
                let usable = !failure.kind.starts_with("auth.");
                Some(Step::Done(Err((failure, usable))))
            }
            Progress::Continue | Progress::Ignored => None,
        }
    }

    /// The run's result once it has its verdict.
    pub fn finish(self, verdict: Result<(), (Failure, bool)>) -> RunResult {
        // A run that failed before its end was timed at its verdict, not after the drain.
        let elapsed = match &self.draining {
            Some((_, at)) => *at,
            None => self.sent_at.elapsed(),
        };
        let run_ids = match self.run_id == self.spec.run_id {
            true => vec![self.run_id],
            false => vec![self.spec.run_id.to_string(), self.run_id],
        };
        let (failure, socket_usable) = match verdict {
            Ok(()) => (None, true),
            Err((failure, usable)) => (Some(failure), usable),
        };
        let (trace, clock_offset) = self.tracer.finish();
        RunResult {
            outcome: RunOutcome {
                failure,
                reached: self.checker.into_reached(),
                timeline: self.timeline,
                elapsed,
                final_data: self.final_data,
                scenario: 0,
                turn: None,
                trace,
            },
            time_to_first_event: self.time_to_first_event,
            elapsed,
            socket_usable,
            leaks: self.leaks,
            stale_frames: self.stale_frames,
            run_ids,
            clock_offset,
        }
    }
}
