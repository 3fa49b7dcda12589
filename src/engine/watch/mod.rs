//! What runs beside the attack, in one shape: a watcher looks at the load test every `every`
//! while the attack runs, and once more when it has ended. `load` starts them together before
//! the attack and finishes them after it: the live line (`progress`), the checkpoint writer
//! (`checkpoint`), the signal handler (`signals`), the `abort_on_fail` guard (`guard`) and
//! the `max_duration` limit (`limits`). Each reads the collector; none of them
//! is a branch inside `load`.

pub mod checkpoint;
pub mod guard;
pub mod limits;
pub mod progress;
pub mod signals;

use crate::engine::collector::Collector;
use std::sync::Arc;
use std::time::Duration;

/// Something that runs beside the attack.
pub trait Watcher: Send + 'static {
    /// How often `tick` runs.
    fn every(&self) -> Duration;
    /// One look at the test while the attack runs.
    fn tick(&mut self, collector: &Collector);
    /// The last look, once the attack has ended.
    fn finish(&mut self, _collector: &Collector) {}
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
                            _ = tick.tick() => watcher.tick(&collector),
                            _ = ended.wait_for(|ended| *ended) => break,
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
