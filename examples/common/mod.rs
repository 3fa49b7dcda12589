//! What the bare client and the Goose floor share: the arguments, each user's token and socket,
//! one run of the user loop (`start_agent`, read the run's events, check their order), and the
//! JSON line both print. Neither has checks beyond the order: they are floors, not tools.

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Parser)]
pub struct Args {
    /// ws:// or wss:// URL of the target's socket.
    #[arg(long)]
    pub url: String,
    #[arg(long)]
    pub users: usize,
    #[arg(long, default_value_t = 2.0)]
    pub ramp_secs: f64,
    #[arg(long, default_value_t = 15.0)]
    pub hold_secs: f64,
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// CA certificate (PEM) to trust for wss://.
    #[arg(long)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Env var holding the HS256 secret.
    #[arg(long, default_value = "AGENTLOAD_JWT_SECRET")]
    pub secret_env: String,
    /// Where the Goose floor writes Goose's reports (the bare client writes none).
    #[arg(long, default_value = ".")]
    pub report_dir: std::path::PathBuf,
}

impl Args {
    pub fn secret(&self) -> String {
        std::env::var(&self.secret_env)
            .unwrap_or_else(|_| panic!("set {} to the target's JWT secret", self.secret_env))
    }

    pub fn tls(&self) -> Option<tokio_tungstenite::Connector> {
        self.ca_file.as_deref().map(|path| {
            let config =
                agentload::tls::client_config(Some(path), false).expect("readable CA file");
            tokio_tungstenite::Connector::Rustls(config)
        })
    }
}

pub static CONNECTED: AtomicU64 = AtomicU64::new(0);
pub static DONE: AtomicU64 = AtomicU64::new(0);
pub static FAILED: AtomicU64 = AtomicU64::new(0);
static FIRST_SOCKET: OnceLock<Duration> = OnceLock::new();

pub fn token(secret: &str, user: usize) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let claims = json!({"sub": format!("bare-u{user}"), "email": format!("bare-u{user}@example.com"),
        "iat": now, "exp": now + 3600, "iss": "netra-auth-service", "aud": "netra-platform",
        "permissions": ["read", "write"], "jti": format!("bare-j{user}")});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing")
}

/// Opens user `index`'s socket (agentload's settings: 4 KiB read buffer, unbuffered writes)
/// and reads the welcome; `None` (counted as failed) when it can not.
pub async fn connect(
    url: &str,
    jwt: &str,
    tls: Option<tokio_tungstenite::Connector>,
    t0: Instant,
) -> Option<Ws> {
    let mut req = url.into_client_request().expect("valid URL");
    let bearer = format!("Bearer {jwt}").parse().expect("header value");
    req.headers_mut().insert("Authorization", bearer);
    let cfg = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let connected =
        tokio_tungstenite::connect_async_tls_with_config(req, Some(cfg), true, tls).await;
    let Ok((mut ws, _)) = connected else {
        FAILED.fetch_add(1, Relaxed);
        return None;
    };
    let _welcome = ws.next().await;
    FIRST_SOCKET.get_or_init(|| t0.elapsed());
    CONNECTED.fetch_add(1, Relaxed);
    Some(ws)
}

fn rank(kind: &str) -> Option<u8> {
    Some(match kind {
        "agent_started" => 0,
        "agent_thinking" => 1,
        "tool_executing" => 2,
        "tool_completed" => 3,
        "agent_completed" => 4,
        _ => return None,
    })
}

/// What one run measured.
#[allow(dead_code)] // the bare client reads the elapsed time only
pub struct Ran {
    /// In order, with at least two `agent_thinking`.
    pub ok: bool,
    /// From the start message's send to the first event, and to the last.
    pub first_event: Option<Duration>,
    pub elapsed: Duration,
}

/// Run `n` of user `index`: send `start_agent`, read to `agent_completed`, check the order.
/// `None` when the socket went (counted as failed). Counts the run as done or failed.
pub async fn run(ws: &mut Ws, index: usize, n: u64) -> Option<Ran> {
    let run_id = format!("bare-u{index}-r{n}");
    let sent = Instant::now();
    let start = json!({"type": "start_agent",
        "payload": {"user_request": "Analyze cloud spend", "run_id": run_id}});
    if ws.send(Message::text(start.to_string())).await.is_err() {
        FAILED.fetch_add(1, Relaxed);
        return None;
    }
    let (mut last, mut thinking, mut ok, mut first_event) = (0u8, 0u32, true, None);
    loop {
        let Some(Ok(msg)) = ws.next().await else {
            FAILED.fetch_add(1, Relaxed);
            return None;
        };
        let Message::Text(text) = msg else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            ok = false;
            break;
        };
        let Some(r) = v.get("type").and_then(Value::as_str).and_then(rank) else {
            continue;
        };
        first_event.get_or_insert_with(|| sent.elapsed());
        ok &= r >= last;
        last = r;
        thinking += u32::from(r == 1);
        if r == 4 {
            break;
        }
    }
    let ok = ok && thinking >= 2;
    let counter = if ok { &DONE } else { &FAILED };
    counter.fetch_add(1, Relaxed);
    Some(Ran {
        ok,
        first_event,
        elapsed: sent.elapsed(),
    })
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// The run times both keep (µs, 1 µs to 1 h, 3 significant digits).
pub fn run_times() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds")
}

/// The one JSON line both print: counts, run-time quantiles (ms) from `run_times`, peak RSS,
/// first socket, wall.
pub fn summary_line(users: usize, run_times: &Histogram<u64>, t0: Instant) -> String {
    let quantile_ms = |q: f64| run_times.value_at_quantile(q) as f64 / 1000.0;
    json!({
        "users": users,
        "connected": CONNECTED.load(Relaxed),
        "completed": DONE.load(Relaxed),
        "failed": FAILED.load(Relaxed),
        "p50_ms": quantile_ms(0.50), "p95_ms": quantile_ms(0.95), "p99_ms": quantile_ms(0.99),
        "peak_rss_kib": peak_rss_kib(),
        "first_socket_secs": FIRST_SOCKET.get().map(Duration::as_secs_f64),
        "wall_secs": t0.elapsed().as_secs_f64(),
    })
    .to_string()
}
