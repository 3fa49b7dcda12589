//! The commands: each wires its room (the load, capacity, onboarding), the plan and the report
//! for one verb of the command line, and turns the outcome into an exit code.

pub mod capacity;
mod exit;
pub mod merge;
pub mod preflight;
pub mod probe;
pub mod report;
pub mod run;
pub mod shard;
pub mod token;
