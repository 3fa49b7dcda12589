//! SLA rules that agentload judges itself, beside Goose's thresholds: the error rate (failed
//! runs and connects over attempted ones), result-check shares, detectors and resources.
//! Goose judges latency rules; both land in one verdict list.

use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::Sla;

/// Judges the rules Goose can not: they need our result model.
pub fn judge(sla: &Sla, summary: &Summary) -> Vec<RuleVerdict> {
    // A plan that names no error rate gets 0%: a plan can relax it, never pass by omission.
    let mut verdicts = vec![error_rate(sla, summary), did_work(summary)];
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
                    None => format!(
                        "{}{} distinct user ids",
                        if iso.distinct_estimated { "~" } else { "" },
                        iso.distinct_user_ids
                    ),
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
    if let Some(max) = sla.throttled {
        verdicts.push(throttled(max.0, summary));
    }
    let target = summary.resources.as_ref().and_then(|r| r.target.as_ref());
    let server = summary.server.as_ref();
    if let Some(max) = sla.target_memory_per_connection {
        // The target's process on this machine, else what the deployment publishes.
        let per_conn = target
            .and_then(|t| t.bytes_per_connection)
            .or_else(|| server.and_then(|s| s.memory_per_connection_bytes));
        verdicts.push(RuleVerdict {
            rule: format!("target memory per connection <= {}", human_bytes(max.0)),
            observed: per_conn.map_or(
                "no samples (a target pid or [[target.metrics]])".into(),
                |b| format!("{}/connection", human_bytes(b)),
            ),
            passed: per_conn.is_some_and(|b| b <= max.0),
            judged_by: "agentload".into(),
        });
    }
    if let Some(max) = sla.target_cpu {
        let cpu = target
            .map(|t| t.mean_cpu_percent)
            .or_else(|| server.and_then(|s| s.mean_cpu_percent()));
        verdicts.push(RuleVerdict {
            rule: format!("target mean CPU <= {}%", max.0),
            observed: cpu.map_or(
                "no samples (a target pid or [[target.metrics]])".into(),
                |c| format!("{c:.1}%"),
            ),
            passed: cpu.is_some_and(|c| c <= max.0),
            judged_by: "agentload".into(),
        });
    }
    verdicts.extend(server_rules(sla, summary));
    verdicts.extend(session_rules(sla, summary));
    verdicts
}

/// `[sla] dropped` and `first_turn_p95`, judged on the sessions.
fn session_rules(sla: &Sla, summary: &Summary) -> Vec<RuleVerdict> {
    let sessions = summary.sessions.as_ref();
    let mut verdicts = Vec::new();
    if let Some(max) = sla.dropped {
        let (share, dropped, arrived) =
            sessions.map_or((0.0, 0, 0), |s| (s.dropped_percent(), s.dropped, s.arrived));
        verdicts.push(RuleVerdict {
            rule: format!("arrivals dropped <= {}% (no free user in the pool)", max.0),
            observed: format!("{share:.2}% ({dropped} of {arrived} arrivals)"),
            passed: share <= max.0,
            judged_by: "agentload".into(),
        });
    }
    if let Some(limit) = sla.first_turn_p95 {
        let p95 = sessions.and_then(|s| s.first_turn.as_ref().map(|l| l.stats.p95_ms));
        let limit_ms = limit.0.as_secs_f64() * 1000.0;
        verdicts.push(RuleVerdict {
            rule: format!("session first turn p95 <= {limit_ms:.0} ms (from when it was due)"),
            observed: p95.map_or("no samples".into(), |p| format!("{p:.0} ms")),
            passed: p95.is_some_and(|p| p <= limit_ms),
            judged_by: "agentload".into(),
        });
    }
    verdicts
}

/// `server.NAME <= X` (in `[sla] rules`): the peak of a polled series, summed over instances.
pub fn server_rules(sla: &Sla, summary: &Summary) -> Vec<RuleVerdict> {
    sla.server_rules()
        .into_iter()
        .map(|(rule, name, op, limit)| {
            let peak = summary.server.as_ref().and_then(|s| s.peak(&name));
            RuleVerdict {
                observed: peak.map_or("no samples of that series".into(), |v| {
                    format!("peak {v:.1}")
                }),
                passed: peak.is_some_and(|v| op.holds(v, limit)),
                rule,
                judged_by: "agentload".into(),
            }
        })
        .collect()
}

/// The error rate: failed runs, connects and api calls over attempts (`Summary::attempts`).
fn error_rate(sla: &Sla, summary: &Summary) -> RuleVerdict {
    let (max, default) = match sla.error_rate {
        Some(max) => (max.0, ""),
        None => (0.0, ", default: the plan sets none"),
    };
    let rate = summary.error_rate_percent();
    let (r, c) = (&summary.runs, &summary.connections);
    let api = match summary.api_calls() {
        (0, _) => String::new(),
        (n, f) => format!(", {f} of {n} api calls"),
    };
    RuleVerdict {
        rule: format!("error rate <= {max}% (failed runs + connects + api calls{default})"),
        observed: format!(
            "{rate:.2}% ({} of {} runs, {} of {} connects{api} failed)",
            r.failed,
            r.started.saturating_sub(r.interrupted),
            c.failed,
            c.attempted
        ),
        passed: rate <= max,
        judged_by: "agentload".into(),
    }
}

