//! Result checks: rules on the final result of a run, such as `result.monthly_savings >= 5000`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A comparison written in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Ge => left >= right,
            Op::Gt => left > right,
            Op::Le => left <= right,
            Op::Lt => left < right,
            Op::Eq => (left - right).abs() < f64::EPSILON,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Eq => "==",
        }
    }
}

/// `[[checks]]` in a plan: a number at `path` in the `agent_completed` data, compared with
/// `value`. A `required` check that fails fails the run (`result.check_failed`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultCheck {
    pub name: String,
    /// Dotted path into the completed event's data, e.g. `result.roi_percent`.
    pub path: String,
    pub op: Op,
    pub value: f64,
    #[serde(default)]
    pub required: bool,
}

impl ResultCheck {
    /// `result.monthly_savings >= 5000`
    pub fn rule(&self) -> String {
        format!("{} {} {}", self.path, self.op.symbol(), self.value)
    }

    /// The number found (if any) and whether the rule holds for it.
    pub fn evaluate(&self, data: &Map<String, Value>) -> (Option<f64>, bool) {
        let found = lookup(data, &self.path).and_then(number);
        match found {
            Some(v) => (Some(v), self.op.holds(v, self.value)),
            None => (None, false),
        }
    }
}

fn lookup<'a>(data: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = data.get(parts.next()?)?;
    for part in parts {
        current = match current {
            Value::Object(o) => o.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Numbers, and numeric strings such as `"12,500"` or `"240%"`.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s
            .trim()
            .trim_start_matches('$')
            .trim_end_matches('%')
            .replace(',', "")
            .parse()
            .ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(path: &str, op: Op, value: f64) -> ResultCheck {
        ResultCheck {
            name: "t".into(),
            path: path.into(),
            op,
            value,
            required: false,
        }
    }

    #[test]
    fn rules_read_numbers_by_path() {
        let data =
            json!({"result": {"monthly_savings": 9000.5, "roi": "240%", "items": [{"x": 3}]}});
        let data = data.as_object().unwrap();
        assert_eq!(
            check("result.monthly_savings", Op::Ge, 5000.0).evaluate(data),
            (Some(9000.5), true)
        );
        assert_eq!(
            check("result.roi", Op::Ge, 150.0).evaluate(data),
            (Some(240.0), true)
        );
        assert_eq!(
            check("result.roi", Op::Lt, 150.0).evaluate(data),
            (Some(240.0), false)
        );
        assert_eq!(
            check("result.items.0.x", Op::Eq, 3.0).evaluate(data),
            (Some(3.0), true)
        );
        assert_eq!(
            check("result.nothing", Op::Ge, 0.0).evaluate(data),
            (None, false)
        );
        assert_eq!(
            check("result.monthly_savings", Op::Ge, 5000.0).rule(),
            "result.monthly_savings >= 5000"
        );
    }
}
