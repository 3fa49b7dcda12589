//! Scaling studies (#50): a capacity search at each deployment size, the study of them. A
//! scale command that fails, hangs, or leaves a target that does not answer ends the study in
//! one line (exit 2) with the sizes already measured written and fitted; `report scale`
//! rebuilds a study from sizes measured apart. The studies against a known truth (replicas
//! sharing a lock, and replicas sharing nothing) hold for minutes: `just bench`.

use crate::common::queue::Sessions;
use crate::common::replicas::{self, Deployment};
use crate::common::serial;
use crate::common::*;
use serde_json::Value;
use std::path::Path;

/// A plan on `t` whose size-1 search is short (one user, runs of ~40 ms, an SLA far above):
/// `[capacity.scaling]` sizes 1 and 2 with `command`.
fn quick_plan(t: &TargetProc, dir: &Path, command: &str, extra: &str) -> std::path::PathBuf {
    let plan = format!(
        "name = \"study\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[scenario]\nthink_time = \"20ms\"\n\
         [[stages]]\nusers = 1\nduration = \"1s\"\n[sla]\nagent_run_p95 = \"2s\"\n\
         [capacity]\nsteps = [1]\nceiling = 1\nstep_ramp = \"1s\"\nstep_hold = \"6s\"\n\
         [capacity.scaling]\nsizes = [1, 2]\nscale_command = \"{command}\"\n{extra}\n\
         [sampler]\nenabled = false\n[report]\ndir = \"{}\"\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display(),
        dir.join("r").display()
    );
    let path = dir.join("study.toml");
    std::fs::write(&path, plan).unwrap();
    path
}

fn capacity(plan: &Path) -> std::process::Output {
    agentload()
        .arg("capacity")
        .arg(plan)
        .arg("--quiet")
        .env("IT_CLIENT_SECRET", SECRET)
        .output()
        .unwrap()
}

/// The study's folder under `dir/r`, and its study.json.
fn study(dir: &Path) -> (std::path::PathBuf, Value) {
    let folder = report_in(dir, "r");
    let json = serde_json::from_slice(&std::fs::read(folder.join("study.json")).unwrap()).unwrap();
    (folder, json)
}

#[test]
fn a_scale_command_that_fails_hangs_or_leaves_no_target_ends_the_study_in_one_line() {
    let cases = [
        (
            "test {size} = 1 || { echo no such deployment >&2; exit 3; }",
            "",
            "scaling to 2: `test 2 = 1 || { echo no such deployment >&2; exit 3; }` exited 3: no \
             such deployment",
        ),
        (
            "test {size} = 1 || sleep 30",
            "scale_timeout = \"1s\"",
            "did not finish within 1 s",
        ),
        (
            "KILL",
            "ready_timeout = \"2s\"",
            "the target did not answer within 2 s",
        ),
    ];
    for (command, extra, said) in cases {
        let dir = tempfile::tempdir().unwrap();
        let t = TargetProc::start(dir.path(), &["--event-delay-ms", "5"]);
        let command = match command {
            "KILL" => format!("test {{size}} = 1 || kill {}", t.pid()),
            c => c.to_string(),
        };
        let out = capacity(&quick_plan(&t, dir.path(), &command, extra));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
        assert!(last.contains(said), "{last}\n{}", explain(&out));
        // The size measured is written and fitted: one size, no curve, said so.
        let (folder, s) = study(dir.path());
        assert_eq!(s["sizes"].as_array().unwrap().len(), 1, "{s}");
        assert_eq!(s["sizes"][0]["size"], 1);
        assert_eq!(s["fit"]["kind"], "none");
        assert!(s["stopped"].as_str().unwrap().contains(said), "{s}");
        assert!(std::fs::read_to_string(folder.join("index.html"))
            .unwrap()
            .contains("study"));
    }
}

