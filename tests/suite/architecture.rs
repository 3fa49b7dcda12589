//! The house rules, checked on the source itself: dependencies point one way, no module
//! imports another in a circle, and no source file is longer than a reader holds in their head.
//!
//! Modules are `src/<top>` and, inside the layered trees (`commands`, the rooms, `model`), their
//! children (`load::scenarios`, …); an edge is any `crate::…` path in a module's non-test
//! code.

mod folders;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, top to bottom: a module may import only modules of its own layer or below.
const LAYERS: &[(&str, u8)] = &[
    ("commands", 6),
    ("capacity", 5),
    ("onboarding", 5),
    ("load", 4),
    ("measure", 3),
    ("report", 3),
    ("client", 2),
    ("plan", 1),
    ("model", 1),
    ("wire", 0),
    ("errors", 0),
    ("files", 0),
];
/// Trees whose children are nodes of the graph of their own.
const SPLIT: &[&str] = &[
    "commands",
    "client",
    "load",
    "measure",
    "capacity",
    "onboarding",
    "model",
];
const MAX_LINES: usize = 400;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The graph node a file belongs to: `load::scenarios` for src/load/scenarios/turn.rs.
fn node_of(rel: &Path) -> Option<String> {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    let top = parts.first()?.clone();
    if top == "main" || top == "lib" {
        return None;
    }
    if SPLIT.contains(&top.as_str()) && parts.len() > 1 && parts[1] != "mod" {
        return Some(format!("{top}::{}", parts[1]));
    }
    Some(top)
}

/// The node a `crate::a::b` path names.
fn node_of_path(path: &str) -> String {
    let mut parts = path.split("::");
    let top = parts.next().unwrap_or_default().to_string();
    match parts.next() {
        Some(child) if SPLIT.contains(&top.as_str()) && !child.is_empty() => {
            let child: String = child
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if child.is_empty() {
                top
            } else {
                format!("{top}::{child}")
            }
        }
        _ => top,
    }
}

/// Every `crate::x::y` path in `text`, with `crate::x::{a, b}` groups expanded one level.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
            .collect();
        if let Some((head, _)) = path.split_once('{') {
            let group = &rest[head.len() + 1..rest.find('}').unwrap_or(rest.len())];
            for item in group.split(',') {
                let item = item.trim();
                if !item.is_empty() && item != "self" {
                    out.push(format!("{head}{item}"));
                }
            }
            out.push(head.trim_end_matches(':').to_string());
        } else {
            out.push(path.trim_end_matches(':').to_string());
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix("src").unwrap();
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue; // a `#[cfg(test)] mod tests;` file
        }
        let Some(me) = node_of(rel) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        // Test code may reach anywhere: it is not part of the dependency structure.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mine = edges.entry(me.clone()).or_default();
        for path in crate_paths(code) {
            let to = node_of_path(&path);
            if to != me && !to.is_empty() && !me.starts_with(&format!("{to}::")) {
                mine.insert(to);
            }
        }
    }
    edges
}

fn layer(node: &str) -> Option<u8> {
    let top = node.split("::").next().unwrap();
    LAYERS.iter().find(|(n, _)| *n == top).map(|(_, l)| *l)
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let edges = graph();
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        let cycle = visit(node, &edges, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" -> ")
        );
    }
    assert!(edges.len() > 10, "the graph was read: {edges:?}");
}

#[test]
fn dependencies_point_down_the_layers() {
    let mut wrong = Vec::new();
    for (from, tos) in graph() {
        for to in tos {
            if from == "reference" {
                // The reference platform shares nothing with the client but the wire.
                if !matches!(to.as_str(), "wire" | "errors") {
                    wrong.push(format!("reference -> {to}"));
                }
                continue;
            }
            if from == "report" && !to.starts_with("model") && to != "errors" && to != "files" {
                wrong.push(format!(
                    "report renders from the result model alone: -> {to}"
                ));
                continue;
            }
            match (layer(&from), layer(&to)) {
                (Some(a), Some(b)) if b > a => wrong.push(format!("{from} -> {to}")),
                (Some(_), None) => wrong.push(format!("{from} -> {to} (outside every layer)")),
                _ => {}
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn the_plan_and_the_model_import_nothing_above_them() {
    for (from, tos) in graph() {
        if from.starts_with("plan") || from.starts_with("model") {
            for to in tos {
                assert!(
                    matches!(layer(&to), Some(0 | 1)),
                    "{from} imports {to}, above the plan and the model"
                );
            }
        }
    }
}

#[test]
fn every_source_file_fits_in_a_head() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples"] {
        rust_files(Path::new(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines})", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

/// Tests start the binary through `common::agentload()` (and the helpers built on it), so a
/// change to how it is started is made once.
#[test]
fn tests_start_the_binary_in_one_place() {
    let mut files = Vec::new();
    rust_files(Path::new("tests"), &mut files);
    let starts: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let n = text.matches(concat!("Command::new(", "BIN)")).count();
            std::iter::repeat_n(f.display().to_string(), n)
        })
        .collect();
    assert!(
        starts.len() <= 1,
        "the binary started directly in: {starts:?}"
    );
}
