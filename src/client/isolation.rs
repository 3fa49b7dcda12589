//! Isolation: every frame a user receives is scanned for another user's identity — its
//! canary (a secret-shaped marker sent with each run), its user id or its run ids, all of which
//! carry the load test's tag and the user's number. Zero tolerance: one hit is a violation.
//!
//! User ids are `u<n>-al<tag>` (see `auth::Identity`), run ids `u<n>-al<tag>-r<k>`, canaries
//! `sk-<tag>u<n>x<random>`.

pub use crate::model::findings::{IsolationSummary, LeakExample};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

mod distinct;

/// Most leak examples kept for the report.
const MAX_EXAMPLES: usize = 10;

/// What the server's welcome called a user, and who the user is (the token's `sub`).
#[derive(Debug, Clone)]
struct Welcome {
    given: String,
    expected: Option<String>,
}

impl Welcome {
    /// Whether the id the server gave can be this user's own: equal, or the platform's
    /// shortened form (`abcdefgh...`) of it.
    fn consistent(&self) -> bool {
        let Some(expected) = &self.expected else {
            return false;
        };
        match shortened_stem(&self.given) {
            Some(stem) => !stem.is_empty() && expected.starts_with(stem),
            None => self.given == *expected,
        }
    }
}

/// The visible part of an id the server shortened with an ellipsis, if it did.
fn shortened_stem(id: &str) -> Option<&str> {
    id.strip_suffix("...").or_else(|| id.strip_suffix('…'))
}

/// The welcomes as the check keeps them: what it judges on, in memory that does not grow with
/// the users (a soak welcomes millions): the users welcomed, whether every id given could be
/// its user's own, and the distinct ids given.
#[derive(Debug)]
struct Welcomes {
    users: u64,
    all_own: bool,
    ids: distinct::Distinct,
}

/// Shared by every user of a load test.
pub struct Isolation {
    /// `-al<tag>`, searched for with a precompiled finder (every frame is scanned).
    user_marker: memchr::memmem::Finder<'static>,
    canary_prefix: String,
    canary_finder: memchr::memmem::Finder<'static>,
    violations: AtomicU64,
    examples: Mutex<Vec<LeakExample>>,
    welcomes: Mutex<Welcomes>,
}

impl Isolation {
    pub fn new(run_tag: &str) -> Isolation {
        Isolation {
            user_marker: memchr::memmem::Finder::new(&format!("-al{run_tag}")).into_owned(),
            canary_prefix: format!("sk-{run_tag}u"),
            canary_finder: memchr::memmem::Finder::new(&format!("sk-{run_tag}u")).into_owned(),
            violations: AtomicU64::new(0),
            examples: Mutex::new(Vec::new()),
            welcomes: Mutex::new(Welcomes {
                users: 0,
                all_own: true,
                ids: distinct::Distinct::default(),
            }),
        }
    }

    /// A fresh canary for `user`, shaped like an API key.
    pub fn canary(&self, user: usize) -> String {
        format!(
            "{}{user}x{:016x}",
            self.canary_prefix,
            rand::random::<u64>()
        )
    }

    /// The first other user whose identity `frame` carries.
    pub fn foreign_owner(&self, me: usize, frame: &str) -> Option<usize> {
        numbers_before(frame, &self.user_marker)
            .chain(numbers_after(frame, &self.canary_finder))
            .find(|owner| *owner != me)
    }

    /// Checks a frame received by `me`; records and returns the owner on a leak.
    pub fn check(&self, me: usize, frame: &str) -> Option<usize> {
        let owner = self.foreign_owner(me, frame)?;
        self.violations.fetch_add(1, Ordering::Relaxed);
        let mut examples = self.examples.lock().unwrap_or_else(|p| p.into_inner());
        if examples.len() < MAX_EXAMPLES {
            examples.push(LeakExample {
                receiver: me,
                owner,
                excerpt: crate::client::protocol::excerpt(frame),
            });
        }
        Some(owner)
    }

    /// Frames carrying another user's data, so far.
    pub fn violations(&self) -> u64 {
        self.violations.load(Ordering::Relaxed)
    }

    /// Notes the user id the server's welcome gave a user, and the id the user's token names
    /// (`expected`, when known); `first`: the user's first welcome (a user reconnecting is
    /// welcomed again, and counted once).
    pub fn welcomed(&self, first: bool, user_id: &str, expected: Option<&str>) {
        let welcome = Welcome {
            given: user_id.to_string(),
            expected: expected.map(String::from),
        };
        let mut w = self.welcomes.lock().unwrap_or_else(|p| p.into_inner());
        w.users += u64::from(first);
        w.all_own &= welcome.consistent();
        w.ids.add(user_id);
    }

