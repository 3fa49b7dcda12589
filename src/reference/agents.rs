//! The agents the reference target runs, each with its own tool chain and result shape:
//! `cost_optimizer` (the default), `triage` and `data_helper`.

use serde_json::{json, Value};

pub struct AgentDef {
    pub name: &'static str,
    /// The tools a run executes, in order (cost_optimizer repeats its one tool `--tool-calls` times).
    pub tools: &'static [&'static str],
}

pub const AGENTS: [AgentDef; 3] = [
    AgentDef {
        name: "cost_optimizer",
        tools: &["cost_analyzer"],
    },
    AgentDef {
        name: "triage",
        tools: &["log_search", "incident_classifier"],
    },
    AgentDef {
        name: "data_helper",
        tools: &["sql_query", "chart_builder"],
    },
];

/// The agent a start message asks for (`None`: the default); `Err` names an unknown one.
pub fn find(name: Option<&str>) -> Result<&'static AgentDef, String> {
    match name.filter(|n| !n.is_empty()) {
        None => Ok(&AGENTS[0]),
        Some(n) => AGENTS
            .iter()
            .find(|a| a.name == n)
            .ok_or_else(|| format!("unknown agent `{n}`")),
    }
}

/// A tool's result and the run's final result for the non-default agents: (tool result, final).
pub fn results(agent: &str, request: &str, figure: f64) -> (Value, Value) {
    match agent {
        "triage" => {
            let incidents = 1 + (figure as u64) % 7;
            let tool = json!({"incidents_found": incidents, "severity": "high"});
            let done = json!({"summary": format!("Triaged {incidents} incidents for: {request}"),
                              "incidents_found": incidents, "severity": "high",
                              "category": "database"});
            (tool, done)
        }
        _ => {
            let rows = 100 + (figure as u64) % 900;
            let tool = json!({"rows": rows, "chart": "bar"});
            let done = json!({"summary": format!("Queried {rows} rows for: {request}"),
                              "rows": rows, "chart": "bar"});
            (tool, done)
        }
    }
}
