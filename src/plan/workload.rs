//! How users come: `[workload]` (closed: `[[stages]]` of users who loop; open: `[[arrivals]]`
//! of sessions at a rate that does not wait for the platform), `[session]` (a conversation of a
//! few turns, then the user leaves) and `[[arrivals]]` (rate phases).

use super::think::Turns;
use super::values::Dur;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Closed: a fixed population of users, each waiting for its last run (Goose's model).
/// Open: sessions arrive on a schedule whatever the platform does (k6's arrival-rate
/// executors, Gatling's open injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    #[default]
    Closed,
    Open,
}

/// When arrivals come within a rate: at random (Poisson, as independent users do) or evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    #[default]
    Poisson,
    Constant,
}

/// `[workload]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    #[serde(default)]
    pub model: Model,
    #[serde(default)]
    pub distribution: Distribution,
    /// Open: the most sessions in progress at once (the pool of simulated users); an arrival
    /// that finds every one busy is dropped and counted.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// Open: after the last arrival, how long sessions in progress may go on.
    #[serde(default = "default_drain")]
    pub drain: Dur,
    /// Open: the arrival times' seed (unset: different each test).
    pub seed: Option<u64>,
}

impl Default for Workload {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

/// `[session]`: what one session does.
#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SessionPlan {
    /// Messages sent in the session's thread, each after the last run and a think time.
    #[serde(default)]
    pub turns: Turns,
}

/// One `[[arrivals]]` phase: `rate` for `duration`, or a line from `rate` to `ramp_to`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    pub rate: Rate,
    pub duration: Dur,
    pub ramp_to: Option<Rate>,
}

impl Arrival {
    /// The rate at the phase's end.
    pub fn end_rate(&self) -> f64 {
        self.ramp_to.map_or(self.rate.0, |r| r.0)
    }

    /// Sessions the phase plans (its rate's integral).
    pub fn planned(&self) -> f64 {
        (self.rate.0 + self.end_rate()) / 2.0 * self.duration.0.as_secs_f64()
    }
}

/// Sessions per second, written `"4/s"`, `"240/min"`, `"900/h"` or a bare number per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Rate(pub f64);

/// The highest rate a plan may give (per second).
pub const MAX_RATE: f64 = 100_000.0;

impl Rate {
    pub fn parse(text: &str) -> Result<Rate, String> {
        let t = text.trim();
        let bad =
            || format!("`{t}` is not a rate: write sessions per time, like \"4/s\" or \"240/min\"");
        let (number, per) = t.split_once('/').unwrap_or((t, "s"));
        let n: f64 = number.trim().parse().map_err(|_| bad())?;
        let secs = match per.trim() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            _ => return Err(bad()),
        };
        let rate = n / secs;
        if !rate.is_finite() || rate < 0.0 {
            return Err(format!("`{t}`: a rate is a number of sessions, 0 or more"));
        }
        if rate > MAX_RATE {
            return Err(format!("`{t}` is more than {MAX_RATE}/s"));
        }
        Ok(Rate(rate))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", (self.0 * 1000.0).round() / 1000.0)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as \"4/s\" or \"240/min\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rate, E> {
                Rate::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Rate, E> {
                Rate::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Rate, E> {
                Rate::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// The first problem with an open plan's arrivals, as (key, message).
pub fn arrivals_problem(arrivals: &[Arrival]) -> Option<(&'static str, String)> {
    for (i, a) in arrivals.iter().enumerate() {
        if a.duration.0.is_zero() {
            return Some((
                "duration",
                format!("arrival phase {}: must be more than 0", i + 1),
            ));
        }
        if a.rate.0 == 0.0 && a.end_rate() == 0.0 {
            let m = "a phase at rate 0 brings no session: give a rate above 0 (or a ramp_to)";
            return Some(("rate", format!("arrival phase {}: {m}", i + 1)));
        }
    }
    None
}

/// What a plan's load is made of, for its checks.
pub struct Load<'a> {
    pub workload: &'a Workload,
    pub stages: &'a [super::sections::Stage],
    pub arrivals: &'a [Arrival],
    pub kinds: &'a [super::mix::Kind],
}

impl Load<'_> {
    /// The first problem, as (table, key, message): a closed plan ramps `[[stages]]`, an open
    /// one has `[[arrivals]]` of agent sessions and no stages.
    pub fn problem(&self) -> Option<(&'static str, &'static str, String)> {
        match self.workload.model {
            Model::Closed => {
                if !self.arrivals.is_empty() {
                    let m = "arrivals are the open model's: set [workload] model = \"open\" (and drop [[stages]])";
                    return Some(("", "arrivals", m.into()));
                }
                if self.stages.is_empty() {
                    let m = "add at least one [[stages]] entry (or [workload] model = \"open\" with [[arrivals]])";
                    return Some(("", "stages", m.into()));
                }
                if self.stages.iter().all(|s| s.users == 0) {
                    return Some(("stages", "users", "no stage starts a user".into()));
                }
            }
            Model::Open => {
                if !self.stages.is_empty() {
                    let m = "an open plan's load is its [[arrivals]]: remove [[stages]] (or use model = \"closed\")";
                    return Some(("", "stages", m.into()));
                }
                if self.arrivals.is_empty() {
                    let m = "an open plan needs [[arrivals]] (rate, duration)";
                    return Some(("", "arrivals", m.into()));
                }
                if let Some((key, m)) = arrivals_problem(self.arrivals) {
                    return Some(("arrivals", key, m));
                }
                if self.workload.max_sessions == 0 {
                    return Some(("workload", "max_sessions", "must be at least 1".into()));
                }
                if self.kinds.iter().any(|k| *k != super::mix::Kind::Agent) {
                    let m = "the open model brings agent sessions: every [[scenarios]] entry is kind = \"agent\"";
                    return Some(("scenarios", "kind", m.into()));
                }
            }
        }
        None
    }
}

/// The whole arrival schedule's length.
pub fn arrivals_duration(arrivals: &[Arrival]) -> Duration {
    arrivals.iter().map(|a| a.duration.0).sum()
}

fn default_max_sessions() -> usize {
    1000
}
fn default_drain() -> Dur {
    Dur::from_secs(30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(Rate::parse("4/s").unwrap(), Rate(4.0));
        assert_eq!(Rate::parse("240/min").unwrap(), Rate(4.0));
        assert_eq!(Rate::parse("900/h").unwrap(), Rate(0.25));
        assert_eq!(Rate::parse("2").unwrap(), Rate(2.0));
        for bad in ["-1/s", "x/s", "4/fortnight", "inf/s", "nan", "1e9/s"] {
            assert!(Rate::parse(bad).is_err(), "{bad} parsed");
        }
        let ramp = Arrival {
            rate: Rate(1.0),
            duration: Dur::from_secs(10),
            ramp_to: Some(Rate(3.0)),
        };
        assert_eq!(ramp.planned(), 20.0);
        let zero = Arrival {
            rate: Rate(0.0),
            ramp_to: None,
            ..ramp
        };
        assert!(arrivals_problem(&[zero]).is_some());
        assert!(arrivals_problem(&[ramp]).is_none());
    }
}
