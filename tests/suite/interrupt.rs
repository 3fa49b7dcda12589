//! Ctrl-C stops the ramp gracefully, the reports are still written, and the run says it was
//! stopped early (exit 3).

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn ctrl_c_still_writes_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let plan = "target = \"embedded\"\n[scenario]\nthink_time = \"100ms\"\n\
                [[stages]]\nusers = 2\nduration = \"1s\"\n[[stages]]\nusers = 2\nduration = \"10m\"\n";
    let path = dir.path().join("long.toml");
    std::fs::write(
        &path,
        format!(
            "{plan}[report]\ndir = \"{}\"\n",
            dir.path().join("reports").display()
        ),
    )
    .unwrap();
    let mut child = agentload()
        .arg("run")
        .arg(&path)
        // Goose's log (-v) says when every user has started.
        .arg("-v")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Goose holds the users once every one has started: its SIGINT handler is in place.
    for line in lines.by_ref() {
        if line
            .unwrap()
            .contains("entering GooseAttack phase: Maintain")
        {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let exit = child.wait().unwrap();
    let report = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for file in ["index.html", "summary.json", "goose.html"] {
        assert!(
            report.join(file).is_file(),
            "{file} missing after Ctrl-C:\n{}",
            rest.join("\n")
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["target_counters"]["runs_completed"],
        summary["runs"]["completed"]
    );
    assert_eq!(summary["interrupted"]["signal"], "SIGINT", "{summary}");
    assert_eq!(
        exit.code(),
        Some(3),
        "stopped early, reports written:\n{}",
        rest.join("\n")
    );
}
