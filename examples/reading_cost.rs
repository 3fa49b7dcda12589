//! What one look at a running test costs the guard and the exporter, on a collector the size
//! of W3's (10,000 users, ~37,000 runs of six events): a full snapshot (what both read each
//! second before) against the cheap reading (what they read now). CPU time of the look
//! itself, the median of 15, so the figure does not depend on what else the machine runs.
//!
//!     cargo run --release --example reading_cost

use agentload::client::outcome::{RunOutcome, RunTrace, ToolSpan};
use agentload::measure::collector::Collector;
use std::borrow::Cow;
use std::time::Duration;

fn outcome(i: u64) -> RunOutcome {
    let ms = |m: u64| Duration::from_millis(m);
    let names = [
        "agent_started",
        "agent_thinking",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "agent_completed",
    ];
    RunOutcome {
        failure: None,
        reached: Default::default(),
        timeline: names
            .iter()
            .enumerate()
            .map(|(k, n)| (Cow::Borrowed(*n), ms(200 * (k as u64 + 1) + i % 50)))
            .collect(),
        elapsed: ms(1200 + i % 50),
        final_data: None,
        scenario: 0,
        turn: None,
        trace: RunTrace {
            agent: Some("cost_optimizer".into()),
            tools: vec![ToolSpan {
                name: "cost_analyzer".into(),
                elapsed: Some(ms(200 + i % 20)),
                server: None,
            }],
            lags: vec![ms(1); 6],
            phases: Some([ms(200), ms(600), ms(200), ms(200)]),
        },
    }
}

/// The process's CPU time, user and system.
fn cpu() -> Duration {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| Duration::new(v.tv_sec as u64, v.tv_usec as u32 * 1000);
    t(u.ru_utime) + t(u.ru_stime)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let collector = Collector::default();
    for i in 0..37_000u64 {
        collector.run_finished((i % 10_000) as usize, outcome(i));
    }
    let mut snapshots = Vec::new();
    let mut readings = Vec::new();
    for _ in 0..15 {
        let before = cpu();
        std::hint::black_box(collector.snapshot());
        snapshots.push(cpu() - before);
        // A reading is kept 250 ms: wait it out, so each look computes one.
        std::thread::sleep(Duration::from_millis(260));
        let before = cpu();
        std::hint::black_box(collector.reading());
        readings.push(cpu() - before);
    }
    let (s, r) = (median(snapshots), median(readings));
    println!(
        "{{\"runs\": 37000, \"snapshot_ms\": {:.2}, \"reading_ms\": {:.2}, \"ratio\": {:.1}}}",
        s.as_secs_f64() * 1000.0,
        r.as_secs_f64() * 1000.0,
        s.as_secs_f64() / r.as_secs_f64().max(1e-9)
    );
}
