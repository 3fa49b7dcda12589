//! Resource sampler: on its own thread, reads RSS and CPU of the generator and the target
//! process at a fixed interval, with the open connection count at that instant.
//!
//! The figures drawn from the samples (peaks, memory per connection) are in
//! `model::resources`.

use crate::model::resources::{ProcessReading, Sample};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// A running sampler; `stop` returns every sample taken.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<Sample>>,
}

impl Sampler {
    /// Starts sampling this process and, when given, the target's pid.
    pub fn start(target_pid: Option<u32>, interval: Duration, open: Arc<AtomicI64>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let me = Pid::from_u32(std::process::id());
        let target = target_pid.map(Pid::from_u32);
        let handle = std::thread::Builder::new()
            .name("agentload-sampler".into())
            .spawn(move || {
                let cores = System::new_all().cpus().len().max(1) as f64;
                let mut sys = System::new();
                let pids: Vec<Pid> = std::iter::once(me).chain(target).collect();
                let refresh = |sys: &mut System| {
                    sys.refresh_processes_specifics(
                        ProcessesToUpdate::Some(&pids),
                        true,
                        ProcessRefreshKind::nothing().with_memory().with_cpu(),
                    );
                };
                let read = |sys: &System, pid: Pid| {
                    sys.process(pid).map(|p| ProcessReading {
                        rss_bytes: p.memory(),
                        cpu_percent: f64::from(p.cpu_usage()) / cores,
                    })
                };
                // CPU usage is a difference between two refreshes: prime the first.
                refresh(&mut sys);
                let started = Instant::now();
                let mut samples = Vec::new();
                let mut take = |sys: &mut System| {
                    refresh(sys);
                    samples.push(Sample {
                        at_secs: started.elapsed().as_secs_f64(),
                        open_connections: open.load(Ordering::Relaxed),
                        generator: read(sys, me),
                        target: target.and_then(|pid| read(sys, pid)),
                    });
                };
                let mut next = started + interval;
                while !flag.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    if now < next {
                        std::thread::sleep((next - now).min(Duration::from_millis(50)));
                        continue;
                    }
                    next += interval;
                    take(&mut sys);
                }
                // One last reading at the stop, so even a short run has one.
                take(&mut sys);
                samples
            })
            .expect("spawning the sampler thread");
        Sampler { stop, handle }
    }

    pub fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_reads_this_process() {
        let open = Arc::new(AtomicI64::new(3));
        let sampler = Sampler::start(None, Duration::from_secs(3600), open);
        // Stopped at once: the final reading is still taken.
        let samples = sampler.stop();
        assert_eq!(samples.len(), 1);
        let s = &samples[0];
        assert_eq!(s.open_connections, 3);
        assert!(s.generator.unwrap().rss_bytes > 1_000_000, "{s:?}");
        assert!(s.target.is_none());
    }
}
