//! JUnit XML for CI systems: one test case per SLA rule, and one per regression against a
//! baseline (a single passing case when nothing regressed).

use crate::model::compare::Comparison;
use crate::model::summary::RuleVerdict;

/// The JUnit document for a run's rules and, when compared, its regressions.
pub fn junit(suite: &str, rules: &[RuleVerdict], comparison: Option<&Comparison>) -> String {
    let mut cases = Vec::new();
    for rule in rules {
        let failure = (!rule.passed).then(|| format!("observed {}", rule.observed));
        cases.push(case(
            &format!("sla.{}", rule.judged_by),
            &rule.rule,
            failure,
        ));
    }
    if let Some(c) = comparison {
        let class = "compare";
        let mut any = false;
        for f in c.regressions() {
            any = true;
            let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
            let message = format!(
                "{} {}: baseline {} → current {} ({}), tolerance {}%",
                f.figure,
                f.unit,
                show(f.baseline),
                show(f.current),
                f.change_percent
                    .map_or("new".to_string(), |p| format!("{p:+.1}%")),
                c.tolerance_percent
            );
            cases.push(case(
                class,
                &format!("no regression: {}", f.figure),
                Some(message),
            ));
        }
        if !any {
            let name = format!(
                "no regression past {}% against {}",
                c.tolerance_percent, c.baseline
            );
            cases.push(case(class, &name, None));
        }
    }
    let failures = cases.iter().filter(|(_, failed)| *failed).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"agentload\" tests=\"{}\" failures=\"{failures}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
        cases.len(),
        escape(suite),
        cases.len()
    ));
    for (text, _) in &cases {
        xml.push_str(text);
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn case(class: &str, name: &str, failure: Option<String>) -> (String, bool) {
    let head = format!(
        "    <testcase classname=\"agentload.{}\" name=\"{}\"",
        escape(class),
        escape(name)
    );
    match failure {
        None => (format!("{head}/>\n"), false),
        Some(message) => (
            format!(
                "{head}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(&message),
                escape(&message)
            ),
            true,
        ),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_case_per_rule_failures_counted_and_escaped() {
        let rules = vec![
            RuleVerdict {
                rule: "p95<=5000ms for WS agent_run".into(),
                observed: "130ms".into(),
                passed: true,
                judged_by: "goose".into(),
            },
            RuleVerdict {
                rule: "error rate <= 0% & \"none\"".into(),
                observed: "<2%>".into(),
                passed: false,
                judged_by: "agentload".into(),
            },
        ];
        let xml = junit("smoke", &rules, None);
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains("error rate &lt;= 0% &amp; &quot;none&quot;"),
            "{xml}"
        );
        assert_eq!(xml.matches("<failure").count(), 1);
    }
}
