//! Shards' summaries into one: counters add up, HDR histograms add exactly (the merged
//! P95 is the P95 of every recorded value), timelines add by wall-clock bucket, findings and
//! failures by kind add up. The SLA is judged afterwards, on the merged figures.

mod input;
mod parts;

pub use input::{MergeError, ShardReport};

use super::metrics::{Latency, SerializedLatency};
use super::resources::Resources;
use super::shard::{MergeInfo, ShardRow};
use super::summary::*;
use std::collections::BTreeMap;

/// Refuses shards of different tests or plans, a duplicate index, and (unless `allow_partial`)
/// a missing one or one that stopped early. Returns the missing indexes.
pub fn check(shards: &[ShardReport], allow_partial: bool) -> Result<Vec<usize>, MergeError> {
    let first = shards.first().ok_or(MergeError::Empty)?;
    for s in shards {
        if s.summary.shard.is_none() {
            return Err(MergeError::NotAShard {
                folder: s.folder.clone(),
            });
        }
    }
    let f = first.info();
    let mut seen: BTreeMap<usize, &str> = BTreeMap::new();
    for s in shards {
        let i = s.info();
        if i.run_id != f.run_id {
            return Err(MergeError::RunIds {
                a: first.folder.clone(),
                a_id: f.run_id.clone(),
                b: s.folder.clone(),
                b_id: i.run_id.clone(),
            });
        }
        if i.plan_digest != f.plan_digest {
            return Err(MergeError::PlanDigests {
                a: first.folder.clone(),
                a_digest: short(&f.plan_digest),
                b: s.folder.clone(),
                b_digest: short(&i.plan_digest),
            });
        }
        if i.count != f.count {
            return Err(MergeError::Counts {
                a: first.folder.clone(),
                a_count: f.count,
                b: s.folder.clone(),
                b_count: i.count,
            });
        }
        if s.summary.incomplete() && !allow_partial {
            return Err(MergeError::Incomplete {
                folder: s.folder.clone(),
                index: i.index,
                why: match &s.summary.interrupted {
                    Some(stop) => {
                        format!("was stopped early ({} at {:.1} s)", stop.signal, stop.at_s)
                    }
                    None => "left only a checkpoint (summary.partial.json)".into(),
                },
            });
        }
        if let Some(other) = seen.insert(i.index, &s.folder) {
            return Err(MergeError::Duplicate {
                index: i.index,
                a: other.to_string(),
                b: s.folder.clone(),
            });
        }
    }
    let missing: Vec<usize> = (0..f.count).filter(|i| !seen.contains_key(i)).collect();
    if !missing.is_empty() && !allow_partial {
        return Err(MergeError::Missing {
            missing,
            count: f.count,
        });
    }
    Ok(missing)
}

fn short(digest: &str) -> String {
    digest.chars().take(12).collect()
}

