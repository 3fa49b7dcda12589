//! The start messages a probe tries, in order, until one gets a run: the plan's own, each
//! built-in profile's, then the shapes platforms commonly take (a `type` with a `payload`, a
//! `type` with the text in `message`, `content` or `text`, an `action` field); and the token
//! carriers it tries when the plan's are refused.

use crate::client::protocol::{Profile, StartTemplate};
use crate::plan::Carrier;
use serde_json::{json, Value};

/// A start message to try: what to call it, the built-in profile it is (if one), its template.
#[derive(Debug, Clone)]
pub struct Start {
    pub label: String,
    pub profile: Option<String>,
    pub template: Value,
}

impl Start {
    /// The message for one run (in `template::START_VARS`' order: request, run, thread,
    /// canary, user).
    pub fn render(&self, values: &[&str; 5]) -> Value {
        let mut profile = Profile::builtin("reference").expect("built in");
        profile.start_message = self.template.clone();
        let text = StartTemplate::new(&profile, None).render(values);
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Every start message to try: `own` (the plan's profile with its `[protocol]`), the other
/// built-in profiles', then the common shapes none of them sends.
pub fn candidates(own: &Profile, own_name: &str) -> Vec<Start> {
    let mut out = vec![Start {
        label: format!("the plan's ({own_name})"),
        profile: Some(own_name.to_string()),
        template: own.start_message.clone(),
    }];
    for name in crate::plan::PROFILES.iter().filter(|p| **p != own_name) {
        let profile = Profile::builtin(name).expect("a built-in profile");
        out.push(Start {
            label: format!("{name}'s"),
            profile: Some(name.to_string()),
            template: profile.start_message,
        });
    }
    let ids = |mut v: Value| {
        for (k, x) in [
            ("run_id", "{{run_id}}"),
            ("thread_id", "{{thread_id}}"),
            ("canary", "{{canary}}"),
        ] {
            v[k] = json!(x);
        }
        v
    };
    let shapes = [
        (
            "a type with a payload",
            json!({"type": "message", "payload": ids(json!({"content": "{{user_request}}"}))}),
        ),
        (
            "a type with message",
            ids(json!({"type": "chat", "message": "{{user_request}}"})),
        ),
        (
            "a type with content",
            ids(json!({"type": "message", "content": "{{user_request}}"})),
        ),
        (
            "a type with text",
            ids(json!({"type": "user_message", "text": "{{user_request}}"})),
        ),
        (
            "an action",
            ids(json!({"action": "start", "message": "{{user_request}}"})),
        ),
        (
            "an action with input",
            ids(json!({"action": "run_agent", "input": "{{user_request}}"})),
        ),
    ];
    out.extend(shapes.into_iter().map(|(label, template)| Start {
        label: label.to_string(),
        profile: None,
        template,
    }));
    out
}

/// The carriers to try after the plan's were refused: each other one alone.
pub fn other_carriers(plan: &[Carrier]) -> Vec<Vec<Carrier>> {
    Carrier::ALL
        .into_iter()
        .filter(|c| plan != [*c])
        .map(|c| vec![c])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_renders_the_request_and_the_ids() {
        let own = Profile::builtin("reference").unwrap();
        let all = candidates(&own, "reference");
        assert!(all.len() >= 8);
        assert_eq!(all[0].profile.as_deref(), Some("reference"));
        for start in &all {
            let v = start.render(&["hello there", "r-1", "t-1", "sk-c", "u-1"]);
            let text = v.to_string();
            assert!(
                text.contains("hello there") && text.contains("r-1"),
                "{}: {text}",
                start.label
            );
        }
        let actions = all.iter().filter(|s| s.template.get("action").is_some());
        assert_eq!(actions.count(), 2);
    }
}
