//! Result checks and findings of shards, added up.

use super::input::{MergeError, ShardReport};
use crate::model::breakdown::Breakdown;
use crate::model::findings::{IsolationSummary, SecuritySummary};
use crate::model::mix::{set_shares, ScenarioSummary};
use crate::model::sessions::SessionsSummary;
use crate::model::summary::{CheckSummary, ValueStats};

pub(super) fn merge_checks(shards: &[ShardReport]) -> Vec<CheckSummary> {
    let mut merged: Vec<CheckSummary> = Vec::new();
    for s in shards {
        for c in &s.summary.checks {
            match merged
                .iter_mut()
                .find(|m| m.name == c.name && m.rule == c.rule)
            {
                Some(m) => {
                    m.values = merge_values(m.values.take(), m.runs - m.missing, c);
                    m.runs += c.runs;
                    m.met += c.met;
                    m.missing += c.missing;
                }
                None => merged.push(c.clone()),
            }
        }
    }
    for m in &mut merged {
        m.share_met_percent = match m.runs {
            0 => 0.0,
            runs => 100.0 * m.met as f64 / runs as f64,
        };
    }
    merged
}

/// `a` (over `n_a` values) and `c`'s values together; p50/p95 weighted, marked approximate.
fn merge_values(a: Option<ValueStats>, n_a: u64, c: &CheckSummary) -> Option<ValueStats> {
    let n_b = c.runs - c.missing;
    let (a, b) = match (a, &c.values) {
        (None, b) => return b.clone(),
        (a, None) => return a,
        (Some(a), Some(b)) => (a, b),
    };
    let (wa, wb) = (n_a as f64, n_b as f64);
    let mix = |x: f64, y: f64| match wa + wb {
        0.0 => x,
        w => (x * wa + y * wb) / w,
    };
    Some(ValueStats {
        min: a.min.min(b.min),
        p50: mix(a.p50, b.p50),
        mean: mix(a.mean, b.mean),
        p95: mix(a.p95, b.p95),
        max: a.max.max(b.max),
        approximate: true,
    })
}

pub(super) fn merge_isolation<'a>(
    parts: impl Iterator<Item = &'a IsolationSummary>,
) -> Option<IsolationSummary> {
    parts.fold(None, |acc, i| {
        let mut m = acc.unwrap_or_default();
        m.violations += i.violations;
        m.examples.extend(i.examples.iter().cloned());
        m.examples.truncate(10);
        m.users_welcomed += i.users_welcomed;
        m.distinct_user_ids += i.distinct_user_ids;
        m.distinct_estimated |= i.distinct_estimated;
        m.suspected_auth_bypass = m
            .suspected_auth_bypass
            .or_else(|| i.suspected_auth_bypass.clone());
        Some(m)
    })
}

pub(super) fn merge_security<'a>(
    parts: impl Iterator<Item = &'a SecuritySummary>,
) -> Option<SecuritySummary> {
    parts.fold(None, |acc, s| {
        let mut m = acc.unwrap_or_default();
        m.probes += s.probes;
        m.refused += s.refused;
        for (kind, n) in &s.accepted {
            *m.accepted.entry(kind.clone()).or_default() += n;
        }
        Some(m)
    })
}

/// Each scenario of the mix, added over the shards (by name).
pub(super) fn merge_scenarios(shards: &[ShardReport]) -> Result<Vec<ScenarioSummary>, MergeError> {
    let mut merged: Vec<ScenarioSummary> = Vec::new();
    for s in shards {
        for sc in &s.summary.scenarios {
            let bad = |message: String| MergeError::Histogram {
                folder: s.folder.clone(),
                name: format!("scenario {}", sc.name),
                message,
            };
            match merged.iter_mut().find(|m| m.name == sc.name) {
                Some(m) => m.add(sc).map_err(bad)?,
                None => merged.push(sc.clone()),
            }
        }
    }
    set_shares(&mut merged);
    Ok(merged)
}

/// The shards' sessions on the merged clock (each shard's times shifted by its origin's
/// offset from the earliest, whole buckets), added.
pub(super) fn merge_sessions(
    shards: &[ShardReport],
    start_ms: i64,
) -> Result<Option<SessionsSummary>, MergeError> {
    let mut merged: Option<SessionsSummary> = None;
    for s in shards {
        let Some(part) = &s.summary.sessions else {
            continue;
        };
        let mut part = part.clone();
        let origin = s.summary.timeline_origin_unix_ms.unwrap_or(start_ms);
        let shift = (origin - start_ms) as f64 / 1000.0;
        let width = part.timeline_bucket_secs.max(1.0);
        let whole = (shift / width).round() * width;
        part.timeline.iter_mut().for_each(|p| p.at_secs += whole);
        if let Some(w) = part.arrivals.as_mut() {
            (w.from_secs, w.to_secs) = (w.from_secs + shift, w.to_secs + shift);
        }
        merged
            .get_or_insert_with(SessionsSummary::default)
            .add(&part)
            .map_err(|message| MergeError::Histogram {
                folder: s.folder.clone(),
                name: "sessions".into(),
                message,
            })?;
    }
    Ok(merged)
}

/// The shards' breakdowns added: counts and histograms exactly.
pub(super) fn merge_breakdowns(shards: &[ShardReport]) -> Result<Option<Breakdown>, MergeError> {
    let mut merged: Option<Breakdown> = None;
    for s in shards {
        if let Some(b) = &s.summary.breakdown {
            merged
                .get_or_insert_with(Breakdown::default)
                .add(b)
                .map_err(|message| MergeError::Histogram {
                    folder: s.folder.clone(),
                    name: "breakdown".into(),
                    message,
                })?;
        }
    }
    Ok(merged)
}
