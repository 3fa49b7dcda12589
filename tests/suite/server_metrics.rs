//! Seeing the server: a deployment's own Prometheus `/metrics` (or a JSON endpoint) polled by
//! URL while the load runs, as a remote staging deployment is read, with no pid; and the
//! generator's own figures served to Prometheus (`--metrics-addr`).

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn plan(t: &TargetProc, users: usize, hold: &str, extra: &str) -> String {
    let ca = match t.ca_file.as_os_str().is_empty() {
        true => String::new(),
        false => format!("ca_file = \"{}\"\n", t.ca_file.display()),
    };
    format!(
        "name = \"server\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\n{ca}{extra}\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[scenario]\nthink_time = \"200ms\"\n\
         [[stages]]\nusers = {users}\nduration = \"4s\"\n[[stages]]\nusers = {users}\nduration = \"{hold}\"\n\
         [sampler]\nenabled = false\n",
        t.base_url,
        t.ws_url,
    )
}

fn source(urls: &[String], extra: &str) -> String {
    let urls: Vec<String> = urls.iter().map(|u| format!("\"{u}\"")).collect();
    format!(
        "[[target.metrics]]\nname = \"backend\"\nurls = [{}]\ninterval = \"500ms\"\n{extra}",
        urls.join(", ")
    )
}

#[test]
fn memory_per_connection_of_a_remote_target_comes_from_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    // Plain sockets: a TLS session's buffers would add to each connection's known cost.
    let t = TargetProc::start_plain_on(
        0,
        &[
            "--event-delay-ms",
            "20",
            "--ballast-kb-per-connection",
            "512",
        ],
    );
    let metrics = format!("{}/metrics", t.base_url);
    let out = run_plan(
        dir.path(),
        &plan(&t, 200, "2s", &source(&[metrics], "")),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    // No pid, no sampler: the figure is the target's own, by URL.
    assert_eq!(s["resources"], Value::Null, "{s}");
    let server = &s["server"];
    let per_conn = server["memory_per_connection_bytes"].as_f64().unwrap();
    let expected = 512.0 * 1024.0;
    assert!(
        (per_conn - expected).abs() <= 0.2 * expected,
        "{per_conn:.0} B per connection, 512 KiB expected\n{}",
        server["notes"]
    );
    assert!(
        server["cpu_seconds_per_run"].as_f64().unwrap() > 0.0,
        "{server}"
    );
    assert_eq!(server["failed_polls"], 0, "{server}");
    let html = std::fs::read_to_string(out.report_dir.unwrap().join("index.html")).unwrap();
    assert!(html.contains("id=\"server\"") && html.contains("Memory per connection"));
}

#[test]
fn two_instances_are_shown_each_and_added_up() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "20"]);
    let other_dir = dir.path().join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = TargetProc::start(&other_dir, &[]);
    // The other instance's CA: one file trusted for both.
    let both_ca = dir.path().join("both-ca.pem");
    let mut pem = std::fs::read(&t.ca_file).unwrap();
    pem.extend(std::fs::read(&other.ca_file).unwrap());
    std::fs::write(&both_ca, pem).unwrap();
    let urls = [
        format!("{}/metrics", t.base_url),
        format!("{}/metrics", other.base_url),
    ];
    let text = plan(&t, 4, "2s", &source(&urls, "")).replace(
        &t.ca_file.display().to_string(),
        &both_ca.display().to_string(),
    );
    let out = run_plan(dir.path(), &text, &[("IT_CLIENT_SECRET", SECRET)]);
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    let series = s["server"]["series"].as_array().unwrap();
    let rss: Vec<&Value> = series
        .iter()
        .filter(|x| x["name"] == "process_resident_memory_bytes")
        .collect();
    assert_eq!(rss.len(), 2, "{}", s["server"]);
    let instances: Vec<&str> = rss
        .iter()
        .map(|x| x["instance"].as_str().unwrap())
        .collect();
    assert_eq!(
        instances,
        urls.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // At each poll, the sum is the two instances' values added.
    let first = |x: &Value| x["samples"][0][1].as_f64().unwrap();
    let summed = first(rss[0]) + first(rss[1]);
    assert!(summed > first(rss[0]) && summed > first(rss[1]));
    let html = std::fs::read_to_string(out.report_dir.unwrap().join("index.html")).unwrap();
    for url in &urls {
        assert!(html.contains(url.as_str()), "{url} not in the report");
    }
    assert!(html.contains("all instances"));
}

