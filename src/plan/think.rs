//! Think times as distributions, and a session's number of turns. A think time is written
//! `"2s"` (fixed), `"1s..5s"` (uniform), `"exp(20s)"` (exponential with that mean) or
//! `"lognormal(15s, p95=60s)"` (log-normal with that median and 95th percentile): real users
//! pause for seconds to minutes, rarely the same twice.

use super::values::parse_duration;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// The longest pause one draw gives (a long tail must not hold a user past any test).
const MAX_DRAW: Duration = Duration::from_secs(3600);

/// z of the normal distribution's 95th percentile.
const Z95: f64 = 1.644_853_626_951_472_2;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    Fixed(Duration),
    /// Every value in `[low, high]` alike.
    Uniform(Duration, Duration),
    /// Memoryless pauses with this mean.
    Exponential {
        mean: Duration,
    },
    /// `median` and `p95` fix the log-normal's two parameters.
    LogNormal {
        median: Duration,
        p95: Duration,
    },
}

impl Default for Think {
    fn default() -> Self {
        Think::Fixed(Duration::from_secs(1))
    }
}

impl Think {
    pub fn parse(text: &str) -> Result<Think, String> {
        let t = text.trim();
        let form = || {
            format!(
                "`{t}` is not a think time: write \"2s\", \"1s..5s\", \"exp(20s)\" or \
                 \"lognormal(15s, p95=60s)\""
            )
        };
        let dur = |s: &str| parse_duration(s).map_err(|e| format!("{e} (in `{t}`)"));
        if let Some(inner) = t.strip_prefix("exp(").and_then(|r| r.strip_suffix(')')) {
            let mean = dur(inner)?;
            if mean.is_zero() {
                return Err(format!("`{t}`: the mean must be more than 0"));
            }
            return Ok(Think::Exponential { mean });
        }
        if let Some(inner) = t
            .strip_prefix("lognormal(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let (median, p95) = inner.split_once(',').ok_or_else(form)?;
            let p95 = p95.trim().strip_prefix("p95=").ok_or_else(form)?;
            let (median, p95) = (dur(median)?, dur(p95)?);
            if median.is_zero() || p95 <= median {
                return Err(format!(
                    "`{t}`: the median must be more than 0 and the p95 above it"
                ));
            }
            return Ok(Think::LogNormal { median, p95 });
        }
        if let Some((low, high)) = t.split_once("..") {
            let (low, high) = (dur(low)?, dur(high)?);
            if high < low {
                return Err(format!("`{t}`: the range's low end is above its high end"));
            }
            return Ok(Think::Uniform(low, high));
        }
        if t.contains('(') {
            return Err(form());
        }
        dur(t).map(Think::Fixed)
    }

    /// One pause, from two uniform draws in `[0, 1)` (the second only for a log-normal).
    pub fn draw_with(&self, u: f64, v: f64) -> Duration {
        let secs = match *self {
            Think::Fixed(d) => return d,
            Think::Uniform(low, high) => {
                low.as_secs_f64() + u * (high.as_secs_f64() - low.as_secs_f64())
            }
            Think::Exponential { mean } => -mean.as_secs_f64() * (1.0 - u).ln(),
            Think::LogNormal { median, p95 } => {
                let (mu, sigma) = lognormal_params(median, p95);
                // Box–Muller: one standard normal from two uniforms.
                let z = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                (mu + sigma * z).exp()
            }
        };
        Duration::try_from_secs_f64(secs)
            .unwrap_or(MAX_DRAW)
            .min(MAX_DRAW)
    }

    /// One pause, drawn with `rng`.
    pub fn draw(&self, rng: &mut impl rand::Rng) -> Duration {
        match self {
            Think::Fixed(d) => *d,
            _ => self.draw_with(rng.random(), rng.random()),
        }
    }

    /// The mean pause.
    pub fn mean(&self) -> Duration {
        let secs = match *self {
            Think::Fixed(d) => return d,
            Think::Uniform(low, high) => (low + high).as_secs_f64() / 2.0,
            Think::Exponential { mean } => return mean,
            Think::LogNormal { median, p95 } => {
                let (mu, sigma) = lognormal_params(median, p95);
                (mu + sigma * sigma / 2.0).exp()
            }
        };
        Duration::try_from_secs_f64(secs)
            .unwrap_or(MAX_DRAW)
            .min(MAX_DRAW)
    }

    /// The range Goose's own wait takes (fixed and uniform pauses); `None`: agentload draws.
    pub fn goose_range(&self) -> Option<(Duration, Duration)> {
        match *self {
            Think::Fixed(d) => Some((d, d)),
            Think::Uniform(low, high) => Some((low, high)),
            _ => None,
        }
    }
}

fn lognormal_params(median: Duration, p95: Duration) -> (f64, f64) {
    let mu = median.as_secs_f64().ln();
    (mu, (p95.as_secs_f64().ln() - mu) / Z95)
}

impl fmt::Display for Think {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Think::Fixed(d) => write!(f, "{d:?}"),
            Think::Uniform(low, high) => write!(f, "{low:?}..{high:?}"),
            Think::Exponential { mean } => write!(f, "exp({mean:?})"),
            Think::LogNormal { median, p95 } => write!(f, "lognormal({median:?}, p95={p95:?})"),
        }
    }
}

