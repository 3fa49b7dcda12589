//! `agentload probe PLAN`: one socket to a platform the plan names, a transcript of what it
//! says before and after a start message, a proposed `[protocol]` section with its evidence,
//! and that section's verdict on the probed run (exit 0: it reads the run clean; 1: it does
//! not; 2: setup). `--write FILE` writes the plan with the section in it.
//! `agentload record PLAN --runs N --out FILE.jsonl`: N runs' frames with their times.

use super::{exit_code, report_folder};
use crate::engine::load::{client_credential, resolve_target, Clients, SetupError};
use crate::engine::probe::analyze::{propose, Frame};
use crate::engine::probe::redact::Redactor;
use crate::engine::probe::section::verdict;
use crate::errors::Exit;
use crate::plan::Plan;
use std::path::{Path, PathBuf};

/// `agentload probe PLAN [--message TEXT] [--write FILE]`.
pub async fn probe(plan_path: &Path, message: Option<&str>, write: Option<&Path>) -> Exit {
    exit_code(probe_inner(plan_path, message, write).await)
}

async fn probe_inner(
    plan_path: &Path,
    message: Option<&str>,
    write: Option<&Path>,
) -> Result<Exit, SetupError> {
    let plan = Plan::load(plan_path)?;
    let dir = report_folder(&plan, "probe", chrono::Utc::now())?;
    let credential = client_credential(&plan)?;
    let resolved = resolve_target(&plan, &credential, &dir).await?;
    let clients = Clients::new(&plan, &resolved, credential.clone())?;
    let message = message.unwrap_or(&plan.scenario.user_request);
    let outcome = crate::engine::probe::probe(&plan, &clients, &credential, message).await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let outcome = outcome?;
    let probed = &outcome.probed;
    let mut text = format!(
        "agentload probe: {} (profiles tried: {})\n\n-- transcript (tokens and secrets redacted, long strings cut) --\n",
        resolved.ws_url,
        outcome
            .tried
            .iter()
            .map(|(p, why)| format!("{p}: {why}"))
            .chain([format!("{}: the run below", probed.profile)])
            .collect::<Vec<_>>()
            .join("; ")
    );
    text.push_str(&transcript(&probed.frames, probed.start, &outcome.redactor));
    let proposal = propose(probed);
    let section = proposal.toml();
    text.push_str("\n-- proposed [protocol] --\n");
    text.push_str(&section);
    let recognised: Vec<String> = proposal
        .recognised
        .iter()
        .map(|(wire, ours)| match wire == ours {
            true => wire.clone(),
            false => format!("{wire} ({ours})"),
        })
        .collect();
    text.push_str(&format!(
        "\nevents recognised: {}\n",
        match recognised.is_empty() {
            true => "none".to_string(),
            false => recognised.join(", "),
        }
    ));
    let judged = verdict(&proposal, probed);
    text.push_str("\n-- verdict --\n");
    let exit = match &judged {
        Ok(events) => {
            text.push_str(&format!(
                "PASS: the proposed section reads the probed run clean, the five events checked ({})\n",
                events.join(" → ")
            ));
            Exit::Pass
        }
        Err(why) => {
            text.push_str(&format!(
                "FAIL: {why}; edit the section (see docs/platforms.md)\n"
            ));
            Exit::SlaFailed
        }
    };
    print!("{text}");
    let text = outcome.redactor.text(&text);
    super::run::write_file(&dir.join("probe.txt"), text.as_bytes())?;
    super::run::write_file(&dir.join("protocol.toml"), section.as_bytes())?;
    if let Some(path) = write {
        let original = std::fs::read_to_string(plan_path).unwrap_or_default();
        let written = with_section(&original, &section);
        Plan::parse(&written, path)?;
        super::run::write_file(path, written.as_bytes())?;
        println!("agentload probe: a runnable plan in {}", path.display());
    }
    println!(
        "agentload probe: transcript and section in {}",
        dir.display()
    );
    Ok(exit)
}

/// The frames for people: time, direction, the frame redacted and cut.
fn transcript(frames: &[Frame], start: usize, redactor: &Redactor) -> String {
    let mut out = String::new();
    for (i, f) in frames.iter().enumerate() {
        if i == start {
            out.push_str("   (the start message:)\n");
        }
        let arrow = if f.incoming { "←" } else { "→" };
        out.push_str(&format!(
            "  +{:>8.3}s {arrow} {}\n",
            f.at_ms / 1000.0,
            redactor.shown(&f.value)
        ));
    }
    out
}

/// `plan` with its `[protocol]` tables replaced by `section` (appended at the end).
pub fn with_section(plan: &str, section: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in plan.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            let name = t.trim_start_matches('[').trim_end().trim_end_matches(']');
            skipping = name == "protocol" || name.starts_with("protocol.");
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    format!(
        "{}\n# Proposed by `agentload probe`: each line's comment says what it saw.\n{section}",
        out.trim_end()
    )
}

/// `agentload record PLAN --runs N --out FILE.jsonl`.
pub async fn record(plan_path: &Path, runs: usize, out: &Path) -> Exit {
    exit_code(record_inner(plan_path, runs, out.to_path_buf()).await)
}

async fn record_inner(plan_path: &Path, runs: usize, out: PathBuf) -> Result<Exit, SetupError> {
    let plan = Plan::load(plan_path)?;
    let dir = std::env::temp_dir().join(format!("agentload-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| SetupError::Report {
        path: dir.clone(),
        message: e.to_string(),
    })?;
    let credential = client_credential(&plan)?;
    let resolved = resolve_target(&plan, &credential, &dir).await?;
    let clients = Clients::new(&plan, &resolved, credential.clone())?;
    let recording = crate::engine::probe::record(&plan, &clients, &credential, runs).await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let recording = recording?;
    super::run::write_file(&out, recording.to_jsonl().as_bytes())?;
    println!(
        "agentload record: {runs} run(s), {} frames, in {} (replay it: agentload target --replay {})",
        recording.lines.len(),
        out.display(),
        out.display()
    );
    Ok(Exit::Pass)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_protocol_section_is_replaced_whole() {
        let plan = "name = \"x\"\n[protocol]\nprofile = \"netra\"\n[protocol.handshake]\nwait_for = \"h\"\n[scenario]\nthink_time = \"1s\"\n";
        let out = super::with_section(plan, "[protocol]\nprofile = \"reference\"\n");
        assert!(!out.contains("netra") && !out.contains("wait_for"), "{out}");
        assert!(
            out.contains("[scenario]\nthink_time = \"1s\"")
                && out.ends_with("profile = \"reference\"\n")
        );
    }
}
