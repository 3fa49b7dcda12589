//! A study's folder: `study.json` (the study, every size's figures) and `index.html` (its
//! page), each written whole; and its conclusion on the console.

use crate::load::drive::SetupError;
use crate::model::scaling::ScalingStudy;
use std::path::Path;

pub fn write(dir: &Path, study: &ScalingStudy) -> Result<(), SetupError> {
    Ok(crate::report::folder::write_study(dir, study)?)
}

/// The sizes, then the conclusion.
pub fn print(study: &ScalingStudy) {
    println!(
        "\n{:>8} {:>12} {:>10} {:>10} {:>12}  bound by",
        "replicas", "holds", "fit", "division", "bound"
    );
    let v = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
    for p in &study.predictions {
        let holds = match p.measured {
            Some(m) => format!("{m:.3}"),
            None => format!("≤{} (exp.)", v(p.expected)),
        };
        println!(
            "{:>8} {:>12} {:>10} {:>10} {:>12}  {}",
            p.size,
            holds,
            v(p.fitted),
            v(p.division),
            v(p.bound),
            p.bound_by.as_deref().unwrap_or("-")
        );
    }
    println!("\nagentload capacity: {}", study.conclusion);
}