#[test]
fn a_study_is_rebuilt_from_sizes_measured_apart() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "5"]);
    let plan = quick_plan(&t, dir.path(), "true", "");
    for size in ["1", "2"] {
        let out = agentload()
            .args(["capacity", "--quiet", "--size", size])
            .arg(&plan)
            .env("IT_CLIENT_SECRET", SECRET)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    }
    let out = agentload()
        .args(["report", "scale"])
        .arg(dir.path().join("r"))
        .arg("--out")
        .arg(dir.path().join("study"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let s: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("study/study.json")).unwrap())
            .unwrap();
    let sizes: Vec<u64> = s["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, vec![1, 2], "{s}");
    assert_eq!(s["fit"]["kind"], "amdahl", "{s}");
    // A capacity folder that names no size is refused in one line.
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("capacity.json"), "{\"steps\": [], \"ceiling\": 1, \"no_limit_up_to_ceiling\": false, \"headroom_percent\": 20.0, \"generator_saturated_steps\": [], \"conclusion\": \"\"}").unwrap();
    let out = agentload()
        .args(["report", "scale"])
        .arg(&plain)
        .arg("--out")
        .arg(dir.path().join("study2"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no deployment size"));
}

/// The lock study: replicas of 4 slots of ~125 ms (6 events 20 ms apart), every run holding a
/// lock all share for 4 ms + 0.6 ms per other replica (the issue's 10 + 1.5 ms at 0.4 of its
/// time): the lock bounds 4 replicas at 172 runs/s (their slots complete ~128) and 8 at 122
/// (their slots ~256). Sessions of 2..4 turns, 1 s pauses (p95 4 s), SLA P95 400 ms.
const LOCK_TARGET: &str = "[target]\nembedded = true\ntls = false\nevent_delay = \"20ms\"\n\
    max_concurrent_runs = 4\ncontention = \"4ms\"\ncoherency = \"0.6ms\"\n\
    [[target.metrics]]\nurl = \"/metrics\"\ninterval = \"1s\"\n\
    [[target.metrics.series]]\nname = \"agent_lock_busy_seconds_total\"\n";

const SESSIONS: Sessions = Sessions {
    turns: (2, 4),
    think_median: 1.0,
    think_p95: 4.0,
};

/// A study plan with `target` lines, `sizes`, and the lock as a resource when `lock`.
fn study_plan(dir: &Path, target: &str, sizes: &str, lock: bool) -> std::path::PathBuf {
    let resource = match lock {
        true => {
            "[[capacity.resources]]\nname = \"lock\"\nseries = \"agent_lock_busy_seconds_total\"\n\
                 kind = \"busy_seconds\"\nservers = 1\n"
        }
        false => "",
    };
    let plan = format!(
        "name = \"study\"\n{target}[scenario]\nthink_time = \"lognormal(1s, p95=4s)\"\n\
         run_timeout = \"30s\"\n[workload]\nmodel = \"open\"\nmax_sessions = 4000\nseed = 5\n\
         [session]\nturns = \"2..4\"\n[[arrivals]]\nrate = \"1/s\"\nduration = \"10s\"\n\
         [sla]\nagent_run_p95 = \"400ms\"\nerror_rate = \"1%\"\n\
         [capacity]\nstart_rate = \"4/s\"\nfactor = 2\nmax_rate = \"128/s\"\n\
         rate_resolution = \"1/s\"\nstep_hold = \"20s\"\n{resource}\
         [capacity.scaling]\nsizes = {sizes}\n[sampler]\nenabled = false\n\
         [report]\ndir = \"{}\"\n",
        dir.join("r").display()
    );
    let path = dir.join("study.toml");
    std::fs::write(&path, plan).unwrap();
    path
}

#[test]
#[ignore = "minutes; `just bench` runs it (cargo test --test suite studies:: -- --ignored)"]
fn a_study_at_1_2_4_names_the_lock_that_bounds_8() {
    let _one = serial::measuring();
    let dir = tempfile::tempdir().unwrap();
    let out = capacity(&study_plan(dir.path(), LOCK_TARGET, "[1, 2, 4]", true));
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (_, s) = study(dir.path());
    eprintln!("{}", s["conclusion"]);
    let at8 = s["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["size"] == 8)
        .cloned()
        .unwrap();
    assert_eq!(at8["bound_by"], "lock", "{s}");
    let bound = at8["bound_runs_per_sec"].as_f64().unwrap();
    // The search at 8, measured: its ceiling is the lock's bound, within 10%.
    let dir8 = tempfile::tempdir().unwrap();
    let plan8 = study_plan(dir8.path(), LOCK_TARGET, "[8]", true);
    let out = capacity(&plan8);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (_, s8) = study(dir8.path());
    let ceiling = s8["sizes"][0]["ceiling"].as_f64().unwrap();
    let answer8 = s8["sizes"][0]["answer"].as_f64().unwrap();
    let division = at8["division"].as_f64().unwrap();
    let context = format!(
        "bound at 8 {bound:.1} runs/s, measured ceiling {ceiling:.1}; division {division:.2}, \
         answer at 8 {answer8:.2}\n{s}\n{s8}"
    );
    eprintln!("{context}");
    assert!((bound / ceiling - 1.0).abs() <= 0.10, "{context}");
    assert!(division > 1.5 * answer8, "{context}");
}

#[test]
#[ignore = "minutes; `just bench` runs it (cargo test --test suite studies:: -- --ignored)"]
fn with_nothing_shared_the_study_predicts_8_from_1_2_4() {
    let _one = serial::measuring();
    let target = "[target]\nembedded = true\ntls = false\nevent_delay = \"20ms\"\n\
                  max_concurrent_runs = 4\n";
    let dir = tempfile::tempdir().unwrap();
    let out = capacity(&study_plan(dir.path(), target, "[1, 2, 4]", false));
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (_, s) = study(dir.path());
    let expected = s["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["size"] == 8)
        .and_then(|p| p["expected"].as_f64())
        .unwrap();
    let dir8 = tempfile::tempdir().unwrap();
    let out = capacity(&study_plan(dir8.path(), target, "[8]", false));
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (_, s8) = study(dir8.path());
    let answer8 = s8["sizes"][0]["answer"].as_f64().unwrap();
    let context = format!("expected at 8 {expected:.2}, measured {answer8:.2}\n{s}\n{s8}");
    eprintln!("{context}");
    assert!((expected / answer8 - 1.0).abs() <= 0.15, "{context}");
}

#[test]
#[ignore = "minutes; `just bench` runs it (cargo test --test suite studies:: -- --ignored)"]
fn the_simulation_of_the_replicas_agrees_with_a_search_at_size_2() {
    let _one = serial::measuring();
    let dir = tempfile::tempdir().unwrap();
    let out = capacity(&study_plan(dir.path(), LOCK_TARGET, "[2]", true));
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let (folder, s) = study(dir.path());
    let found = s["sizes"][0]["answer"].as_f64().unwrap();
    let size_dir = folder.join(s["sizes"][0]["folder"].as_str().unwrap());
    let report: Value =
        serde_json::from_slice(&std::fs::read(size_dir.join("capacity.json")).unwrap()).unwrap();
    // The client's overhead, measured: one user's mean run less its delays and lock hold.
    let target = LOCK_TARGET.replacen("[[target.metrics]]", "replicas = 2\n[[target.metrics]]", 1);
    let plan = format!(
        "name = \"unloaded\"\n{target}[scenario]\nthink_time = \"20ms\"\n\
         [[stages]]\nusers = 1\nduration = \"5s\"\n[sampler]\nenabled = false\n"
    );
    let unloaded_dir = dir.path().join("unloaded");
    std::fs::create_dir_all(&unloaded_dir).unwrap();
    let unloaded = run_plan(&unloaded_dir, &plan, &[]);
    let mean_ms = unloaded.summary()["latency"]["agent_run"]["mean_ms"]
        .as_f64()
        .unwrap();
    let (service, hold) = (0.120, 0.0046);
    let d = Deployment {
        replicas: 2,
        slots: 4,
        service,
        lock: Some(hold),
        overhead: (mean_ms / 1000.0 - service - hold).max(0.0),
    };
    let truth = replicas::limit(d, SESSIONS, 0.4, 2000.0);
    // The simulation against the target, step by step: at each held step's carried rate
    // below the knee, the simulated steady P95 lies in the step's interval, give or take
    // 15% (a hold's transient, the interval's own 10% misses).
    let mut context = format!("found {found:.2}/s, the simulation's limit {truth:.2}/s\n");
    let mut compared = 0;
    for step in report["steps"].as_array().unwrap() {
        let (Some(rate), Some(low), Some(high)) = (
            step["carried_rate"].as_f64().or(step["rate"].as_f64()),
            step["p95_interval"]["low_ms"].as_f64(),
            step["p95_interval"]["high_ms"].as_f64(),
        ) else {
            continue;
        };
        if step["skipped"] == true || rate > 0.9 * truth {
            continue;
        }
        let (p95, _) = replicas::run(d, SESSIONS, rate, 2000.0, 500.0, 7);
        let sim = p95 * 1000.0;
        context.push_str(&format!(
            "  {rate:.2}/s: measured {low:.0}–{high:.0} ms, simulated {sim:.0} ms\n"
        ));
        assert!(sim >= low * 0.85 && sim <= high * 1.15, "{context}");
        compared += 1;
    }
    eprintln!("{context}");
    assert!(compared >= 2, "{context}{report}");
    // The search never answers above the truth; its margin (an interval shown under the SLA
    // near a gentle knee) costs it at most a quarter.
    assert!(found <= truth * 1.05, "{context}");
    assert!(found >= truth * 0.75, "{context}");
}
