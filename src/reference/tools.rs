//! The default agent's tools, and how long they take: names used in turn run by run, tools
//! that are slow, tools that run only so many at once (so they slow down with load), and a
//! delivery lag on every event. Each tool's executions are counted for `/stats`, and each
//! `tool_completed` reports the time the tool itself ran (`duration_ms`), as platforms do.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ToolKnobs {
    /// The default agent's tools, one after another run by run (comma-separated; default:
    /// cost_analyzer).
    #[arg(long, value_delimiter = ',')]
    pub tool_names: Vec<String>,
    /// A tool that runs this long, NAME=MS (repeatable): the time between its tool_executing
    /// and its tool_completed grows by it.
    #[arg(long, value_parser = name_and_number)]
    pub slow_tool: Vec<(String, u64)>,
    /// A tool at most N of whose executions run at once, NAME=N (repeatable): the others wait
    /// their turn, so the tool slows down with load.
    #[arg(long, value_parser = name_and_number)]
    pub tool_capacity: Vec<(String, u64)>,
    /// Hold every agent event this long before sending it; it is stamped when it is made (a
    /// server whose send path is backed up).
    #[arg(long, default_value_t = 0)]
    pub send_lag_ms: u64,
}

fn name_and_number(text: &str) -> Result<(String, u64), String> {
    let (name, n) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: write NAME=NUMBER"))?;
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("`{text}`: {n} is not a number"))?;
    Ok((name.trim().to_string(), n))
}

/// One tool's executions, as `/stats` counts them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToolStats {
    pub executed: u64,
    pub completed: u64,
}

/// The tools' state while the target serves.
pub struct Tools {
    knobs: ToolKnobs,
    slots: HashMap<String, Arc<tokio::sync::Semaphore>>,
    next: AtomicU64,
    counts: Mutex<BTreeMap<String, ToolStats>>,
}

/// A tool execution under way (its slot, while the tool runs).
pub struct Running {
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
    started: tokio::time::Instant,
}

impl Tools {
    pub fn new(knobs: &ToolKnobs) -> Tools {
        let slots = knobs
            .tool_capacity
            .iter()
            .map(|(name, n)| {
                let permits = (*n as usize).max(1);
                (name.clone(), Arc::new(tokio::sync::Semaphore::new(permits)))
            })
            .collect();
        Tools {
            knobs: knobs.clone(),
            slots,
            next: AtomicU64::new(0),
            counts: Mutex::default(),
        }
    }

    /// The default agent's tools for its next run of `calls` tool calls.
    pub fn next_names(&self, calls: u32) -> Vec<String> {
        if self.knobs.tool_names.is_empty() {
            return vec!["cost_analyzer".to_string(); calls as usize];
        }
        let n = self.knobs.tool_names.len() as u64;
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        (0..u64::from(calls))
            .map(|k| self.knobs.tool_names[((first + k) % n) as usize].clone())
            .collect()
    }

    /// `tool` starts: counted, and it waits for a slot when it has a capacity.
    pub async fn start(&self, tool: &str) -> Running {
        self.count(tool, |c| c.executed += 1);
        let slot = match self.slots.get(tool) {
            Some(slots) => slots.clone().acquire_owned().await.ok(),
            None => None,
        };
        Running {
            _slot: slot,
            started: tokio::time::Instant::now(),
        }
    }

    /// `tool` runs (its slow time, if any) and ends; how long it ran, slot wait aside.
    pub async fn run(&self, tool: &str, running: Running) -> Duration {
        let slow = self.knobs.slow_tool.iter().find(|(name, _)| name == tool);
        if let Some((_, ms)) = slow {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
        }
        running.started.elapsed()
    }

    /// `tool`'s completion was sent.
    pub fn completed(&self, tool: &str) {
        self.count(tool, |c| c.completed += 1);
    }

    pub fn send_lag(&self) -> Duration {
        Duration::from_millis(self.knobs.send_lag_ms)
    }

    pub fn stats(&self) -> BTreeMap<String, ToolStats> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn count(&self, tool: &str, f: impl FnOnce(&mut ToolStats)) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if !counts.contains_key(tool) {
            counts.insert(tool.to_string(), ToolStats::default());
        }
        f(counts.get_mut(tool).expect("inserted above"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_round_run_by_run() {
        let knobs = ToolKnobs {
            tool_names: vec!["a".into(), "b".into(), "c".into()],
            ..Default::default()
        };
        let tools = Tools::new(&knobs);
        assert_eq!(tools.next_names(1), vec!["a"]);
        assert_eq!(tools.next_names(2), vec!["b", "c"]);
        assert_eq!(tools.next_names(1), vec!["c"]);
        assert_eq!(
            Tools::new(&ToolKnobs::default()).next_names(2),
            vec!["cost_analyzer"; 2]
        );
        assert_eq!(name_and_number("b=500"), Ok(("b".into(), 500)));
        assert!(name_and_number("b").is_err());
    }
}
