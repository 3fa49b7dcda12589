use super::*;
use crate::model::metrics::Latency;
use crate::model::shard::ShardInfo;
use std::time::Duration;

fn latency(ms: impl IntoIterator<Item = u64>) -> Latency {
    let mut l = Latency::default();
    for m in ms {
        l.record(Duration::from_millis(m));
    }
    l
}

/// Shard `index` of 3 of run `run`, whose completed runs took `ms`.
fn shard(index: usize, run: &str, ms: &[u64]) -> ShardReport {
    let l = latency(ms.iter().copied());
    let mut s = Summary {
        plan: "p".into(),
        shard: Some(ShardInfo {
            index,
            count: 3,
            run_id: run.into(),
            plan_digest: "d1".into(),
            users: 2,
            ..ShardInfo::default()
        }),
        timeline_origin_unix_ms: Some(1_000_000 + index as i64 * 7),
        timeline_bucket_secs: 1.0,
        duration_secs: 3.0,
        ..Summary::default()
    };
    s.runs.started = ms.len() as u64 + 1;
    s.runs.completed = ms.len() as u64;
    s.runs.failed = 1;
    s.failures.insert(
        "transport.timeout".into(),
        FailureBucket {
            count: 1,
            example: format!("shard {index}"),
        },
    );
    s.latency.agent_run = Some((&l).into());
    // Two buckets: the first half of the runs in second 0, the rest in second 2.
    let (a, b) = ms.split_at(ms.len() / 2);
    for (at, part) in [(0.0, a), (2.0, b)] {
        let h = latency(part.iter().copied());
        s.timeline.push(TimelinePoint {
            at_secs: at,
            runs_completed: part.len() as u64,
            histogram: Some(h.encode()),
            ..TimelinePoint::default()
        });
    }
    ShardReport {
        folder: format!("shard{index}"),
        summary: s,
    }
}

fn three() -> Vec<ShardReport> {
    vec![
        shard(0, "r", &[10, 20, 30, 40]),
        shard(1, "r", &[100, 200, 300, 400]),
        shard(2, "r", &[5, 6, 7, 1000]),
    ]
}

#[test]
fn merged_percentiles_are_those_of_every_value_together() {
    let shards = three();
    let m = merge(&shards, vec![]).unwrap();
    let all = latency([10, 20, 30, 40, 100, 200, 300, 400, 5, 6, 7, 1000]);
    assert_eq!(m.latency.agent_run.as_ref().unwrap().stats, all.stats());
    assert_eq!(m.runs.started, 15);
    assert_eq!(m.runs.failed, 3);
    assert_eq!(m.failures["transport.timeout"].count, 3);
    assert_eq!(m.failures["transport.timeout"].example, "shard 0");
    assert_eq!(m.peak_users, 6);
    let info = m.merge.as_ref().unwrap();
    assert_eq!(info.total.runs, 15);
    assert!(!info.partial);
}

#[test]
fn timelines_add_by_wall_clock_bucket() {
    let m = merge(&three(), vec![]).unwrap();
    assert_eq!(m.timeline.len(), 3, "{:?}", m.timeline);
    assert_eq!(m.timeline[0].runs_completed, 6);
    assert_eq!(m.timeline[1].runs_completed, 0);
    assert_eq!(m.timeline[2].runs_completed, 6);
    let second_two = latency([30, 40, 300, 400, 7, 1000]);
    assert_eq!(m.timeline[2].p95_ms, second_two.quantile_ms(0.95));
    assert_eq!(m.timeline_origin_unix_ms, Some(1_000_000));
}

#[test]
fn mismatched_shards_are_refused_one_line_each() {
    let mut s = three();
    s[2] = shard(2, "other", &[1]);
    assert!(matches!(check(&s, false), Err(MergeError::RunIds { .. })));

    let mut s = three();
    s[1].summary.shard.as_mut().unwrap().plan_digest = "d2".into();
    let e = check(&s, false).unwrap_err();
    assert!(e.to_string().contains("different plans"), "{e}");

    let mut s = three();
    s[2] = shard(1, "r", &[1]);
    let e = check(&s, false).unwrap_err();
    assert_eq!(e.to_string(), "shard 1 appears twice: shard1 and shard1");

    let mut s = three();
    s.pop();
    let e = check(&s, false).unwrap_err();
    assert!(e.to_string().contains("[2] of 3 missing"), "{e}");
    assert_eq!(check(&s, true).unwrap(), vec![2]);
    let m = merge(&s, vec![2]).unwrap();
    assert!(m.merge.unwrap().partial);

    let mut s = three();
    s[0].summary.shard = None;
    assert!(matches!(
        check(&s, false),
        Err(MergeError::NotAShard { .. })
    ));
}

#[test]
fn check_values_merge_with_exact_bounds_and_approximate_percentiles() {
    let mut shards = three();
    for (s, (lo, hi)) in shards.iter_mut().zip([(1.0, 3.0), (2.0, 9.0), (0.5, 4.0)]) {
        s.summary.checks.push(CheckSummary {
            name: "cost".into(),
            rule: "cost >= 0".into(),
            runs: 4,
            met: 3,
            values: Some(ValueStats {
                min: lo,
                p50: lo + 1.0,
                mean: lo + 1.0,
                p95: hi,
                max: hi,
                approximate: false,
            }),
            ..CheckSummary::default()
        });
    }
    let m = merge(&shards, vec![]).unwrap();
    let c = &m.checks[0];
    assert_eq!((c.runs, c.met), (12, 9));
    assert!((c.share_met_percent - 75.0).abs() < 1e-9);
    let v = c.values.as_ref().unwrap();
    assert_eq!((v.min, v.max), (0.5, 9.0));
    assert!((v.mean - (2.0 + 3.0 + 1.5) / 3.0).abs() < 1e-9, "{v:?}");
    assert!(v.approximate);
}
