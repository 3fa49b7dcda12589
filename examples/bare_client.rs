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

mod common;

use clap::Parser;
use common::Args;
use hdrhistogram::Histogram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    let Some(mut ws) = common::connect(&u.url, &u.jwt, u.tls, u.t0).await else {
        return;
    };
    let mut n = 0u64;
    while Instant::now() < u.end {
        n += 1;
        let Some(ran) = common::run(&mut ws, u.index, n).await else {
            return;
        };
        let micros = ran.elapsed.as_micros() as u64;
        let _ = u.hist.lock().expect("no panics").record(micros);
        if !u.think.is_zero() {
            tokio::time::sleep(u.think).await;
        }
    }
    let _ = ws.close(None).await;
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let t0 = Instant::now();
    let secret = args.secret();
    let tls = args.tls();
    let ramp = Duration::from_secs_f64(args.ramp_secs);
    let end = t0 + ramp + Duration::from_secs_f64(args.hold_secs);
    let hist = Arc::new(Mutex::new(common::run_times()));
    let mut tasks = Vec::with_capacity(args.users);
    for index in 0..args.users {
        let at = t0 + ramp.mul_f64(index as f64 / args.users as f64);
        tokio::time::sleep_until(at.into()).await;
        tasks.push(tokio::spawn(user(User {
            index,
            url: args.url.clone(),
            jwt: common::token(&secret, index),
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
    println!("{}", common::summary_line(args.users, &h, t0));
}
