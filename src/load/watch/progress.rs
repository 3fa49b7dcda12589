//! The live line on stderr while a load test runs (oha's monitor/printer split): a watcher
//! reads the collector every interval, `line` turns a reading into text. Redrawn in place
//! on a terminal; one line per interval when stderr is a pipe or a file (CI logs).

use crate::client::isolation::Isolation;
use crate::measure::collector::{Collector, LiveStats};
use crate::model::metrics::thousands;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

/// The live line as a watcher: a line every interval, the last one at the end.
pub struct Progress {
    isolation: Arc<Isolation>,
    plan: Plan,
    tty: bool,
}

/// What the line says beside the collector's figures.
#[derive(Clone)]
pub struct Plan {
    /// Goose's stages: users to reach, over how long (ramps are linear).
    pub stages: Vec<(usize, Duration)>,
    pub every: Duration,
    /// The open model's arrival schedule (which starts once the pool is up, `POOL_LAUNCH` in).
    pub arrivals: Option<crate::load::arrivals::schedule::Schedule>,
}

impl Progress {
    pub fn new(isolation: Arc<Isolation>, plan: Plan) -> Progress {
        Progress {
            isolation,
            plan,
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn print(&self, collector: &Collector, last: bool) {
        let live = collector.live(self.plan.every.as_secs_f64());
        let text = line(&live, self.isolation.violations(), &self.plan);
        let mut err = std::io::stderr().lock();
        let _ = match (self.tty, last) {
            (true, false) => write!(err, "\r\x1b[2K{text}"),
            (true, true) => writeln!(err, "\r\x1b[2K{text}"),
            (false, _) => writeln!(err, "{text}"),
        };
        let _ = err.flush();
    }
}

impl super::watcher::Watcher for Progress {
    fn every(&self) -> Duration {
        self.plan.every
    }

    fn tick(&mut self, collector: &Collector) {
        self.print(collector, false);
    }

    /// The final reading: the load test's own end counts.
    fn finish(&mut self, collector: &Collector) {
        self.print(collector, true);
    }
}

/// One reading as text: `[elapsed/planned] stage i/n · users active/target · runs (rate) ·
/// p95 over the interval · failures (top kind) · isolation violations`.
pub fn line(live: &LiveStats, violations: u64, plan: &Plan) -> String {
    let planned: f64 = match &plan.arrivals {
        Some(schedule) => crate::plan::POOL_LAUNCH.as_secs_f64() + schedule.duration(),
        None => plan.stages.iter().map(|(_, d)| d.as_secs_f64()).sum(),
    };
    let (stage, target) = stage_at(&plan.stages, live.elapsed_secs);
    let w = &live.last_interval;
    let p95 = w.p95_ms.map_or("-".to_string(), |ms| format!("{ms:.0} ms"));
    let failures = match &live.top_failure {
        Some((kind, n)) if live.failures > 0 => {
            format!(
                "failed {} ({kind} {})",
                thousands(live.failures),
                thousands(*n)
            )
        }
        _ => "failed 0".to_string(),
    };
    let unreachable = live.unreachable_secs.map_or(String::new(), |secs| {
        format!(" · target unreachable for {secs:.0} s")
    });
    let sessions = live
        .sessions
        .map_or(String::new(), |(started, done, ended, dropped)| {
            let open = started.saturating_sub(done + ended);
            format!(
                " · sessions {} open, {} done{}",
                thousands(open),
                thousands(done + ended),
                match dropped {
                    0 => String::new(),
                    n => format!(", {} dropped", thousands(n)),
                }
            )
        });
    let load = match &plan.arrivals {
        // The arrivals start once the pool is up (about `POOL_LAUNCH` in).
        Some(schedule) => {
            let since = live.elapsed_secs - crate::plan::POOL_LAUNCH.as_secs_f64();
            format!("arrivals {:.2}/s{sessions}", schedule.rate_at(since))
        }
        None => format!(
            "stage {}/{} · users {}/{}{sessions}",
            stage,
            plan.stages.len(),
            live.open_sockets.max(0),
            target
        ),
    };
    format!(
        "agentload [{}/{}] {load} · runs {} ({:.1}/s) · p95 {} · {} · isolation violations {}{unreachable}",
        clock(live.elapsed_secs),
        clock(planned),
        thousands(live.runs_started),
        w.runs_per_sec,
        p95,
        failures,
        violations
    )
}

/// The stage (1-based) under way `at` seconds in, and the users Goose aims at then.
fn stage_at(stages: &[(usize, Duration)], at: f64) -> (usize, usize) {
    let (mut from_users, mut start) = (0usize, 0.0f64);
    for (i, (users, d)) in stages.iter().enumerate() {
        let secs = d.as_secs_f64();
        if at < start + secs {
            let frac = if secs > 0.0 { (at - start) / secs } else { 1.0 };
            let target = from_users as f64 + (*users as f64 - from_users as f64) * frac;
            return (i + 1, target.round() as usize);
        }
        (from_users, start) = (*users, start + secs);
    }
    (stages.len(), stages.last().map_or(0, |(u, _)| *u))
}

fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            stages: vec![
                (100, Duration::from_secs(10)),
                (100, Duration::from_secs(20)),
                (0, Duration::from_secs(5)),
            ],
            every: Duration::from_secs(2),
            arrivals: None,
        }
    }

    #[test]
    fn stages_and_targets_follow_goose_ramps() {
        let stages = plan().stages;
        assert_eq!(stage_at(&stages, 0.0), (1, 0));
        assert_eq!(stage_at(&stages, 5.0), (1, 50));
        assert_eq!(stage_at(&stages, 12.0), (2, 100));
        assert_eq!(stage_at(&stages, 32.5), (3, 50));
        assert_eq!(stage_at(&stages, 99.0), (3, 0));
    }

    #[test]
    fn the_line_names_every_figure() {
        let live = LiveStats {
            elapsed_secs: 75.0,
            runs_started: 12_345,
            runs_completed: 12_300,
            runs_failed: 45,
            open_sockets: 100,
            top_failure: Some(("sequence.missing_event".into(), 40)),
            failures: 45,
            last_interval: crate::measure::collector::WindowStats {
                runs_per_sec: 98.5,
                p95_ms: Some(42.4),
                ..Default::default()
            },
            unreachable_secs: None,
            sessions: None,
        };
        let text = line(&live, 0, &plan());
        assert_eq!(
            text,
            "agentload [1:15/0:35] stage 3/3 · users 100/0 · runs 12,345 (98.5/s) · p95 42 ms · \
             failed 45 (sequence.missing_event 40) · isolation violations 0"
        );
        let down = LiveStats {
            unreachable_secs: Some(12.4),
            ..live
        };
        assert!(
            line(&down, 0, &plan())
                .ends_with("isolation violations 0 · target unreachable for 12 s"),
            "{}",
            line(&down, 0, &plan())
        );
        // The open model: the planned arrival rate and the sessions.
        let arrivals = [crate::plan::Arrival {
            rate: crate::plan::Rate(2.0),
            duration: crate::plan::Dur::from_secs(30),
            ramp_to: Some(crate::plan::Rate(4.0)),
        }];
        let open = Plan {
            arrivals: Some(crate::load::arrivals::schedule::Schedule::new(
                &arrivals, 1.0,
            )),
            ..plan()
        };
        let sessions = LiveStats {
            elapsed_secs: 16.0,
            sessions: Some((120, 90, 6, 3)),
            ..down
        };
        let text = line(&sessions, 0, &open);
        assert!(
            text.starts_with("agentload [0:16/0:31] arrivals 3.00/s · sessions 24 open, 96 done, 3 dropped · runs"),
            "{text}"
        );
    }
}
