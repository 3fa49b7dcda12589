//! Many users at once: 2,000 users, each holding a socket with small buffers, against the
//! embedded target; every run counted equals the target's own count, none fails. No timing
//! is asserted (speed is measured in benchmarks). The console stays a few lines long.

use crate::common::*;

#[test]
fn two_thousand_users_are_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let plan = "name = \"scale\"\n[target]\nembedded = true\ntls = false\nevent_delay = \"20ms\"\n\
                [scenario]\nthink_time = \"2s\"\nrun_timeout = \"60s\"\nconnect_timeout = \"60s\"\n\
                [[stages]]\nusers = 2000\nduration = \"4s\"\n[[stages]]\nusers = 2000\nduration = \"4s\"\n\
                [sampler]\nenabled = false\n";
    let out = run_plan(dir.path(), plan, &[]);
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    let target = &s["target_counters"];
    assert_eq!(s["connections"]["established"], 2000, "{s}");
    assert_eq!(s["connections"]["failed"], 0, "{s}");
    assert_eq!(s["runs"]["failed"], 0, "{s}");
    assert_eq!(s["failures"], serde_json::json!({}), "{s}");
    assert!(s["runs"]["completed"].as_u64().unwrap() >= 2000, "{s}");
    assert_eq!(s["runs"]["started"], target["runs_started"], "{target}");
    assert_eq!(s["runs"]["completed"], target["runs_completed"], "{target}");
    assert_eq!(target["connections_open"], 0, "{target}");
    // The console stays readable at scale: no line per user, no Goose INFO log without -v.
    for quiet in [&out.stdout, &out.stderr] {
        assert!(!quiet.contains("launching user"), "{}", out.explain());
        assert!(!quiet.contains("[INFO]"), "{}", out.explain());
    }
    assert!(out.stdout.lines().count() < 40, "{}", out.stdout);
}
