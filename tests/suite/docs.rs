//! The documentation keeps up with the code: every key the plan loader accepts, in every table,
//! is named in `docs/` (the loader itself says which keys it takes: an unknown key's error
//! lists them), and every relative link of the README and of `docs/` resolves.

use agentload::plan::Plan;
use std::path::{Path, PathBuf};

/// The keys a table accepts, from the loader's own error for a key it does not (`plan`
/// holds one: `PROBE`).
fn keys_refused_in(plan: &str) -> Vec<String> {
    let err = match Plan::parse(plan, Path::new("probe.toml")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the probe key was accepted:\n{plan}"),
    };
    let Some((_, expected)) = err.split_once("expected ") else {
        panic!("no list of keys in `{err}`\n{plan}");
    };
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// As `keys_refused_in`, for a table written after a minimal plan.
fn accepted_keys(table_text: &str) -> Vec<String> {
    keys_refused_in(&format!("{BASE}{table_text}\n"))
}

const BASE: &str = "[target]\nembedded = true\n[[stages]]\nusers = 1\nduration = \"1s\"\n";

const PROBE: &str = "agentload_probe_key = 1";

#[test]
fn every_key_the_loader_accepts_is_in_the_docs() {
    let docs: String = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let tables: Vec<(&str, String)> = vec![
        ("top", format!("{PROBE}\n")),
        ("target", format!("{PROBE}\n")),
        ("target.metrics", format!("[[target.metrics]]\n{PROBE}")),
        ("auth", format!("[auth]\n{PROBE}")),
        ("protocol", format!("[protocol]\n{PROBE}")),
        (
            "protocol.handshake",
            format!("[protocol.handshake]\n{PROBE}"),
        ),
        ("scenario", format!("[scenario]\n{PROBE}")),
        ("scenarios", format!("[[scenarios]]\nname = \"x\"\n{PROBE}")),
        (
            "scenarios.endpoints",
            format!("[[scenarios]]\nname = \"x\"\n[[scenarios.endpoints]]\npath = \"/\"\n{PROBE}"),
        ),
        ("stages", format!("[[stages]]\n{PROBE}")),
        ("checks", format!("[[checks]]\n{PROBE}")),
        ("sla", format!("[sla]\n{PROBE}")),
        ("sampler", format!("[sampler]\n{PROBE}")),
        ("security", format!("[security]\n{PROBE}")),
        ("preflight", format!("[preflight]\n{PROBE}")),
        (
            "preflight.env",
            format!("[[preflight.env]]\nname = \"X\"\n{PROBE}"),
        ),
        ("capacity", format!("[capacity]\n{PROBE}")),
        (
            "capacity.enterprise",
            format!("[capacity.enterprise]\n{PROBE}"),
        ),
        (
            "capacity.scaling",
            format!("[capacity.scaling]\nsizes = [1]\n{PROBE}"),
        ),
        (
            "capacity.resources",
            format!("[[capacity.resources]]\nname = \"x\"\n{PROBE}"),
        ),
        ("report", format!("[report]\n{PROBE}")),
        ("limits", format!("[limits]\n{PROBE}")),
        ("workload", format!("[workload]\n{PROBE}")),
        ("session", format!("[session]\n{PROBE}")),
        ("arrivals", format!("[[arrivals]]\n{PROBE}")),
    ];
    let mut missing = Vec::new();
    let mut seen = 0;
    for (table, text) in &tables {
        // The top level's probe goes first in the file; the target's inside [target].
        let keys = match *table {
            "top" => accepted_keys_top(),
            "target" => accepted_keys_in_target(),
            _ => accepted_keys(text),
        };
        assert!(!keys.is_empty(), "{table}: no keys read");
        for key in keys {
            seen += 1;
            let named = [
                format!("`{key}`"),
                format!("`{key} "),
                format!("[{key}]"),
                format!("[[{key}]]"),
                format!("`[{table}.{key}]`"),
                format!("`[[{table}.{key}]]`"),
            ];
            if !named.iter().any(|n| docs.contains(n.as_str())) {
                missing.push(format!("{table}.{key}"));
            }
        }
    }
    assert!(seen > 120, "{seen} keys read");
    assert!(
        missing.is_empty(),
        "plan keys the loader accepts but docs/ never names: {missing:?}"
    );
}

fn accepted_keys_top() -> Vec<String> {
    keys_refused_in(&format!("{PROBE}\n{BASE}"))
}

fn accepted_keys_in_target() -> Vec<String> {
    keys_refused_in(&BASE.replacen(
        "embedded = true\n",
        &format!("embedded = true\n{PROBE}\n"),
        1,
    ))
}

/// Relative link targets of a Markdown file: `](path)` not to the web or an anchor alone.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let target = &rest[..rest.find(')').unwrap_or(rest.len())];
        if !target.starts_with("http") && !target.starts_with('#') && !target.is_empty() {
            out.push(target.split('#').next().unwrap().to_string());
        }
    }
    out
}

