//! One agent run of the reference target: its script of events, the faults it may carry, and
//! delivery through its run slot (so a dropped client can resume it).

use super::agents::AgentDef;
use super::faults::{self, RunFault};
use super::layouts::{self, Ids};
use super::runs::{Delivery, RunSlot};
use super::sink::send;
use super::state::State;
use super::stats::bump;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// How long a run whose socket went away waits for a resume before it is abandoned.
const RESUME_WINDOW: Duration = Duration::from_secs(30);

pub struct AgentRun {
    pub state: Arc<State>,
    /// The replica its socket is pinned to.
    pub replica: usize,
    pub slot: Arc<RunSlot>,
    pub user_id: String,
    pub run_id: String,
    pub payload: Value,
    /// Pulled by the drop fault: the connection goes without a close frame.
    pub kill: Arc<tokio::sync::Notify>,
}

impl AgentRun {
    /// Streams the run's events with the configured delay before each, then settles its
    /// outcome in the counters: completed, errored or abandoned, exactly one.
    pub async fn stream(self) {
        let counters = &self.state.counters;
        let outcome = self.events().await;
        match outcome {
            Outcome::Completed { faulty } => {
                bump(&counters.runs_completed);
                if faulty {
                    bump(&counters.runs_completed_faulty);
                }
            }
            Outcome::Errored => bump(&counters.runs_errored),
            Outcome::Abandoned => bump(&counters.runs_abandoned),
        }
        // Keep the run's frames a while: a client whose socket died while the last frames were
        // in flight can still resume and get them.
        let (state, run_id) = (self.state.clone(), self.run_id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(RESUME_WINDOW).await;
            state.runs.remove(&run_id);
        });
    }

    async fn events(&self) -> Outcome {
        let field = |k: &str| {
            self.payload
                .get(k)
                .and_then(Value::as_str)
                .map(String::from)
        };
        let run_id = &self.run_id;
        let thread_id = field("thread_id").unwrap_or_else(|| format!("thread-{run_id}"));
        let request = field("user_request").unwrap_or_else(|| "optimize costs".into());
        let args = &self.state.args;
        let counters = &self.state.counters;
        let asked = field("agent").or_else(|| field("agent_type"));
        let agent = match self.agent(asked.as_deref()).await {
            Ok(agent) => agent,
            Err(errored) => return errored,
        };
        counters.agent_run(agent.name, false);
        let mut events = self.script(agent, &request, field("canary"));
        // Beyond the capacity knob, a run waits for a slot of its replica before its first
        // event.
        let replica = &self.state.replicas.list[self.replica];
        let _permit = match &replica.run_permits {
            Some(permits) => permits.clone().acquire_owned().await.ok(),
            None => None,
        };
        let _in_flight = self.state.batch.begin();
        let _in_replica = replica.batch.begin();
        let fault = args.faults.pick(&counters.faults);
        faults::apply(fault, &mut events);
        let delay = Duration::from_millis(args.event_delay_ms);
        let ids = Ids {
            run_id,
            thread_id: &thread_id,
            user_id: &self.user_id,
        };
        let mut seen: std::collections::HashMap<&str, u32> = Default::default();
        let mut draws = self.layout_draws();
        let tools = &self.state.tools;
        // The tool executing now, and its slot while it runs.
        let mut running: Option<(String, super::tools::Running)> = None;
        let last = events.len().saturating_sub(1);
        for (index, (kind, mut data)) in events.into_iter().enumerate() {
            if kind == "tool_completed" {
                if let Some((tool, run)) = running.take() {
                    let ran = tools.run(&tool, run).await;
                    data[layouts::tool_duration_key(args.profile)] = json!(ran.as_millis() as u64);
                }
            }
            tokio::time::sleep(replica.batch.delay(delay, args.shared_capacity)).await;
            // The lock every replica shares, held once just before the last event.
            if let (true, Some(lock)) = (index == last, &self.state.replicas.lock) {
                lock.hold().await;
            }
            if index == 2 {
                if let Some(ended) = self.mid_run_fault(fault).await {
                    return ended;
                }
            }
            let nth = seen.entry(kind).or_default();
            *nth += 1;
            let seq = index as u64 + 1;
            let tool = data
                .get("tool_name")
                .and_then(Value::as_str)
                .map(String::from);
            let name = layouts::renamed(&args.rename_events, kind);
            let draw = draws.as_mut().map(rand::Rng::random::<u64>);
            let place = (seq as usize, *nth);
            let frame = layouts::event(args.profile, (kind, name), place, &ids, data, draw);
            // Stamped when made, held before it is sent: a backed-up send path.
            if !tools.send_lag().is_zero() {
                tokio::time::sleep(tools.send_lag()).await;
            }
            let first_thought = kind == "agent_thinking" && *nth == 1;
            let copy = (fault == Some(RunFault::Duplicate) && first_thought)
                .then(|| duplicate(&frame, args.profile));
            if let Err(ended) = self.deliver(seq, frame, copy).await {
                return ended;
            }
            match (kind, tool) {
                ("tool_executing", Some(tool)) => {
                    let run = tools.start(&tool).await;
                    running = Some((tool, run));
                }
                ("tool_completed", Some(tool)) => tools.completed(&tool),
                _ => {}
            }
            // Frames that are no agent events come between them, as on the platform.
            if let Some(extra) = layouts::interlude(args.profile, kind, &ids) {
                self.slot.send_aside(extra.to_string()).await;
            }
        }
        counters.agent_run(agent.name, true);
        Outcome::Completed {
            faulty: matches!(
                fault,
                Some(RunFault::Reorder | RunFault::Omit | RunFault::Duplicate)
            ),
        }
    }
}

