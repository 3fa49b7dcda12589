//! Where a run's time goes, traced as its events arrive: the agent `agent_started` names, each
//! tool from its `tool_executing` to its `tool_completed` (matched by call id, else by name)
//! with the time the platform says the tool ran, and each stamped event's delivery lag.
//!
//! Lag is the receive time less the event's own `timestamp`, less the socket's clock offset
//! (server less client, read off the socket's first stamped frame: its welcome), so that two
//! machines' clocks apart do not read as lag.

use crate::client::outcome::{RunTrace, ToolSpan};
use crate::client::protocol::{stamp, unix_now, AgentEvent, EventKind, Profile, Val};
use std::time::Duration;

pub struct Tracer {
    trace: RunTrace,
    /// Tools executing: call id, name, when (since the start message).
    open: Vec<(Option<String>, String, Duration)>,
    offset: Option<f64>,
    /// When `agent_started`, the first `tool_executing`, the last `tool_completed` and
    /// `agent_completed` came.
    marks: [Option<Duration>; 4],
}

impl Tracer {
    /// `offset`: the socket's clock offset, seconds (server less client), when known.
    pub fn new(offset: Option<f64>) -> Tracer {
        Tracer {
            trace: RunTrace::default(),
            open: Vec::new(),
            offset,
            marks: [None; 4],
        }
    }

    /// One of the run's events, `at` after the start message.
    pub fn observe(&mut self, event: &AgentEvent, at: Duration, profile: &Profile) {
        let mark = match event.kind {
            EventKind::AgentStarted => Some((0, false)),
            EventKind::ToolExecuting => Some((1, false)),
            EventKind::ToolCompleted => Some((2, true)),
            EventKind::AgentCompleted => Some((3, false)),
            _ => None,
        };
        if let Some((i, latest)) = mark {
            if latest || self.marks[i].is_none() {
                self.marks[i] = Some(at);
            }
        }
        match event.kind {
            EventKind::AgentStarted if self.trace.agent.is_none() => {
                self.trace.agent = event.str_field("agent_name").map(|n| n.into_owned());
            }
            EventKind::ToolExecuting => {
                let name = tool_name(event);
                self.open.push((call_id(event), name, at));
            }
            EventKind::ToolCompleted => self.completed(event, at, profile),
            _ => {}
        }
        if let Some(stamped) = stamp(event) {
            let now = unix_now();
            let offset = *self.offset.get_or_insert(stamped - now);
            let lag = now - (stamped - offset);
            self.trace
                .lags
                .push(Duration::try_from_secs_f64(lag.max(0.0)).unwrap_or_default());
        }
    }

    fn completed(&mut self, event: &AgentEvent, at: Duration, profile: &Profile) {
        let (id, name) = (call_id(event), tool_name(event));
        let found = match &id {
            Some(id) => self
                .open
                .iter()
                .position(|(i, _, _)| i.as_ref() == Some(id)),
            None => None,
        }
        .or_else(|| self.open.iter().position(|(_, n, _)| *n == name));
        let Some(i) = found else { return };
        let (_, name, started) = self.open.remove(i);
        let server = profile.tool_duration.iter().find_map(|(key, unit)| {
            let v = event.data.get(key).and_then(Val::as_f64)?;
            Duration::try_from_secs_f64(v * unit).ok()
        });
        self.trace.tools.push(ToolSpan {
            name,
            elapsed: Some(at.saturating_sub(started)),
            server,
        });
    }

    /// The run's trace (tools still executing never completed), and the clock offset used.
    pub fn finish(mut self) -> (RunTrace, Option<f64>) {
        if let [Some(started), first_tool, last_tool, Some(done)] = self.marks {
            // A run without tools thinks until its completion.
            let (first_tool, last_tool) = (first_tool.unwrap_or(done), last_tool.unwrap_or(done));
            self.trace.phases = Some([
                started,
                first_tool.saturating_sub(started),
                last_tool.saturating_sub(first_tool),
                done.saturating_sub(last_tool),
            ]);
        }
        for (_, name, _) in self.open.drain(..) {
            self.trace.tools.push(ToolSpan {
                name,
                elapsed: None,
                server: None,
            });
        }
        (self.trace, self.offset)
    }
}

fn tool_name(event: &AgentEvent) -> String {
    event
        .str_field("tool_name")
        .map_or_else(|| "unnamed".to_string(), |n| n.into_owned())
}

fn call_id(event: &AgentEvent) -> Option<String> {
    ["tool_call_id", "execution_id", "id"]
        .iter()
        .find_map(|k| event.str_field(k))
        .map(|id| id.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(text: &'static str) -> AgentEvent<'static> {
        AgentEvent::parse(text).unwrap()
    }

    #[test]
    fn tools_are_matched_by_call_id_and_timed_with_the_servers_duration() {
        let p = Profile::builtin("reference").unwrap();
        let mut t = Tracer::new(Some(0.0));
        let ms = Duration::from_millis;
        t.observe(
            &event(r#"{"type":"agent_started","data":{"agent_name":"triage"}}"#),
            ms(10),
            &p,
        );
        t.observe(
            &event(r#"{"type":"tool_executing","data":{"tool_name":"a","tool_call_id":"1"}}"#),
            ms(20),
            &p,
        );
        t.observe(
            &event(r#"{"type":"tool_executing","data":{"tool_name":"b","tool_call_id":"2"}}"#),
            ms(30),
            &p,
        );
        t.observe(&event(r#"{"type":"tool_completed","data":{"tool_name":"b","tool_call_id":"2","duration_ms":400}}"#), ms(530), &p);
        t.observe(
            &event(r#"{"type":"agent_completed","data":{"status":"ok"}}"#),
            ms(600),
            &p,
        );
        let (trace, _) = t.finish();
        assert_eq!(trace.agent.as_deref(), Some("triage"));
        assert_eq!(trace.phases, Some([ms(10), ms(10), ms(510), ms(70)]));
        assert_eq!(
            trace.tools,
            vec![
                ToolSpan {
                    name: "b".into(),
                    elapsed: Some(ms(500)),
                    server: Some(ms(400))
                },
                ToolSpan {
                    name: "a".into(),
                    elapsed: None,
                    server: None
                },
            ]
        );
    }

    #[test]
    fn lag_takes_the_clock_offset_out_and_reads_every_stamp() {
        let p = Profile::builtin("netra").unwrap();
        // The server's clock runs 100 s ahead: its welcome, stamped now, sets the offset.
        let now = unix_now();
        let mut t = Tracer::new(Some(100.0));
        let stamped = format!(
            r#"{{"type":"agent_thinking","timestamp":{},"reasoning":"x"}}"#,
            now + 100.0 - 0.3
        );
        let e = AgentEvent::parse_with(crate::client::protocol::leak(stamped), &p).unwrap();
        t.observe(&e, Duration::ZERO, &p);
        let (trace, offset) = t.finish();
        assert_eq!(offset, Some(100.0));
        let lag = trace.lags[0].as_secs_f64();
        assert!((lag - 0.3).abs() < 0.05, "{lag}");
        let iso = event(r#"{"type":"x","timestamp":"2026-12-02T10:00:00.5Z"}"#);
        assert_eq!(stamp(&iso), Some(1_796_205_600.5));
        let naive = event(r#"{"type":"x","timestamp":"2026-12-02T10:00:00.5"}"#);
        assert_eq!(stamp(&naive), Some(1_796_205_600.5));
        let ms = event(r#"{"type":"x","timestamp":1796205600500}"#);
        assert_eq!(stamp(&ms), Some(1_796_205_600.5));
    }
}
