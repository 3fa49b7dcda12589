//! Where the time goes: per tool (executing to completed, the platform's own duration, and
//! the time outside the tool), per agent, per phase of a run, and the events' delivery lag.
//! Exact counts and HDR histograms, so shards add up; a sentence naming the top offender; and
//! what degraded the most between two loads (a capacity search's first step and the one that
//! broke).

use super::metrics::{add_latency, SerializedLatency};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Tools and agents are kept by name up to this many; the rest count as `other`.
pub const MAX_NAMES: usize = 50;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Breakdown {
    /// Sorted by P95, slowest first.
    pub tools: Vec<ToolFigures>,
    pub agents: Vec<AgentFigures>,
    /// Completed runs' phases, in run order.
    pub phases: Vec<PhaseFigures>,
    /// Received less stamped (the socket's clock offset taken out); `None`: no stamped event.
    pub delivery_lag: Option<SerializedLatency>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToolFigures {
    pub name: String,
    pub executed: u64,
    /// Executions that never completed (the run failed or timed out with the tool open).
    pub failed: u64,
    /// `tool_executing` to `tool_completed`.
    pub time: Option<SerializedLatency>,
    /// How long the platform says the tool itself ran.
    pub server: Option<SerializedLatency>,
    /// `time` less `server`: queueing and delivery outside the tool.
    pub outside: Option<SerializedLatency>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AgentFigures {
    pub name: String,
    pub runs: u64,
    pub completed: u64,
    pub failures: BTreeMap<String, u64>,
    /// Completed runs' time.
    pub time: Option<SerializedLatency>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PhaseFigures {
    pub name: String,
    pub time: Option<SerializedLatency>,
    /// Its mean as a share of the phases' means together.
    pub share_percent: f64,
}

fn p95(l: &Option<SerializedLatency>) -> Option<f64> {
    l.as_ref().map(|l| l.stats.p95_ms)
}

impl Breakdown {
    /// Orders tools and agents by P95 (slowest first) and sets the phases' shares.
    pub fn settle(&mut self) {
        let key = |l: &Option<SerializedLatency>| -p95(l).unwrap_or(0.0);
        self.tools
            .sort_by(|a, b| key(&a.time).total_cmp(&key(&b.time)));
        self.agents
            .sort_by(|a, b| key(&a.time).total_cmp(&key(&b.time)));
        let mean = |p: &PhaseFigures| p.time.as_ref().map_or(0.0, |l| l.stats.mean_ms);
        let total: f64 = self.phases.iter().map(mean).sum();
        for p in &mut self.phases {
            p.share_percent = match total > 0.0 {
                true => 100.0 * mean(p) / total,
                false => 0.0,
            };
        }
    }

    /// Adds another shard's breakdown: counts and histograms exactly.
    pub fn add(&mut self, other: &Breakdown) -> Result<(), String> {
        for t in &other.tools {
            match self.tools.iter_mut().find(|m| m.name == t.name) {
                Some(m) => {
                    m.executed += t.executed;
                    m.failed += t.failed;
                    m.time = add_latency(&m.time, &t.time)?;
                    m.server = add_latency(&m.server, &t.server)?;
                    m.outside = add_latency(&m.outside, &t.outside)?;
                }
                None => self.tools.push(t.clone()),
            }
        }
        for a in &other.agents {
            match self.agents.iter_mut().find(|m| m.name == a.name) {
                Some(m) => {
                    m.runs += a.runs;
                    m.completed += a.completed;
                    for (kind, n) in &a.failures {
                        *m.failures.entry(kind.clone()).or_default() += n;
                    }
                    m.time = add_latency(&m.time, &a.time)?;
                }
                None => self.agents.push(a.clone()),
            }
        }
        for p in &other.phases {
            match self.phases.iter_mut().find(|m| m.name == p.name) {
                Some(m) => m.time = add_latency(&m.time, &p.time)?,
                None => self.phases.push(p.clone()),
            }
        }
        self.delivery_lag = add_latency(&self.delivery_lag, &other.delivery_lag)?;
        self.settle();
        Ok(())
    }

    /// Each figure a load's breakdown can be compared on, by name, with its P95 in ms.
    pub fn figures(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for t in &self.tools {
            if let Some(v) = p95(&t.time) {
                out.insert(format!("tool `{}` P95", t.name), v);
            }
        }
        for a in &self.agents {
            if let Some(v) = p95(&a.time) {
                out.insert(format!("agent `{}` P95", a.name), v);
            }
        }
        for p in &self.phases {
            if let Some(v) = p95(&p.time) {
                out.insert(format!("{} P95", p.name), v);
            }
        }
        if let Some(v) = p95(&self.delivery_lag) {
            out.insert("delivery lag P95".into(), v);
        }
        out
    }

    /// One sentence: the slowest tool beside the next, the phase that takes the most, and the
    /// delivery lag; `None` with nothing to say.
    pub fn headline(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(slowest) = self.tools.first() {
            let of = self.tools.len();
            let mut part = format!(
                "tool `{}` is the slowest of {of} (P95 {})",
                slowest.name,
                ms(p95(&slowest.time).unwrap_or(0.0))
            );
            if let (Some(next), Some(top)) = (self.tools.get(1), p95(&slowest.time)) {
                if let Some(v) = p95(&next.time).filter(|v| *v > 0.0) {
                    part.push_str(&format!(", {:.1}× `{}`", top / v, next.name));
                }
            }
            parts.push(part);
        }
        let heaviest = self
            .phases
            .iter()
            .max_by(|a, b| a.share_percent.total_cmp(&b.share_percent));
        if let Some(p) = heaviest.filter(|p| p.share_percent > 0.0) {
            parts.push(format!("{} takes {:.0}% of a run", p.name, p.share_percent));
        }
        if let Some(lag) = &self.delivery_lag {
            parts.push(format!(
                "delivery lag P50 {}, P95 {}",
                ms(lag.stats.p50_ms),
                ms(lag.stats.p95_ms)
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// A time in ms or s, for people.
pub fn ms(v: f64) -> String {
    match v >= 1000.0 {
        true => format!("{:.2} s", v / 1000.0),
        false => format!("{v:.0} ms"),
    }
}

/// Below this, a figure's growth is noise, not degradation (ms).
const FLOOR_MS: f64 = 5.0;

/// What grew the most from `before` to `after` (figure → value; the breakdown's P95s and the
/// server's series): "tool `x` P95 0.20 s → 3.10 s (15.5×)", then what else stayed flat.
pub fn degraded_first(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> Option<String> {
    // Only figures both loads have (a tool the first step never ran is no growth).
    let mut grown: Vec<(&String, f64, f64, f64)> = after
        .iter()
        .filter_map(|(name, a)| {
            let b = *before.get(name)?;
            Some((name, b, *a, a.max(FLOOR_MS) / b.max(FLOOR_MS)))
        })
        .collect();
    grown.sort_by(|x, y| y.3.total_cmp(&x.3));
    let top = grown.first()?.3;
    if top < 1.2 {
        return None;
    }
    // Of the figures that grew about as much as the most, the most telling: a tool says more
    // than the tools phase it is part of.
    let specific = |name: &str| match name {
        n if n.starts_with("tool ") => 0,
        n if n.starts_with("server ") => 1,
        n if n.starts_with("delivery lag") => 2,
        n if n.starts_with("agent ") => 3,
        _ => 4,
    };
    let pick = grown
        .iter()
        .enumerate()
        .filter(|(_, x)| x.3 >= 0.8 * top)
        .min_by_key(|(_, x)| specific(x.0))
        .map_or(0, |(i, _)| i);
    let chosen = grown.remove(pick);
    grown.insert(0, chosen);
    let (name, b, a, g) = grown.first()?;
    let show = |name: &str, v: f64| match name.starts_with("server ") {
        true => format!("{v:.1}"),
        false => ms(v),
    };
    let mut text = format!("{name} {} → {} ({g:.1}×)", show(name, *b), show(name, *a));
    let flat: Vec<String> = grown
        .iter()
        .skip(1)
        .filter(|(_, _, _, g)| *g < 1.5)
        .take(2)
        .map(|(n, b, a, _)| format!("{n} {} → {}", show(n, *b), show(n, *a)))
        .collect();
    if !flat.is_empty() {
        text.push_str(&format!(" while {} stayed flat", flat.join(" and ")));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::Latency;
    use std::time::Duration;

    fn hist(ms: &[u64]) -> Option<SerializedLatency> {
        let mut l = Latency::default();
        ms.iter().for_each(|m| l.record(Duration::from_millis(*m)));
        Some(SerializedLatency::from(&l))
    }

    fn tool(name: &str, ms: &[u64]) -> ToolFigures {
        ToolFigures {
            name: name.into(),
            executed: ms.len() as u64,
            time: hist(ms),
            ..Default::default()
        }
    }

    #[test]
    fn the_slowest_tool_comes_first_and_shards_add_up() {
        let mut b = Breakdown {
            tools: vec![tool("a", &[100; 10]), tool("slow", &[700; 10])],
            ..Default::default()
        };
        b.settle();
        assert_eq!(b.tools[0].name, "slow");
        assert!(b
            .headline()
            .unwrap()
            .starts_with("tool `slow` is the slowest of 2 (P95 700 ms), 7.0× `a`"));
        let other = b.clone();
        b.add(&other).unwrap();
        assert_eq!(b.tools[0].executed, 20);
        assert_eq!(b.tools[0].time.as_ref().unwrap().stats.count, 20);
    }

    #[test]
    fn what_grew_the_most_is_named_with_what_stayed_flat() {
        let before: BTreeMap<String, f64> = [
            ("tool `b` P95".to_string(), 200.0),
            ("thinking P95".to_string(), 100.0),
            ("delivery lag P95".to_string(), 2.0),
        ]
        .into();
        let after: BTreeMap<String, f64> = [
            ("tool `b` P95".to_string(), 3100.0),
            ("thinking P95".to_string(), 104.0),
            ("delivery lag P95".to_string(), 3.0),
        ]
        .into();
        let text = degraded_first(&before, &after).unwrap();
        assert!(
            text.starts_with("tool `b` P95 200 ms → 3.10 s (15.5×) while "),
            "{text}"
        );
        assert!(text.contains("thinking P95 100 ms → 104 ms"), "{text}");
        assert_eq!(degraded_first(&before, &before), None, "nothing grew");
        // A figure only the later load has is no growth, and no panic.
        let mut later = after.clone();
        later.insert("tool `new` P95".into(), 9000.0);
        assert!(degraded_first(&before, &later)
            .unwrap()
            .starts_with("tool `b` P95"));
        // The tools phase grew as much as the tool inside it: the tool is named.
        let mut before = before;
        let mut after = after;
        before.insert("tools P95".into(), 210.0);
        after.insert("tools P95".into(), 3300.0);
        let text = degraded_first(&before, &after).unwrap();
        assert!(text.starts_with("tool `b` P95"), "{text}");
    }
}