impl AgentRun {
    /// The agent the start message asks for; a name the platform does not know ends the run
    /// with an `agent_error` (`Err`: the run's outcome).
    async fn agent(&self, asked: Option<&str>) -> Result<&'static AgentDef, Outcome> {
        let message = match super::agents::find(asked) {
            Ok(agent) => return Ok(agent),
            Err(message) => message,
        };
        let run_id = &self.run_id;
        let error = json!({"type": "agent_error", "run_id": run_id,
            "data": {"message": message, "run_id": run_id}});
        if self.slot.deliver(0, error.to_string()).await == Delivery::Sent {
            bump(&self.state.counters.events_sent);
        }
        Err(Outcome::Errored)
    }

    /// Layouts drawn per event (`--random-layouts`): the same seed, the same runs.
    fn layout_draws(&self) -> Option<rand::rngs::StdRng> {
        self.state.args.dialect.random_layouts.map(|seed| {
            use std::hash::{Hash, Hasher};
            let mut h = std::hash::DefaultHasher::new();
            self.run_id.hash(&mut h);
            <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed ^ h.finish())
        })
    }

    /// The events `agent` sends for `request`: the default agent's with its next tools, or the
    /// agent's own chain; the user's canary echoed in the first, as a platform echoes a user's
    /// data back to that user.
    fn script(
        &self,
        agent: &super::agents::AgentDef,
        request: &str,
        canary: Option<String>,
    ) -> Vec<(&'static str, Value)> {
        let args = &self.state.args;
        let tools = self.state.tools.next_names(args.tool_calls);
        let mut events = script(
            &self.run_id,
            &self.user_id,
            request,
            args.thinking_steps,
            &tools,
        );
        if agent.name != "cost_optimizer" {
            retool(&mut events, agent, request);
        }
        if let (Some(canary), Some((_, started))) = (canary, events.first_mut()) {
            started["canary"] = Value::String(canary);
        }
        events
    }

    /// One event on the run's socket (and its duplicate, with that fault; a copy to another
    /// user, with the leak fault). `Err` when the run ends here: its socket went and no resume
    /// came.
    async fn deliver(&self, seq: u64, frame: Value, copy: Option<Value>) -> Result<(), Outcome> {
        let (args, counters) = (&self.state.args, &self.state.counters);
        if args.faults.leak_now() {
            if let Some(other) = self.state.registry.other_than(&self.user_id) {
                if send(&other, frame.clone()).await {
                    bump(&counters.faults.leak);
                }
            }
        }
        for frame in std::iter::once(frame).chain(copy) {
            match self.slot.deliver(seq, frame.to_string()).await {
                Delivery::Sent => bump(&counters.events_sent),
                // Buffered: a resume replays it, or the run is abandoned.
                Delivery::Buffered if args.no_resume => return Err(Outcome::Abandoned),
                Delivery::Buffered => {
                    if !self.slot.wait_for_socket(RESUME_WINDOW).await {
                        return Err(Outcome::Abandoned);
                    }
                }
            }
        }
        Ok(())
    }

    /// The faults that strike mid-run, before the third event; `Some` when the run ends there.
    async fn mid_run_fault(&self, fault: Option<RunFault>) -> Option<Outcome> {
        match fault {
            // The run goes on without its socket, resumable.
            Some(RunFault::Drop) => self.kill.notify_one(),
            Some(RunFault::Stall) => {
                while self.slot.has_socket() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                return Some(Outcome::Abandoned);
            }
            Some(RunFault::Giant) => self.send_giant().await,
            Some(RunFault::Error) => {
                let run_id = &self.run_id;
                let error = json!({"type": "agent_error", "run_id": run_id,
                    "data": {"message": "injected failure: the agent crashed", "run_id": run_id}});
                if self.slot.deliver(0, error.to_string()).await == Delivery::Sent {
                    bump(&self.state.counters.events_sent);
                }
                return Some(Outcome::Errored);
            }
            _ => {}
        }
        None
    }

    /// The giant-frame fault: one agent_thinking of `--giant-frame-mb` MiB.
    async fn send_giant(&self) {
        let giant = giant_frame(&self.run_id, self.state.args.faults.giant_frame_mb << 20);
        if self.slot.deliver(0, giant).await == Delivery::Sent {
            bump(&self.state.counters.events_sent);
        }
    }
}

