//! Finds where in the plan's text an error is, so messages name a line and a key.

/// Line (1-based) and dotted key around byte `offset`.
pub fn line_and_key(text: &str, offset: usize) -> (usize, String) {
    let offset = offset.min(text.len());
    let line = text[..offset].matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let table = table_before(text, line);
    let key = key_of(line_text)
        .map(|k| join(&table, &k))
        .unwrap_or_else(|| {
            if table.is_empty() {
                "plan".into()
            } else {
                table
            }
        });
    (line, key)
}

/// Line of `key` inside `[table]` (`table` empty: top level); the table header's line if the
/// key is not written, 1 if neither is.
pub fn key_line(text: &str, table: &str, key: &str) -> usize {
    let mut current = String::new();
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(name) = header(line) {
            current = name;
            if current == table {
                header_line.get_or_insert(i + 1);
            }
            continue;
        }
        if current == table && key_of(line).as_deref() == Some(key) {
            return i + 1;
        }
        // A top-level key can also be an array of tables, `[[stages]]`.
        if table.is_empty() && header(line).as_deref() == Some(key) {
            return i + 1;
        }
    }
    header_line.unwrap_or(1)
}

/// Line of `key` inside the `nth` (0-based) `[[table]]`; that header's line if the key is not
/// written there.
pub fn nth_key_line(text: &str, table: &str, nth: usize, key: &str) -> usize {
    let mut seen = 0;
    let mut inside = false;
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(name) = header(line) {
            inside = false;
            if name == table && line.trim_start().starts_with("[[") {
                if seen == nth {
                    inside = true;
                    header_line = Some(i + 1);
                }
                seen += 1;
            }
            continue;
        }
        if inside && key_of(line).as_deref() == Some(key) {
            return i + 1;
        }
    }
    header_line.unwrap_or(1)
}

fn table_before(text: &str, line: usize) -> String {
    text.lines()
        .take(line)
        .filter_map(header)
        .last()
        .unwrap_or_default()
}

fn header(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix("[[").and_then(|r| r.split("]]").next());
    let inner = inner.or_else(|| t.strip_prefix('[').and_then(|r| r.split(']').next()))?;
    Some(inner.trim().to_string())
}

fn key_of(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with('[') {
        return None;
    }
    let (key, _) = t.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty()).then(|| key.to_string())
}

fn join(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}
