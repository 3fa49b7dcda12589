//! The reference target misbehaves on purpose, one knob at a time; the matching detector fires
//! with the right kind, counted against the target's own ground truth, and is silent without it.
//! Every knob is tried in both wire dialects: `reference`, and `netra` (the platform's layouts,
//! server-side run ids, shortened user ids, interleaved non-agent frames).

use crate::common::*;
use serde_json::Value;

/// A wire dialect: the target's `--profile` and the plan's `[protocol] profile`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dialect {
    Reference,
    Netra,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Reference => "reference",
            Dialect::Netra => "netra",
        }
    }
}

/// One test per dialect: `both!(name, |dialect| body)` makes `name::reference` and `name::netra`.
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn reference() {
                ($body)(Dialect::Reference)
            }
            #[test]
            fn netra() {
                ($body)(Dialect::Netra)
            }
        }
    };
}

struct Faulty {
    out: RunOutput,
    stats: Value,
    /// Keeps the report folder until the test ends.
    _dir: tempfile::TempDir,
}

fn run_against(d: Dialect, flags: &[&str], users: usize, hold: &str, extra: &str) -> Faulty {
    // Generous: under a loaded machine a slow run must not pass for a fault.
    run_with_timeout(d, flags, users, hold, extra, "20s")
}

fn run_with_timeout(
    d: Dialect,
    flags: &[&str],
    users: usize,
    hold: &str,
    extra: &str,
    run_timeout: &str,
) -> Faulty {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--event-delay-ms", "5", "--profile", d.name()];
    all.extend_from_slice(flags);
    let t = TargetProc::start(dir.path(), &all);
    // Scenario keys in `extra` join the plan's [scenario] table.
    let (scenario, extra) = match extra.strip_prefix("[scenario]\n") {
        Some(keys) => (keys, ""),
        None => ("", extra),
    };
    let plan = format!(
        "name = \"faults\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[protocol]\nprofile = \"{profile}\"\n\
         [scenario]\nthink_time = \"50ms\"\nrun_timeout = \"{run_timeout}\"\n{scenario}\
         [[stages]]\nusers = {users}\nduration = \"1s\"\n[[stages]]\nusers = {users}\nduration = \"{hold}\"\n{extra}\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display(),
        profile = d.name(),
    );
    let out = run_plan(dir.path(), &plan, &[("IT_CLIENT_SECRET", SECRET)]);
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    Faulty {
        out,
        stats,
        _dir: dir,
    }
}

fn failures(f: &Faulty, kind: &str) -> u64 {
    f.out.summary()["failures"][kind]["count"]
        .as_u64()
        .unwrap_or(0)
}

fn fault(f: &Faulty, kind: &str) -> u64 {
    f.stats["faults"][kind].as_u64().unwrap()
}

/// Every run ends in exactly one outcome, and the counts match the target's.
fn outcomes_add_up(f: &Faulty) {
    let s = f.out.summary();
    let runs = &s["runs"];
    assert_eq!(
        runs["started"],
        f.stats["runs_started"],
        "{}\n{}",
        f.stats,
        f.out.explain()
    );
    // Runs the target finished with reordered or omitted events fail our checks.
    let content_faults = f.stats["runs_completed_faulty"].as_u64().unwrap();
    let finished = f.stats["runs_completed"].as_u64().unwrap();
    assert_eq!(
        runs["completed"].as_u64().unwrap(),
        finished - content_faults,
        "{}",
        f.stats
    );
    let by_kind: u64 = s["failures"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("isolation") && !k.starts_with("security"))
        .map(|(_, b)| b["count"].as_u64().unwrap())
        .sum();
    let failed = runs["failed"].as_u64().unwrap() + s["connections"]["failed"].as_u64().unwrap();
    assert_eq!(by_kind, failed, "{s}");
}

