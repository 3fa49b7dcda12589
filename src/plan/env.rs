//! `${VAR}` in a plan: every string value, wherever it sits (a URL, a header, a path, a metrics
//! source, a prompt), is expanded once on the parsed TOML tree, before any section reads it, so
//! a key never needs its own expansion and a new key takes it for free.

use toml::de::{DeTable, DeValue};

/// A value that can not be expanded: its byte offset in the plan, and why.
type Problem = (usize, String);

/// Expands every string value of `table` (keys stay as written); the first problem in the
/// plan's own order (the tree's tables are sorted by key, not by line).
pub fn expand_strings(table: &mut DeTable<'_>) -> Result<(), Problem> {
    let mut first: Option<Problem> = None;
    expand_table(table, &mut first);
    first.map_or(Ok(()), Err)
}

fn expand_table(table: &mut DeTable<'_>, first: &mut Option<Problem>) {
    for (_, value) in table.iter_mut() {
        let at = value.span().start;
        expand_value(value.get_mut(), at, first);
    }
}

fn expand_value(value: &mut DeValue<'_>, at: usize, first: &mut Option<Problem>) {
    match value {
        DeValue::String(text) if text.contains("${") => match super::values::expand_env(text) {
            Ok(expanded) => *text = std::borrow::Cow::Owned(expanded),
            Err(m) if first.as_ref().is_none_or(|(seen, _)| at < *seen) => {
                *first = Some((at, m));
            }
            Err(_) => {}
        },
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                let at = item.span().start;
                expand_value(item.get_mut(), at, first);
            }
        }
        DeValue::Table(table) => expand_table(table, first),
        _ => {}
    }
}
