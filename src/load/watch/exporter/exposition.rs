//! The exposition's pure parts: the run-time histogram's buckets, and the two text formats a
//! scraper may ask for.

use std::time::Duration;

pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const TEXT_004: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds for agent-run times, seconds: a ladder from 50 ms that stops at the plan's
/// `run_timeout` (no run lasts longer), which is the last finite bound.
pub fn bucket_bounds(run_timeout: Duration) -> Vec<f64> {
    const LADDER: [f64; 14] = [
        0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    ];
    let limit = run_timeout.as_secs_f64();
    let mut bounds: Vec<f64> = LADDER.iter().copied().filter(|b| *b < limit).collect();
    if limit > 0.0 && limit.is_finite() {
        bounds.push((limit * 1000.0).round() / 1000.0);
    }
    bounds
}

/// Per-bucket counts (what `prometheus-client` adds up into `le` buckets) from cumulative
/// ones: bucket `i` holds the runs above bound `i-1` and at most bound `i`; a last `+Inf`
/// bucket holds the rest of `count`. `cumulative` empty: every bucket 0.
pub fn per_bucket(bounds: &[f64], cumulative: &[u64], count: u64) -> Vec<(f64, u64)> {
    let mut previous = 0;
    let mut rows: Vec<(f64, u64)> = bounds
        .iter()
        .enumerate()
        .map(|(i, le)| {
            let up_to = cumulative.get(i).copied().unwrap_or(0).max(previous);
            let row = (*le, up_to - previous);
            previous = up_to;
            row
        })
        .collect();
    rows.push((f64::INFINITY, count.saturating_sub(previous)));
    rows
}

/// Whether an `Accept` header asks for OpenMetrics (Prometheus's scraper does).
pub fn wants_openmetrics(accept: &str) -> bool {
    accept.contains("application/openmetrics-text")
}

/// OpenMetrics text as `prometheus-client` writes it, in the classic text format 0.0.4: a
/// counter's family takes its samples' name (`name_total`), and `# UNIT` and `# EOF` go (the
/// classic format has neither). Samples are the same in both.
pub fn to_text_004(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if line.starts_with("# HELP ") {
            // Written once the TYPE line says whether the family is a counter.
            help = Some(line);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let family = match kind {
                "counter" if !name.ends_with("_total") => format!("{name}_total"),
                _ => name.to_string(),
            };
            if let Some(help) = help.take() {
                let text = help
                    .strip_prefix("# HELP ")
                    .and_then(|h| h.split_once(' '))
                    .map_or("", |(_, text)| text);
                out.push_str(&format!("# HELP {family} {text}\n"));
            }
            out.push_str(&format!("# TYPE {family} {kind}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_stop_at_the_run_timeout() {
        let b = bucket_bounds(Duration::from_secs(45));
        assert_eq!(b.last(), Some(&45.0));
        assert_eq!(b[b.len() - 2], 30.0);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        let b = bucket_bounds(Duration::from_secs(120));
        assert_eq!(&b[b.len() - 2..], &[60.0, 120.0]);
    }

    #[test]
    fn buckets_add_up_to_the_count_once() {
        // 92 runs, all under 0.25 s: every cumulative bucket from 0.25 on reads 92.
        let bounds = [0.1, 0.25, 0.5, 1.0];
        let rows = per_bucket(&bounds, &[10, 92, 92, 92], 92);
        assert_eq!(
            rows,
            vec![
                (0.1, 10),
                (0.25, 82),
                (0.5, 0),
                (1.0, 0),
                (f64::INFINITY, 0)
            ]
        );
        assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), 92);
        // Runs past the last bound are in +Inf only.
        let rows = per_bucket(&bounds, &[0, 0, 1, 2], 5);
        assert_eq!(rows.last(), Some(&(f64::INFINITY, 3)));
        assert_eq!(per_bucket(&bounds, &[], 0).len(), 5);
    }

    #[test]
    fn counters_are_named_with_total_in_the_classic_format() {
        let om = "# HELP agentload_runs Agent runs ended.\n# TYPE agentload_runs counter\n\
                  agentload_runs_total{result=\"completed\"} 3\n\
                  # HELP x_seconds A time.\n# TYPE x_seconds histogram\n# UNIT x_seconds seconds\n\
                  x_seconds_bucket{le=\"+Inf\"} 1\n# EOF\n";
        let text = to_text_004(om);
        assert_eq!(
            text,
            "# HELP agentload_runs_total Agent runs ended.\n# TYPE agentload_runs_total counter\n\
             agentload_runs_total{result=\"completed\"} 3\n\
             # HELP x_seconds A time.\n# TYPE x_seconds histogram\n\
             x_seconds_bucket{le=\"+Inf\"} 1\n"
        );
        assert!(wants_openmetrics(
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        ));
        assert!(!wants_openmetrics("*/*"));
    }
}