/// An agent_thinking whose thought is `bytes` long. Its text is written out, not serialized:
/// a JSON serializer scans each byte for escapes, seconds a frame in a test build on a busy
/// machine, where a run waiting on it timed out.
fn giant_frame(run_id: &str, bytes: usize) -> String {
    let run_id = Value::from(run_id).to_string();
    let mut giant = format!(
        r#"{{"type":"agent_thinking","run_id":{run_id},"data":{{"run_id":{run_id},"thought":""#
    );
    giant.reserve(bytes + 3);
    giant.push_str(&"x".repeat(bytes));
    giant.push_str(r#""}}"#);
    giant
}

enum Outcome {
    Completed { faulty: bool },
    Errored,
    Abandoned,
}

/// Gives a run of `agent` its own tool chain and results (the script is cost_optimizer's).
fn retool(events: &mut Vec<(&'static str, Value)>, agent: &AgentDef, request: &str) {
    let figure = events
        .iter()
        .find_map(|(_, d)| d.pointer("/result/monthly_savings").and_then(Value::as_f64))
        .unwrap_or(1.0);
    let (tool_result, done) = super::agents::results(agent.name, request, figure);
    let run_id = events[0].1["run_id"].clone();
    events.retain(|(kind, _)| !kind.starts_with("tool_"));
    events[0].1["agent_name"] = json!(agent.name);
    let at = events.len() - 1;
    for (k, tool) in agent.tools.iter().enumerate().rev() {
        let id = format!("{}-tool-{}", run_id.as_str().unwrap_or("run"), k + 1);
        let done_tool = json!({"tool_name": tool, "tool_call_id": id, "result": tool_result});
        let start = json!({"tool_name": tool, "tool_call_id": id, "parameters": {"step": k + 1}});
        events.insert(at, ("tool_completed", done_tool));
        events.insert(at, ("tool_executing", start));
    }
    let last = events.len() - 1;
    events[last].1["result"] = done;
}

/// The events of one run, in order: started, thinking × n, (executing, completed) × k, completed.
fn script(
    run_id: &str,
    user: &str,
    request: &str,
    thinking: u32,
    tools: &[String],
) -> Vec<(&'static str, Value)> {
    // Figures vary per run but stay in the seed's healthy ranges.
    let seed = run_id
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let pick = |lo: f64, hi: f64, salt: u64| {
        let x = (seed.wrapping_mul(6364136223846793005).wrapping_add(salt) >> 33) % 10_000;
        lo + (hi - lo) * x as f64 / 10_000.0
    };
    let savings = (pick(6000.0, 20000.0, 1) * 100.0).round() / 100.0;
    let roi = (pick(160.0, 400.0, 2) * 10.0).round() / 10.0;
    let efficiency = (pick(22.0, 45.0, 3) * 10.0).round() / 10.0;
    let mut events = vec![(
        "agent_started",
        json!({"agent_name": "cost_optimizer", "run_id": run_id, "user_id": user}),
    )];
    for step in 1..=thinking {
        let thought = format!(
            "Step {step}: examining the request \"{request}\" — reviewing spend by service, \
             usage patterns and commitments to find the largest savings levers (pass {step})."
        );
        events.push(("agent_thinking", json!({"thought": thought, "step": step})));
    }
    for (k, tool) in tools.iter().enumerate() {
        let id = format!("{run_id}-tool-{}", k + 1);
        events.push((
            "tool_executing",
            json!({"tool_name": tool, "tool_call_id": id,
                   "parameters": {"scope": "compute", "period_days": 30}}),
        ));
        events.push((
            "tool_completed",
            json!({"tool_name": tool, "tool_call_id": id,
                   "result": {"monthly_savings": savings, "roi_percent": roi,
                              "efficiency_gain_percent": efficiency,
                              "recommendations": ["right-size idle instances",
                                                  "buy reserved capacity for steady load"]}}),
        ));
    }
    events.push((
        "agent_completed",
        json!({"status": "success",
               "result": {"summary": format!("Found ${savings:.0}/month in savings for: {request}"),
                          "monthly_savings": savings, "roi_percent": roi,
                          "efficiency_gain_percent": efficiency}}),
    ));
    events
}

/// The duplicate fault's copy of the first thought (the platform's emitter retrying a send
/// marks the copy `attempt: 2`).
fn duplicate(frame: &Value, profile: layouts::TargetProfile) -> Value {
    let mut copy = frame.clone();
    if profile == layouts::TargetProfile::Netra {
        copy["attempt"] = json!(2);
    }
    copy
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_giant_frame_is_the_json_of_an_agent_thinking_of_that_size() {
        let text = super::giant_frame("run-\"7\"", 1 << 10);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], "agent_thinking");
        assert_eq!(v["run_id"], "run-\"7\"");
        assert_eq!(v["data"]["run_id"], "run-\"7\"");
        assert_eq!(v["data"]["thought"].as_str().unwrap().len(), 1 << 10);
    }
}
