//! Resource sampler: on its own thread, reads RSS and CPU of the generator and the target
//! process at a fixed interval, with the open connection count at that instant.
//!
//! The figures drawn from the samples (peaks, memory per connection) are in
//! `model::resources`.

use crate::model::resources::{resource_stats, ProcessReading, Resources, Sample};
use crate::model::summary::Summary;
use crate::plan::Plan;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// A running sampler; `stop` returns every sample taken (`samples` reads them meanwhile).
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
    samples: Arc<Mutex<Vec<Sample>>>,
}

impl Sampler {
    /// Starts sampling this process and, when given, the target's pid; samples are timed
    /// from `origin` (the collector's clock).
    pub fn start(
        target_pid: Option<u32>,
        interval: Duration,
        open: Arc<AtomicI64>,
        origin: Instant,
    ) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let kept = samples.clone();
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
                let take = |sys: &mut System| {
                    refresh(sys);
                    let sample = Sample {
                        at_secs: origin.elapsed().as_secs_f64(),
                        open_connections: open.load(Ordering::Relaxed),
                        generator: read(sys, me),
                        target: target.and_then(|pid| read(sys, pid)),
                    };
                    kept.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
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
            })
            .expect("spawning the sampler thread");
        Sampler {
            stop,
            handle,
            samples,
        }
    }

    /// The samples so far, as the sampler adds them.
    pub fn samples(&self) -> Arc<Mutex<Vec<Sample>>> {
        self.samples.clone()
    }

    pub fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The target process to sample: the embedded child (`embedded`), or the plan's pid or
/// process name.
pub(crate) fn target_pid(plan: &Plan, embedded: Option<u32>) -> Option<u32> {
    if let Some(pid) = embedded {
        return Some(pid);
    }
    if let Some(pid) = plan.sampler.target_pid {
        return Some(pid);
    }
    let name = plan.sampler.target_process.as_deref()?;
    let mut sys = sysinfo::System::new();
    sys.refresh_processes(sysinfo::ProcessesToUpdate::All, true);
    let found = sys
        .processes_by_exact_name(name.as_ref())
        .next()
        .map(|p| p.pid().as_u32());
    if found.is_none() {
        eprintln!("agentload: warning: no process named `{name}` to sample");
    }
    found
}

pub(crate) fn resources(
    plan: &Plan,
    target_pid: Option<u32>,
    samples: Vec<Sample>,
    s: &Summary,
) -> Resources {
    let target = resource_stats(&samples, |x| x.target);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cpu_ms_per_run = target.as_ref().and_then(|t| {
        (s.runs.started > 0).then(|| {
            t.mean_cpu_percent / 100.0 * cores * s.duration_secs * 1000.0 / s.runs.started as f64
        })
    });
    Resources {
        interval_secs: plan.sampler.interval.0.as_secs_f64(),
        target_pid,
        generator: resource_stats(&samples, |x| x.generator),
        target,
        target_cpu_ms_per_run: cpu_ms_per_run,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_reads_this_process() {
        let open = Arc::new(AtomicI64::new(3));
        let sampler = Sampler::start(None, Duration::from_secs(3600), open, Instant::now());
        // Stopped at once: the final reading is still taken.
        let samples = sampler.stop();
        assert_eq!(samples.len(), 1);
        let s = &samples[0];
        assert_eq!(s.open_connections, 3);
        assert!(s.generator.unwrap().rss_bytes > 1_000_000, "{s:?}");
        assert!(s.target.is_none());
    }
}
