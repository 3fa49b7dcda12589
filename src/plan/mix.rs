//! A workload mix: `[[scenarios]]`, each a kind of user with a weight (Goose allocates users to
//! scenarios by weight). `agent` users run agents over a prompt pool, `api` users call HTTP
//! endpoints through Goose's own requests, `idle` users hold a socket open. Keys an entry does
//! not set come from `[scenario]`, so the single `[scenario]` of a plain plan is a one-entry
//! mix.

use super::checks::ResultCheck;
use super::values::Dur;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Agent,
    Api,
    Idle,
}

impl Kind {
    /// The kind as a plan writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Api => "api",
            Kind::Idle => "idle",
        }
    }
}

/// How an agent user picks the next request from its pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// In order, each user starting at its own place in the pool.
    #[default]
    RoundRobin,
    /// At random, repeatable with `seed`.
    Random,
}

/// One `[[scenarios]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixEntry {
    pub name: String,
    #[serde(default = "one")]
    pub weight: i64,
    #[serde(default)]
    pub kind: Kind,
    pub think_time: Option<super::think::Think>,
    /// agent: the agent the start message asks for (a prompt may name its own).
    pub agent: Option<String>,
    pub user_request: Option<String>,
    #[serde(default)]
    pub user_requests: Vec<String>,
    /// agent: one request per line, a JSON string or `{"request", "agent", "expect_tools"}`.
    pub user_requests_file: Option<PathBuf>,
    #[serde(default)]
    pub pick: Pick,
    #[serde(default)]
    pub seed: u64,
    /// agent: tools the run must execute, in this order (others may come between).
    #[serde(default)]
    pub expect_tools: Vec<String>,
    pub run_timeout: Option<Dur>,
    /// api: the endpoints, picked by weight.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// The prompt pool, read at validation (not a TOML key).
    #[serde(skip)]
    pub prompts: Vec<Prompt>,
}

/// One HTTP endpoint an `api` user calls with its bearer token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    #[serde(default = "get")]
    pub method: String,
    pub path: String,
    #[serde(default = "one")]
    pub weight: i64,
    #[serde(default = "ok")]
    pub expect_status: u16,
    /// Numbers the JSON body must hold, e.g. `{ name = "threads", path = "count", op = ">=", value = 0 }`.
    #[serde(default)]
    pub json_path_checks: Vec<ResultCheck>,
}

/// One request of an agent user's pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub request: String,
    pub agent: Option<String>,
    pub expect_tools: Vec<String>,
}

fn one() -> i64 {
    1
}
fn get() -> String {
    "GET".into()
}
fn ok() -> u16 {
    200
}

impl MixEntry {
    /// The one entry of a plan without `[[scenarios]]`: its `[scenario]`.
    pub fn from_scenario(s: &super::sections::Scenario) -> MixEntry {
        MixEntry {
            name: "agent_user".into(),
            weight: 1,
            kind: Kind::Agent,
            think_time: Some(s.think_time),
            agent: None,
            user_request: Some(s.user_request.clone()),
            user_requests: Vec::new(),
            user_requests_file: None,
            pick: Pick::RoundRobin,
            seed: 0,
            expect_tools: Vec::new(),
            run_timeout: Some(s.run_timeout),
            endpoints: Vec::new(),
            prompts: vec![Prompt {
                request: s.user_request.clone(),
                agent: None,
                expect_tools: Vec::new(),
            }],
        }
    }
}

/// Checks every entry and reads its prompt pool: (entry, key, message) of the first problem.
pub fn prepare_all(
    entries: &mut [MixEntry],
    default_request: &str,
    dir: &Path,
) -> Result<(), (usize, String, String)> {
    for (i, entry) in entries.iter_mut().enumerate() {
        entry
            .prepare(default_request, dir)
            .map_err(|(key, m)| (i, key, m))?;
    }
    for (i, entry) in entries.iter().enumerate() {
        if entries[..i].iter().any(|e| e.name == entry.name) {
            let m = format!("`{}` names two scenarios: names are unique", entry.name);
            return Err((i, "name".into(), m));
        }
    }
    Ok(())
}

/// A problem with entry `index`: (key, message).
type Problem = (String, String);

