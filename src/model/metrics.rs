//! Event-level latency histograms (hdrhistogram, microseconds), serializable so reports can be
//! compared and shards merged.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Highest latency a histogram tracks: one hour, in microseconds. Longer values are clamped.
const MAX_MICROS: u64 = 3_600_000_000;

/// A latency histogram in microseconds, 3 significant figures.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static bounds are valid"))
    }
}

impl Latency {
    pub fn record(&mut self, d: Duration) {
        self.0.saturating_record(Latency::micros(d));
    }

    /// `d` in whole microseconds, clamped to what a histogram tracks.
    pub fn micros(d: Duration) -> u64 {
        (d.as_micros() as u64).clamp(1, MAX_MICROS)
    }

    /// The value that stands for `micros`'s bucket (its highest equivalent): recording it
    /// again lands in the same bucket, so counts kept by bucket value are exact histograms.
    pub fn bucket_value(&self, micros: u64) -> u64 {
        self.0.highest_equivalent(micros.clamp(1, MAX_MICROS))
    }

    /// Records `count` values of `micros`.
    pub fn record_n(&mut self, micros: u64, count: u64) {
        self.0
            .saturating_record_n(micros.clamp(1, MAX_MICROS), count);
    }

    pub fn add(&mut self, other: &Latency) {
        // Same bounds everywhere, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// How many values are at most `secs` (a Prometheus bucket's `le`).
    pub fn count_up_to_secs(&self, secs: f64) -> u64 {
        let micros = (secs * 1e6) as u64;
        self.0.count_between(0, micros.clamp(1, MAX_MICROS))
    }

    /// How many values are at most `micros` (its bucket included).
    pub fn count_up_to_micros(&self, micros: u64) -> u64 {
        self.0.count_between(0, micros.clamp(1, MAX_MICROS))
    }

    /// The `rank`-th smallest value (from 1) in microseconds; `None` when empty or past the
    /// last.
    pub fn value_at_rank(&self, rank: u64) -> Option<u64> {
        let n = self.0.len();
        (rank >= 1 && rank <= n).then(|| {
            // hdrhistogram counts ceil(q · n) values in: q a hair under rank / n lands on it.
            self.0.value_at_quantile((rank as f64 - 0.5) / n as f64)
        })
    }

    /// Every value recorded (ms, each at its bucket's value), lowest first.
    pub fn values_ms(&self) -> Vec<f64> {
        self.0
            .iter_recorded()
            .flat_map(|v| {
                let ms = v.value_iterated_to() as f64 / 1000.0;
                std::iter::repeat_n(ms, v.count_at_value() as usize)
            })
            .collect()
    }

    /// The values' sum in seconds (from the mean: exact to the histogram's precision).
    pub fn sum_secs(&self) -> f64 {
        self.0.mean() * self.0.len() as f64 / 1e6
    }

    /// The value at quantile `q` (0..=1) in milliseconds; `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        (!self.0.is_empty()).then(|| self.0.value_at_quantile(q) as f64 / 1000.0)
    }

    /// Percentiles and extremes in milliseconds, for people and reports.
    pub fn stats(&self) -> LatencyStats {
        let ms = |micros: u64| micros as f64 / 1000.0;
        if self.0.is_empty() {
            return LatencyStats::default();
        }
        LatencyStats {
            count: self.0.len(),
            min_ms: ms(self.0.min()),
            mean_ms: self.0.mean() / 1000.0,
            p50_ms: ms(self.0.value_at_quantile(0.50)),
            p90_ms: ms(self.0.value_at_quantile(0.90)),
            p95_ms: ms(self.0.value_at_quantile(0.95)),
            p99_ms: ms(self.0.value_at_quantile(0.99)),
            max_ms: ms(self.0.max()),
        }
    }

    /// HdrHistogram V2 + deflate, base64: the standard interchange form.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.0, &mut bytes)
            .expect("serializing into a Vec cannot fail");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    pub fn decode(text: &str) -> Result<Latency, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| e.to_string())?;
        let h: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| format!("{e:?}"))?;
        let mut latency = Latency::default();
        latency.0.add(&h).map_err(|e| format!("{e:?}"))?;
        Ok(latency)
    }
}

/// A histogram as `summary.json` carries it: readable figures plus the encoded histogram.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LatencyStats {
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SerializedLatency {
    #[serde(flatten)]
    pub stats: LatencyStats,
    /// HdrHistogram V2-deflate, base64 (microseconds).
    pub histogram: String,
    /// A live reading's histogram, in memory (never encoded: `histogram` is empty then).
    #[serde(skip)]
    pub live: Option<std::sync::Arc<Latency>>,
}

impl PartialEq for SerializedLatency {
    fn eq(&self, other: &Self) -> bool {
        self.stats == other.stats && self.histogram == other.histogram
    }
}

impl SerializedLatency {
    /// The histogram behind the figures.
    pub fn latency(&self) -> Result<Latency, String> {
        match &self.live {
            Some(live) => Ok(Latency::clone(live)),
            None => Latency::decode(&self.histogram),
        }
    }

    /// A histogram as a live reading carries it: its figures, and itself in memory.
    pub fn live(l: Latency) -> SerializedLatency {
        SerializedLatency {
            stats: l.stats(),
            histogram: String::new(),
            live: Some(std::sync::Arc::new(l)),
        }
    }
}

impl From<&Latency> for SerializedLatency {
    fn from(l: &Latency) -> Self {
        SerializedLatency {
            stats: l.stats(),
            histogram: l.encode(),
            live: None,
        }
    }
}

/// A count for people: `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Two serialized histograms added exactly.
pub fn add_latency(
    a: &Option<SerializedLatency>,
    b: &Option<SerializedLatency>,
) -> Result<Option<SerializedLatency>, String> {
    Ok(match (a, b) {
        (Some(a), Some(b)) => {
            let mut sum: Latency = a.latency()?;
            sum.add(&b.latency()?);
            Some(SerializedLatency::from(&sum))
        }
        (a, b) => a.clone().or_else(|| b.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_true_within_precision() {
        let mut l = Latency::default();
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        let s = l.stats();
        assert_eq!(s.count, 100);
        assert!((s.p50_ms - 50.0).abs() <= 0.05, "{s:?}");
        assert!((s.p95_ms - 95.0).abs() <= 0.1, "{s:?}");
        assert!((s.max_ms - 100.0).abs() <= 0.1, "{s:?}");
    }

    #[test]
    fn encoding_round_trips_and_merges() {
        let mut a = Latency::default();
        a.record(Duration::from_millis(10));
        let mut b = Latency::decode(&a.encode()).unwrap();
        assert_eq!(b.stats(), a.stats());
        b.add(&a);
        assert_eq!(b.count(), 2);
    }
}
