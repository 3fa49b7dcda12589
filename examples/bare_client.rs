//! The ceiling agentload's generator is measured against (`just bench`): the same user loop with
//! nothing around it. Each user signs its own HS256 token, opens one socket (the same socket
//! settings as agentload: 4 KiB read buffer, unbuffered writes), then loops: `start_agent`, read
//! the run's events, check their order (≥ 2 `agent_thinking`), think, repeat, until the plan's
//! time is up. No Goose, no report, no checks beyond the order.
//!
//!     bare_client --url ws://127.0.0.1:9911/ws --users 50 --ramp-secs 2 --hold-secs 15
//!
//! Prints one JSON line: users, connected, completed, failed, p50/p95/p99 (ms), peak RSS (KiB),
//! seconds from start to the first open socket, wall time.

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    /// ws:// or wss:// URL of the target's socket.
    #[arg(long)]
    url: String,
    #[arg(long)]
    users: usize,
    #[arg(long, default_value_t = 2.0)]
    ramp_secs: f64,
    #[arg(long, default_value_t = 15.0)]
    hold_secs: f64,
    #[arg(long, default_value_t = 0)]
    think_ms: u64,
    /// CA certificate (PEM) to trust for wss://.
    #[arg(long)]
    ca_file: Option<std::path::PathBuf>,
    /// Env var holding the HS256 secret.
    #[arg(long, default_value = "AGENTLOAD_JWT_SECRET")]
    secret_env: String,
}

static CONNECTED: AtomicU64 = AtomicU64::new(0);
static DONE: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);
static FIRST_SOCKET: OnceLock<Duration> = OnceLock::new();

fn token(secret: &str, user: usize) -> String {
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

struct User {
    index: usize,
    url: String,
    jwt: String,
    end: Instant,
    t0: Instant,
    think: Duration,
    tls: Option<tokio_tungstenite::Connector>,
    hist: Arc<Mutex<Histogram<u64>>>,
}

async fn user(u: User) {
    let mut req = u.url.into_client_request().expect("valid URL");
    let bearer = format!("Bearer {}", u.jwt).parse().expect("header value");
    req.headers_mut().insert("Authorization", bearer);
    let cfg = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let connected =
        tokio_tungstenite::connect_async_tls_with_config(req, Some(cfg), true, u.tls).await;
    let Ok((mut ws, _)) = connected else {
        FAILED.fetch_add(1, Relaxed);
        return;
    };
    let _welcome = ws.next().await;
    FIRST_SOCKET.get_or_init(|| u.t0.elapsed());
    CONNECTED.fetch_add(1, Relaxed);
    let mut n = 0u64;
    while Instant::now() < u.end {
        n += 1;
        let run_id = format!("bare-u{}-r{n}", u.index);
        let sent = Instant::now();
        let start = json!({"type": "start_agent",
            "payload": {"user_request": "Analyze cloud spend", "run_id": run_id}});
        if ws.send(Message::text(start.to_string())).await.is_err() {
            FAILED.fetch_add(1, Relaxed);
            return;
        }
        let (mut last, mut thinking, mut ok) = (0u8, 0u32, true);
        loop {
            let Some(Ok(msg)) = ws.next().await else {
                FAILED.fetch_add(1, Relaxed);
                return;
            };
            let Message::Text(text) = msg else { continue };
            let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                ok = false;
                break;
            };
            let Some(r) = v.get("type").and_then(Value::as_str).and_then(rank) else {
                continue;
            };
            ok &= r >= last;
            last = r;
            thinking += u32::from(r == 1);
            if r == 4 {
                break;
            }
        }
        let counter = if ok && thinking >= 2 { &DONE } else { &FAILED };
        counter.fetch_add(1, Relaxed);
        let micros = sent.elapsed().as_micros() as u64;
        let _ = u.hist.lock().expect("no panics").record(micros);
        if !u.think.is_zero() {
            tokio::time::sleep(u.think).await;
        }
    }
    let _ = ws.close(None).await;
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let t0 = Instant::now();
    let secret = std::env::var(&args.secret_env)
        .unwrap_or_else(|_| panic!("set {} to the target's JWT secret", args.secret_env));
    let tls = args.ca_file.as_deref().map(|path| {
        let config = agentload::tls::client_config(Some(path)).expect("readable CA file");
        tokio_tungstenite::Connector::Rustls(config)
    });
    let ramp = Duration::from_secs_f64(args.ramp_secs);
    let end = t0 + ramp + Duration::from_secs_f64(args.hold_secs);
    let hist = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds"),
    ));
    let mut tasks = Vec::with_capacity(args.users);
    for index in 0..args.users {
        let at = t0 + ramp.mul_f64(index as f64 / args.users as f64);
        tokio::time::sleep_until(at.into()).await;
        tasks.push(tokio::spawn(user(User {
            index,
            url: args.url.clone(),
            jwt: token(&secret, index),
            end,
            t0,
            think: Duration::from_millis(args.think_ms),
            tls: tls.clone(),
            hist: hist.clone(),
        })));
    }
    for task in tasks {
        let _ = task.await;
    }
    let h = hist.lock().expect("no panics");
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let line = json!({
        "users": args.users,
        "connected": CONNECTED.load(Relaxed),
        "completed": DONE.load(Relaxed),
        "failed": FAILED.load(Relaxed),
        "p50_ms": ms(0.50), "p95_ms": ms(0.95), "p99_ms": ms(0.99),
        "peak_rss_kib": peak_rss_kib(),
        "first_socket_secs": FIRST_SOCKET.get().map(Duration::as_secs_f64),
        "wall_secs": t0.elapsed().as_secs_f64(),
    });
    println!("{line}");
}
