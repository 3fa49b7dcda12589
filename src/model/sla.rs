//! SLA rules that agentload judges itself, beside Goose's thresholds: the error rate (failed
//! runs and connects over attempted ones), result-check shares, detectors and resources.
//! Goose judges latency rules; both land in one verdict list.

use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::Sla;

/// Judges the rules Goose can not: they need our result model.
pub fn judge(sla: &Sla, summary: &Summary) -> Vec<RuleVerdict> {
    let mut verdicts = Vec::new();
    if let Some(max) = sla.error_rate {
        let rate = summary.error_rate_percent();
        let (r, c) = (&summary.runs, &summary.connections);
        let api = match summary.api_calls() {
            (0, _) => String::new(),
            (n, f) => format!(", {f} of {n} api calls"),
        };
        verdicts.push(RuleVerdict {
            rule: format!(
                "error rate <= {}% (failed runs + connects + api calls)",
                max.0
            ),
            observed: format!(
                "{rate:.2}% ({} of {} runs, {} of {} connects{api} failed)",
                r.failed, r.started, c.failed, c.attempted
            ),
            passed: rate <= max.0,
            judged_by: "agentload".into(),
        });
    }
    if let Some(min) = sla.checks_met {
        for check in &summary.checks {
            let observed = if check.runs == 0 {
                "no completed runs".to_string()
            } else {
                format!("{:.1}% of {} runs", check.share_met_percent, check.runs)
            };
            verdicts.push(RuleVerdict {
                rule: format!("{} met by >= {}% of runs", check.rule, min.0),
                observed,
                passed: check.runs > 0 && check.share_met_percent >= min.0,
                judged_by: "agentload".into(),
            });
        }
    }
    if let Some(iso) = &summary.isolation {
        // Zero tolerance, whatever the plan says: these are critical.
        let observed = match iso.examples.first() {
            None => "none".to_string(),
            Some(e) => format!(
                "{} (e.g. user {} received user {}'s data: {})",
                iso.violations, e.receiver, e.owner, e.excerpt
            ),
        };
        verdicts.push(RuleVerdict {
            rule: "no cross-user data (isolation violations = 0)".into(),
            observed,
            passed: iso.violations == 0,
            judged_by: "agentload".into(),
        });
        if iso.users_welcomed >= 2 {
            verdicts.push(RuleVerdict {
                rule: "users are told apart (no suspected auth bypass)".into(),
                observed: match &iso.suspected_auth_bypass {
                    Some(id) => format!("all {} users were given user id {id}", iso.users_welcomed),
                    None => format!("{} distinct user ids", iso.distinct_user_ids),
                },
                passed: iso.suspected_auth_bypass.is_none(),
                judged_by: "agentload".into(),
            });
        }
    }
    if let Some(sec) = &summary.security {
        let accepted: u64 = sec.accepted.values().sum();
        verdicts.push(RuleVerdict {
            rule: "bad tokens are refused (expired, bad signature, missing)".into(),
            observed: if accepted == 0 {
                format!("{} of {} refused", sec.refused, sec.probes)
            } else {
                format!("ACCEPTED {accepted}: {:?}", sec.accepted)
            },
            passed: accepted == 0 && sec.probes > 0,
            judged_by: "agentload".into(),
        });
    }
    let target = summary.resources.as_ref().and_then(|r| r.target.as_ref());
    if let Some(max) = sla.target_memory_per_connection {
        let per_conn = target.and_then(|t| t.bytes_per_connection);
        verdicts.push(RuleVerdict {
            rule: format!("target memory per connection <= {}", human_bytes(max.0)),
            observed: per_conn.map_or("no samples (is the target's pid known?)".into(), |b| {
                format!("{}/connection", human_bytes(b))
            }),
            passed: per_conn.is_some_and(|b| b <= max.0),
            judged_by: "agentload".into(),
        });
    }
    if let Some(max) = sla.target_cpu {
        let cpu = target.map(|t| t.mean_cpu_percent);
        verdicts.push(RuleVerdict {
            rule: format!("target mean CPU <= {}%", max.0),
            observed: cpu.map_or("no samples (is the target's pid known?)".into(), |c| {
                format!("{c:.1}%")
            }),
            passed: cpu.is_some_and(|c| c <= max.0),
            judged_by: "agentload".into(),
        });
    }
    verdicts
}

/// `1.5 MB`, `320 KB`, `12 B` (powers of 1000, as the plan's KB/MB/GB).
pub fn human_bytes(b: f64) -> String {
    let (value, unit) = match b.abs() {
        x if x >= 1e9 => (b / 1e9, "GB"),
        x if x >= 1e6 => (b / 1e6, "MB"),
        x if x >= 1e3 => (b / 1e3, "KB"),
        _ => (b, "B"),
    };
    format!("{value:.1} {unit}")
}
