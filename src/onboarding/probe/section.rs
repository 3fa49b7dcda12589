//! A proposed `[protocol]` as the plan reads it: its TOML, each line commented with its
//! evidence, and its verdict on the probed run through the sequence checker.

use super::analyze::{Probed, Proposal};
use crate::client::protocol::SequenceRules;
use crate::client::protocol::{AgentEvent, EventKind, Profile, Progress, SequenceChecker};

impl Proposal {
    /// The section as TOML, each line commented with its evidence.
    pub fn toml(&self) -> String {
        let mut out = String::from("[protocol]\n");
        let why = match self.why.is_empty() {
            true => "its start message got the run",
            false => self.why.as_str(),
        };
        out.push_str(&format!("profile = \"{}\"   # {why}\n", self.profile));
        if let Some((message, label)) = &self.start_message {
            out.push_str(&format!(
                "start_message = {}   # {label} start message got the runs\n",
                inline(message)
            ));
        }
        if let Some(carriers) = &self.token_carriers {
            let quoted: Vec<String> = carriers.iter().map(|c| format!("\"{c}\"")).collect();
            out.push_str(&format!(
                "token_carriers = [{}]   # the plan's were refused; this one opened the sockets\n",
                quoted.join(", ")
            ));
        }
        if self.type_path != "type" {
            out.push_str(&format!(
                "type_path = \"{}\"      # where most frames name themselves\n",
                self.type_path
            ));
        }
        match &self.welcome {
            Some(w) => out.push_str(&format!(
                "welcome = \"{w}\"   # the first frame, before anything was sent\n"
            )),
            None => out.push_str(
                "wait_for_welcome = false       # nothing came before the first message\n",
            ),
        }
        let quoted = |items: &[String]| {
            items
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "wrappers = [{}]   # outer types that name the event in data.event or event\n",
            quoted(&self.wrappers)
        ));
        let default_merge = Profile::builtin(&self.profile)
            .map(|p| p.merge)
            .unwrap_or_default();
        if self.merge != default_merge {
            out.push_str(&format!(
                "merge = [{}]   # wrapped frames keep their details in data.payload\n",
                quoted(&self.merge)
            ));
        }
        if !self.error_events.is_empty() {
            let base = Profile::builtin(&self.profile)
                .map(|p| p.errors)
                .unwrap_or_default();
            let all: Vec<String> = base
                .into_iter()
                .chain(self.error_events.iter().cloned())
                .collect();
            out.push_str(&format!(
                "error_events = [{}]   # seen: {}\n",
                quoted(&all),
                self.error_events.join(", ")
            ));
        }
        if let Some((value, why)) = &self.server_assigns_run_id {
            out.push_str(&format!("server_assigns_run_id = {value}   # {why}\n"));
        }
        if !self.aliases.is_empty() {
            out.push_str("\n[protocol.aliases]               # the platform's name = ours\n");
            for (wire, (ours, why)) in &self.aliases {
                out.push_str(&format!("\"{wire}\" = \"{ours}\"   # {why}\n"));
            }
        }
        if let Some((wait_for, complete)) = &self.handshake {
            out.push_str("\n[protocol.handshake]             # the server offered a thread; it was acknowledged\n");
            out.push_str(&format!("wait_for = \"{wait_for}\"\n"));
            out.push_str(
                "reply = { type = \"handshake_acknowledged\", thread_id = \"{{thread_id}}\" }\n",
            );
            if let Some(c) = complete {
                out.push_str(&format!("complete = \"{c}\"\n"));
            }
        }
        out
    }

    /// The section as the plan reads it.
    pub fn protocol(&self) -> Result<crate::plan::Protocol, String> {
        #[derive(serde::Deserialize)]
        struct Section {
            protocol: crate::plan::Protocol,
        }
        toml::from_str::<Section>(&self.toml())
            .map(|s| s.protocol)
            .map_err(|e| e.to_string())
    }
}

/// A JSON value as a TOML inline value (a start message in `[protocol]`).
fn inline(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "\"\"".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).expect("a string serializes"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{} = {}",
                        serde_json::to_string(k).expect("a key"),
                        inline(v)
                    )
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

/// The proposed section's verdict on the probed run: the events it read, or why it failed.
pub fn verdict(proposal: &Proposal, p: &Probed) -> Result<Vec<String>, String> {
    let profile = Profile::from_plan(&proposal.protocol()?);
    let mut checker = SequenceChecker::new(SequenceRules {
        min_thinking_events: 2,
        min_thinking_chars: 50,
        require_tool: true,
        expect_tools: Vec::new(),
    });
    let mut run_id: Option<String> = (!profile.server_assigns_run_id).then(|| p.run_id.clone());
    let mut read = Vec::new();
    for f in p.frames[p.start + 1..].iter().filter(|f| f.incoming) {
        let text = f.value.to_string();
        let Ok(event) = AgentEvent::parse_with(&text, &profile) else {
            continue;
        };
        if !event.kind.is_run_event() {
            continue;
        }
        let id = event.run_id.as_deref().map(String::from);
        match (&run_id, id) {
            (Some(ours), Some(id)) if *ours != id => continue,
            (None, Some(id)) => run_id = Some(id),
            _ => {}
        }
        read.push(event.wire_name.to_string());
        match checker.observe(&event) {
            Progress::Completed => return Ok(read),
            Progress::Failed(v) => return Err(format!("{}: {v}", v.kind())),
            _ => {}
        }
        if event.kind == EventKind::Error {
            return Err(format!(
                "the run ended in an error event `{}`",
                event.wire_name
            ));
        }
    }
    let furthest = checker
        .reached()
        .iter()
        .next_back()
        .map_or("none", |k| k.name());
    Err(format!(
        "the run never completed (furthest event: {furthest})"
    ))
}
