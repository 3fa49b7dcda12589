//! Capacity, one room: the search (a controller of one live load) steps up a ladder of levels
//! (users, or arrival rates) until one is not shown to hold the SLA, then steps placed between
//! the highest shown to hold and the lowest not, each judged on its own hold, its run-time
//! rules on intervals; a projection with headroom. `scaling` runs a search at each deployment
//! size and studies them.

pub mod ceiling;
pub mod controller;
mod held;
pub mod interval;
mod judge;
pub mod ladder;
pub mod margin;
pub mod merge;
pub mod node;
mod one_load;
pub mod output;
mod place;
mod pool;
mod rates;
pub mod resources;
pub mod scaling;
mod search;
pub mod steady;
mod walk;

pub use crate::model::capacity::{CapacityReport, Projection, StepResult, GENERATOR_CPU_LIMIT};
pub use search::{ladder_report, project, search, search_rates};
