//! A study's conclusion for people: what each size held, the curve through them, what each
//! resource costs a run and bounds, what the first size not measured is expected to hold,
//! and what an enterprise needs; an extrapolation always named as one.

use crate::model::capacity::round3;
use crate::model::scaling::{Prediction, ScalingStudy};

/// One paragraph.
pub fn conclusion(s: &ScalingStudy) -> String {
    let unit = &s.unit;
    let mut text = sizes(s);
    text.push_str(&fit(s));
    let runs_per_unit = s.sizes.iter().rev().find_map(|z| z.runs_per_unit);
    for r in &s.resources {
        let last = s.predictions.last();
        let bound = |p: &Prediction| Some((p.size, r.bound_at(p.size)));
        text.push_str(&format!(
            " Resource `{}`: {:.1} ms a run, {:+.2} ms a replica",
            r.name,
            r.demand_secs * 1000.0,
            r.growth_secs * 1000.0
        ));
        if let Some((size, b)) = last.and_then(bound) {
            let units = runs_per_unit
                .map(|u| format!(" ({} {unit})", round3(b / u)))
                .unwrap_or_default();
            text.push_str(&format!(
                ": it bounds {size} replicas at {b:.1} runs/s{units}, whatever else is added"
            ));
        }
        match r.binds_at {
            Some(n) => text.push_str(&format!("; it binds from {n} replicas.")),
            None => text.push_str("; it binds no size the study considers."),
        }
    }
    if let Some(p) = s.predictions.iter().find(|p| p.measured.is_none()) {
        text.push_str(&prediction(p, unit));
    }
    if let Some(e) = &s.enterprise {
        text.push_str(&format!(
            " {} seats: {} sessions/s at the peak, {:.0}% headroom: ",
            crate::model::metrics::thousands(e.seats),
            round3(e.peak_rate),
            e.headroom_percent
        ));
        let answer_at = |size: u32| {
            s.sizes
                .iter()
                .find(|z| z.size == size)
                .and_then(|z| z.answer)
                .map_or("-".into(), |a| round3(a).to_string())
        };
        text.push_str(
            &match (e.measured_size, e.extrapolated_size, e.division_size) {
                (Some(n), _, _) => format!("{n} replicas (measured: {}/s).", answer_at(n)),
                (None, Some(n), division) => format!(
                    "not measured; the fit under the resources' bounds says {n} replicas{} — an \
                 extrapolation: measure {n} before signing.",
                    division.map_or(String::new(), |d| format!(" (division says {d})"))
                ),
                (None, None, division) => format!(
                    "no size up to {} is expected to hold it{} — measure before signing.",
                    super::fit::MAX_SIZE,
                    division.map_or(String::new(), |d| format!(" (division says {d} replicas)"))
                ),
            },
        );
    }
    if let Some(why) = &s.stopped {
        text.push_str(&format!(" The study stopped early: {why}."));
    }
    text
}

fn sizes(s: &ScalingStudy) -> String {
    let list = |f: &dyn Fn(&crate::model::scaling::SizeResult) -> String| {
        s.sizes.iter().map(f).collect::<Vec<_>>().join(", ")
    };
    let sizes = list(&|z| z.size.to_string());
    let answers = list(&|z| match (z.answer, z.at_least) {
        (Some(a), true) => format!("at least {}", round3(a)),
        (Some(a), false) => round3(a).to_string(),
        (None, _) => "none".into(),
    });
    let ceilings = list(&|z| match (z.ceiling, z.ceiling_measured) {
        (Some(c), true) => format!("{c:.1}"),
        (Some(c), false) => format!("≥ {c:.1}"),
        (None, _) => "-".into(),
    });
    let word = if s.sizes.len() == 1 { "Size" } else { "Sizes" };
    format!(
        "{word} {sizes} hold {answers} {} (most completed: {ceilings} runs/s).",
        s.unit
    )
}

fn fit(s: &ScalingStudy) -> String {
    let f = &s.fit;
    match f.kind.as_str() {
        "usl" => format!(
            " Through them the Universal Scalability Law: one replica {} {}, contention σ \
             {:.3}, coherency κ {:.4}{}.",
            round3(f.lambda),
            s.unit,
            f.sigma,
            f.kappa,
            f.peak_size.map_or(String::new(), |n| format!(
                ", more replicas holding less past {n:.0}"
            ))
        ),
        "amdahl" => format!(
            " Through the two sizes Amdahl's law: one replica {} {}, contention σ {:.3} (two \
             sizes cannot show coherency).",
            round3(f.lambda),
            s.unit,
            f.sigma
        ),
        _ => " One size: no curve is fitted (two give Amdahl's law, three the USL).".into(),
    }
}

fn prediction(p: &Prediction, unit: &str) -> String {
    let v = |x: Option<f64>| x.map_or("-".into(), |x| round3(x).to_string());
    let bound = match (&p.bound_by, p.bound) {
        (Some(by), Some(b)) => format!(", `{by}` bounds it at {}", round3(b)),
        _ => String::new(),
    };
    format!(
        " At {} replicas (not measured): the fit says {}, division {}{bound}: expect at most {} \
         {unit} — an extrapolation: measure {} before signing.",
        p.size,
        v(p.fitted),
        v(p.division),
        v(p.expected),
        p.size
    )
}
