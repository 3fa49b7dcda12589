//! A scaling study's page (`index.html` of its folder): the conclusion, each size's answer
//! beside the fitted curve, division and the resources' bounds (measured sizes and the next
//! not measured, an extrapolation marked as one), and two charts: answers against size (the
//! curve, division, bounds, the enterprise's rate) and throughput against size (ceilings,
//! bounds). Rendered from the study alone.

use super::charts::{line_chart_with_marks, Series, BLUE, GREEN, ORANGE, PURPLE, RED};
use super::error::ReportError;
use crate::model::scaling::ScalingStudy;
use minijinja::{context, Environment};
use std::collections::BTreeMap;

const TEMPLATE: &str = include_str!("scaling.html.j2");
const GREY: plotters::style::RGBColor = plotters::style::RGBColor(150, 150, 150);

/// The page as a string.
pub fn render(s: &ScalingStudy) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("scaling.html", TEMPLATE)
        .map_err(|e| ReportError::Render(e.to_string()))?;
    let template = env
        .get_template("scaling.html")
        .map_err(|e| ReportError::Render(e.to_string()))?;
    let sizes_by: BTreeMap<u32, &crate::model::scaling::SizeResult> =
        s.sizes.iter().map(|z| (z.size, z)).collect();
    let (answers, throughput) = charts(s);
    template
        .render(context! {
            s => s,
            sizes_by => minijinja::Value::from_serialize(&sizes_by),
            charts => context! { answers => answers, throughput => throughput },
        })
        .map_err(|e| ReportError::Render(format!("{e:#}")))
}

/// (answers against size, throughput against size), as SVG.
fn charts(s: &ScalingStudy) -> (String, String) {
    let top = s
        .predictions
        .iter()
        .map(|p| p.size)
        .max()
        .unwrap_or(1)
        .max(2);
    let xs: Vec<f64> = (1..=top).map(f64::from).collect();
    let line = |name: &str, color, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        color,
        points,
    };
    let of = |f: &dyn Fn(&crate::model::scaling::Prediction) -> Option<f64>| {
        s.predictions
            .iter()
            .filter_map(|p| Some((f64::from(p.size), f(p)?)))
            .collect::<Vec<_>>()
    };
    let measured: Vec<(f64, f64)> = s
        .sizes
        .iter()
        .filter_map(|z| Some((f64::from(z.size), z.answer?)))
        .collect();
    let fitted: Vec<(f64, f64)> = match s.fit.kind.as_str() {
        "none" => Vec::new(),
        _ => xs.iter().map(|n| (*n, s.fit.at(*n))).collect(),
    };
    let peak = s
        .enterprise
        .as_ref()
        .map(|e| vec![(1.0, e.peak_rate), (f64::from(top), e.peak_rate)])
        .unwrap_or_default();
    let answers = line_chart_with_marks(
        &format!("What each size holds ({}), against replicas", s.unit),
        "replicas",
        &s.unit,
        &[
            line("the fitted curve", BLUE, fitted),
            line("division", GREY, of(&|p| p.division)),
            line("tightest resource bound", RED, of(&|p| p.bound)),
            line("an enterprise's peak", PURPLE, peak),
        ],
        &[
            line("measured", GREEN, measured),
            line("expected (not measured)", ORANGE, {
                of(&|p| p.expected.filter(|_| p.measured.is_none()))
            }),
        ],
    );
    let ceilings: Vec<(f64, f64)> = s
        .sizes
        .iter()
        .filter_map(|z| Some((f64::from(z.size), z.ceiling?)))
        .collect();
    let throughput = line_chart_with_marks(
        "Runs completed at most (ceilings) and what the resources allow, against replicas",
        "replicas",
        "runs/s",
        &[line(
            "tightest resource bound",
            RED,
            of(&|p| p.bound_runs_per_sec),
        )],
        &[line("most completed (a step's)", GREEN, ceilings)],
    );
    (answers, throughput)
}
