//! Preflight results: one verdict per check, and the table the terminal shows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One line of the preflight table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub area: String,
    pub name: String,
    pub verdict: Verdict,
    pub reason: String,
}

impl Check {
    pub fn new(area: &str, name: &str, verdict: Verdict, reason: impl Into<String>) -> Check {
        Check {
            area: area.into(),
            name: name.into(),
            verdict,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreflightReport {
    pub target: String,
    pub checks: Vec<Check>,
}

impl PreflightReport {
    /// The worst verdict of all checks (pass when there are none).
    pub fn verdict(&self) -> Verdict {
        self.checks
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    /// The table as the terminal shows it.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let verdict = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            out.push_str(&format!(
                "{verdict}  {:<6} {:<34} {}\n",
                c.area, c.name, c.reason
            ));
        }
        out
    }
}