#[test]
fn every_link_of_the_readme_and_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = vec![root.join("README.md")];
    files.extend(
        std::fs::read_dir(root.join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for link in links(&text) {
            checked += 1;
            let target = file.parent().unwrap().join(&link);
            if !target.exists() {
                broken.push(format!("{}: {link}", file.display()));
            }
        }
    }
    assert!(checked > 20, "{checked} links");
    assert!(
        broken.is_empty(),
        "links that resolve to nothing: {broken:#?}"
    );
    // Every docs page is reachable from the README.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for page in std::fs::read_dir(root.join("docs")).unwrap() {
        let name = page.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("docs/{name}")),
            "the README links no docs/{name}"
        );
    }
    // The README fits a screen or two.
    assert!(
        readme.lines().count() <= 150,
        "{} lines",
        readme.lines().count()
    );
}

/// The pages people read: the README, ARCHITECTURE and every page of `docs/`.
fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    files.extend(
        std::fs::read_dir(root.join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    files.sort();
    files
}

/// A page fits a few screens.
const MAX_PAGE_LINES: usize = 300;

/// A paragraph shorter than this may fairly repeat (a `[capacity]` line, a closing fence).
const MIN_PARAGRAPH_CHARS: usize = 80;

/// The paragraphs (blocks between blank lines, whitespace folded) that appear more than once
/// in `text`, each once, with how often.
fn repeated_paragraphs(text: &str) -> Vec<(usize, String)> {
    let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
    for block in text.split("\n\n") {
        let folded = block.split_whitespace().collect::<Vec<_>>().join(" ");
        if folded.len() >= MIN_PARAGRAPH_CHARS {
            *seen.entry(folded).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(p, n)| (n, p))
        .collect()
}

#[test]
fn a_page_fits_a_few_screens_and_says_each_paragraph_once() {
    let mut faults = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let lines = text.lines().count();
        if lines > MAX_PAGE_LINES {
            faults.push(format!("{name}: {lines} lines (at most {MAX_PAGE_LINES})"));
        }
        for (times, paragraph) in repeated_paragraphs(&text) {
            let start: String = paragraph.chars().take(70).collect();
            faults.push(format!("{name}: a paragraph {times} times: \"{start}…\""));
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn a_repeated_paragraph_is_found_and_a_short_line_may_repeat() {
    let para =
        "A paragraph long enough to count: written once here, then pasted once again below it.";
    let text = format!("# Page\n\n{para}\n\n```\n\n{para}\n\n```\n");
    let found = repeated_paragraphs(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 2);
    assert!(repeated_paragraphs("[capacity]\n\nx\n\n[capacity]\n").is_empty());
}

/// ARCHITECTURE.md holds: every file or folder it names (`src/…`, `tests/…`, `examples/…`)
/// exists, and every room of `src/` has its row in the rooms table.
#[test]
fn the_architecture_page_names_what_is_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for chunk in page.split('`') {
        let named = chunk.trim_end_matches('/');
        let is_path = ["src/", "tests/", "examples/"]
            .iter()
            .any(|p| named.starts_with(p))
            && !named.contains(' ');
        if is_path && !root.join(named).exists() {
            missing.push(named.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what is not there: {missing:?}"
    );
    let mut unlisted = Vec::new();
    for entry in std::fs::read_dir(root.join("src")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let room = name.trim_end_matches(".rs");
        if matches!(room, "lib" | "main") {
            continue;
        }
        let row = match entry.path().is_dir() {
            true => format!("`src/{room}/`"),
            false => format!("`src/{room}.rs`"),
        };
        // A room is a folder, or a file beside its folder (`capacity.rs` + `capacity/`).
        let folder = format!("`src/{room}/`");
        if !page.contains(&row) && !page.contains(&folder) {
            unlisted.push(row);
        }
    }
    assert!(
        unlisted.is_empty(),
        "rooms ARCHITECTURE.md does not list: {unlisted:?}"
    );
}
