//! `${VAR}` in every string of a plan: each shipped plan is rewritten with every string value
//! (every key, every array item, every table) replaced by `${VAR}` of an env var holding that
//! value, and must read as the same plan. It sets env vars: it runs in a process of its own.

use crate::common::serial::in_own_process;
use agentload::plan::Plan;
use std::path::Path;

/// Byte spans of every string value in `text`'s TOML tree (keys left as written).
fn string_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    use toml::de::{DeTable, DeValue};
    fn walk(value: &toml::Spanned<DeValue<'_>>, spans: &mut Vec<std::ops::Range<usize>>) {
        match value.get_ref() {
            DeValue::String(_) => spans.push(value.span()),
            DeValue::Array(items) => items.iter().for_each(|item| walk(item, spans)),
            DeValue::Table(table) => table.iter().for_each(|(_, v)| walk(v, spans)),
            _ => {}
        }
    }
    let root = DeTable::parse(text).unwrap();
    let mut spans = Vec::new();
    root.get_ref().iter().for_each(|(_, v)| walk(v, &mut spans));
    spans.sort_by_key(|s| s.start);
    spans
}

#[test]
fn every_string_of_every_shipped_plan_takes_env_vars() {
    if !in_own_process(
        "plan_env::every_string_of_every_shipped_plan_takes_env_vars",
        &[],
    ) {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("loadplans");
    let mut plans = 0;
    let mut strings = 0;
    // The staging plan reads its addresses from env vars already: give them values.
    for (name, value) in [
        ("STAGING_BASE_URL", "https://staging.example"),
        ("STAGING_WS_URL", "wss://staging.example/ws"),
        ("STAGING_AUTH_URL", "https://auth.staging.example"),
    ] {
        // SAFETY: this process's only test; no other thread reads the environment.
        unsafe { std::env::set_var(name, value) };
    }
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let original =
            Plan::parse(&text, &path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut rewritten = text.clone();
        for (i, span) in string_spans(&text).into_iter().enumerate().rev() {
            let value: String = match toml::de::DeValue::parse(&text[span.clone()]) {
                Ok(v) => v.get_ref().as_str().unwrap().to_string(),
                Err(e) => panic!("{}: {e}", path.display()),
            };
            // A value that reads a variable itself stands for that variable's value
            // (expansion is not recursive).
            let value = match value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                Some(inner) => match inner.split_once(":-") {
                    Some((name, default)) => std::env::var(name).unwrap_or(default.into()),
                    None => std::env::var(inner).unwrap(),
                },
                None => value,
            };
            let var = format!("AGENTLOAD_IT_PLAN_{plans}_{i}");
            // SAFETY: as above.
            unsafe { std::env::set_var(&var, &value) };
            rewritten.replace_range(span, &format!("\"${{{var}}}\""));
            strings += 1;
        }
        assert_ne!(rewritten, text, "{}: no string in it", path.display());
        let read = Plan::parse(&rewritten, &path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{rewritten}", path.display()));
        assert_eq!(
            format!("{read:?}"),
            format!("{original:?}"),
            "{}: a string value did not go through ${{VAR}}",
            path.display()
        );
        plans += 1;
    }
    assert!(
        plans >= 5 && strings > 50,
        "{plans} plans, {strings} strings"
    );

    // An unset variable names the file, the line and the key it is in.
    let text = "target = \"embedded\"\n[[stages]]\nusers = 1\nduration = \"1s\"\n\
                [[target.metrics]]\nname = \"m\"\nurls = [\"${AGENTLOAD_IT_SURELY_UNSET}/metrics\"]\n";
    let text = text.replace("target = \"embedded\"\n", "");
    let text = format!("[target]\nembedded = true\n{text}");
    let err = Plan::parse(&text, Path::new("p.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("p.toml:8: target.metrics.urls:")
            && err.contains("AGENTLOAD_IT_SURELY_UNSET"),
        "{err}"
    );
    // With a default, the same plan reads.
    let text = text.replace("UNSET}", "UNSET:-http://127.0.0.1:9}");
    let plan = Plan::parse(&text, Path::new("p.toml")).unwrap();
    assert_eq!(
        plan.target.metrics[0].urls,
        vec!["http://127.0.0.1:9/metrics"]
    );
}
