//! The report's Sessions section: concurrency over time beside Little's law, first turns over
//! time, and a sentence on what the workload model shows (and hides).

use super::charts::{line_chart, Series, BLUE, GREEN, ORANGE, PURPLE, RED};
use crate::model::sessions::SessionsSummary;
use serde::Serialize;

#[derive(Serialize, Default)]
pub struct SessionCharts {
    pub concurrency: String,
    pub first_turn: String,
    /// Why this model's figures look as they do.
    pub note: String,
}

pub fn charts(s: &SessionsSummary) -> SessionCharts {
    let tl = &s.timeline;
    let width = s.timeline_bucket_secs.max(1.0);
    let mean_secs = s.duration.as_ref().map(|d| d.stats.mean_ms / 1000.0);
    let series = |name: &str, color, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        color,
        points,
    };
    // λ·W at t: the sessions that started within the last mean session length W (each
    // would still be in progress had every session lasted W).
    let predicted = mean_secs.map_or_else(Vec::new, |w| {
        tl.iter()
            .map(|p| {
                let end = p.at_secs + width;
                let started: f64 = tl
                    .iter()
                    .filter(|q| q.at_secs + width > end - w && q.at_secs < end)
                    .map(|q| {
                        // The part of an older bucket inside the window.
                        let inside = (q.at_secs + width - (end - w)).clamp(0.0, width) / width;
                        q.started as f64 * inside
                    })
                    .sum();
                (p.at_secs, started)
            })
            .collect()
    });
    let concurrency = line_chart(
        "Sessions in progress, beside Little's law (arrival rate × mean session length)",
        "seconds",
        "sessions",
        &[
            series(
                "in progress",
                BLUE,
                tl.iter().map(|p| (p.at_secs, p.concurrency)).collect(),
            ),
            series("λ·W", PURPLE, predicted),
            series(
                "arrivals/s",
                GREEN,
                tl.iter()
                    .map(|p| (p.at_secs, p.arrived as f64 / width))
                    .collect(),
            ),
            series(
                "dropped/s",
                RED,
                tl.iter()
                    .map(|p| (p.at_secs, p.dropped as f64 / width))
                    .collect(),
            ),
        ],
    );
    let pick = |f: fn(&crate::model::sessions::SessionPoint) -> Option<f64>| {
        tl.iter()
            .filter_map(|p| f(p).map(|v| (p.at_secs, v)))
            .collect::<Vec<_>>()
    };
    let first_turn = line_chart(
        "First turn, from when the session was due to its first run's completion",
        "seconds (session start)",
        "ms",
        &[
            series("mean", ORANGE, pick(|p| p.first_turn_mean_ms)),
            series("max", RED, pick(|p| p.first_turn_max_ms)),
        ],
    );
    SessionCharts {
        concurrency,
        first_turn,
        note: note(s),
    }
}

/// What the model shows: an open model's queue (growing latency, dropped arrivals); a closed
/// model's coordinated omission (its users wait for the platform, so demand shrinks with it).
pub fn note(s: &SessionsSummary) -> String {
    let growth = first_turn_growth(s);
    let grew = growth.map_or(String::new(), |(first, last)| {
        format!(
            " The first turn took {first:.0} ms on average in the first part of the test and \
             {last:.0} ms in the last ({:.1}×).",
            last / first.max(1e-9)
        )
    });
    match s.model.as_str() {
        "open" => {
            let dropped = match s.dropped {
                0 => "no arrival was dropped".to_string(),
                n => format!(
                    "{n} arrivals ({:.1}%) found every user of the pool busy and were dropped: \
                     demand the platform did not serve",
                    s.dropped_percent()
                ),
            };
            format!(
                "Open model: sessions arrived on schedule whatever the platform did, and each \
                 first turn is timed from when its session was due, so a slower platform shows \
                 as a growing queue, never as fewer arrivals; {dropped}.{grew}"
            )
        }
        _ => format!(
            "Closed model: each user starts its next session only when the last one ended, so \
             when the platform slows the load it receives shrinks with it (coordinated \
             omission): latency can look flat while demand goes unserved. An open plan \
             ([workload] model = \"open\", [[arrivals]]) shows the queue real arrivals would \
             build.{grew}"
        ),
    }
}

/// The mean first turn over the first and the last third of the points that have one.
pub fn first_turn_growth(s: &SessionsSummary) -> Option<(f64, f64)> {
    let points: Vec<(u64, f64)> = s
        .timeline
        .iter()
        .filter_map(|p| Some((p.first_turns, p.first_turn_mean_ms?)))
        .filter(|(n, _)| *n > 0)
        .collect();
    if points.len() < 3 {
        return None;
    }
    let third = points.len() / 3;
    let mean = |part: &[(u64, f64)]| {
        let n: u64 = part.iter().map(|p| p.0).sum();
        part.iter().map(|(k, m)| *k as f64 * m).sum::<f64>() / n as f64
    };
    Some((
        mean(&points[..third]),
        mean(&points[points.len() - third..]),
    ))
}
