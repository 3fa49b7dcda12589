//! Collects run outcomes from every user while the load runs, into the result model.
//! Outcomes go to one of several shards by user, so users never wait on one global lock.

use crate::checks::ResultCheck;
use crate::metrics::{Latency, SerializedLatency};
use crate::protocol::REQUIRED;
use crate::summary::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Most values kept per check, to bound memory on long runs.
const MAX_VALUES: usize = 100_000;
/// Outcomes go to one of these shards by user, so users never wait on one global lock.
const SHARDS: usize = 16;

#[derive(Default, Clone)]
struct Shard {
    counts: Summary,
    connect: Latency,
    first_event: Latency,
    agent_run: Latency,
    span: Latency,
    from_start: BTreeMap<String, Latency>,
    gap_before: BTreeMap<String, Latency>,
    checks: Vec<(CheckSummary, Vec<f64>)>,
}

/// Collects outcomes from every user while the load runs.
pub struct Collector {
    shards: Vec<Mutex<Shard>>,
    checks: Vec<ResultCheck>,
    /// Sockets open right now (the sampler reads it).
    open: Arc<AtomicI64>,
}

impl Default for Collector {
    fn default() -> Self {
        Collector::new(Vec::new())
    }
}

impl Collector {
    pub fn new(checks: Vec<ResultCheck>) -> Collector {
        let blank = Shard {
            checks: checks
                .iter()
                .map(|c| {
                    let summary = CheckSummary {
                        name: c.name.clone(),
                        rule: c.rule(),
                        required: c.required,
                        ..Default::default()
                    };
                    (summary, Vec::new())
                })
                .collect(),
            ..Default::default()
        };
        Collector {
            shards: (0..SHARDS).map(|_| Mutex::new(blank.clone())).collect(),
            checks,
            open: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The gauge of sockets open right now.
    pub fn open_gauge(&self) -> Arc<AtomicI64> {
        self.open.clone()
    }

    /// A socket was dropped or closed.
    pub fn socket_gone(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// The result checks, to evaluate a completed run against.
    pub fn checks(&self) -> &[ResultCheck] {
        &self.checks
    }

    /// Records a finished run of user `user`.
    pub fn run_finished(&self, user: usize, outcome: RunOutcome) {
        let mut shard = self.shard(user);
        let sh = &mut *shard;
        let s = &mut sh.counts;
        s.runs.started += 1;
        match &outcome.failure {
            None => s.runs.completed += 1,
            Some(f) => {
                s.runs.failed += 1;
                add_failure(&mut s.failures, f);
            }
        }
        for (name, n) in &outcome.events {
            *s.events.entry(name.clone()).or_default() += n;
        }
        if s.funnel.is_empty() {
            s.funnel = REQUIRED.iter().map(|k| (k.name().to_string(), 0)).collect();
        }
        for (kind, (_, count)) in REQUIRED.iter().zip(s.funnel.iter_mut()) {
            if outcome.reached.contains(kind) {
                *count += 1;
            }
        }
        let mut previous = Duration::ZERO;
        for (name, at) in &outcome.timeline {
            sh.from_start.entry(name.clone()).or_default().record(*at);
            sh.gap_before
                .entry(name.clone())
                .or_default()
                .record(at.saturating_sub(previous));
            previous = *at;
        }
        if let Some((_, first)) = outcome.timeline.first() {
            sh.first_event.record(*first);
        }
        if outcome.failure.is_none() {
            sh.agent_run.record(outcome.elapsed);
            if let (Some((_, first)), Some((_, last))) =
                (outcome.timeline.first(), outcome.timeline.last())
            {
                sh.span.record(last.saturating_sub(*first));
            }
        }
        if let Some(data) = &outcome.final_data {
            for (check, (summary, values)) in self.checks.iter().zip(sh.checks.iter_mut()) {
                let (value, met) = check.evaluate(data);
                summary.runs += 1;
                summary.met += u64::from(met);
                match value {
                    Some(v) if values.len() < MAX_VALUES => values.push(v),
                    Some(_) => {}
                    None => summary.missing += 1,
                }
            }
        }
    }

    /// Records a connect attempt of user `user` and how long it took.
    pub fn connect_attempted(&self, user: usize, elapsed: Duration, failure: Option<&Failure>) {
        let mut shard = self.shard(user);
        let s = &mut shard.counts;
        s.connections.attempted += 1;
        match failure {
            None => {
                s.connections.established += 1;
                shard.connect.record(elapsed);
                self.open.fetch_add(1, Ordering::Relaxed);
            }
            Some(f) => {
                s.connections.failed += 1;
                add_failure(&mut s.failures, f);
            }
        }
    }

    pub fn closed_cleanly(&self, user: usize) {
        self.shard(user).counts.connections.closed_cleanly += 1;
    }

    /// Everything collected so far, merged across shards.
    pub fn snapshot(&self) -> Summary {
        let mut total = Shard::default();
        for (i, shard) in self.shards.iter().enumerate() {
            let sh = shard.lock().unwrap_or_else(|p| p.into_inner());
            merge(&mut total, &sh, i == 0);
        }
        let mut s = total.counts;
        if s.funnel.is_empty() {
            s.funnel = REQUIRED.iter().map(|k| (k.name().to_string(), 0)).collect();
        }
        let ser = |l: &Latency| (l.count() > 0).then(|| SerializedLatency::from(l));
        s.latency = LatencySection {
            connect: ser(&total.connect),
            time_to_first_event: ser(&total.first_event),
            agent_run: ser(&total.agent_run),
            run_span: ser(&total.span),
            from_start: total
                .from_start
                .iter()
                .map(|(k, l)| (k.clone(), l.into()))
                .collect(),
            gap_before: total
                .gap_before
                .iter()
                .map(|(k, l)| (k.clone(), l.into()))
                .collect(),
        };
        s.checks = total
            .checks
            .into_iter()
            .map(|(mut c, mut values)| {
                c.share_met_percent = if c.runs == 0 {
                    0.0
                } else {
                    100.0 * c.met as f64 / c.runs as f64
                };
                c.values = value_stats(&mut values);
                c
            })
            .collect();
        s
    }

    fn shard(&self, user: usize) -> MutexGuard<'_, Shard> {
        // A panic in one user must not hide every other user's figures.
        self.shards[user % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

fn merge(total: &mut Shard, sh: &Shard, first: bool) {
    let (t, s) = (&mut total.counts, &sh.counts);
    t.runs.started += s.runs.started;
    t.runs.completed += s.runs.completed;
    t.runs.failed += s.runs.failed;
    t.connections.attempted += s.connections.attempted;
    t.connections.established += s.connections.established;
    t.connections.failed += s.connections.failed;
    t.connections.closed_cleanly += s.connections.closed_cleanly;
    for (kind, b) in &s.failures {
        let tb = t.failures.entry(kind.clone()).or_default();
        if tb.count == 0 {
            tb.example = b.example.clone();
        }
        tb.count += b.count;
    }
    for (name, n) in &s.events {
        *t.events.entry(name.clone()).or_default() += n;
    }
    if t.funnel.is_empty() {
        t.funnel = s.funnel.clone();
    } else {
        for ((_, tc), (_, sc)) in t.funnel.iter_mut().zip(&s.funnel) {
            *tc += sc;
        }
    }
    total.connect.add(&sh.connect);
    total.first_event.add(&sh.first_event);
    total.agent_run.add(&sh.agent_run);
    total.span.add(&sh.span);
    for (k, l) in &sh.from_start {
        total.from_start.entry(k.clone()).or_default().add(l);
    }
    for (k, l) in &sh.gap_before {
        total.gap_before.entry(k.clone()).or_default().add(l);
    }
    if first {
        total.checks = sh.checks.clone();
    } else {
        for ((tc, tv), (sc, sv)) in total.checks.iter_mut().zip(&sh.checks) {
            tc.runs += sc.runs;
            tc.met += sc.met;
            tc.missing += sc.missing;
            tv.extend_from_slice(sv);
        }
    }
}

fn value_stats(values: &mut [f64]) -> Option<ValueStats> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some(ValueStats {
        min: values[0],
        p50: at(0.5),
        mean: values.iter().sum::<f64>() / values.len() as f64,
        p95: at(0.95),
        max: values[values.len() - 1],
    })
}

fn add_failure(failures: &mut BTreeMap<String, FailureBucket>, f: &Failure) {
    let bucket = failures.entry(f.kind.clone()).or_default();
    if bucket.count == 0 {
        bucket.example = f.message.clone();
    }
    bucket.count += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::EventKind;
    use std::collections::BTreeSet;

    #[test]
    fn outcomes_add_up() {
        let c = Collector::default();
        let reached: BTreeSet<EventKind> = REQUIRED.iter().cloned().collect();
        let ms = Duration::from_millis;
        c.run_finished(
            0,
            RunOutcome {
                failure: None,
                events: BTreeMap::from([("agent_thinking".into(), 2)]),
                reached,
                timeline: vec![
                    ("agent_started".into(), ms(10)),
                    ("agent_thinking".into(), ms(30)),
                ],
                elapsed: ms(30),
                final_data: None,
            },
        );
        c.run_finished(
            1,
            RunOutcome {
                failure: Some(Failure::new(
                    "transport.timeout",
                    "no agent_completed in 5s",
                )),
                events: BTreeMap::from([("agent_thinking".into(), 1)]),
                reached: BTreeSet::from([EventKind::AgentStarted]),
                timeline: vec![("agent_started".into(), ms(12))],
                elapsed: ms(5000),
                final_data: None,
            },
        );
        let s = c.snapshot();
        assert_eq!(
            s.runs,
            RunCounts {
                started: 2,
                completed: 1,
                failed: 1
            }
        );
        assert_eq!(s.events["agent_thinking"], 3);
        assert_eq!(s.funnel[0], ("agent_started".to_string(), 2));
        assert_eq!(s.funnel[4], ("agent_completed".to_string(), 1));
        assert_eq!(s.failures["transport.timeout"].count, 1);
        let run = s.latency.agent_run.as_ref().unwrap();
        assert_eq!(run.stats.count, 1, "only completed runs count");
        assert_eq!(s.latency.from_start["agent_started"].stats.count, 2);
        let gap = &s.latency.gap_before["agent_thinking"].stats;
        assert!((gap.max_ms - 20.0).abs() < 0.05, "{gap:?}");
        assert!((s.latency.run_span.as_ref().unwrap().stats.p50_ms - 20.0).abs() < 0.05);
    }

    #[test]
    fn result_checks_aggregate() {
        let check: ResultCheck = toml::from_str(
            "name = \"savings\"\npath = \"result.monthly_savings\"\nop = \">=\"\nvalue = 5000",
        )
        .unwrap();
        let c = Collector::new(vec![check]);
        for (user, savings) in [(0, 4000.0), (1, 6000.0), (2, 9000.0)] {
            let data = serde_json::json!({"result": {"monthly_savings": savings}});
            c.run_finished(
                user,
                RunOutcome {
                    failure: None,
                    events: BTreeMap::new(),
                    reached: BTreeSet::new(),
                    timeline: vec![],
                    elapsed: Duration::from_millis(1),
                    final_data: data.as_object().cloned(),
                },
            );
        }
        let s = c.snapshot();
        let check = &s.checks[0];
        assert_eq!((check.runs, check.met, check.missing), (3, 2, 0));
        assert!((check.share_met_percent - 66.666).abs() < 0.01);
        let values = check.values.as_ref().unwrap();
        assert_eq!(
            (values.min, values.p50, values.max),
            (4000.0, 6000.0, 9000.0)
        );
    }
}
