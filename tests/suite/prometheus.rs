//! The exporter read by the real thing: Debian's `prometheus` scrapes a run's `--metrics-addr`
//! and the reference target's `/metrics` every second; its HTTP API answers the run rate, the
//! agent-run P95 (within one bucket of the summary's) and the target's memory; every panel of
//! the Grafana dashboard returns data; `promtool check metrics` finds nothing wrong in either
//! scrape. `.ci/run` installs `prometheus`; elsewhere the test says it is skipped.

use crate::common::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// One HTTP/1.0 GET on loopback: (status line, body).
fn get(addr: &str, path: &str, accept: &str) -> Option<(String, String)> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: {accept}\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// Percent-encodes a PromQL expression for a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Prometheus {
    child: Child,
    addr: String,
}

impl Prometheus {
    /// Starts `prometheus` scraping `jobs` (name, address, path) every second.
    fn start(dir: &std::path::Path, jobs: &[(&str, String, &str)]) -> Prometheus {
        let mut config = String::from(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n",
        );
        for (job, addr, path) in jobs {
            config.push_str(&format!(
                "  - job_name: {job}\n    metrics_path: {path}\n    static_configs:\n      - targets: ['{addr}']\n"
            ));
        }
        let config_path = dir.join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .expect("start prometheus");
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(&addr, "/-/ready", "*/*").is_none_or(|(status, _)| !status.contains("200")) {
            assert!(Instant::now() < deadline, "prometheus never got ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        Prometheus { child, addr }
    }

    /// An instant query (at `at`, Unix seconds, or now): the result vector.
    fn query(&self, expr: &str, at: Option<f64>) -> Vec<Value> {
        let time = at.map_or(String::new(), |t| format!("&time={t:.3}"));
        let path = format!("/api/v1/query?query={}{time}", encode(expr));
        let (_, body) = get(&self.addr, &path, "application/json").expect("prometheus answers");
        let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        assert_eq!(answer["status"], "success", "{expr}: {body}");
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The first sample's value of `expr`, when it has one that is a number (not NaN).
    fn number(&self, expr: &str, at: Option<f64>) -> Option<f64> {
        let result = self.query(expr, at);
        let value: f64 = result.first()?["value"][1].as_str()?.parse().ok()?;
        value.is_finite().then_some(value)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `promtool check metrics` on a scrape: what it reports (nothing when all is well).
fn promtool_check(scrape: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool comes with prometheus");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The index of the first bucket bound at or above `secs`.
fn bucket_of(bounds: &[f64], secs: f64) -> usize {
    bounds
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(bounds.len())
}

#[test]
fn a_real_prometheus_reads_the_run_rate_p95_and_the_target_memory() {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIPPED: `prometheus` is not installed (Debian: apt-get install prometheus; \
             .ci/run installs it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start_plain_on(0, &["--event-delay-ms", "20", "--error-rate", "0.1"]);
    let exporter = format!("127.0.0.1:{}", free_port());
    let target_addr = t.base_url.trim_start_matches("http://").to_string();
    let prom = Prometheus::start(
        dir.path(),
        &[
            ("agentload", exporter.clone(), "/metrics"),
            ("target", target_addr.clone(), "/metrics"),
        ],
    );
    let plan = format!(
        "name = \"prom\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[scenario]\nthink_time = \"100ms\"\nrun_timeout = \"30s\"\n\
         [[stages]]\nusers = 20\nduration = \"2s\"\n[[stages]]\nusers = 20\nduration = \"14s\"\n\
         [sampler]\nenabled = false\n[sla]\nerror_rate = \"100%\"\n[report]\ndir = \"{}\"\n",
        t.base_url,
        t.ws_url,
        dir.path().join("reports").display()
    );
    let plan_path = dir.path().join("plan.toml");
    std::fs::write(&plan_path, plan).unwrap();
    let mut run = agentload()
        .args([
            "run",
            plan_path.to_str().unwrap(),
            "--metrics-addr",
            &exporter,
        ])
        .env("IT_CLIENT_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Midway: the rate, the P95, the target's memory, and every dashboard panel.
    std::thread::sleep(Duration::from_secs(10));
    let rate = prom.number(
        "sum(rate(agentload_runs_total{result=\"completed\"}[5s]))",
        None,
    );
    assert!(rate.is_some_and(|r| r > 1.0), "run rate {rate:?}");
    let p95 = prom.number(
        "histogram_quantile(0.95, sum by (le) (rate(agentload_agent_run_seconds_bucket[10s])))",
        None,
    );
    assert!(
        p95.is_some_and(|p| p > 0.0),
        "P95 read {p95:?}: NaN or none"
    );
    let rss = prom.number("process_resident_memory_bytes{job=\"target\"}", None);
    assert!(rss.is_some_and(|r| r > 1e6), "target RSS {rss:?}");
    let dashboard: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/grafana/agentload.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut panels = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let Some(expr) = target["expr"].as_str() else {
                continue;
            };
            let expr = expr
                .replace("$run_id", ".*")
                .replace("$server_job", "target");
            let result = prom.query(&expr, None);
            assert!(
                !result.is_empty(),
                "panel `{}`: `{expr}` returned no data",
                panel["title"]
            );
            panels += 1;
        }
    }
    assert!(panels >= 6, "{panels} panel queries");

    // Both scrapes pass promtool, the exporter's in the classic format it serves to curl.
    let (status, scrape) = get(&exporter, "/metrics", "*/*").expect("the exporter answers");
    assert!(status.contains("200"), "{status}");
    let (ok, said) = promtool_check(&scrape);
    assert!(ok && said.trim().is_empty(), "promtool: {said}\n{scrape}");
    let (_, target_scrape) = get(&target_addr, "/metrics", "*/*").unwrap();
    let (ok, said) = promtool_check(&target_scrape);
    assert!(
        ok && said.trim().is_empty(),
        "promtool on the target: {said}"
    );
    // The buckets are cumulative, +Inf equals _count.
    let buckets: Vec<f64> = scrape
        .lines()
        .filter(|l| l.starts_with("agentload_agent_run_seconds_bucket"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{scrape}");
    let count: f64 = scrape
        .lines()
        .find_map(|l| l.strip_prefix("agentload_agent_run_seconds_count "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(buckets.last(), Some(&count), "{scrape}");

    let mut stderr = String::new();
    run.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = run.wait().unwrap();
    let ended = unix_now();
    assert!(status.success(), "{stderr}");
    let report = report_in(dir.path(), "reports");
    let s: Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    // The whole run's P95 from the last scrape's cumulative buckets, beside the summary's.
    let bounds: Vec<f64> = scrape
        .lines()
        .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    let summary_p95 = s["latency"]["agent_run"]["p95_ms"].as_f64().unwrap() / 1000.0;
    let prom_p95 = (0..8)
        .find_map(|back| {
            let expr = "histogram_quantile(0.95, sum by (le) (agentload_agent_run_seconds_bucket))";
            prom.number(expr, Some(ended - 1.0 - back as f64))
        })
        .expect("the run's last scrapes are in prometheus");
    let (a, b) = (
        bucket_of(&bounds, summary_p95),
        bucket_of(&bounds, prom_p95),
    );
    assert!(
        a.abs_diff(b) <= 1,
        "prometheus P95 {prom_p95} s, summary P95 {summary_p95} s: buckets {b} and {a} of {bounds:?}"
    );
    let completed = prom
        .number(
            "agentload_runs_total{result=\"completed\"}",
            Some(ended - 1.0),
        )
        .unwrap();
    let total = s["runs"]["completed"].as_f64().unwrap();
    assert!(
        completed <= total && completed > 0.5 * total,
        "{completed} of {total}"
    );
}