both!(without_faults_every_detector_is_silent, |d: Dialect| {
    let f = run_against(d, &[], 4, "2s", "[security]\nbad_token_share = 0.3\n");
    assert_eq!(f.out.code, 0, "{}", f.out.explain());
    let s = f.out.summary();
    assert_eq!(s["failures"], serde_json::json!({}), "{s}");
    assert_eq!(s["stale_frames"], 0, "{s}");
    assert_eq!(s["isolation"]["violations"], 0);
    assert_eq!(s["isolation"]["suspected_auth_bypass"], Value::Null);
    // Netra shortens welcome ids to 8 characters: the users are still told apart.
    assert_eq!(s["isolation"]["distinct_user_ids"], 4, "{s}");
    let sec = &s["security"];
    assert!(
        sec["probes"].as_u64().unwrap() > 0 && sec["probes"] == sec["refused"],
        "{sec}"
    );
    assert_eq!(f.stats["auth_rejections"], sec["probes"]);
    outcomes_add_up(&f);
});

both!(
    dropped_sockets_are_resumed_without_losing_an_event,
    |d: Dialect| {
        let f = run_against(d, &["--drop-rate", "0.3"], 3, "3s", "");
        let s = f.out.summary();
        let drops = fault(&f, "drop");
        assert!(drops > 0);
        assert_eq!(
            s["failures"],
            serde_json::json!({}),
            "every dropped run resumed: {s}"
        );
        assert_eq!(s["runs"]["resumed"], f.stats["resumes"], "{}", f.stats);
        assert_eq!(s["runs"]["resumed"].as_u64().unwrap(), drops, "{}", f.stats);
        assert!(
            s["connections"]["established"].as_u64().unwrap() > 3,
            "users reconnected"
        );
        outcomes_add_up(&f);
    }
);

both!(
    without_resume_on_the_target_a_drop_is_not_resumable,
    |d: Dialect| {
        // Netra acknowledges `resume` without resuming; the reference target says it can not.
        let f = run_against(d, &["--drop-rate", "0.3", "--no-resume"], 3, "3s", "");
        let drops = fault(&f, "drop");
        assert!(drops > 0);
        assert_eq!(
            failures(&f, "reconnect.not_resumable"),
            drops,
            "{}",
            f.out.summary()
        );
        assert_eq!(failures(&f, "transport.timeout"), 0, "concluded at once");
        assert_eq!(
            f.out.summary()["runs"]["completed"],
            f.stats["runs_completed"]
        );
        outcomes_add_up(&f);
    }
);

both!(
    a_client_that_drops_its_socket_mid_run_resumes_every_run,
    |d: Dialect| {
        let f = run_against(d, &[], 3, "2s", "[scenario]\ndrop_after_events = 3\n");
        let s = f.out.summary();
        assert_eq!(f.out.code, 0, "{}", f.out.explain());
        let completed = s["runs"]["completed"].as_u64().unwrap();
        assert!(completed > 0);
        assert_eq!(s["runs"]["failed"], 0, "no lost or duplicated events: {s}");
        assert_eq!(s["runs"]["resumed"].as_u64().unwrap(), completed);
        assert_eq!(f.stats["resumes"].as_u64().unwrap(), completed);
        // Every one of the five events reached every run, across two sockets.
        for pair in s["funnel"].as_array().unwrap() {
            assert_eq!(pair[1].as_u64().unwrap(), completed, "{pair}");
        }
    }
);

both!(stalled_runs_time_out, |d: Dialect| {
    let f = run_with_timeout(d, &["--stall-rate", "0.3"], 3, "4s", "", "2s");
    one_failure_per_fault(&f, "stall", "transport.timeout");
    outcomes_add_up(&f);
});

both!(reordered_events_are_out_of_order, |d: Dialect| {
    let f = run_against(d, &["--reorder-rate", "0.3"], 3, "2s", "");
    one_failure_per_fault(&f, "reorder", "sequence.out_of_order");
    outcomes_add_up(&f);
    only_faulty_runs_failed(&f);
});

both!(omitted_events_are_missing, |d: Dialect| {
    let f = run_against(d, &["--omit-rate", "0.3"], 3, "2s", "");
    one_failure_per_fault(&f, "omit", "sequence.missing_event");
    outcomes_add_up(&f);
    only_faulty_runs_failed(&f);
});

