//! Goose's threshold rules (`p95<=2000ms for WS agent_run`) judged on a merged summary.
//! One process's Goose judges them on its own requests; shards' Goose figures do not merge,
//! so a merged verdict reads agentload's HDR histograms of the same requests (established
//! connects, first events, completed runs). An `rps` rule adds up the shards' rates (they
//! hold their users at the same time). A rule nothing merged answers (one over every
//! request, another request's times) is judged as the shards judged it: it passes only if it
//! passed on every shard, and says so.

use super::metrics::SerializedLatency;
use super::summary::{RuleVerdict, Summary};
use crate::plan::requests::{REQ_AGENT_RUN, REQ_CONNECT, REQ_FIRST_EVENT};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Metric {
    /// A quantile, 0..1.
    Quantile(f64),
    Average,
    Maximum,
    ErrorRate,
    /// Requests per second while users hold: shards hold together, so their rates add up.
    Rps,
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    metric: Metric,
    op: &'static str,
    /// Milliseconds for a time, percent for an error rate.
    limit: f64,
    request: Option<String>,
}

/// Parses the rule syntax Goose accepts (each shard's Goose already refused a bad rule).
fn parse(rule: &str) -> Option<Rule> {
    let at = rule.find(['<', '>', '='])?;
    let metric = match rule[..at].trim() {
        "avg" => Metric::Average,
        "max" => Metric::Maximum,
        "error-rate" => Metric::ErrorRate,
        "rps" => Metric::Rps,
        name => Metric::Quantile(name.strip_prefix('p')?.parse::<f64>().ok()? / 100.0),
    };
    let rest = &rule[at..];
    let op = ["<=", ">=", "<", ">"]
        .into_iter()
        .find(|op| rest.starts_with(op))?;
    let rest = format!(" {}", rest[op.len()..].trim());
    let (value, request) = match rest.find(" for ") {
        Some(i) => (rest[..i].trim(), Some(rest[i + 5..].trim().to_string())),
        None => (rest.trim(), None),
    };
    let limit = match metric {
        Metric::ErrorRate => value.trim_end_matches('%').parse().ok()?,
        Metric::Rps => value.parse().ok()?,
        _ => {
            let (number, scale) = if let Some(n) = value.strip_suffix("us") {
                (n, 0.001)
            } else if let Some(n) = value.strip_suffix("ms") {
                (n, 1.0)
            } else if let Some(n) = value.strip_suffix('s') {
                (n, 1000.0)
            } else {
                (value, 1.0)
            };
            number.parse::<f64>().ok()? * scale
        }
    };
    Some(Rule {
        metric,
        op,
        limit,
        request,
    })
}

fn passes(op: &str, observed: f64, limit: f64) -> bool {
    match op {
        "<" => observed < limit,
        "<=" => observed <= limit,
        ">" => observed > limit,
        _ => observed >= limit,
    }
}

/// Judges `rules` on `merged`; `shards` are the shards' summaries, for rules that only the
/// shards' Goose could judge.
pub fn judge_merged(rules: &[String], merged: &Summary, shards: &[&Summary]) -> Vec<RuleVerdict> {
    judge(rules, merged, shards, "agentload (merged histograms)")
}

/// Judges `rules` on `summary`'s histograms and counts; `judged_by` says on what.
pub fn judge(
    rules: &[String],
    summary: &Summary,
    shards: &[&Summary],
    judged_by: &str,
) -> Vec<RuleVerdict> {
    rules
        .iter()
        .map(|rule| {
            let parsed = parse(rule);
            let judged = parsed
                .as_ref()
                .and_then(|r| observe(r, summary, shards).map(|seen| (r, seen)));
            match judged {
                Some((r, (value, shown))) => RuleVerdict {
                    rule: rule.clone(),
                    observed: shown,
                    passed: value.is_some_and(|v| passes(r.op, v, r.limit)),
                    judged_by: judged_by.into(),
                },
                None => per_shard(rule, shards),
            }
        })
        .collect()
}

/// The observed value (`None`: no samples, which fails) and how to show it, or `None` when
/// the merged summary can not answer the rule.
fn observe(r: &Rule, s: &Summary, shards: &[&Summary]) -> Option<(Option<f64>, String)> {
    if r.metric == Metric::Rps {
        return rps_sum(r, shards);
    }
    let request = r.request.as_deref()?;
    let hist: Option<&SerializedLatency> = match request {
        REQ_CONNECT => s.latency.connect.as_ref(),
        REQ_FIRST_EVENT => s.latency.time_to_first_event.as_ref(),
        REQ_AGENT_RUN => s.latency.agent_run.as_ref(),
        _ => return None,
    };
    let time = |v: Option<f64>, n: u64| match v {
        Some(ms) => (Some(ms), format!("{ms:.1}ms over {n} samples")),
        None => (None, "no samples".to_string()),
    };
    let n = hist.map_or(0, |h| h.stats.count);
    Some(match r.metric {
        Metric::Quantile(q) => {
            let l = hist.and_then(|h| h.latency().ok());
            time(l.and_then(|l| l.quantile_ms(q)), n)
        }
        Metric::Average => time(hist.map(|h| h.stats.mean_ms), n),
        Metric::Maximum => time(hist.map(|h| h.stats.max_ms), n),
        Metric::ErrorRate => {
            let (failed, all) = match request {
                REQ_CONNECT => (s.connections.failed, s.connections.attempted),
                REQ_AGENT_RUN => (s.runs.failed, s.runs.started),
                _ => return None,
            };
            match all {
                0 => (None, "no samples".to_string()),
                all => {
                    let rate = 100.0 * failed as f64 / all as f64;
                    (Some(rate), format!("{rate:.2}% ({failed} of {all})"))
                }
            }
        }
        Metric::Rps => return None,
    })
}

