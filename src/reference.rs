//! `agentload target`: the embedded reference platform. A real server on real sockets (auth
//! service + agent backend over HTTP/WS, TLS optional) that streams the five agent events, with
//! ground-truth counters at `/stats`. A test double of the platform, never a mock in the tool.

mod agent;
mod agents;
mod api;
mod args;
mod batch;
pub mod certs;
mod conversation;
pub mod faults;
mod http;
mod layouts;
mod metrics;
mod replay;
mod replicas;
mod runs;
mod shedding;
mod sink;
mod state;
mod stats;
mod tokens;
pub mod tools;
mod ws;

pub use args::TargetArgs;
pub use layouts::TargetProfile;
use state::State;
pub use stats::TargetStats;

use axum_server::accept::NoDelayAcceptor;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The ready line's prefix on stdout; the JSON after it says where the target listens.
pub const READY_PREFIX: &str = "AGENTLOAD_TARGET_READY ";

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
