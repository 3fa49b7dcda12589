//! A recording of a platform's runs, one JSON object a line: a header (the profile it was
//! recorded with and the ids it used, so a replay can put the live ones in their place), then
//! every frame of the socket's prelude (welcome, handshake) and of each run, either way, with
//! its time since the socket opened (prelude) or since the run's start message. Secrets are
//! taken out before a line is written; a person can read and edit it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The first line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    /// Always 1: the format's version.
    pub agentload_recording: u32,
    pub profile: String,
    pub recorded_at: String,
    /// The recording user's id (its token's `sub`), and the thread its runs went to.
    pub user_id: String,
    pub thread_id: Option<String>,
    pub runs: usize,
}

/// Every other line: one frame.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Line {
    /// 0: the socket's prelude; 1..: the run.
    pub run: usize,
    pub at_ms: f64,
    /// `in` (from the platform) or `out` (from the client).
    pub dir: String,
    pub frame: Value,
}

/// A whole recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub header: Header,
    pub lines: Vec<Line>,
}

impl Recording {
    pub fn to_jsonl(&self) -> String {
        let mut out = serde_json::to_string(&self.header).expect("a header serializes");
        out.push('\n');
        for line in &self.lines {
            out.push_str(&serde_json::to_string(line).expect("a line serializes"));
            out.push('\n');
        }
        out
    }

    /// Reads a recording; `Err` names the line that is not one.
    pub fn parse(text: &str) -> Result<Recording, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or("an empty recording")?;
        let header: Header = serde_json::from_str(first)
            .map_err(|e| format!("line 1: not a recording's header: {e}"))?;
        let lines = lines
            .map(|(i, l)| {
                serde_json::from_str::<Line>(l).map_err(|e| format!("line {}: {e}", i + 1))
            })
            .collect::<Result<Vec<Line>, String>>()?;
        Ok(Recording { header, lines })
    }

    /// The prelude's lines (run 0).
    pub fn prelude(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.run == 0)
    }

    /// Run `n`'s lines (1-based).
    pub fn run(&self, n: usize) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(move |l| l.run == n)
    }

    /// The runs recorded (the highest run number).
    pub fn run_count(&self) -> usize {
        self.lines.iter().map(|l| l.run).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_reads_back_as_written() {
        let r = Recording {
            header: Header {
                agentload_recording: 1,
                profile: "reference".into(),
                recorded_at: "2026-12-02T00:00:00Z".into(),
                user_id: "u0-alabc".into(),
                thread_id: None,
                runs: 1,
            },
            lines: vec![Line {
                run: 1,
                at_ms: 12.5,
                dir: "in".into(),
                frame: serde_json::json!({"type": "agent_started"}),
            }],
        };
        assert_eq!(Recording::parse(&r.to_jsonl()).unwrap(), r);
        assert!(Recording::parse("{\"x\":1}")
            .unwrap_err()
            .starts_with("line 1"));
        assert_eq!(r.run_count(), 1);
    }
}