/// The shards' figures as one summary (SLA not judged yet). Call `check` first.
pub fn merge(shards: &[ShardReport], missing: Vec<usize>) -> Result<Summary, MergeError> {
    let f = shards.first().ok_or(MergeError::Empty)?;
    let info = f.info();
    let mut m = Summary {
        plan: f.summary.plan.clone(),
        ..Summary::default()
    };
    let mut targets: Vec<&str> = shards.iter().map(|s| s.summary.target.as_str()).collect();
    targets.dedup();
    m.target = targets.join(", ");
    let origin = |s: &Summary| s.timeline_origin_unix_ms.unwrap_or(0);
    let start = shards.iter().map(|s| origin(&s.summary)).min().unwrap_or(0);
    let end = shards
        .iter()
        .map(|s| origin(&s.summary) + (s.summary.duration_secs * 1000.0) as i64)
        .max()
        .unwrap_or(0);
    m.timeline_origin_unix_ms = Some(start);
    m.duration_secs = (end - start) as f64 / 1000.0;
    m.started_at = shards
        .iter()
        .map(|s| s.summary.started_at.clone())
        .min()
        .unwrap_or_default();
    let mut rows = Vec::new();
    let stopped_early = shards
        .iter()
        .filter(|s| s.summary.incomplete())
        .map(|s| s.info().index)
        .collect::<Vec<usize>>();
    for s in shards {
        m.add_counts(&s.summary);
        rows.push(row(s));
    }
    m.peak_users = rows.iter().map(|r| r.users).sum();
    // Each shard saw the outage from its own users; on the merged clock, side by side.
    for s in shards {
        let shift = (origin(&s.summary) - start) as f64 / 1000.0;
        m.outages
            .extend(s.summary.outages.iter().map(|o| super::incidents::Outage {
                start_s: o.start_s + shift,
                end_s: o.end_s.map(|e| e + shift),
                ..o.clone()
            }));
    }
    m.outages.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    // The deployment is one: its published figures are the first shard's that polled them.
    m.server = shards.iter().find_map(|s| s.summary.server.clone());
    for s in shards {
        if let Some(t) = &s.summary.throttled {
            let shift = (origin(&s.summary) - start) as f64 / 1000.0;
            m.throttled
                .get_or_insert_with(Default::default)
                .add(t, shift);
        }
    }
    m.latency = merge_latency(shards)?;
    (m.timeline_bucket_secs, m.timeline) = merge_timeline(shards, start)?;
    m.checks = merge_checks(shards);
    m.scenarios = merge_scenarios(shards)?;
    m.sessions = merge_sessions(shards, start)?;
    m.breakdown = merge_breakdowns(shards)?;
    m.isolation = merge_isolation(shards.iter().filter_map(|s| s.summary.isolation.as_ref()));
    m.security = merge_security(shards.iter().filter_map(|s| s.summary.security.as_ref()));
    // The target is one: its figures are the first shard's that sampled it. Its memory per
    // connection is not: one shard saw only its own share of the connections.
    m.resources = shards
        .iter()
        .filter_map(|s| s.summary.resources.as_ref())
        .find(|r| r.target.is_some())
        .map(|r| {
            let mut r = Resources {
                samples: Vec::new(),
                generator: None,
                ..r.clone()
            };
            if let Some(t) = r.target.as_mut().filter(|_| shards.len() > 1) {
                t.bytes_per_connection = None;
            }
            r
        });
    m.merge = Some(MergeInfo {
        run_id: info.run_id.clone(),
        plan_digest: info.plan_digest.clone(),
        shard_count: info.count,
        partial: !missing.is_empty() || !stopped_early.is_empty(),
        missing,
        stopped_early,
        total: ShardRow::totals(&rows),
        shards: rows,
    });
    Ok(m)
}

fn row(s: &ShardReport) -> ShardRow {
    let (sum, info) = (&s.summary, s.info());
    let generator = sum.resources.as_ref().and_then(|r| r.generator.clone());
    ShardRow {
        index: info.index,
        host: info.host.clone(),
        folder: s.folder.clone(),
        users: info.users,
        runs: sum.runs.started,
        completed: sum.runs.completed,
        failed: sum.runs.failed,
        connects_failed: sum.connections.failed,
        duration_secs: sum.duration_secs,
        passed: sum.passed,
        generator_cpu_secs: generator
            .as_ref()
            .map(|g| g.mean_cpu_percent / 100.0 * info.cores as f64 * sum.duration_secs),
        generator,
    }
}

/// Adds histograms named `name` of every shard; `None` when no shard has one.
fn add_histograms<'a>(
    shards: &'a [ShardReport],
    name: &str,
    pick: impl Fn(&'a Summary) -> Option<&'a SerializedLatency>,
) -> Result<Option<SerializedLatency>, MergeError> {
    let mut total: Option<Latency> = None;
    for s in shards {
        if let Some(h) = pick(&s.summary) {
            let l = h.latency().map_err(|message| MergeError::Histogram {
                folder: s.folder.clone(),
                name: name.to_string(),
                message,
            })?;
            total.get_or_insert_with(Latency::default).add(&l);
        }
    }
    Ok(total.map(|l| SerializedLatency::from(&l)))
}