impl<'de> Deserialize<'de> for Think {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Think;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a think time such as \"2s\", \"1s..5s\" or \"exp(20s)\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Think, E> {
                Think::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Think, E> {
                match v >= 0 {
                    true => Think::parse(&v.to_string()).map_err(E::custom),
                    false => Err(E::custom("a think time can not be negative")),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Think, E> {
                Think::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A session's turns: `5`, or `"3..8"` (each session draws its own, every count alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turns {
    pub min: u32,
    pub max: u32,
}

/// The most turns a session may hold.
pub const MAX_TURNS: u32 = 10_000;

impl Turns {
    pub fn parse(text: &str) -> Result<Turns, String> {
        let t = text.trim();
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{t}` is not a number of turns: write 5 or \"3..8\""))
        };
        let (min, max) = match t.split_once("..") {
            Some((low, high)) => (number(low)?, number(high)?),
            None => (number(t)?, number(t)?),
        };
        if min == 0 || max < min || max > MAX_TURNS {
            return Err(format!(
                "`{t}`: a session has 1 to {MAX_TURNS} turns, the range's low end first"
            ));
        }
        Ok(Turns { min, max })
    }

    /// One session's turns, from a uniform draw in `[0, 1)`.
    pub fn draw_with(&self, u: f64) -> u32 {
        let span = f64::from(self.max - self.min + 1);
        (self.min + (u * span) as u32).min(self.max)
    }

    pub fn mean(&self) -> f64 {
        f64::from(self.min + self.max) / 2.0
    }

    /// E[N²] / E[N]²: how much the runs of a session vary (1 when every session has as many).
    pub fn dispersion(&self) -> f64 {
        let n = f64::from(self.max - self.min + 1);
        let squares: f64 = (self.min..=self.max).map(|k| f64::from(k).powi(2)).sum();
        squares / n / self.mean().powi(2)
    }
}

impl Default for Turns {
    fn default() -> Self {
        Turns { min: 1, max: 1 }
    }
}

impl<'de> Deserialize<'de> for Turns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Turns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of turns such as 5 or \"3..8\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Turns, E> {
                Turns::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Turns, E> {
                Turns::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(Think::parse("2s").unwrap(), Think::Fixed(secs(2.0)));
        assert_eq!(
            Think::parse("1s..5s").unwrap(),
            Think::Uniform(secs(1.0), secs(5.0))
        );
        assert_eq!(
            Think::parse("exp(20s)").unwrap(),
            Think::Exponential { mean: secs(20.0) }
        );
        assert_eq!(
            Think::parse("lognormal(15s, p95=60s)").unwrap(),
            Think::LogNormal {
                median: secs(15.0),
                p95: secs(60.0)
            }
        );
        for bad in [
            "exp(-1s)",
            "exp(0s)",
            "exp(1s",
            "gauss(1s)",
            "5s..1s",
            "lognormal(15s)",
            "lognormal(15s, p95=10s)",
            "lognormal(0s, p95=10s)",
            "-1s",
            "",
        ] {
            assert!(Think::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn draws_follow_their_distribution() {
        // The quantile functions at chosen uniforms.
        let exp = Think::parse("exp(10s)").unwrap();
        let at_half = exp.draw_with(0.5, 0.0).as_secs_f64();
        assert!((at_half - 10.0 * 2f64.ln()).abs() < 1e-6, "{at_half}");
        let uniform = Think::parse("2s..4s").unwrap();
        assert_eq!(uniform.draw_with(0.25, 0.0), secs(2.5));
        assert_eq!(uniform.mean(), secs(3.0));
        // A log-normal's median and p95, from many draws.
        let ln = Think::parse("lognormal(15s, p95=60s)").unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut draws: Vec<f64> = (0..20_000)
            .map(|_| ln.draw(&mut rng).as_secs_f64())
            .collect();
        draws.sort_by(f64::total_cmp);
        let (median, p95) = (draws[10_000], draws[19_000]);
        assert!((median - 15.0).abs() < 0.6, "median {median}");
        assert!((p95 - 60.0).abs() < 4.0, "p95 {p95}");
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!(
            (mean / ln.mean().as_secs_f64() - 1.0).abs() < 0.05,
            "{mean}"
        );
        assert_eq!(exp.draw_with(1.0 - 1e-300, 0.0), MAX_DRAW);
        assert_eq!(exp.goose_range(), None);
        assert_eq!(uniform.goose_range(), Some((secs(2.0), secs(4.0))));
    }

    use rand::SeedableRng;

    #[test]
    fn turns_parse_and_draw() {
        assert_eq!(Turns::parse("5").unwrap(), Turns { min: 5, max: 5 });
        let range = Turns::parse("3..8").unwrap();
        assert_eq!((range.draw_with(0.0), range.draw_with(0.999)), (3, 8));
        assert_eq!(range.mean(), 5.5);
        for bad in ["0", "-1", "8..3", "x", "0..2", "1..99999"] {
            assert!(Turns::parse(bad).is_err(), "{bad} parsed");
        }
    }
}
