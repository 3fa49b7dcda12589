//! `agentload capacity` against the reference target: the closed model's limit in users
//! (`closed`), the open model's arrival rate and an enterprise's seats (`rate`), and shards
//! walking the same steps that merge into one node's answer (`shards`), and the search checked
//! against a simulation of the target's queue (`steady`).

mod batch;
mod closed;
mod rate;
mod shards;
mod steady;