fn merge_latency(shards: &[ShardReport]) -> Result<LatencySection, MergeError> {
    let mut section = LatencySection {
        connect: add_histograms(shards, "connect", |s| s.latency.connect.as_ref())?,
        time_to_first_event: add_histograms(shards, "time_to_first_event", |s| {
            s.latency.time_to_first_event.as_ref()
        })?,
        agent_run: add_histograms(shards, "agent_run", |s| s.latency.agent_run.as_ref())?,
        run_span: add_histograms(shards, "run_span", |s| s.latency.run_span.as_ref())?,
        ..LatencySection::default()
    };
    let names = |pick: fn(&Summary) -> &BTreeMap<String, SerializedLatency>| {
        let mut all: Vec<String> = shards
            .iter()
            .flat_map(|s| pick(&s.summary).keys().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    };
    for name in names(|s| &s.latency.from_start) {
        if let Some(h) = add_histograms(shards, &name, |s| s.latency.from_start.get(&name))? {
            section.from_start.insert(name, h);
        }
    }
    for name in names(|s| &s.latency.gap_before) {
        if let Some(h) = add_histograms(shards, &name, |s| s.latency.gap_before.get(&name))? {
            section.gap_before.insert(name, h);
        }
    }
    Ok(section)
}

/// Re-buckets every shard's timeline on the wall clock: bucket `k` of the merged timeline
/// holds the runs that ended `[k·w, (k+1)·w)` seconds after the earliest shard's origin.
fn merge_timeline(
    shards: &[ShardReport],
    start_ms: i64,
) -> Result<(f64, Vec<TimelinePoint>), MergeError> {
    let width = shards
        .iter()
        .map(|s| s.summary.timeline_bucket_secs)
        .fold(1.0, f64::max);
    let mut buckets: BTreeMap<usize, (u64, u64, Option<Latency>)> = BTreeMap::new();
    for s in shards {
        let offset = (s.summary.timeline_origin_unix_ms.unwrap_or(start_ms) - start_ms) as f64;
        for p in &s.summary.timeline {
            let at = offset / 1000.0 + p.at_secs;
            // A few ms of origin skew must not move a bucket.
            let k = ((at + 0.05) / width).floor().max(0.0) as usize;
            let b = buckets.entry(k).or_default();
            b.0 += p.runs_completed;
            b.1 += p.runs_failed;
            if let Some(text) = &p.histogram {
                let l = Latency::decode(text).map_err(|message| MergeError::Histogram {
                    folder: s.folder.clone(),
                    name: format!("timeline at {}s", p.at_secs),
                    message,
                })?;
                b.2.get_or_insert_with(Latency::default).add(&l);
            }
        }
    }
    let last = buckets.keys().next_back().copied();
    let points = (0..last.map_or(0, |k| k + 1))
        .map(|k| {
            let (completed, failed, hist) = buckets.remove(&k).unwrap_or_default();
            let q = |q: f64| hist.as_ref().and_then(|h| h.quantile_ms(q));
            TimelinePoint {
                at_secs: k as f64 * width,
                runs_completed: completed,
                runs_failed: failed,
                runs_per_sec: (completed + failed) as f64 / width,
                p50_ms: q(0.50),
                p95_ms: q(0.95),
                p99_ms: q(0.99),
                histogram: hist.as_ref().map(Latency::encode),
            }
        })
        .collect();
    Ok((width, points))
}

use parts::{
    merge_breakdowns, merge_checks, merge_isolation, merge_scenarios, merge_security,
    merge_sessions,
};

#[cfg(test)]
mod tests;