impl MixEntry {
    /// Checks the entry and reads its prompt pool (`plan_dir`: where relative files are).
    pub fn prepare(&mut self, default_request: &str, plan_dir: &Path) -> Result<(), Problem> {
        let bad = |key: &str, m: String| Err((key.to_string(), m));
        if self.name.trim().is_empty() {
            return bad("name", "give the scenario a name".into());
        }
        if self.weight < 1 {
            return bad(
                "weight",
                format!(
                    "{} is not a weight: use a whole number of 1 or more",
                    self.weight
                ),
            );
        }
        match self.kind {
            Kind::Api if self.endpoints.is_empty() => {
                return bad(
                    "endpoints",
                    "an api scenario needs at least one endpoint".into(),
                )
            }
            Kind::Api | Kind::Idle => {
                if self.user_requests_file.is_some() || !self.user_requests.is_empty() {
                    return bad("user_requests", "only agent scenarios send requests".into());
                }
            }
            Kind::Agent if !self.endpoints.is_empty() => {
                return bad("endpoints", "only api scenarios call endpoints".into())
            }
            Kind::Agent => {}
        }
        for e in &self.endpoints {
            if e.weight < 1 {
                return bad("endpoints", format!("{}: weight must be 1 or more", e.path));
            }
            if !e.path.starts_with('/') {
                return bad("endpoints", format!("`{}`: a path starts with /", e.path));
            }
            if reqwest::Method::from_bytes(e.method.to_uppercase().as_bytes()).is_err() {
                return bad("endpoints", format!("`{}` is not an HTTP method", e.method));
            }
        }
        if self.kind != Kind::Agent {
            return Ok(());
        }
        let plain = |request: &str| Prompt {
            request: request.to_string(),
            agent: None,
            expect_tools: Vec::new(),
        };
        self.prompts = self.user_requests.iter().map(|r| plain(r)).collect();
        if let Some(file) = &self.user_requests_file {
            let path = plan_dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                (
                    "user_requests_file".to_string(),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let prompt = parse_prompt(line).map_err(|m| {
                    let at = format!("{}:{}: {m}", path.display(), i + 1);
                    ("user_requests_file".to_string(), at)
                })?;
                self.prompts.push(prompt);
            }
            if self.prompts.is_empty() {
                return bad(
                    "user_requests_file",
                    format!("{} holds no request", path.display()),
                );
            }
        }
        if self.prompts.is_empty() {
            let request = self.user_request.as_deref().unwrap_or(default_request);
            self.prompts.push(plain(request));
        }
        Ok(())
    }
}

/// One line of a prompts file.
fn parse_prompt(line: &str) -> Result<Prompt, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    match &value {
        serde_json::Value::String(s) if !s.trim().is_empty() => Ok(Prompt {
            request: s.clone(),
            agent: None,
            expect_tools: Vec::new(),
        }),
        serde_json::Value::Object(o) => {
            let request = o
                .get("request")
                .or_else(|| o.get("user_request"))
                .and_then(text)
                .filter(|r| !r.trim().is_empty())
                .ok_or("no \"request\" string")?;
            let expect_tools = match o.get("expect_tools") {
                None => Vec::new(),
                Some(v) => serde_json::from_value(v.clone())
                    .map_err(|_| "\"expect_tools\" is not a list of tool names".to_string())?,
            };
            Ok(Prompt {
                request,
                agent: o.get("agent").and_then(text),
                expect_tools,
            })
        }
        _ => Err("a line is a request string or an object with \"request\"".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_lines_parse() {
        let p = parse_prompt(
            r#"{"request": "cut costs", "agent": "triage", "expect_tools": ["a", "b"]}"#,
        )
        .unwrap();
        assert_eq!(p.agent.as_deref(), Some("triage"));
        assert_eq!(p.expect_tools, vec!["a", "b"]);
        assert_eq!(parse_prompt(r#""just text""#).unwrap().request, "just text");
        assert!(parse_prompt("{}").unwrap_err().contains("request"));
        assert!(parse_prompt("nope").unwrap_err().contains("not JSON"));
        assert!(parse_prompt(r#"{"request": "x", "expect_tools": "a"}"#).is_err());
    }
}
