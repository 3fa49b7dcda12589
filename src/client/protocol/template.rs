//! The start message, compiled once into text with holes: a run fills the holes with its
//! values, JSON-escaped, instead of copying the message's tree and serializing it again.

use super::profile::Profile;
use serde_json::Value;

/// The names a start message may hold, in the order `render` takes their values.
pub const START_VARS: [&str; 5] = ["user_request", "run_id", "thread_id", "canary", "user_id"];

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    /// The value of `START_VARS[i]`.
    Var(usize),
}

/// A start message (for one agent, or none) with holes for the run's values.
#[derive(Debug, Clone, PartialEq)]
pub struct StartTemplate {
    /// The agent it asks for.
    pub agent: Option<String>,
    parts: Vec<Part>,
    /// A key holds a placeholder: keys are never filled, so this message is filled as a tree.
    tree: Option<Value>,
}

impl StartTemplate {
    pub fn new(profile: &Profile, agent: Option<&str>) -> StartTemplate {
        let message = profile.start_frame(&[], agent);
        let agent = agent.map(String::from);
        if key_has_placeholder(&message) {
            return StartTemplate {
                agent,
                parts: Vec::new(),
                tree: Some(message),
            };
        }
        StartTemplate {
            agent,
            parts: split(&message.to_string()),
            tree: None,
        }
    }

    /// The message with `values` (one per `START_VARS` name) in its holes.
    pub fn render(&self, values: &[&str; 5]) -> String {
        if let Some(tree) = &self.tree {
            let vars: Vec<(&str, &str)> = START_VARS.iter().copied().zip(*values).collect();
            return super::message::fill(tree, &vars).to_string();
        }
        let size = self.parts.iter().map(|p| match p {
            Part::Text(t) => t.len(),
            Part::Var(i) => values[*i].len() + 8,
        });
        let mut out = String::with_capacity(size.sum());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(i) => escape_into(&mut out, values[*i]),
            }
        }
        out
    }
}

/// Serialized JSON split at each `{{name}}` of `START_VARS` (inside strings: keys hold none).
fn split(json: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = json;
    while let Some(open) = rest.find("{{") {
        text.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let var = after.find("}}").and_then(|close| {
            let i = START_VARS.iter().position(|n| *n == &after[..close])?;
            Some((i, close))
        });
        match var {
            Some((i, close)) => {
                parts.push(Part::Text(std::mem::take(&mut text)));
                parts.push(Part::Var(i));
                rest = &after[close + 2..];
            }
            None => {
                text.push_str("{{");
                rest = after;
            }
        }
    }
    text.push_str(rest);
    parts.push(Part::Text(text));
    parts.retain(|p| !matches!(p, Part::Text(t) if t.is_empty()));
    parts
}

fn key_has_placeholder(v: &Value) -> bool {
    match v {
        Value::Object(o) => o
            .iter()
            .any(|(k, v)| k.contains("{{") || key_has_placeholder(v)),
        Value::Array(items) => items.iter().any(key_has_placeholder),
        _ => false,
    }
}

/// `s` as the inside of a JSON string, escaped as serde_json escapes it.
fn escape_into(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match escaped {
            "" => out.push_str(&format!("\\u{b:04x}")),
            e => out.push_str(e),
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ODD: &str = "quote \" slash \\ line\nbell \u{7} tab\t — ünïcode {{run_id}} {{x}}";

    fn by_tree(profile: &Profile, agent: Option<&str>, values: &[&str; 5]) -> String {
        let vars: Vec<(&str, &str)> = START_VARS.iter().copied().zip(*values).collect();
        profile.start_frame(&vars, agent).to_string()
    }

    #[test]
    fn a_rendered_message_equals_the_filled_tree_in_every_profile() {
        let values = [ODD, "u1-r7", "thread-9", "sk-canary", "u1"];
        for name in crate::plan::PROFILES {
            let profile = Profile::builtin(name).unwrap();
            for agent in [None, Some("triage"), Some("odd \"agent\"")] {
                let rendered = StartTemplate::new(&profile, agent).render(&values);
                assert_eq!(
                    rendered,
                    by_tree(&profile, agent, &values),
                    "{name} {agent:?}"
                );
                let parsed: Value = serde_json::from_str(&rendered).unwrap();
                assert!(parsed.to_string().contains("u1-r7"));
            }
        }
    }

    #[test]
    fn unknown_names_stay_and_keys_with_placeholders_are_filled_as_a_tree() {
        let mut profile = Profile::builtin("reference").unwrap();
        profile.start_message = json!({"type": "go", "{{run_id}}": "{{run_id}} {{nope}}",
            "list": ["{{canary}}", 3, null]});
        let values = ["req", "r1", "t1", "c1", "u1"];
        let template = StartTemplate::new(&profile, None);
        assert!(template.tree.is_some());
        assert_eq!(template.render(&values), by_tree(&profile, None, &values));
        profile.start_message = json!({"type": "go", "v": "{{run_id}}{{nope}}{{",
            "list": ["{{canary}}", 3, null]});
        let template = StartTemplate::new(&profile, None);
        assert!(template.tree.is_none());
        assert_eq!(template.render(&values), by_tree(&profile, None, &values));
    }
}
