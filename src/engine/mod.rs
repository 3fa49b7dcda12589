//! The engine: everything that sends load and measures it. Goose glue and the WebSocket
//! client (`scenarios`), tokens (`auth`), TLS, the event model and sequence checker
//! (`protocol`), the collector of outcomes, the resource sampler, the embedded target's
//! child process, the preflight checks, where the load goes (`target`), what stops a test
//! before it runs (`setup`), one load test end to end (`load`), what runs beside the attack
//! (`watch`: the live line, checkpoints, signals) and a test stopped early (`stop`).

pub mod arrivals;
pub mod attack;
pub mod auth;
pub mod capacity;
pub mod collector;
pub mod embedded;
pub mod folder;
pub mod live;
pub mod load;
pub mod nofile;
pub mod options;
pub mod outcome;
pub mod preflight;
pub mod probe;
pub mod protocol;
pub mod sampler;
pub mod scaling;
pub mod scenarios;
pub mod setup;
pub mod sharding;
pub mod shared;
pub mod stdout;
pub mod stop;
pub mod target;
pub mod tls;
pub mod watch;
