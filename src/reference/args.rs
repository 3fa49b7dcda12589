//! What `agentload target` is started with: where it listens, how its agents behave, the
//! faults and limits it plays, the recording it replays.

use super::layouts::{self, TargetProfile};
use super::{faults, tools};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct TargetArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port; 0 picks a free one (the ready line says which).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Serve https/wss with a fresh CA; its certificate goes to --ca-out.
    #[arg(long)]
    pub tls: bool,
    /// Where to write the CA certificate (PEM) clients should trust.
    #[arg(long)]
    pub ca_out: Option<PathBuf>,
    /// Days the TLS certificate is valid from now (negative: already expired).
    #[arg(long, default_value_t = 90, allow_negative_numbers = true)]
    pub cert_valid_days: i64,
    /// Hostname the TLS certificate is for (default: localhost, 127.0.0.1, ::1).
    #[arg(long)]
    pub cert_hostname: Option<String>,
    /// Frontend origin allowed by CORS (repeatable).
    #[arg(long, default_value = "http://localhost:3000")]
    pub cors_origin: Vec<String>,
    /// Env var holding the HS256 secret tokens are validated with.
    #[arg(long, default_value = "AGENTLOAD_JWT_SECRET")]
    pub jwt_secret_env: String,
    /// Env var holding the test-login bypass key (unset: login refused).
    #[arg(long, default_value = "AGENTLOAD_BYPASS_KEY")]
    pub bypass_key_env: String,
    /// Wire dialect: `reference`, or `netra` (the real platform's layouts and messages).
    #[arg(long, value_enum, default_value = "reference")]
    pub profile: TargetProfile,
    /// Start each socket with a handshake: send `handshake_response` with a thread id, take
    /// nothing before `handshake_acknowledged` names it, answer `handshake_complete`.
    #[arg(long)]
    pub handshake: bool,
    /// Capacity: at most N runs stream at once across all sockets; more wait their turn, so
    /// run time grows with load beyond N.
    #[arg(long)]
    pub max_concurrent_runs: Option<usize>,
    /// Capacity as a backend that batches (an LLM server): up to N runs in flight go at full
    /// speed; with k > N, every run's next event waits `event_delay × k / N`. No queue.
    #[arg(long)]
    pub shared_capacity: Option<usize>,
    /// Copies of the agent backend behind this listener, each with its own
    /// --max-concurrent-runs and --shared-capacity; a socket goes to the one with the fewest
    /// sockets open.
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// A lock all replicas share, held once by every run just before its last event, first
    /// come first served, for this many milliseconds (0: none)...
    #[arg(long, default_value_t = 0.0)]
    pub contention_ms: f64,
    /// ...and this many more for each replica beyond the first (keeping it coherent).
    #[arg(long, default_value_t = 0.0)]
    pub coherency_ms: f64,
    /// Past this many open sockets, refuse new ones as a platform's throttler does: HTTP 429
    /// with `Retry-After: 1` (netra: an `error_message` `rate_limited`, then close 1013).
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Past this many runs in flight, answer a start with a `rate_limit_exceeded` error.
    #[arg(long)]
    pub shed_runs_over: Option<usize>,
    /// Refuse `resume`: a run whose socket went away is abandoned at once.
    #[arg(long)]
    pub no_resume: bool,
    /// Keep sockets open after their token lapses (by default the target closes them, 1008).
    #[arg(long)]
    pub ignore_token_expiry: bool,
    /// The error code a lapsed socket is told before its close 1008 (default: the dialect's,
    /// `TOKEN_EXPIRED` or netra's `AUTH_FAILED`), e.g. `AUTH_EXPIRED`, one no profile knows.
    #[arg(long)]
    pub lapse_error_code: Option<String>,
    /// Send each socket with no run in flight an application ping (`{"type":"ping"}`) this
    /// often, in milliseconds (0: never); pongs are counted in `/stats`.
    #[arg(long, default_value_t = 0)]
    pub ping_interval_ms: u64,
    /// Delay before each agent event, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub event_delay_ms: u64,
    /// agent_thinking events per run.
    #[arg(long, default_value_t = 2)]
    pub thinking_steps: u32,
    /// tool_executing/tool_completed pairs per run.
    #[arg(long, default_value_t = 1)]
    pub tool_calls: u32,
    /// Lifetime of tokens issued by /auth/token and /auth/refresh, in seconds.
    #[arg(long, default_value_t = 900)]
    pub token_lifetime_secs: u64,
    /// Memory each open connection holds (resident, written), in KiB: a known per-connection
    /// cost for checking the sampler's memory-per-connection figure.
    #[arg(long, default_value_t = 0)]
    pub ballast_kb_per_connection: usize,
    #[command(flatten)]
    pub faults: faults::Faults,
    #[command(flatten)]
    pub tools: tools::ToolKnobs,
    #[command(flatten)]
    pub dialect: layouts::DialectKnobs,
    /// Send the five events under other names, EVENT=NAME (comma-separated): `started`,
    /// `thinking`, `executing`, `executed`, `completed` (or their full names), e.g.
    /// `started=run_begin,completed=run_end` (a platform no built-in profile knows).
    #[arg(long, value_delimiter = ',', value_parser = layouts::rename)]
    pub rename_events: Vec<(String, String)>,
    /// Serve a recorded platform (`agentload record`): its prelude on each socket, its runs
    /// in turn on each start message, with the live ids in place of the recorded ones.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// How fast a recording is replayed (2: twice as fast as recorded).
    #[arg(long, default_value_t = 1.0)]
    pub replay_speed: f64,
    /// Exit when stdin closes (a parent process stops its child this way).
    #[arg(long)]
    pub exit_on_stdin_eof: bool,
}

impl Default for TargetArgs {
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: TargetArgs,
        }
        Wrapper::parse_from(["target"]).args
    }
}
