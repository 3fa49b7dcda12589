//! Preflight of one agent run end to end, with the full sequence check.

use crate::client::auth::Identity;
use crate::client::run::{Run, RunSpec, Step};
use crate::load::drive::Clients;
use crate::model::preflight::{Check, Verdict};
use crate::plan::Plan;

/// One agent run end to end, through the full sequence check.
pub async fn agent_run(plan: &Plan, clients: &Clients) -> Check {
    let identity = Identity::new("preflight", 1, &plan.auth.email_domain);
    let jwt = match clients.tokens.token(&identity).await {
        Ok(t) => t.jwt,
        Err(e) => return Check::new("agent", "one run end to end", Verdict::Fail, e.to_string()),
    };
    let mut connected = match clients.connector.connect(&jwt).await {
        Ok(c) => c,
        Err(f) => return Check::new("agent", "one run end to end", Verdict::Fail, f.to_string()),
    };
    let isolation = crate::client::isolation::Isolation::new("preflight");
    let rules = crate::client::protocol::SequenceRules {
        min_thinking_events: plan.scenario.min_thinking_events,
        min_thinking_chars: plan.scenario.min_thinking_chars,
        require_tool: plan.scenario.require_tool,
        expect_tools: Vec::new(),
    };
    let thread = connected
        .thread_id
        .clone()
        .unwrap_or_else(|| format!("{}-thread", identity.sub));
    let run_id = format!("{}-r1", identity.sub);
    let start = crate::client::protocol::StartTemplate::new(&clients.connector.profile, None);
    let retired = std::collections::VecDeque::new();
    let stop = crate::load::stop::Stop::default();
    let mut run = Run::new(RunSpec {
        profile: &clients.connector.profile,
        run_id: &run_id,
        thread_id: &thread,
        user_id: &identity.sub,
        canary: "sk-preflight",
        user_request: &plan.scenario.user_request,
        start: &start,
        timeout: plan.scenario.run_timeout.0,
        rules: &rules,
        isolation: &isolation,
        user_index: 1,
        resume: false,
        drop_after_events: 0,
        retired: &retired,
        token_expires_at: None,
        keep_final_data: false,
        stop: &stop,
        clock_offset: connected.clock_offset,
    });
    let verdict = match run.start(&mut connected.ws, None).await {
        Step::Done(v) => v,
        Step::Interrupted(f) => Err((f, false)),
    };
    let result = run.finish(verdict);
    let _ = crate::client::ws::close(connected.ws).await;
    let events = result.outcome.timeline.len();
    match result.outcome.failure {
        None => Check::new(
            "agent",
            "one run end to end",
            Verdict::Pass,
            format!(
                "{events} events in {} ms, all five in order",
                result.elapsed.as_millis()
            ),
        ),
        Some(f) => Check::new("agent", "one run end to end", Verdict::Fail, f.to_string()),
    }
}
