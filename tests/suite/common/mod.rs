//! Helpers for integration tests: the real `agentload` binary, the real reference target as a
//! child process on an ephemeral loopback port, and plans written to a temp dir.
#![allow(dead_code)]

pub mod batch;
pub mod plan;
pub mod queue;
pub mod replicas;
pub mod serial;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_agentload");

/// The binary under test, as every test starts it: the one place tests/ starts it (a plan's
/// run: `run_plan`; a search: `capacity_search`; a target: `TargetProc`).
pub fn agentload() -> Command {
    Command::new(BIN)
}

/// A secret long enough for any check; tests pass it through env vars of child processes only.
pub const SECRET: &str = "it-secret-0123456789abcdef0123456789abcdef";

pub struct TargetProc {
    pub base_url: String,
    pub ws_url: String,
    pub ca_file: PathBuf,
    child: Child,
}

impl TargetProc {
    /// Starts `agentload target --port 0 --tls` with `extra` flags; secret and bypass key
    /// through env vars.
    pub fn start(dir: &Path, extra: &[&str]) -> TargetProc {
        let ca = dir.join("target-ca.pem");
        let ca_text = ca.display().to_string();
        let mut args = vec!["--tls", "--ca-out", &ca_text];
        args.extend_from_slice(extra);
        TargetProc::launch(0, &args, ca)
    }

    /// Starts the target without TLS on `port` (0: a free one): a target restarted on the
    /// same port is trusted again (a TLS one makes a fresh CA each start).
    pub fn start_plain_on(port: u16, extra: &[&str]) -> TargetProc {
        TargetProc::launch(port, extra, PathBuf::new())
    }

