//! `agentload capacity` against the reference target: the closed model's limit in users
//! (`closed`), the open model's arrival rate and an enterprise's seats (`rate`), and shards
//! walking the same steps that merge into one node's answer (`shards`). One test binary, so
//! its searches share the test threads: each holds a few users or sessions per second, light
//! enough to run beside another. The search checked against a simulation of the target's queue
//! (`capacity_steady`) runs alone, in its own binary.

#[path = "../common/mod.rs"]
mod common;

mod closed;
mod rate;
mod shards;
