//! From every probed run to one proposed `[protocol]`: each built-in profile's reading of all
//! the runs (the profiles whose fingerprint, such as their welcome, matches the platform
//! first, then the one whose start message got the runs), with the lines it still needs;
//! the first that reads every run clean is proposed, and why. Pure.

use super::analyze::{layout, propose_on, Probed, Proposal};
use super::section::verdict;
use super::starts::Start;
use crate::client::protocol::Profile;
use crate::plan::Carrier;
use serde_json::Value;

/// The proposal, its verdict on each run, and the layouts the runs showed.
pub struct Chosen {
    pub proposal: Proposal,
    pub verdicts: Vec<Result<Vec<String>, String>>,
    pub layouts: Vec<&'static str>,
}

impl Chosen {
    /// Runs the proposal reads clean.
    pub fn clean(&self) -> usize {
        self.verdicts.iter().filter(|v| v.is_ok()).count()
    }
}

/// Chooses among the built-in profiles' readings of `runs` (`start`: the message that got
/// them; `carriers`: when the plan's were refused).
pub fn choose(runs: &[Probed], start: Option<&Start>, carriers: Option<&[Carrier]>) -> Chosen {
    let started_with = runs.first().map_or("reference", |r| r.profile.as_str());
    let mut order: Vec<(&str, Option<String>)> = crate::plan::PROFILES
        .iter()
        .filter_map(|name| fingerprint(name, runs).map(|why| (*name, Some(why))))
        .collect();
    for name in std::iter::once(started_with).chain(crate::plan::PROFILES.iter().copied()) {
        if !order.iter().any(|(n, _)| *n == name) {
            order.push((name, None));
        }
    }
    let mut layouts: Vec<&'static str> = Vec::new();
    extend_new(
        &mut layouts,
        runs.iter()
            .flat_map(Probed::run_frames)
            .map(|f| layout(&f.value)),
    );
    let mut fallback: Option<Chosen> = None;
    for (name, fingerprint) in order {
        let mut proposal = merged(runs, name);
        let n = runs.len();
        proposal.why = match (fingerprint, name == started_with) {
            (Some(why), _) => format!("{why}, and it reads the {n} probed runs"),
            (None, true) => "its start message got the runs".into(),
            (None, false) => format!("it reads the {n} probed runs"),
        };
        let default = Profile::builtin(name).map(|p| p.start_message);
        proposal.start_message = start
            .filter(|s| Some(&s.template) != default.as_ref())
            .map(|s| (s.template.clone(), s.label.clone()));
        proposal.token_carriers =
            carriers.map(|c| c.iter().map(|c| c.name().to_string()).collect());
        let verdicts: Vec<_> = runs.iter().map(|r| verdict(&proposal, r)).collect();
        let chosen = Chosen {
            proposal,
            verdicts,
            layouts: layouts.clone(),
        };
        if chosen.clean() == n {
            return chosen;
        }
        if name == started_with || fallback.is_none() {
            fallback = Some(chosen);
        }
    }
    fallback.expect("at least one built-in profile")
}

/// Whether the runs' platform is `name`'s, by what it says before any run (its welcome): why.
fn fingerprint(name: &str, runs: &[Probed]) -> Option<String> {
    let welcome = &runs
        .iter()
        .find_map(|r| r.frames.iter().take_while(|f| f.incoming).next())?
        .value;
    let established = welcome.get("type").and_then(Value::as_str) == Some("connection_established");
    let golden = welcome.pointer("/data/golden_path_events").is_some();
    match name {
        "netra" if established && golden => Some(
            "its welcome (connection_established) names the platform's golden-path events".into(),
        ),
        "reference"
            if established && !golden && welcome.pointer("/data/connection_id").is_some() =>
        {
            Some(
                "its welcome is the reference target's (connection_established, a connection_id)"
                    .into(),
            )
        }
        _ => None,
    }
}

/// The proposals of every run on `base`, as one: the first run's type path, welcome and
/// handshake; every run's wrappers, merged objects, aliases and error events.
fn merged(runs: &[Probed], base: &str) -> Proposal {
    let mut all = runs.iter().map(|r| propose_on(r, base));
    let mut out = all.next().unwrap_or_default();
    for p in all {
        extend_new(&mut out.wrappers, p.wrappers);
        for (i, m) in p.merge.iter().enumerate() {
            if !out.merge.contains(m) {
                // After what comes before it in its own run's list.
                let after = i
                    .checked_sub(1)
                    .and_then(|j| out.merge.iter().position(|x| *x == p.merge[j]));
                out.merge.insert(after.map_or(0, |a| a + 1), m.clone());
            }
        }
        for (wire, alias) in p.aliases {
            out.aliases.entry(wire).or_insert(alias);
        }
        extend_new(&mut out.error_events, p.error_events);
        out.welcome = out.welcome.or(p.welcome);
        out.handshake = out.handshake.or(p.handshake);
        out.server_assigns_run_id = out.server_assigns_run_id.or(p.server_assigns_run_id);
        extend_new(&mut out.recognised, p.recognised);
    }
    out
}

/// Appends the items of `from` that `into` does not hold yet, in order.
fn extend_new<T: PartialEq>(into: &mut Vec<T>, from: impl IntoIterator<Item = T>) {
    for item in from {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}
