//! `agentload report render DIR` (index.html again from summary.json) and `agentload report
//! compare BASELINE CURRENT` (every figure that matters, with its change; exit 1 on a
//! regression past the tolerance). `run --baseline` uses the same comparison.

use super::exit::exit_code;
use crate::errors::Exit;
use crate::load::drive::SetupError;
use crate::model::compare::{compare, Comparison};
use crate::model::summary::Summary;
use crate::report::folder;
use std::path::Path;

/// Re-renders `DIR/index.html` from `DIR/summary.json`.
pub fn render(dir: &Path) -> Exit {
    exit_code(render_inner(dir))
}

fn render_inner(dir: &Path) -> Result<Exit, SetupError> {
    let summary = read_summary(dir)?;
    let path = folder::write_page(dir, &summary)?;
    println!("agentload: rendered {}", path.display());
    Ok(Exit::Pass)
}

/// Compares two report folders; writes the JUnit file when asked.
/// `agentload report scale DIR... --out DIR`: a scaling study from capacity folders measured
/// separately (each naming its size).
pub fn scale(dirs: &[std::path::PathBuf], out: &Path) -> Exit {
    exit_code(
        crate::capacity::scaling::run::rebuild(dirs, out).map(|dir| {
            println!("agentload: study in {}", dir.display());
            Exit::Pass
        }),
    )
}

pub fn compare_dirs(
    baseline: &Path,
    current: &Path,
    tolerance_percent: f64,
    junit: Option<&Path>,
) -> Exit {
    exit_code(compare_inner(baseline, current, tolerance_percent, junit))
}

fn compare_inner(
    baseline: &Path,
    current: &Path,
    tolerance_percent: f64,
    junit: Option<&Path>,
) -> Result<Exit, SetupError> {
    let base = read_summary(baseline)?;
    let cur = read_summary(current)?;
    let c = compare(
        &base,
        &cur,
        &baseline.display().to_string(),
        tolerance_percent,
    );
    print_comparison(&c);
    if let Some(path) = junit {
        folder::write_junit(path, &cur.plan, &[], Some(&c))?;
    }
    Ok(match c.regressions().count() {
        0 => Exit::Pass,
        _ => Exit::SlaFailed,
    })
}

/// The summary a report folder holds: `summary.json`, or the last checkpoint
/// (`summary.partial.json`) of a test whose generator ended before it (marked partial).
pub(crate) fn read_summary(dir: &Path) -> Result<Summary, SetupError> {
    Ok(folder::read_summary(dir)?)
}

/// The comparison table: figure, baseline, current, change, verdict.
pub(crate) fn print_comparison(c: &Comparison) {
    println!(
        "\nagentload compare: against {} (tolerance {}%)",
        c.baseline, c.tolerance_percent
    );
    println!(
        "  {:<44} {:>12} {:>12} {:>9}  verdict",
        "figure", "baseline", "current", "change"
    );
    let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    for f in &c.figures {
        let change = f
            .change_percent
            .map_or("-".to_string(), |p| format!("{p:+.1}%"));
        let verdict = if f.regressed { "REGRESSED" } else { "ok" };
        println!(
            "  {:<44} {:>12} {:>12} {:>9}  {verdict}",
            format!("{} ({})", f.figure, f.unit),
            show(f.baseline),
            show(f.current),
            change
        );
    }
    let n = c.regressions().count();
    println!(
        "agentload compare: {}",
        match n {
            0 => "no regression".to_string(),
            n => format!("{n} figure(s) regressed past {}%", c.tolerance_percent),
        }
    );
}