/// Shed attempts (connects and runs the platform refused) over attempts.
fn throttled(max: f64, summary: &Summary) -> RuleVerdict {
    let shed = summary.throttled.as_ref().map_or(0, |t| t.attempts());
    let rate = summary.share_of_attempts_percent(shed);
    let observed = match &summary.throttled {
        None => "none".to_string(),
        Some(t) => format!(
            "{rate:.2}% ({shed} of {} attempts; first at {:.1} s with {} users open: {})",
            summary.attempts(),
            t.first_at_s,
            t.first_at_users,
            t.reasons.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    RuleVerdict {
        rule: format!("shed attempts <= {max}% (429, close 1013/1012, rate-limit errors)"),
        observed,
        passed: rate <= max,
        judged_by: "agentload".into(),
    }
}

/// A test in which nothing completed never passes: no run completed (or, with no agent runs
/// at all, no api call or socket succeeded).
fn did_work(summary: &Summary) -> RuleVerdict {
    let (calls, failed_calls) = summary.api_calls();
    let (r, c) = (&summary.runs, &summary.connections);
    let passed = r.completed > 0 || (r.started == 0 && (calls > failed_calls || c.established > 0));
    let observed = match (r.completed, calls) {
        (0, 0) if r.started == 0 => format!("no run started; {} connects", c.established),
        (n, 0) => format!("{n} of {} runs completed", r.started),
        (n, _) => format!(
            "{n} of {} runs completed, {} of {calls} api calls succeeded",
            r.started,
            calls - failed_calls
        ),
    };
    RuleVerdict {
        rule: "the test completed work (at least one run completed)".into(),
        observed,
        passed,
        judged_by: "agentload".into(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::summary::{ConnectionCounts, RunCounts};

    fn summary(completed: u64, failed: u64, connects_failed: u64) -> Summary {
        Summary {
            runs: RunCounts {
                started: completed + failed,
                completed,
                failed,
                ..Default::default()
            },
            connections: ConnectionCounts {
                attempted: 10 + connects_failed,
                established: 10,
                failed: connects_failed,
                closed_cleanly: 0,
            },
            ..Summary::default()
        }
    }

    #[test]
    fn a_plan_without_an_error_rule_is_judged_at_zero_percent() {
        let verdicts = judge(&Sla::default(), &summary(10, 0, 0));
        assert!(verdicts.iter().all(|v| v.passed), "{verdicts:?}");
        assert!(verdicts[0].rule.contains("default: the plan sets none"));
        let verdicts = judge(&Sla::default(), &summary(9, 1, 0));
        assert!(!verdicts[0].passed, "{verdicts:?}");
    }

    #[test]
    fn the_error_rate_counts_attempts_not_successful_connects() {
        // 10 users connect once and run once; 5 runs fail: half the attempts failed.
        assert_eq!(summary(5, 5, 0).error_rate_percent(), 50.0);
        // A failed connect is the attempt its user could not make.
        assert_eq!(summary(5, 0, 5).error_rate_percent(), 50.0);
        let mut stopped = summary(4, 4, 0);
        stopped.runs.started += 2;
        stopped.runs.interrupted = 2;
        assert_eq!(stopped.error_rate_percent(), 50.0);
    }

    #[test]
    fn shed_attempts_are_out_of_the_error_rate_and_judged_only_when_asked() {
        let mut s = summary(8, 2, 2);
        s.throttled = Some(crate::model::incidents::Throttled {
            count: 4,
            connects: 2,
            runs: 2,
            ..Default::default()
        });
        // 4 of 12 attempts failed, all shed: no error.
        assert_eq!(s.error_rate_percent(), 0.0);
        let verdicts = judge(&Sla::default(), &s);
        assert!(verdicts.iter().all(|v| v.passed), "{verdicts:?}");
        let sla = Sla {
            throttled: Some(crate::plan::Percent(0.0)),
            ..Sla::default()
        };
        let rule = judge(&sla, &s).pop().unwrap();
        assert!(
            rule.rule.starts_with("shed attempts <= 0%") && !rule.passed,
            "{rule:?}"
        );
    }

    #[test]
    fn a_test_in_which_nothing_completed_never_passes() {
        let sla = Sla {
            error_rate: Some(crate::plan::Percent(100.0)),
            ..Sla::default()
        };
        let dead = summary(0, 3, 50);
        let verdicts = judge(&sla, &dead);
        assert!(verdicts[0].passed, "the relaxed error rule holds");
        assert!(!verdicts[1].passed, "{verdicts:?}");
        assert!(judge(&sla, &summary(1, 3, 50))[1].passed);
    }
}
