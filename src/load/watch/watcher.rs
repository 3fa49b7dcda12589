//! The one shape of what runs beside the attack: a look every `every`, and a last one.

use crate::measure::collector::Collector;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A look that waits on something (an HTTP poll).
pub type Look<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Something that runs beside the attack.
pub trait Watcher: Send + 'static {
    /// How often `tick` runs.
    fn every(&self) -> Duration;
    /// One look at the test while the attack runs.
    fn tick(&mut self, collector: &Collector);
    /// As `tick`, for a watcher whose look waits (a poll of a server): `tick` by default.
    fn look<'a>(&'a mut self, collector: &'a Collector) -> Look<'a> {
        self.tick(collector);
        Box::pin(std::future::ready(()))
    }
    /// The last look, once the attack has ended.
    fn finish(&mut self, _collector: &Collector) {}
}
