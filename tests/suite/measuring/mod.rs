//! Capacity searches checked against a ground truth: a discrete-event simulation of the
//! reference target's queue (`common::queue`) or of a backend that batches
//! (`common::batch`), fed by the plan's own sessions. They measure the machine (the
//! target's service time, the client's overhead), so each takes `serial::measuring`, and CI
//! runs them in a phase of their own after the rest (`.ci/run`): beside a dozen other tests
//! on two cores they measure the other tests. The tenth-scale short-think search of a queue
//! (`steady`) and the users search of a backend that batches (`batch`) run in CI; the
//! people's-think search, the rate search of that backend and those at a few runs a second
//! (`few`) hold for minutes and run in `just bench`.

mod batch;
mod few;
mod steady;
