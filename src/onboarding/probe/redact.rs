//! What a transcript, a plan or a recording may show of a frame: tokens (anything shaped like
//! a JWT), the plan's secrets (the JWT secret, the bypass key) and `Bearer …` values are
//! replaced by `[redacted]`; long strings are cut.

use serde_json::Value;

pub const REDACTED: &str = "[redacted]";

/// The longest string a transcript shows whole.
const LONG: usize = 160;

/// What to take out of frames.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Secret values (the plan's credential, tokens the user holds).
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        Redactor {
            secrets: secrets.into_iter().filter(|s| s.len() >= 8).collect(),
        }
    }

    /// `value` with every secret-shaped or secret string replaced (recursively).
    pub fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), self.value(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// `text` with tokens and secrets replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        let words: Vec<String> = out
            .split(|c: char| c.is_whitespace() || c == '"' || c == ',')
            .filter(|w| looks_like_jwt(w))
            .map(String::from)
            .collect();
        for jwt in words {
            out = out.replace(&jwt, REDACTED);
        }
        out
    }

    /// As `value`, with long strings cut (for people, not for a recording).
    pub fn shown(&self, value: &Value) -> Value {
        match self.value(value) {
            Value::String(s) if s.chars().count() > LONG => {
                let cut: String = s.chars().take(LONG).collect();
                Value::String(format!("{cut}… ({} chars)", s.chars().count()))
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.shown(v)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), self.shown(v))).collect())
            }
            other => other,
        }
    }
}

/// Three base64url parts joined by dots, the first a JSON header (`eyJ`): a JWT.
pub fn looks_like_jwt(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && word.len() > 30
        && parts[0].starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_and_secrets_never_show() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        let r = Redactor::new(["bypass-key-0123".to_string()]);
        let frame = json!({"type": "x", "token": jwt, "auth": format!("Bearer {jwt}"),
            "note": "key bypass-key-0123 here", "n": 3, "list": [jwt]});
        let shown = r.value(&frame).to_string();
        assert!(
            !shown.contains("eyJ") && !shown.contains("bypass-key-0123"),
            "{shown}"
        );
        assert_eq!(r.value(&frame)["n"], 3);
        let long = json!({"thought": "x".repeat(500)});
        let cut = r.shown(&long)["thought"].as_str().unwrap().to_string();
        assert!(cut.ends_with("… (500 chars)") && cut.len() < 200, "{cut}");
        assert!(!looks_like_jwt("a.b.c") && !looks_like_jwt("run-123.json.x"));
    }
}
