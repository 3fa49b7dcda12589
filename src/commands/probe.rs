//! `agentload probe PLAN`: several runs on two sockets to a platform the plan names, a
//! transcript of what it says before and after each start message, a proposed `[protocol]`
//! section with its evidence, and that section's verdict on every probed run (exit 0: it
//! reads them all clean; 1: it does not; 2: setup). `--write FILE` writes the plan with the
//! section in it.
//! `agentload record PLAN --runs N --out FILE.jsonl`: N runs' frames with their times.

use super::exit::exit_code;
use crate::errors::Exit;
use crate::load::drive::{client_credential, resolve_target, Clients, SetupError};
use crate::load::folder::report_folder;
use crate::onboarding::probe::analyze::Frame;
use crate::onboarding::probe::choose::choose;
use crate::onboarding::probe::redact::Redactor;
use crate::plan::Plan;
use std::path::{Path, PathBuf};

/// `agentload probe PLAN [--message TEXT] [--runs N] [--write FILE]`.
pub async fn probe(
    plan_path: &Path,
    message: Option<&str>,
    runs: usize,
    write: Option<&Path>,
) -> Exit {
    exit_code(probe_inner(plan_path, message, runs, write).await)
}

async fn probe_inner(
    plan_path: &Path,
    message: Option<&str>,
    runs: usize,
    write: Option<&Path>,
) -> Result<Exit, SetupError> {
    let plan = Plan::load(plan_path)?;
    let dir = report_folder(&plan, "probe", chrono::Utc::now())?;
    let credential = client_credential(&plan)?;
    let resolved = resolve_target(&plan, &credential, &dir).await?;
    let clients = Clients::new(&plan, &resolved, credential.clone())?;
    let message = message.unwrap_or(&plan.scenario.user_request);
    let outcome =
        crate::onboarding::probe::probe(&plan, &clients, &credential, message, runs).await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let outcome = outcome?;
    let tried: Vec<String> = outcome
        .tried
        .iter()
        .map(|(what, why)| format!("{what}: {why}"))
        .collect();
    let mut text = format!(
        "agentload probe: {} ({} run(s) on {} socket(s){})\n",
        resolved.ws_url,
        outcome.runs.len(),
        outcome.sockets,
        match tried.is_empty() {
            true => String::new(),
            false => format!("; tried first: {}", tried.join("; ")),
        }
    );
    for (i, run) in outcome.runs.iter().enumerate() {
        text.push_str(&format!(
            "\n-- run {} (tokens and secrets redacted, long strings cut) --\n",
            i + 1
        ));
        text.push_str(&transcript(&run.frames, run.start, &outcome.redactor));
    }
    let chosen = choose(
        &outcome.runs,
        outcome.start.as_ref(),
        outcome.carriers.as_deref(),
    );
    let section = chosen.proposal.toml();
    text.push_str("\n-- proposed [protocol] --\n");
    text.push_str(&section);
    let recognised: Vec<String> = chosen
        .proposal
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
    text.push_str("\n-- verdict --\n");
    let (clean, n) = (chosen.clean(), chosen.verdicts.len());
    let layouts = format!(
        "{} layout(s) seen: {}",
        chosen.layouts.len(),
        chosen.layouts.join(", ")
    );
    let exit = match (outcome.start.is_some(), clean == n) {
        (true, true) => {
            let events = chosen.verdicts[0]
                .as_ref()
                .map(|e| e.join(" → "))
                .unwrap_or_default();
            text.push_str(&format!(
                "PASS: the proposed section reads the probed runs clean: {clean} of {n} runs \
                 read clean; {layouts} (the five events checked: {events})\n"
            ));
            Exit::Pass
        }
        (false, _) => {
            text.push_str(
                "FAIL: no start message got a run; give one with --message or [protocol] \
                 start_message (see docs/platforms.md)\n",
            );
            Exit::SlaFailed
        }
        (true, false) => {
            let why = chosen
                .verdicts
                .iter()
                .enumerate()
                .find_map(|(i, v)| v.as_ref().err().map(|e| format!("run {}: {e}", i + 1)))
                .unwrap_or_default();
            text.push_str(&format!(
                "FAIL: {clean} of {n} runs read clean ({why}); {layouts}; edit the section (see \
                 docs/platforms.md)\n"
            ));
            Exit::SlaFailed
        }
    };
    print!("{text}");
    let text = outcome.redactor.text(&text);
    crate::load::folder::write_file(&dir.join("probe.txt"), text.as_bytes())?;
    crate::load::folder::write_file(&dir.join("protocol.toml"), section.as_bytes())?;
    if let Some(path) = write {
        let original = std::fs::read_to_string(plan_path).unwrap_or_default();
        let written = with_section(&original, &section);
        Plan::parse(&written, path)?;
        crate::load::folder::write_file(path, written.as_bytes())?;
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
    let recording = crate::onboarding::probe::record(&plan, &clients, &credential, runs).await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let recording = recording?;
    crate::load::folder::write_file(&out, recording.to_jsonl().as_bytes())?;
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
