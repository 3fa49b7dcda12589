//! Security probes under load: a share of connects first present an expired, a badly signed or
//! no token. The target must refuse each; one accepted is a critical failure.

pub use crate::model::findings::SecuritySummary;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The bad tokens presented, in rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadToken {
    Expired,
    BadSignature,
    Missing,
}

impl BadToken {
    pub fn name(self) -> &'static str {
        match self {
            BadToken::Expired => "expired",
            BadToken::BadSignature => "bad_signature",
            BadToken::Missing => "missing",
        }
    }
}

/// Shared by every user of a load test.
pub struct Security {
    pub share: f64,
    next: AtomicU64,
    probes: AtomicU64,
    refused: AtomicU64,
    accepted: Mutex<BTreeMap<String, u64>>,
}

impl Security {
    pub fn new(share: f64) -> Security {
        Security {
            share,
            next: AtomicU64::new(0),
            probes: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            accepted: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether this connect is preceded by a probe, and with which bad token.
    pub fn draw(&self) -> Option<BadToken> {
        if self.share <= 0.0 || rand::random::<f64>() >= self.share {
            return None;
        }
        const KINDS: [BadToken; 3] = [BadToken::Expired, BadToken::BadSignature, BadToken::Missing];
        Some(KINDS[(self.next.fetch_add(1, Ordering::Relaxed) % 3) as usize])
    }

    pub fn record(&self, kind: BadToken, refused: bool) {
        self.probes.fetch_add(1, Ordering::Relaxed);
        if refused {
            self.refused.fetch_add(1, Ordering::Relaxed);
        } else {
            *self
                .accepted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(kind.name().to_string())
                .or_default() += 1;
        }
    }

    pub fn summary(&self) -> SecuritySummary {
        SecuritySummary {
            probes: self.probes.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            accepted: self
                .accepted
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}
