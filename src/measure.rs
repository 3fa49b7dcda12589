//! Measures the load: the collector of outcomes (counts, HDR histograms, the run log, sessions,
//! outages, where the time goes) and the sampler of the target's and generator's CPU and
//! memory.

pub mod collector;
pub mod sampler;
