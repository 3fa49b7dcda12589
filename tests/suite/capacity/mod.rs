//! `agentload capacity` against the reference target: the closed model's limit in users
//! (`closed`), the open model's arrival rate and an enterprise's seats (`rate`), and shards
//! walking the same steps that merge into one node's answer (`shards`). The searches checked
//! against a simulation of the target are in `measuring`.

mod closed;
mod rate;
mod shards;
