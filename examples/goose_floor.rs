//! Goose's floor (`just bench`): the bare client's user loop, driven by Goose the way agentload
//! drives its users. Same test plan, wait time, shared client and reports as `agentload run`;
//! each user holds one socket in its session; each run is one Goose transaction that records
//! two custom requests (`WS first_event`, `WS agent_run`), as agentload's runs do. None of
//! agentload's protocol work (profiles, checks, isolation, collector) is here: what this costs
//! over the bare client is what Goose's scheduling and metrics cost.
//!
//!     goose_floor --url ws://127.0.0.1:9911/ws --users 50 --ramp-secs 2 --hold-secs 15 \
//!         --report-dir /tmp/floor
//!
//! Prints the bare client's JSON line.

mod common;

use clap::Parser;
use common::{Args, Ws};
use goose::prelude::*;
use hdrhistogram::Histogram;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Session {
    socket: Option<Ws>,
    runs: u64,
}

type Shared = Arc<tokio::sync::Mutex<Session>>;

struct Floor {
    url: String,
    secret: String,
    tls: Option<tokio_tungstenite::Connector>,
    t0: Instant,
    hist: Mutex<Histogram<u64>>,
}

fn transaction<F>(floor: &Arc<Floor>, f: F) -> Transaction
where
    F: for<'u> Fn(Arc<Floor>, &'u mut GooseUser) -> TransactionFuture<'u> + Send + Sync + 'static,
{
    let floor = floor.clone();
    let f: TransactionFunction = Arc::new(move |user| f(floor.clone(), user));
    Transaction::new(f)
}

type TransactionFuture<'u> =
    std::pin::Pin<Box<dyn std::future::Future<Output = TransactionResult> + Send + 'u>>;

fn connect(floor: Arc<Floor>, user: &mut GooseUser) -> TransactionFuture<'_> {
    Box::pin(async move {
        let index = user.weighted_users_index;
        let jwt = common::token(&floor.secret, index);
        let socket = common::connect(&floor.url, &jwt, floor.tls.clone(), floor.t0).await;
        user.set_session_data::<Shared>(Arc::new(tokio::sync::Mutex::new(Session {
            socket,
            runs: 0,
        })));
        Ok(())
    })
}

fn agent_run(floor: Arc<Floor>, user: &mut GooseUser) -> TransactionFuture<'_> {
    Box::pin(async move {
        let session = user
            .get_session_data::<Shared>()
            .expect("set on start")
            .clone();
        let mut s = session.lock().await;
        let (index, n) = (user.weighted_users_index, s.runs + 1);
        let Some(ws) = s.socket.as_mut() else {
            return Ok(());
        };
        let ran = common::run(ws, index, n).await;
        s.runs = n;
        let Some(ran) = ran else {
            s.socket = None;
            return Ok(());
        };
        drop(s);
        if let Some(first) = ran.first_event {
            user.record_custom_request_duration("WS", "first_event", first, true, None, None)
                .await?;
        }
        let micros = ran.elapsed.as_micros() as u64;
        let _ = floor.hist.lock().expect("no panics").record(micros);
        let error = (!ran.ok).then_some("out of order");
        user.record_custom_request_duration("WS", "agent_run", ran.elapsed, ran.ok, None, error)
            .await
    })
}

fn close(_floor: Arc<Floor>, user: &mut GooseUser) -> TransactionFuture<'_> {
    Box::pin(async move {
        if let Some(session) = user.get_session_data::<Shared>() {
            if let Some(mut ws) = session.lock().await.socket.take() {
                let _ = ws.close(None).await;
            }
        }
        Ok(())
    })
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    let args = Args::parse();
    let t0 = Instant::now();
    let floor = Arc::new(Floor {
        url: args.url.clone(),
        secret: args.secret(),
        tls: args.tls(),
        t0,
        hist: Mutex::new(common::run_times()),
    });
    let think = Duration::from_millis(args.think_ms);
    let scenario = Scenario::new("floor")
        .set_wait_time(think, think)?
        .register_transaction(transaction(&floor, connect).set_on_start())
        .register_transaction(transaction(&floor, agent_run).set_name("agent_run"))
        .register_transaction(transaction(&floor, close).set_on_stop());
    // As `agentload run` configures Goose (load/drive.rs, load/attack.rs).
    let mut config = goose::config::GooseConfiguration::default();
    config.quiet = 1;
    config.no_print_metrics = true;
    config.report_file = ["goose.html", "goose.json"]
        .iter()
        .map(|f| args.report_dir.join(f).display().to_string())
        .collect();
    let (users, secs) = (args.users, |s: f64| s.ceil() as u64);
    let plan = format!(
        "{users},{};{users},{};0,0",
        secs(args.ramp_secs),
        secs(args.hold_secs)
    );
    let host = args.url.replacen("ws", "http", 1);
    GooseAttack::initialize_with_config(config)?
        .set_client_builder_without_cookies(
            goose::client::GooseClientBuilder::new().without_cookies(),
        )?
        .register_scenario(scenario)
        .set_default(GooseDefault::Host, host.as_str())?
        .set_default(GooseDefault::TestPlan, plan.as_str())?
        .set_default(GooseDefault::NoTelnet, true)?
        .execute()
        .await?;
    let h = floor.hist.lock().expect("no panics");
    println!("{}", common::summary_line(args.users, &h, t0));
    Ok(())
}