    pub fn summary(&self) -> IsolationSummary {
        let w = self.welcomes.lock().unwrap_or_else(|p| p.into_inner());
        let (distinct, estimated) = w.ids.count();
        // Every user given one id is a bypass unless that id can be each user's own (a
        // platform that shortens ids may show users whose ids share a prefix as one).
        let bypass = w
            .ids
            .only()
            .filter(|_| w.users >= 2 && !w.all_own)
            .map(String::from);
        IsolationSummary {
            violations: self.violations.load(Ordering::Relaxed),
            examples: self
                .examples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            users_welcomed: w.users,
            distinct_user_ids: distinct,
            distinct_estimated: estimated,
            suspected_auth_bypass: bypass,
        }
    }
}

/// Every user number written as `u<n>` right before `marker` in `text`.
fn numbers_before<'a>(
    text: &'a str,
    marker: &'a memchr::memmem::Finder<'static>,
) -> impl Iterator<Item = usize> + 'a {
    marker.find_iter(text.as_bytes()).filter_map(move |at| {
        let head = &text[..at];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let number = &head[head.len() - digits..];
        let before = head[..head.len() - digits].chars().next_back();
        (digits > 0 && before == Some('u'))
            .then(|| number.parse().ok())
            .flatten()
    })
}

/// Every number written right after `prefix` in `text`.
fn numbers_after<'a>(
    text: &'a str,
    prefix: &'a memchr::memmem::Finder<'static>,
) -> impl Iterator<Item = usize> + 'a {
    prefix.find_iter(text.as_bytes()).filter_map(move |at| {
        let rest = &text[at + prefix.needle().len()..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..digits].parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_other_users_ids_and_canaries_only() {
        let iso = Isolation::new("abc123");
        let mine = r#"{"run_id":"u7-alabc123-r3","user_id":"u7-alabc123"}"#;
        assert_eq!(iso.check(7, mine), None);
        // u70 is not u7: numbers are read whole.
        let other = r#"{"run_id":"u70-alabc123-r1"}"#;
        assert_eq!(iso.check(7, other), Some(70));
        let canary = iso.canary(12);
        assert!(canary.starts_with("sk-abc123u12x"));
        assert_eq!(
            iso.check(3, &format!(r#"{{"data":{{"canary":"{canary}"}}}}"#)),
            Some(12)
        );
        // Another load test's ids are not this one's users.
        assert_eq!(iso.check(7, r#"{"user_id":"u9-alffffff"}"#), None);
        let s = iso.summary();
        assert_eq!(s.violations, 2);
        assert_eq!(s.examples[0].owner, 70);
    }

    #[test]
    fn one_id_for_every_user_is_a_suspected_bypass() {
        let iso = Isolation::new("t");
        iso.welcomed(true, "demo-user-001", Some("u0-alt"));
        assert_eq!(
            iso.summary().suspected_auth_bypass,
            None,
            "one user proves nothing"
        );
        iso.welcomed(true, "demo-user-001", Some("u1-alt"));
        assert_eq!(
            iso.summary().suspected_auth_bypass.as_deref(),
            Some("demo-user-001")
        );
        iso.welcomed(true, "someone-else", Some("u2-alt"));
        assert_eq!(iso.summary().suspected_auth_bypass, None);
    }

    #[test]
    fn shortened_ids_are_compared_as_far_as_they_go() {
        // The platform cuts ids to 8 characters plus `...`.
        let iso = Isolation::new("abc123");
        iso.welcomed(true, "u0-alabc...", Some("u0-alabc123"));
        iso.welcomed(true, "u1-alabc...", Some("u1-alabc123"));
        let s = iso.summary();
        assert_eq!(s.suspected_auth_bypass, None);
        assert_eq!(s.distinct_user_ids, 2);
        // Users whose own ids share the shown prefix may look alike: not a bypass.
        let iso = Isolation::new("t");
        iso.welcomed(true, "e2e-u100...", Some("e2e-u100-alt"));
        iso.welcomed(true, "e2e-u100...", Some("e2e-u1000-alt"));
        assert_eq!(iso.summary().suspected_auth_bypass, None);
        // One shortened id that is nobody's own, for everyone: a bypass.
        let iso = Isolation::new("t");
        iso.welcomed(true, "demo-use...", Some("u0-alt"));
        iso.welcomed(true, "demo-use...", Some("u1-alt"));
        assert_eq!(
            iso.summary().suspected_auth_bypass.as_deref(),
            Some("demo-use...")
        );
    }

    #[test]
    fn user_numbers_are_read_before_the_marker() {
        assert_eq!(
            numbers_before(
                "x u12-alt y u3-alt zu-alt 9-alt",
                &memchr::memmem::Finder::new("-alt")
            )
            .collect::<Vec<_>>(),
            vec![12, 3]
        );
    }
}