both!(a_failed_run_never_fails_the_runs_after_it, |d: Dialect| {
    // The trial: 10 users, 10 % of runs without thoughts, 20 ms between events. The
    // rest of a failed run is still on its way when it fails; it must not be read as the
    // next run's events.
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--event-delay-ms",
        "20",
        "--omit-rate",
        "0.1",
        "--profile",
        d.name(),
    ];
    let t = TargetProc::start(dir.path(), &flags);
    let plan = format!(
        "name = \"cascade\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[protocol]\nprofile = \"{}\"\n\
         [scenario]\nthink_time = \"0ms\"\nrun_timeout = \"20s\"\n\
         [[stages]]\nusers = 10\nduration = \"1s\"\n[[stages]]\nusers = 10\nduration = \"5s\"\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display(),
        d.name()
    );
    let out = run_plan(dir.path(), &plan, &[("IT_CLIENT_SECRET", SECRET)]);
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    let f = Faulty {
        out,
        stats,
        _dir: dir,
    };
    one_failure_per_fault(&f, "omit", "sequence.missing_event");
    outcomes_add_up(&f);
    only_faulty_runs_failed(&f);
    assert!(
        f.out.summary()["stale_frames"].as_u64().unwrap() > 0,
        "the rest of each failed run was read and set aside"
    );
});

both!(agent_errors_end_runs_as_typed_failures, |d: Dialect| {
    let f = run_against(d, &["--error-rate", "0.3"], 3, "2s", "");
    one_failure_per_fault(&f, "error", "agent.error");
    assert_eq!(f.stats["runs_errored"], fault(&f, "error"));
    outcomes_add_up(&f);
});

both!(a_resent_event_is_one_duplicate_per_run, |d: Dialect| {
    let f = run_against(d, &["--duplicate-rate", "0.3"], 3, "2s", "");
    one_failure_per_fault(&f, "duplicate", "sequence.duplicate_events");
    outcomes_add_up(&f);
    only_faulty_runs_failed(&f);
});

both!(
    error_rate_is_the_share_of_failed_runs_and_connects,
    |d: Dialect| {
        // Half the runs fail on purpose; Goose's global error rate would dilute that with
        // requests that can not fail. The plan's rule is judged on attempts: runs, and the
        // connects that failed (a successful connect is no attempt of its own).
        let f = run_against(
            d,
            &["--error-rate", "0.5"],
            3,
            "3s",
            "[sla]\nerror_rate = \"30%\"\n",
        );
        assert_eq!(f.out.code, 1, "{}", f.out.explain());
        let s = f.out.summary();
        let injected = fault(&f, "error");
        let runs = f.stats["runs_started"].as_u64().unwrap();
        let connects = s["connections"]["failed"].as_u64().unwrap();
        assert_eq!(s["runs"]["failed"].as_u64().unwrap(), injected, "{s}");
        assert!(
            injected * 10 >= runs * 3,
            "{injected} of {runs}: the dice were unkind"
        );
        let verdict = s["sla"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"].as_str().unwrap().starts_with("error rate <= 30%"))
            .unwrap_or_else(|| panic!("no error-rate verdict: {s}"));
        assert_eq!(verdict["passed"], false, "{verdict}");
        let expected = 100.0 * injected as f64 / (runs + connects) as f64;
        let observed = verdict["observed"].as_str().unwrap();
        assert!(
            observed.starts_with(&format!("{expected:.2}%")),
            "{observed} vs {expected:.2}%"
        );
        assert!(s["goose_error_rate_percent"].as_f64().unwrap() < expected);
    }
);

/// Faults of this kind were injected, and each is exactly one failure of `kind`.
fn one_failure_per_fault(f: &Faulty, fault_kind: &str, kind: &str) {
    let injected = fault(f, fault_kind);
    assert!(injected > 0, "no {fault_kind} fault injected: {}", f.stats);
    assert_eq!(failures(f, kind), injected, "{}", f.out.summary());
}

/// Runs the target completed cleanly all completed here: failures are the faulty runs only.
fn only_faulty_runs_failed(f: &Faulty) {
    let s = f.out.summary();
    let faulty = f.stats["runs_completed_faulty"].as_u64().unwrap();
    assert_eq!(
        s["runs"]["failed"].as_u64().unwrap(),
        faulty,
        "{s}\n{}",
        f.stats
    );
}

mod platform;