/// The shards' rates for the rule (each shard's Goose judged it on its own requests), added.
fn rps_sum(r: &Rule, shards: &[&Summary]) -> Option<(Option<f64>, String)> {
    let rule = shards
        .first()?
        .sla
        .iter()
        .find(|v| parse(&v.rule).as_ref() == Some(r))?;
    let mut total = 0.0;
    for s in shards {
        let v = s.sla.iter().find(|v| v.rule == rule.rule)?;
        let number: String = v
            .observed
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        total += number.parse::<f64>().ok()?;
    }
    Some((
        Some(total),
        format!("{total:.2} from Maintain (sum of {} shards)", shards.len()),
    ))
}

/// A rule only each shard's Goose could judge: passes if it passed on every shard.
fn per_shard(rule: &str, shards: &[&Summary]) -> RuleVerdict {
    let mut passed = !shards.is_empty();
    let mut seen = Vec::new();
    for s in shards {
        let index = s.shard.as_ref().map_or(0, |i| i.index);
        match s.sla.iter().find(|v| v.rule == rule) {
            Some(v) => {
                passed &= v.passed;
                seen.push(format!("shard {index}: {}", v.observed));
            }
            None => {
                passed = false;
                seen.push(format!("shard {index}: not judged"));
            }
        }
    }
    RuleVerdict {
        rule: rule.to_string(),
        observed: seen.join("; "),
        passed,
        judged_by: "goose (per shard: not mergeable)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::Latency;
    use std::time::Duration;

    fn with_runs(ms: &[u64]) -> Summary {
        let mut l = Latency::default();
        for m in ms {
            l.record(Duration::from_millis(*m));
        }
        let mut s = Summary::default();
        s.latency.agent_run = Some((&l).into());
        s.runs.started = ms.len() as u64 + 1;
        s.runs.failed = 1;
        s
    }

    #[test]
    fn rules_parse_as_goose_writes_them() {
        let r = parse("p95<=2000ms for WS agent_run").unwrap();
        assert_eq!(r.metric, Metric::Quantile(0.95));
        assert_eq!((r.op, r.limit), ("<=", 2000.0));
        assert_eq!(r.request.as_deref(), Some("WS agent_run"));
        assert_eq!(parse("avg<2s for WS connect").unwrap().limit, 2000.0);
        assert!(
            matches!(parse("p99.9<500us").unwrap().metric, Metric::Quantile(q) if (q - 0.999).abs() < 1e-12)
        );
        assert_eq!(parse("error-rate<5% for WS agent_run").unwrap().limit, 5.0);
    }

    #[test]
    fn latency_rules_read_the_merged_histogram() {
        let s = with_runs(&(1..=100).collect::<Vec<_>>());
        let rules = vec![
            "p95<=96ms for WS agent_run".to_string(),
            "p95<=90ms for WS agent_run".to_string(),
            "error-rate<=1% for WS agent_run".to_string(),
            "p95<=1s for WS connect".to_string(),
        ];
        let v = judge_merged(&rules, &s, &[]);
        assert!(v[0].passed, "{v:?}");
        assert!(!v[1].passed, "{v:?}");
        assert!(v[2].passed, "{v:?}"); // 1 of 101
        assert!(!v[3].passed && v[3].observed == "no samples", "{v:?}");
    }

    #[test]
    fn other_rules_pass_only_if_every_shard_passed_them() {
        let shard = |passed: bool| Summary {
            sla: vec![RuleVerdict {
                rule: "rps>=10".into(),
                observed: "12 from Maintain".into(),
                passed,
                judged_by: "goose".into(),
            }],
            ..Summary::default()
        };
        let (a, b) = (shard(true), shard(false));
        let rules = vec!["error-rate<1%".to_string()];
        let mut a = a;
        a.sla[0].rule = rules[0].clone();
        let mut b = b;
        b.sla[0].rule = rules[0].clone();
        assert!(judge_merged(&rules, &Summary::default(), &[&a, &a])[0].passed);
        let v = judge_merged(&rules, &Summary::default(), &[&a, &b]);
        assert!(
            !v[0].passed && v[0].judged_by.contains("per shard"),
            "{v:?}"
        );
    }

    #[test]
    fn rates_of_shards_holding_together_add_up() {
        let shard = |observed: &str| Summary {
            sla: vec![RuleVerdict {
                rule: "rps>=20 for WS agent_run".into(),
                observed: observed.into(),
                passed: false,
                judged_by: "goose".into(),
            }],
            ..Summary::default()
        };
        let (a, b) = (shard("12.5 from Maintain"), shard("9 from Maintain"));
        let rules = vec!["rps>=20 for WS agent_run".to_string()];
        let v = judge_merged(&rules, &Summary::default(), &[&a, &b]);
        assert!(v[0].passed, "{v:?}");
        assert!(v[0].observed.starts_with("21.50"), "{v:?}");
    }
}