#[test]
fn a_json_source_reads_the_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "20"]);
    let json = format!(
        "[[target.metrics]]\nname = \"monitor\"\nformat = \"json\"\nurl = \"{}/stats\"\n\
         interval = \"300ms\"\npaths = {{ connections_open = \"connections_open\" }}\n",
        t.base_url
    );
    let out = run_plan(
        dir.path(),
        &plan(&t, 6, "2s", &json),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    let series = &s["server"]["series"][0];
    assert_eq!(series["name"], "connections_open", "{}", s["server"]);
    let max = series["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(max, 6.0, "{series}");
}

#[test]
fn a_source_that_fails_is_a_note_not_a_failed_test() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "20"]);
    // One URL answers 404, the other answers JSON where Prometheus text is expected.
    let urls = [
        format!("{}/no-such-page", t.base_url),
        format!("{}/stats", t.base_url),
    ];
    let out = run_plan(
        dir.path(),
        &plan(&t, 2, "1s", &source(&urls, "")),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let server = &out.summary()["server"];
    assert!(server["failed_polls"].as_u64().unwrap() >= 2, "{server}");
    assert_eq!(server["polls"], server["failed_polls"], "{server}");
    let notes = server["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "{server}");
    let html = std::fs::read_to_string(out.report_dir.unwrap().join("index.html")).unwrap();
    assert!(html.contains("a poll failed"), "no note in the report");
}

#[test]
fn a_bad_source_is_a_plan_error_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &[]);
    let bad = "[[target.metrics]]\nformat = \"json\"\nurl = \"ftp://x/stats\"\n";
    let out = run_plan(
        dir.path(),
        &plan(&t, 1, "1s", bad),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 2, "{}", out.explain());
    assert!(
        out.stderr.contains("target.metrics.urls"),
        "{}",
        out.explain()
    );
}

/// One scrape of `addr`'s `/metrics`: `agentload_runs_total{result="completed"}` and the
/// failures by kind, or `None` while nothing answers.
fn scrape(addr: &str) -> Option<(f64, BTreeMap<String, f64>)> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let body = reply.split("\r\n\r\n").nth(1)?;
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).ok()?;
    let value = |s: &prometheus_parse::Sample| match s.value {
        prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => Some(v),
        _ => None,
    };
    let completed = scrape.samples.iter().find_map(|s| {
        let completed =
            s.metric == "agentload_runs_total" && s.labels.get("result") == Some("completed");
        completed.then(|| value(s)).flatten()
    })?;
    let failures = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "agentload_failures_total")
        .filter_map(|s| Some((s.labels.get("kind")?.to_string(), value(s)?)))
        .collect();
    Some((completed, failures))
}

#[test]
fn the_generator_serves_its_own_figures_to_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &["--event-delay-ms", "5", "--error-rate", "0.3"],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let path = dir.path().join("plan.toml");
    let text = format!(
        "{}[report]\ndir = \"{}\"\n[sla]\nerror_rate = \"100%\"\n",
        plan(&t, 3, "3s", ""),
        dir.path().join("reports").display()
    );
    std::fs::write(&path, text).unwrap();
    let mut child = agentload()
        .args([
            "run",
            path.to_str().unwrap(),
            "--metrics-addr",
            &addr,
            "--progress",
            "500ms",
        ])
        .env("IT_CLIENT_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Scrape as Prometheus would, while the live line says the load runs.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut scrapes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while scrapes.len() < 2 && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains("stage 2/2") {
            if let Some((n, failures)) = scrape(&addr) {
                if scrapes.last().is_none_or(|(last, _)| n > *last) {
                    scrapes.push((n, failures));
                }
            }
        }
    }
    for _ in lines {}
    assert!(child.wait().unwrap().success());
    assert_eq!(
        scrapes.len(),
        2,
        "two scrapes with rising counts: {scrapes:?}"
    );
    let report = report_in(dir.path(), "reports");
    let s: Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    let total = s["runs"]["completed"].as_f64().unwrap();
    let (last, failures) = &scrapes[1];
    assert!(*last <= total, "{last} > {total}");
    let injected = t.stats_until(|st| st["connections_open"] == 0)["faults"]["error"]
        .as_u64()
        .unwrap();
    assert_eq!(s["failures"]["agent.error"]["count"], injected, "{s}");
    // The failures scraped are the summary's kinds, counted so far.
    assert!(!failures.is_empty(), "no failure scraped: {scrapes:?}");
    for (kind, n) in failures {
        let end = s["failures"][kind]["count"].as_f64().unwrap_or(0.0);
        assert!(
            *n >= 1.0 && *n <= end,
            "{kind}: {n} scraped, {end} at the end"
        );
    }
}
