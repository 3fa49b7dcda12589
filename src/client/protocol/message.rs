//! A message filled from a profile's template: `{{name}}` placeholders replaced with a run's
//! values (the start message, the refresh message, the handshake's reply), and the agent a
//! start message asks for.

use super::profile::Profile;
use serde_json::Value;

impl Profile {
    /// The start message with `vars` filled in, asking for `agent` when one is named.
    pub fn start_frame(&self, vars: &[(&str, &str)], agent: Option<&str>) -> Value {
        let mut start = fill(&self.start_message, vars);
        if let Some(agent) = agent {
            self.ask_for_agent(&mut start, agent);
        }
        start
    }

    /// Names the agent a start message asks for: `payload.agent` (reference) or
    /// `payload.agent_type` (netra; its platform's supervisor may ignore it), on the message's
    /// root when it has no payload.
    pub fn ask_for_agent(&self, start: &mut Value, agent: &str) {
        let key = if self.name == "netra" {
            "agent_type"
        } else {
            "agent"
        };
        let Some(root) = start.as_object_mut() else {
            return;
        };
        let target = match root.get_mut("payload").and_then(Value::as_object_mut) {
            Some(payload) => payload,
            None => root,
        };
        target.insert(key.to_string(), Value::String(agent.to_string()));
    }
}

/// Replaces `{{name}}` in every string of `template` with `vars`' values, in one pass over
/// each string; unknown names stay as they are.
pub fn fill(template: &Value, vars: &[(&str, &str)]) -> Value {
    match template {
        Value::String(s) => Value::String(fill_str(s, vars)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, vars)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), fill(v, vars))).collect())
        }
        other => other.clone(),
    }
}

fn fill_str(s: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let value = after.find("}}").and_then(|close| {
            let name = &after[..close];
            let (_, value) = vars.iter().find(|(n, _)| *n == name)?;
            Some((*value, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fill_replaces_placeholders_everywhere() {
        let t = json!({"type": "user_message", "payload": {"content": "{{user_request}}", "ids": ["{{run_id}}"]}});
        let v = fill(&t, &[("user_request", "cut costs"), ("run_id", "r1")]);
        assert_eq!(
            v,
            json!({"type": "user_message", "payload": {"content": "cut costs", "ids": ["r1"]}})
        );
        let odd = fill(&json!("{{a}}{{b}} {{ {{a}}x{{"), &[("a", "1")]);
        assert_eq!(odd, json!("1{{b}} {{ 1x{{"));
    }

    #[test]
    fn the_start_message_asks_for_the_agent_in_each_dialect() {
        let vars = [("user_request", "triage this")];
        let reference = Profile::builtin("reference").unwrap();
        let start = reference.start_frame(&vars, Some("triage"));
        assert_eq!(start["payload"]["agent"], "triage");
        assert_eq!(start["payload"]["user_request"], "triage this");
        let netra = Profile::builtin("netra").unwrap();
        assert_eq!(
            netra.start_frame(&vars, Some("triage"))["payload"]["agent_type"],
            "triage"
        );
        assert!(netra.start_frame(&vars, None)["payload"]
            .get("agent_type")
            .is_none());
    }
}
