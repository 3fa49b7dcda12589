//! Continuity of one run's events: each delivered once (by `seq`, or by content when a copy
//! differs only in `attempt`/`timestamp`), and `seq` without gaps.

use crate::client::outcome::Failure;
use crate::client::protocol::{excerpt, AgentEvent};

#[derive(Debug, Default)]
pub struct Continuity {
    /// What each event of the run said.
    fingerprints: Vec<u64>,
    /// The last `seq` seen, when the events carry one (what a resume starts after).
    pub last_seq: Option<u64>,
}

impl Continuity {
    /// Takes the run's next event; a repeat or a gap is a failure (`reconnect.*` once the run
    /// was resumed on a new socket, `sequence.*` before).
    pub fn check(&mut self, event: &AgentEvent, frame: &str, resumed: bool) -> Result<(), Failure> {
        let prefix = if resumed { "reconnect" } else { "sequence" };
        let fingerprint = event.fingerprint();
        if self.fingerprints.contains(&fingerprint) {
            let message = format!("{} arrived twice: {}", event.wire_name, excerpt(frame));
            return Err(Failure::new(format!("{prefix}.duplicate_events"), message));
        }
        self.fingerprints.push(fingerprint);
        if let Some(seq) = event.u64_field("seq") {
            match self.last_seq {
                Some(last) if seq <= last => {
                    let message = format!("event seq {seq} arrived again (last seen {last})");
                    return Err(Failure::new(format!("{prefix}.duplicate_events"), message));
                }
                Some(last) if seq > last + 1 => {
                    let message = format!("events {}..{} never arrived", last + 1, seq - 1);
                    return Err(Failure::new(format!("{prefix}.lost_events"), message));
                }
                _ => self.last_seq = Some(seq),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &mut Continuity, frame: &str, resumed: bool) -> Result<(), String> {
        let event = AgentEvent::parse(frame).unwrap();
        c.check(&event, frame, resumed).map_err(|f| f.kind)
    }

    #[test]
    fn a_copy_with_another_attempt_is_a_duplicate() {
        let mut c = Continuity::default();
        let first = r#"{"type":"agent_thinking","data":{"thought":"one"},"timestamp":1}"#;
        let again =
            r#"{"type":"agent_thinking","data":{"thought":"one"},"timestamp":2,"attempt":2}"#;
        let other = r#"{"type":"agent_thinking","data":{"thought":"two"}}"#;
        assert_eq!(check(&mut c, first, false), Ok(()));
        assert_eq!(check(&mut c, other, false), Ok(()));
        assert_eq!(
            check(&mut c, again, false),
            Err("sequence.duplicate_events".into())
        );
    }

    #[test]
    fn seq_repeats_and_gaps_are_found() {
        let mut c = Continuity::default();
        let at = |seq: u64, what: &str| {
            format!(r#"{{"type":"agent_thinking","seq":{seq},"data":{{"thought":"{what}"}}}}"#)
        };
        assert_eq!(check(&mut c, &at(1, "a"), false), Ok(()));
        assert_eq!(check(&mut c, &at(2, "b"), false), Ok(()));
        assert_eq!(
            check(&mut c, &at(2, "c"), true),
            Err("reconnect.duplicate_events".into())
        );
        assert_eq!(
            check(&mut c, &at(5, "d"), false),
            Err("sequence.lost_events".into())
        );
        assert_eq!(c.last_seq, Some(2));
    }
}
