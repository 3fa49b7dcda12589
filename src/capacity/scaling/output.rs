//! A study's folder: `study.json` (the study, every size's figures) and `index.html` (its
//! page), each written whole; and its conclusion on the console.

use crate::load::drive::SetupError;
use crate::load::folder::write_file;
use crate::model::scaling::ScalingStudy;
use std::path::Path;

pub fn write(dir: &Path, study: &ScalingStudy) -> Result<(), SetupError> {
    let json = serde_json::to_string_pretty(study).expect("the study serializes");
    write_file(&dir.join("study.json"), json.as_bytes())?;
    crate::report::scaling::write(dir, study).map_err(|e| SetupError::Report {
        path: dir.join("index.html"),
        message: e.to_string(),
    })
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
