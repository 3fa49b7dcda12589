//! Scaling studies (`[capacity.scaling]`): a capacity search at each of several deployment
//! sizes, what the deployment's resources cost a run at each, and what that says of sizes not
//! measured. `fit` (curves), `study` (the study from the sizes' reports) and `words` (its
//! conclusion) are pure; `run` scales the deployment and runs the searches; `output` writes
//! the study's folder.

pub mod fit;
pub mod output;
pub mod run;
pub mod study;
pub mod words;