    fn launch(port: u16, extra: &[&str], ca: PathBuf) -> TargetProc {
        let mut child = agentload()
            .args(["target", "--exit-on-stdin-eof", "--port", &port.to_string()])
            .args(["--jwt-secret-env", "IT_TARGET_SECRET"])
            .args(["--bypass-key-env", "IT_TARGET_BYPASS"])
            .args(extra)
            .env("IT_TARGET_SECRET", SECRET)
            .env("IT_TARGET_BYPASS", "it-bypass-key")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the target");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let ready: Value = loop {
            let line = lines
                .next()
                .expect("the target exits before it is ready")
                .unwrap();
            if let Some(json) = line.strip_prefix("AGENTLOAD_TARGET_READY ") {
                break serde_json::from_str(json).unwrap();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        TargetProc {
            base_url: ready["base_url"].as_str().unwrap().to_string(),
            ws_url: ready["ws_url"].as_str().unwrap().to_string(),
            ca_file: ca,
            child,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.base_url.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// The target's own counters, from `GET /stats`, trusting only the target's CA.
    pub fn stats(&self) -> Value {
        self.get("/stats")
    }

    /// The user ids that opened a socket (`GET /stats/users`), sorted.
    pub fn users(&self) -> Vec<String> {
        serde_json::from_value(self.get("/stats/users")).unwrap()
    }

    fn get(&self, path: &str) -> Value {
        let ca = Some(self.ca_file.as_path()).filter(|p| !p.as_os_str().is_empty());
        let tls = agentload::tls::client_config(ca, false).unwrap();
        let http = agentload::tls::http_client(&tls, Duration::from_secs(5)).unwrap();
        let url = format!("{}{path}", self.base_url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { http.get(url).send().await.unwrap().json().await.unwrap() })
    }

    /// Polls `/stats` until `done` holds (bounded at 10 s); returns the last counters.
    pub fn stats_until(&self, done: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let stats = self.stats();
            if done(&stats) || Instant::now() > until {
                return stats;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TargetProc {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct RunOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report_dir: Option<PathBuf>,
    pub summary: Option<Value>,
}

/// Writes `plan` to `dir/plan.toml` (reports under `dir/reports`) and runs it.
pub fn run_plan(dir: &Path, plan: &str, env: &[(&str, &str)]) -> RunOutput {
    run_plan_file(dir, &write_plan(dir, plan), env)
}

/// Writes `plan` to `dir/plan.toml` with its reports under `dir/reports`.
fn write_plan(dir: &Path, plan: &str) -> PathBuf {
    let plan = format!(
        "{plan}\n[report]\ndir = \"{}\"\n",
        dir.join("reports").display()
    );
    let path = dir.join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    path
}

pub fn run_plan_file(dir: &Path, path: &Path, env: &[(&str, &str)]) -> RunOutput {
    run_plan_file_with(dir, path, env, &[])
}

/// Writes `plan` (reports under `dir/reports`) and runs it with extra command-line `args`.
pub fn run_plan_with(dir: &Path, plan: &str, args: &[&str]) -> RunOutput {
    run_plan_file_with(dir, &write_plan(dir, plan), &[], args)
}

pub fn run_plan_file_with(
    dir: &Path,
    path: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> RunOutput {
    let mut cmd = agentload();
    cmd.arg("run")
        .arg(path)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run agentload");
    let report_dir = std::fs::read_dir(dir.join("reports"))
        .ok()
        .and_then(|mut entries| entries.next())
        .map(|e| e.unwrap().path());
    let summary = report_dir
        .as_ref()
        .and_then(|d| std::fs::read(d.join("summary.json")).ok())
        .map(|bytes| serde_json::from_slice(&bytes).unwrap());
    RunOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report_dir,
        summary,
    }
}

impl RunOutput {
    pub fn summary(&self) -> &Value {
        self.summary.as_ref().unwrap_or_else(|| {
            panic!(
                "no summary.json\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn explain(&self) -> String {
        format!(
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The one report folder `agentload` wrote under `dir/reports` (or `dir/<sub>`).
pub fn report_in(dir: &Path, sub: &str) -> PathBuf {
    std::fs::read_dir(dir.join(sub))
        .unwrap()
        .next()
        .expect("a report folder")
        .unwrap()
        .path()
}

/// A capacity report's `capacity.json`, in the report folder `dir`.
pub fn capacity_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("capacity.json")).unwrap()).unwrap()
}

/// `agentload capacity PLAN` (with `args`, and the tests' client secret), which must pass:
/// its output, its report folder (the one under `dir/<sub>`) and that report's
/// `capacity.json`.
pub fn capacity_search(
    plan: &Path,
    args: &[&str],
    dir: &Path,
    sub: &str,
) -> (std::process::Output, PathBuf, Value) {
    let out = agentload()
        .arg("capacity")
        .arg(plan)
        .args(args)
        .env("IT_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let report = report_in(dir, sub);
    let cap = capacity_json(&report);
    (out, report, cap)
}

/// A finished command's exit and output, for an assertion's message.
pub fn explain(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `count` shards of `plan` (whose target comes from `IT_BASE`, `IT_WS`, `IT_CA`) against
/// `target`, starting together 3 s from now; each must pass. Then `report merge` of their
/// folders (`reports`) into `merged`: the merged summary, and each shard's.
pub fn run_shards_and_merge(
    plan: &Path,
    target: &TargetProc,
    count: usize,
    reports: &Path,
    merged: &Path,
) -> (Value, Vec<Value>) {
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let children: Vec<Child> = (0..count)
        .map(|i| {
            agentload()
                .arg("run")
                .arg(plan)
                .args(["--start-at", &at, "-q", "--shard", &format!("{i}/{count}")])
                .args(["--run-id", "it-shards"])
                .env("IT_BASE", &target.base_url)
                .env("IT_WS", &target.ws_url)
                .env("IT_CA", &target.ca_file)
                .env("IT_CLIENT_SECRET", SECRET)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    }
    let json =
        |path: PathBuf| -> Value { serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap() };
    let shards = std::fs::read_dir(reports)
        .unwrap()
        .map(|e| json(e.unwrap().path().join("summary.json")))
        .collect();
    let out = agentload()
        .args(["report", "merge"])
        .arg(reports)
        .arg("--out")
        .arg(merged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    (json(merged.join("summary.json")), shards)
}
