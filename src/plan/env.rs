//! `${VAR}` in a plan: every string value, wherever it sits (a URL, a header, a path, a metrics
//! source, a prompt), is expanded once on the parsed TOML tree, before any section reads it, so
//! a key never needs its own expansion and a new key takes it for free.

use toml::de::{DeTable, DeValue};

/// Expands every string value of `table` (keys stay as written): the byte offset of the first
/// value that can not be expanded, and why.
pub fn expand_strings(table: &mut DeTable<'_>) -> Result<(), (usize, String)> {
    for (_, value) in table.iter_mut() {
        let at = value.span().start;
        expand_value(value.get_mut(), at)?;
    }
    Ok(())
}

fn expand_value(value: &mut DeValue<'_>, at: usize) -> Result<(), (usize, String)> {
    match value {
        DeValue::String(text) if text.contains("${") => {
            let expanded = super::values::expand_env(text).map_err(|m| (at, m))?;
            *text = std::borrow::Cow::Owned(expanded);
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                let at = item.span().start;
                expand_value(item.get_mut(), at)?;
            }
        }
        DeValue::Table(table) => expand_strings(table)?,
        _ => {}
    }
    Ok(())
}
