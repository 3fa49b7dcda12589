//! What runs beside the attack, in one shape: a watcher looks at the load test every `every`
//! while the attack runs, and once more when it has ended. `load` starts them together before
//! the attack and finishes them after it: the live line (`progress`), the checkpoint writer
//! (`checkpoint`), the signal handler (`signals`), the `abort_on_fail` guard (`guard`), the
//! `max_duration` limit (`limits`) and the poller of the deployment's own metrics (`server`). Each reads the collector; none of them
//! is a branch inside `load`.

pub mod checkpoint;
pub mod exporter;
pub mod guard;
pub mod limits;
pub mod progress;
pub mod server;
pub mod signals;
pub mod stages;
mod watcher;

pub use watcher::{Look, Watcher};

use crate::measure::collector::Collector;
use std::sync::Arc;
use std::time::Duration;

/// What a load test runs beside its attack, and what they read.
pub struct Beside<'a> {
    pub plan: &'a crate::plan::Plan,
    /// The live line every this often (`None`: `--quiet`).
    pub progress: Option<Duration>,
    pub checkpoint: checkpoint::Checkpoint,
    pub isolation: &'a Arc<crate::client::isolation::Isolation>,
    pub stop: &'a Arc<crate::load::stop::Stop>,
    pub collector: &'a Arc<Collector>,
    /// The HTTP client the deployment's metrics are polled with, and where they go.
    pub http: &'a reqwest::Client,
    pub server: &'a Arc<std::sync::Mutex<crate::model::server::ServerMetrics>>,
    /// The target's base URL (a metrics source's path is read on it).
    pub base_url: &'a str,
    /// Shards of the test (the live line shows this one's share of the arrivals).
    pub shard_count: usize,
    /// `--metrics-addr`, and the labels every series of it carries (`run_id`, `shard`).
    pub exporter: Option<(std::net::SocketAddr, Vec<(String, String)>)>,
}

impl Beside<'_> {
    /// Starts them: the signal handler always; the live line unless `--quiet`; the checkpoint
    /// writer unless the plan turns it off; the guard, the time limit and the metrics pollers
    /// when the plan asks for them.
    pub fn start(self) -> Result<Watchers, String> {
        let plan = self.plan;
        let signals = signals::Signals::new(
            self.stop.clone(),
            self.collector.clone(),
            self.checkpoint.clone(),
        );
        let mut watchers: Vec<Box<dyn Watcher>> = vec![Box::new(signals)];
        if let Some(every) = self.progress {
            let stages = plan
                .load_stages()
                .iter()
                .map(|s| (s.users, s.duration.0))
                .collect();
            let arrivals = plan.is_open().then(|| {
                crate::load::arrivals::schedule::Schedule::new(
                    &plan.arrivals,
                    1.0 / self.shard_count as f64,
                )
            });
            let line = progress::Plan {
                stages,
                every,
                arrivals,
            };
            watchers.push(Box::new(progress::Progress::new(
                self.isolation.clone(),
                line,
            )));
        }
        if !plan.report.checkpoint.0.is_zero() {
            watchers.push(Box::new(self.checkpoint.every(plan.report.checkpoint.0)));
        }
        if plan.sla.abort_on_fail {
            let guard =
                guard::Guard::new(plan.sla.clone(), self.isolation.clone(), self.stop.clone());
            watchers.push(Box::new(guard));
        }
        if let Some(limit) = plan.limits.max_duration {
            let stop = self.stop.clone();
            watchers.push(Box::new(limits::MaxDuration {
                limit: limit.0,
                stop,
            }));
        }
        if !plan.is_open() && plan.stages.len() >= 2 {
            let durations = plan.stages.iter().map(|s| s.duration.0);
            self.collector.track_stages();
            watchers.push(Box::new(stages::StageMarks::new(durations)));
        }
        for source in &plan.target.metrics {
            let source = source.resolved(self.base_url);
            let poller = server::Poller::new(source, self.http.clone(), self.server.clone());
            watchers.push(Box::new(poller));
        }
        if let Some((addr, labels)) = self.exporter {
            // The longest any run of the mix may last.
            let run_timeout = plan
                .mix()
                .iter()
                .filter_map(|e| e.run_timeout.map(|d| d.0))
                .max()
                .unwrap_or(plan.scenario.run_timeout.0);
            let endpoint =
                exporter::Exporter::start(addr, self.collector.clone(), labels, run_timeout)?;
            watchers.push(Box::new(endpoint));
        }
        Ok(Watchers::start(self.collector.clone(), watchers))
    }
}

/// The running watchers; `finish` gives each its last look and waits for it.
pub struct Watchers {
    done: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Watchers {
    pub fn start(collector: Arc<Collector>, watchers: Vec<Box<dyn Watcher>>) -> Watchers {
        let done = tokio::sync::watch::Sender::new(false);
        let tasks = watchers
            .into_iter()
            .map(|mut watcher| {
                let collector = collector.clone();
                let mut ended = done.subscribe();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(watcher.every());
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    tick.tick().await;
                    loop {
                        tokio::select! {
                            _ = tick.tick() => watcher.look(&collector).await,
                            _ = async { ended.wait_for(|ended| *ended).await.map(|_| ()) } => break,
                        }
                    }
                    watcher.finish(&collector);
                })
            })
            .collect();
        Watchers { done, tasks }
    }

    pub async fn finish(self) {
        self.done.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(Arc<AtomicUsize>, Arc<AtomicUsize>);

    impl Watcher for Counting {
        fn every(&self) -> Duration {
            Duration::from_secs(1)
        }
        fn tick(&mut self, _: &Collector) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn finish(&mut self, _: &Collector) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_watcher_ticks_every_interval_and_finishes_once() {
        let (ticks, ends) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let watchers: Vec<Box<dyn Watcher>> = vec![
            Box::new(Counting(ticks.clone(), ends.clone())),
            Box::new(Counting(ticks.clone(), ends.clone())),
        ];
        let running = Watchers::start(Arc::new(Collector::default()), watchers);
        tokio::time::sleep(Duration::from_millis(3500)).await;
        running.finish().await;
        assert_eq!(ticks.load(Ordering::SeqCst), 6);
        assert_eq!(ends.load(Ordering::SeqCst), 2);
    }
}
