//! Drives the load: one load test end to end (`drive`), Goose's attack and its users
//! (`attack`, `scenarios`), the open model's arrivals, a level that moves while it runs
//! (`level`), what runs beside the attack (`watch`), a stop (`stop`), where the load goes
//! (`target`, `embedded`, `setup`), report folders (`folder`) and shards (`sharding`).

pub mod arrivals;
pub mod attack;
pub mod drive;
pub mod embedded;
pub mod folder;
pub mod level;
pub mod nofile;
pub mod options;
pub mod scenarios;
pub mod setup;
pub mod sharding;
pub mod shared;
pub mod stdout;
pub mod stop;
pub mod target;
pub mod watch;
