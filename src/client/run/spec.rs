//! One agent run as the client performs it: what it is asked (`RunSpec`), where it stands
//! (`Step`), what it holds across sockets (`Run`) and what it measured (`RunResult`).

use super::trace;
use crate::client::continuity::Continuity;
use crate::client::outcome::{EventName, Failure, RunOutcome};
use crate::client::protocol::{Profile, SequenceChecker, SequenceRules, StartTemplate};
use std::time::{Duration, Instant, SystemTime};

/// A stop under way, as a run sees it (the load's `Stop`): how long a run may go on once a
/// stop is asked, and what resolves when that grace is over (pending until a stop).
pub trait Grace: Sync {
    fn grace(&self) -> Duration;
    fn grace_over(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>>;
}

/// One agent run to perform.
pub struct RunSpec<'a> {
    pub profile: &'a Profile,
    pub run_id: &'a str,
    pub thread_id: &'a str,
    pub user_id: &'a str,
    pub canary: &'a str,
    pub user_request: &'a str,
    /// The start message (asking for the scenario's agent, if it names one).
    pub start: &'a StartTemplate,
    pub timeout: Duration,
    pub rules: &'a SequenceRules,
    pub isolation: &'a crate::client::isolation::Isolation,
    pub user_index: usize,
    /// Reconnect and `resume` when the socket goes mid-run.
    pub resume: bool,
    /// Drop our own socket after this many events of the run, then resume (0: never).
    pub drop_after_events: usize,
    /// Run ids of this user's earlier runs: their late frames are stale, not this run's.
    pub retired: &'a std::collections::VecDeque<String>,
    /// When the user's token lapses: an auth error after it is a token expiry.
    pub token_expires_at: Option<SystemTime>,
    /// Keep the completion's details (for result checks; a plan without checks needs none).
    pub keep_final_data: bool,
    /// A stop under way: the run is interrupted when its grace runs out.
    pub stop: &'a dyn Grace,
    /// The socket's clock offset (server less client, seconds), for delivery lag.
    pub clock_offset: Option<f64>,
}

/// What a run measured.
pub struct RunResult {
    pub outcome: RunOutcome,
    /// From the start message's send to the run's first event.
    pub time_to_first_event: Option<Duration>,
    /// From the start message's send to the verdict.
    pub elapsed: Duration,
    /// False when the socket can not be trusted for another run (closed, timed out).
    pub socket_usable: bool,
    /// Owners of other users' data seen on this socket during the run.
    pub leaks: Vec<usize>,
    /// Frames of earlier runs (or of this run after its verdict) read and set aside.
    pub stale_frames: u64,
    /// The ids this run went by (ours, and the server's if it named the run itself).
    pub run_ids: Vec<String>,
    /// The clock offset its delivery lags were read with (its socket's, or its first event's).
    pub clock_offset: Option<f64>,
}

/// Where a run stands after reading from one socket.
pub enum Step {
    /// The run has its verdict (`Err`: failure, and whether the socket is still usable).
    Done(Result<(), (Failure, bool)>),
    /// The socket went mid-run (or we dropped it on purpose): reconnect and `resume`.
    Interrupted(Failure),
}

/// One run, possibly across several sockets: the checker and the timings survive a reconnect.
pub struct Run<'a> {
    pub(super) spec: RunSpec<'a>,
    pub(super) checker: SequenceChecker,
    pub(super) timeline: Vec<(EventName, Duration)>,
    pub(super) final_data: Option<serde_json::Map<String, serde_json::Value>>,
    pub(super) time_to_first_event: Option<Duration>,
    pub(super) run_id: String,
    pub(super) adopted: bool,
    pub(super) leaks: Vec<usize>,
    pub(super) resumed: bool,
    pub(super) dropped_on_purpose: bool,
    pub(super) sent_at: Instant,
    pub(super) deadline: tokio::time::Instant,
    /// Each event once, `seq` without gaps.
    pub(super) continuity: Continuity,
    pub(super) stale_frames: u64,
    /// Set once the run failed before its last event: the verdict and when it came. The rest
    /// of the run's frames are read off the socket (drained) so the next run starts clean.
    pub(super) draining: Option<(Failure, Duration)>,
    /// Whether the last event judged ended the run (completion or error).
    pub(super) last_was_terminal: bool,
    /// Its agent, its tools, its events' delivery lags.
    pub(super) tracer: trace::Tracer,
}
