//! The report: what a load test, a capacity search or a scaling study leaves in its folder,
//! rendered from the result model alone. `folder` writes every file, one writer per format
//! (JSON, the page, JUnit); `page` renders a load test's `index.html` (with `charts`, and the
//! `capacity`, `server` and `sessions` sections), `scaling` a study's; `junit` the JUnit XML.

mod capacity;
mod charts;
mod error;
pub mod folder;
pub mod junit;
mod page;
mod scaling;
mod server;
mod sessions;

pub use error::ReportError;
pub use page::render;
