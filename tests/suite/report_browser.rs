//! Headless Chromium opens `index.html` from disk, offline: the rendered DOM holds the verdict,
//! every chart and every table. A screenshot is kept in target/ci-artifacts/report.png.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
fn chromium_renders_the_report_offline() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (see .ci/run)"
        );
        eprintln!("skipped: no chromium on this machine (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plan = std::fs::read_to_string("loadplans/smoke.toml")
        .unwrap()
        .replace("duration = \"6s\"", "duration = \"2s\"");
    let out = run_plan(dir.path(), &plan, &[]);
    assert_eq!(out.code, 0, "{}", out.explain());
    let index = out.report_dir.as_ref().unwrap().join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(!html.contains("<script"), "the report needs no script");
    assert!(!html.contains("cdn"), "nothing loaded from a CDN");

    let url = format!("file://{}", index.display());
    let dom = headless(&browser, &dir.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let console = String::from_utf8_lossy(&dom.stderr);
    assert!(!console.contains("Uncaught"), "JS errors: {console}");
    assert!(rendered.contains("PASS: every SLA rule held"), "{rendered}");
    for id in [
        "verdict",
        "sla",
        "runs",
        "throughput",
        "funnel",
        "events",
        "checks",
        "errors",
        "resources",
    ] {
        assert!(
            rendered.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
    for chart in [
        "chart-throughput",
        "chart-latency",
        "chart-gaps",
        "chart-memory",
        "chart-cpu",
    ] {
        let at = rendered
            .find(&format!("id=\"{chart}\""))
            .unwrap_or_else(|| panic!("{chart} missing"));
        let figure = &rendered[at..(at + 400).min(rendered.len())];
        assert!(figure.contains("<svg"), "{chart} has no svg");
        assert!(!figure.contains("no data"), "{chart} is empty");
    }
    for row in [
        "agent_thinking",
        "monthly savings",
        "WS connect",
        "avg&lt;=2000ms for WS connect",
    ] {
        assert!(rendered.contains(row), "table row {row} missing");
    }

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let status = headless(&browser, &dir.path().join("profile-shot"))
        .arg("--window-size=1100,3200")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "screenshot written"
    );
}
