//! The rules inside a folder: its files do not import one another in a circle, nor the
//! folder's own file (`foo.rs` beside `foo/`), which declares them and may use them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every folder under `dir`, deepest last.
fn folders(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            out.push(entry.path());
            folders(&entry.path(), out);
        }
    }
}

/// The first name of each path the non-test code of `file` (in folder `dir`) reaches through
/// `super::` or `crate::<dir>::`: `super::{a, b::c}` names `a` and `b`; the second `super::` of
/// `super::super::x` is the grandparent's, so that path names `super` alone.
fn names_through(dir: &Path, file: &Path) -> Vec<String> {
    let crate_path = dir
        .strip_prefix("src")
        .unwrap()
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("::");
    let text = std::fs::read_to_string(file).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut names = Vec::new();
    for prefix in ["super::".to_string(), format!("crate::{crate_path}::")] {
        let mut from = 0;
        while let Some(at) = code[from..].find(&prefix) {
            let start = from + at;
            from = start + prefix.len();
            if code[..start].ends_with("super::") {
                continue;
            }
            let rest = &code[from..];
            let group = match rest.strip_prefix('{') {
                Some(inner) => &inner[..inner.find('}').unwrap_or(inner.len())],
                None => rest,
            };
            for item in group.split(',') {
                let first: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '*')
                    .collect();
                if !first.is_empty() {
                    names.push(first);
                }
                if !rest.starts_with('{') {
                    break;
                }
            }
        }
    }
    names
}

/// The files of one folder (its `mod.rs` aside: the folder's root may use every file in it),
/// and which of them each file names: `super::sibling`, or the sibling by its `crate::` path.
fn sibling_graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .filter(|(name, _)| name != "mod" && name != "tests")
        .collect();
    let names: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let mut edges = BTreeMap::new();
    for (name, path) in &files {
        let to = names_through(dir, path)
            .into_iter()
            .filter(|first| names.contains(first.as_str()) && first != name)
            .collect();
        edges.insert(name.clone(), to);
    }
    edges
}

#[test]
fn no_file_imports_its_siblings_in_a_circle() {
    let mut dirs = vec![PathBuf::from("src")];
    folders(Path::new("src"), &mut dirs);
    let mut cycles = Vec::new();
    for dir in dirs {
        let edges = sibling_graph(&dir);
        for start in edges.keys() {
            // A path back to `start`, breadth first.
            let mut seen = BTreeSet::new();
            let mut queue = vec![vec![start.clone()]];
            while let Some(path) = queue.pop() {
                let last = path.last().unwrap();
                for next in edges.get(last).into_iter().flatten() {
                    if next == start {
                        cycles.push(format!(
                            "{}: {} -> {start}",
                            dir.display(),
                            path.join(" -> ")
                        ));
                    } else if seen.insert(next.clone()) {
                        let mut longer = path.clone();
                        longer.push(next.clone());
                        queue.push(longer);
                    }
                }
            }
        }
    }
    cycles.sort();
    cycles.dedup();
    assert!(
        cycles.is_empty(),
        "files importing each other in a circle:\n{}",
        cycles.join("\n")
    );
}

/// What a file of folder `dir` takes from the folder's own file (`dir.rs`): each name it
/// reaches through `super::` or `crate::<dir>::` that is not a file or folder of `dir` (a
/// sibling), outside tests.
fn taken_from_parent(dir: &Path, file: &Path, siblings: &BTreeSet<String>) -> BTreeSet<String> {
    names_through(dir, file)
        .into_iter()
        .filter(|first| first != "super" && !siblings.contains(first))
        .collect()
}

#[test]
fn no_file_imports_the_file_of_its_folder() {
    // A folder's file (`foo.rs` beside `foo/`) declares its files and may use them; they use
    // one another, never it: a child that took its parent's names made a circle the sibling
    // check does not see (the collector's parts extended the collector defined above them).
    let mut dirs = Vec::new();
    folders(Path::new("src"), &mut dirs);
    let mut found = Vec::new();
    for dir in dirs.iter().filter(|d| d.with_extension("rs").is_file()) {
        let entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        let siblings: BTreeSet<String> = entries
            .iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        for file in entries
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        {
            let stem = file.file_stem().unwrap().to_string_lossy();
            if stem == "tests" || stem.ends_with("_tests") {
                continue;
            }
            let taken = taken_from_parent(dir, file, &siblings);
            if !taken.is_empty() {
                found.push(format!(
                    "{} takes {taken:?} from {}.rs",
                    file.display(),
                    dir.display()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "files that import their folder's file:\n{}",
        found.join("\n")
    );
}
