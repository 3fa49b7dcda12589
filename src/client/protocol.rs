//! The agent event model and the sequence checker. No I/O: frames in, verdicts out.

mod checker;
mod event;
pub mod fields;
pub mod message;
pub mod profile;
pub mod template;

pub use checker::{Progress, SequenceChecker, SequenceRules, Violation};
pub use profile::Profile;
pub use template::StartTemplate;

pub use event::*;
pub use fields::{Fields, Val};
#[cfg(test)]
mod netra_layouts_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_layout_parses() {
        let e = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","seq":2,"data":{"thought":"hmm","step":1}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::AgentThinking);
        assert_eq!(e.run_id.as_deref(), Some("r1"));
        assert_eq!(e.str_field("thought").as_deref(), Some("hmm"));
        assert_eq!(e.u64_field("seq"), Some(2));
    }

    #[test]
    fn error_names_map_to_error() {
        for name in ["agent_error", "error", "error_message"] {
            let frame = format!(r#"{{"type":"{name}"}}"#);
            let e = AgentEvent::parse(&frame).unwrap();
            assert_eq!(e.kind, EventKind::Error);
            assert_eq!(e.wire_name, name);
        }
    }

    #[test]
    fn a_resent_copy_has_the_same_fingerprint() {
        let first = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","timestamp":1.0,"data":{"thought":"a"}}"#,
        )
        .unwrap();
        let again = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","timestamp":2.5,"attempt":2,"data":{"thought":"a"}}"#,
        )
        .unwrap();
        let other = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","timestamp":1.0,"data":{"thought":"b"}}"#,
        )
        .unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert_ne!(first.fingerprint(), other.fingerprint());
        assert!(!first.is_terminal());
    }

    #[test]
    fn non_events_are_parse_errors() {
        assert!(matches!(
            AgentEvent::parse("nope"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            AgentEvent::parse("[1]"),
            Err(ParseError::NoType(_))
        ));
        assert!(matches!(
            AgentEvent::parse(r#"{"type":3}"#),
            Err(ParseError::NoType(_))
        ));
    }
}
