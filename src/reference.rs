//! `agentload target`: the embedded reference platform. A real server on real sockets (auth
//! service + agent backend over HTTP/WS, TLS optional) that streams the five agent events, with
//! ground-truth counters at `/stats`. A test double of the platform, never a mock in the tool.

mod agent;
mod agents;
mod api;
mod batch;
pub mod certs;
pub mod faults;
mod http;
mod layouts;
mod metrics;
mod replay;
mod replicas;
mod runs;
mod shedding;
mod sink;
mod stats;
mod tokens;
pub mod tools;
mod ws;

pub use layouts::TargetProfile;
pub use stats::TargetStats;

use axum_server::accept::NoDelayAcceptor;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The ready line's prefix on stdout; the JSON after it says where the target listens.
pub const READY_PREFIX: &str = "AGENTLOAD_TARGET_READY ";

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

/// What every handler shares.
pub(crate) struct State {
    pub args: TargetArgs,
    pub keys: tokens::Keys,
    pub bypass_key: Option<String>,
    pub counters: stats::Counters,
    pub registry: faults::Registry,
    pub runs: runs::Runs,
    /// The backend's replicas (one by default): their slots and batches, and their lock.
    pub replicas: replicas::Replicas,
    /// Runs in flight across the replicas, and their high-water mark.
    pub batch: batch::Batch,
    pub shedding: shedding::Shedding,
    pub tools: tools::Tools,
    /// `--replay`: the recording served instead of the reference agents.
    pub replay: Option<Arc<replay::Replay>>,
}

impl State {
    /// The counters as `/stats` answers, with the throttler's.
    pub fn stats(&self) -> stats::TargetStats {
        use std::sync::atomic::Ordering::Relaxed;
        let mut s = self.counters.snapshot();
        s.connections_refused = self.shedding.connections_refused.load(Relaxed);
        s.runs_shed = self.shedding.runs_shed.load(Relaxed);
        s.retry_gap_min_ms = self.shedding.retry_gap_min_ms();
        s.tools = self.tools.stats();
        s.runs_in_flight = self.batch.in_flight();
        s.runs_in_flight_peak = self.batch.peak();
        s.replicas = self
            .replicas
            .counts()
            .into_iter()
            .map(|(sessions_open, runs_started)| stats::ReplicaStats {
                sessions_open,
                runs_started,
            })
            .collect();
        if let Some(lock) = &self.replicas.lock {
            (s.lock_busy_secs, s.lock_wait_secs) = lock.seconds();
        }
        s
    }
}

/// A target listening in this process (tests); `shutdown` stops it.
pub struct RunningTarget {
    pub base_url: String,
    pub ws_url: String,
    pub ca_file: Option<PathBuf>,
    state: Arc<State>,
    handle: axum_server::Handle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningTarget {
    pub fn stats(&self) -> TargetStats {
        self.state.stats()
    }

    pub async fn shutdown(self) {
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        let _ = self.task.await;
    }
}

/// Starts listening and returns at once.
pub async fn start(args: TargetArgs) -> anyhow::Result<RunningTarget> {
    let secret = std::env::var(&args.jwt_secret_env)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "set {} (the HS256 secret the target validates tokens with)",
                args.jwt_secret_env
            )
        })?;
    let bypass_key = std::env::var(&args.bypass_key_env)
        .ok()
        .filter(|s| !s.is_empty());
    let listener = std::net::TcpListener::bind((args.host.as_str(), args.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", args.host, args.port))?;
    listener.set_nonblocking(true)?;
    let addr: SocketAddr = listener.local_addr()?;
    let state = Arc::new(State {
        keys: tokens::Keys::new(secret.as_bytes(), args.token_lifetime_secs),
        bypass_key,
        counters: stats::Counters::default(),
        registry: faults::Registry::default(),
        runs: runs::Runs::default(),
        replicas: replicas::Replicas::new(
            args.replicas,
            args.max_concurrent_runs,
            Duration::from_secs_f64(args.contention_ms.max(0.0) / 1000.0),
            Duration::from_secs_f64(args.coherency_ms.max(0.0) / 1000.0),
        ),
        batch: batch::Batch::default(),
        shedding: shedding::Shedding::default(),
        tools: tools::Tools::new(&args.tools),
        replay: match &args.replay {
            Some(path) => Some(Arc::new(replay::Replay::load(path, args.replay_speed)?)),
            None => None,
        },
        args: args.clone(),
    });
    let app = http::router(state.clone()).into_make_service();
    let handle = axum_server::Handle::new();
    let host = if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let (scheme, ws_scheme, ca_file, task) = if args.tls {
        let ca_out = args.ca_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("agentload-target-{}-ca.pem", std::process::id()))
        });
        let config =
            certs::server_config(&ca_out, args.cert_valid_days, args.cert_hostname.as_deref())?;
        // Nagle off, as a platform's front (nginx, a cloud balancer) sets it: with it on, a TLS
        // record written behind an unacknowledged one waited for the client's delayed ACK,
        // and W5-wss's first-turn P95 read 115 ms against ws's 71 (71 with it off).
        let tls = axum_server::tls_rustls::RustlsAcceptor::new(
            axum_server::tls_rustls::RustlsConfig::from_config(config),
        )
        .acceptor(NoDelayAcceptor::new());
        let server = axum_server::from_tcp(listener)
            .acceptor(tls)
            .handle(handle.clone());
        (
            "https",
            "wss",
            Some(ca_out),
            tokio::spawn(server.serve(app)),
        )
    } else {
        let server = axum_server::from_tcp(listener)
            .acceptor(NoDelayAcceptor::new())
            .handle(handle.clone());
        ("http", "ws", None, tokio::spawn(server.serve(app)))
    };
    Ok(RunningTarget {
        base_url: format!("{scheme}://{host}:{}", addr.port()),
        ws_url: format!("{ws_scheme}://{host}:{}/ws", addr.port()),
        ca_file,
        state,
        handle,
        task,
    })
}

/// Serves until Ctrl-C, SIGTERM, or stdin EOF with `--exit-on-stdin-eof`; prints the ready line.
pub async fn serve(args: TargetArgs) -> anyhow::Result<()> {
    let stdin_eof = args.exit_on_stdin_eof;
    let target = start(args).await?;
    let ready = serde_json::json!({
        "base_url": target.base_url,
        "ws_url": target.ws_url,
        "ca_file": target.ca_file,
        "pid": std::process::id(),
    });
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{READY_PREFIX}{ready}")?;
        out.flush()?;
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let eof = async {
        if stdin_eof {
            use tokio::io::AsyncReadExt;
            let mut buf = [0u8; 256];
            let mut stdin = tokio::io::stdin();
            while let Ok(n) = stdin.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = eof => {}
    }
    target.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests;
