//! Two runs compared, as the summary carries it: each figure of both, its change, and whether
//! it regressed (`compare` computes it).

use serde::{Deserialize, Serialize};

/// Which way a figure gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Worse {
    /// Latency, error rates, memory.
    Higher,
    /// Throughput, capacity.
    Lower,
}

/// One figure of both runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureDelta {
    pub figure: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// (current − baseline) ÷ baseline, in percent; `None` when either is missing or the
    /// baseline is 0.
    pub change_percent: Option<f64>,
    pub worse_when: Worse,
    pub regressed: bool,
}

/// Two runs compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Where the baseline came from (its report folder).
    pub baseline: String,
    pub tolerance_percent: f64,
    pub figures: Vec<FigureDelta>,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &FigureDelta> {
        self.figures.iter().filter(|f| f.regressed)
    }
}
