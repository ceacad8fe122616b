//! The plugin's modules depend on each other in one direction: no import cycle, and cluster
//! access (`k8s`), the KKP REST API client (`kkp_api`), `output` and `exit` use no other module of
//! the plugin.
//!
//! The graph is read from the sources: every `crate::…`, `super::…` and `self::…` path, and every
//! use of a child module by name, outside test-only code (`#[cfg(test)]`). It is checked at two
//! levels: the top-level modules, and each file as its own module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path such as `["commands", "get", "kubeconfig"]`; the crate root is empty.
type ModPath = Vec<String>;

/// The binary's crate root; `complete.rs` is a program of its own.
const ROOT: &str = "main.rs";

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `a/b.rs` and `a/b/mod.rs` are `a::b`, `main.rs` the root.
fn module_of(rel: &Path) -> ModPath {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "mod.rs" | ROOT => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// The source without comments, string contents and `#[cfg(test)]` items.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("#[cfg(test)]") {
            // Skip the attribute and the item it guards: up to its `;` or its balanced braces.
            i += "#[cfg(test)]".len();
            let mut depth = 0usize;
            while i < bytes.len() {
                match bytes[i] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    b';' if depth == 0 => {
                        i += 1;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
        } else if bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if bytes[i] == b'\'' && i + 2 < bytes.len() && bytes[i + 2] == b'\'' {
            // A character literal such as '{' or '"'.
            i += 3;
            out.push_str("' '");
        } else {
            let ch = text[i..].chars().next().expect("a character");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The names of the modules a file declares as `#[cfg(test)] mod name;` (in files of their own).
fn test_module_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "#[cfg(test)]" {
            continue;
        }
        if let Some(next) = lines.next() {
            let decl = next.trim_start_matches("pub ").trim_start_matches("pub(crate) ");
            if let Some(name) = decl.strip_prefix("mod ").and_then(|rest| rest.strip_suffix(';')) {
                names.push(name.trim().to_owned());
            }
        }
    }
    names
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path that starts at `prefix` (`crate::`, `super::`, `self::` or `child::`), with
/// `{a, b::c}` groups expanded, as its segments after the prefix.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find(prefix) {
        let at = from + pos;
        from = at + prefix.len();
        if code[..at].chars().next_back().is_some_and(|c| is_ident(c) || c == ':') {
            continue;
        }
        expand(&code[from..], Vec::new(), &mut found);
    }
    found
}

/// Reads `a::b::{c, d::e}` at the start of `rest` into paths, each prefixed by `base`.
fn expand(rest: &str, base: Vec<String>, found: &mut Vec<Vec<String>>) {
    let rest = rest.trim_start();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(&inner[start..i], base.clone(), found);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], base.clone(), found);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
    if ident.is_empty() {
        if !base.is_empty() {
            found.push(base);
        }
        return;
    }
    let mut path = base;
    path.push(ident.clone());
    match rest[ident.len()..].strip_prefix("::") {
        Some(more) => expand(more, path, found),
        None => found.push(path),
    }
}

/// The deepest known module a path names.
fn resolve(path: &[String], modules: &BTreeSet<ModPath>) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
        .unwrap_or_default()
}

/// The module graph: each module (file) and the modules it uses.
fn graph() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let files: Vec<(ModPath, String)> = files
        .iter()
        .filter(|f| f.strip_prefix(&src).expect("under src") != Path::new("complete.rs"))
        .map(|f| {
            let rel = f.strip_prefix(&src).expect("under src");
            let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            (module_of(rel), text)
        })
        .collect();
    // Modules declared `#[cfg(test)] mod name;` are test code, like inline test modules.
    let test_only: Vec<ModPath> = files
        .iter()
        .flat_map(|(module, text)| {
            test_module_names(text).into_iter().map(move |name| {
                let mut path = module.clone();
                path.push(name);
                path
            })
        })
        .collect();
    let files: Vec<(ModPath, String)> = files
        .into_iter()
        .filter(|(module, _)| !test_only.iter().any(|t| module.starts_with(t)))
        .collect();
    let modules: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &files {
        let code = production_code(text);
        let mut uses = BTreeSet::new();
        for path in paths_after(&code, "crate::") {
            uses.insert(resolve(&path, &modules));
        }
        let parent: ModPath = module[..module.len().saturating_sub(1)].to_vec();
        for path in paths_after(&code, "super::") {
            let full: ModPath = parent.iter().cloned().chain(path).collect();
            uses.insert(resolve(&full, &modules));
        }
        let children: Vec<&ModPath> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .collect();
        for prefix in
            std::iter::once("self::".to_owned()).chain(children.iter().map(|c| format!("{}::", c[c.len() - 1])))
        {
            for path in paths_after(&code, &prefix) {
                let mut full = module.clone();
                if prefix != "self::" {
                    full.push(prefix.trim_end_matches("::").to_owned());
                }
                full.extend(path);
                uses.insert(resolve(&full, &modules));
            }
        }
        uses.remove(module);
        // The crate root only declares modules; a path that names nothing known lands there.
        uses.remove(&ModPath::new());
        graph.insert(module.clone(), uses);
    }
    graph
}

/// A cycle in the graph, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    fn visit(
        node: &ModPath,
        graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        state: &mut BTreeMap<ModPath, u8>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|n| n == next).expect("on the stack");
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(node, graph, &mut state, &mut stack) {
                return Some(cycle);
            }
        }
    }
    None
}

fn show(cycle: &[ModPath]) -> String {
    cycle.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(" -> ")
}

/// The graph with every module folded into its top-level module.
fn top_level(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut top: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (from, uses) in graph {
        let Some(head) = from.first() else { continue };
        let entry = top.entry(vec![head.clone()]).or_default();
        for to in uses {
            if let Some(other) = to.first().filter(|t| *t != head) {
                entry.insert(vec![other.clone()]);
            }
        }
    }
    top
}

#[test]
fn the_graph_is_read_from_the_sources() {
    let graph = graph();
    let top = top_level(&graph);
    // A reader that found no edges would pass every check below.
    let commands = &top[&vec!["commands".to_owned()]];
    assert!(commands.contains(&vec!["k8s".to_owned()]), "{commands:?}");
    assert!(commands.contains(&vec!["cli".to_owned()]), "{commands:?}");
    let dispatch = &graph[&vec!["commands".to_owned()]];
    assert!(
        dispatch.contains(&vec!["commands".to_owned(), "generate".to_owned()]),
        "{dispatch:?}"
    );
}

#[test]
fn no_cycle_among_top_level_modules() {
    let top = top_level(&graph());
    if let Some(cycle) = find_cycle(&top) {
        panic!(
            "the plugin's top-level modules import each other in a cycle: {}",
            show(&cycle)
        );
    }
}

#[test]
fn no_cycle_among_files() {
    if let Some(cycle) = find_cycle(&graph()) {
        panic!("the plugin's modules import each other in a cycle: {}", show(&cycle));
    }
}

#[test]
fn the_bottom_layers_use_nothing_above_them() {
    let top = top_level(&graph());
    for bottom in ["k8s", "kkp_api", "output", "exit"] {
        let uses = top.get(&vec![bottom.to_owned()]).cloned().unwrap_or_default();
        assert!(
            uses.is_empty(),
            "{bottom} uses {uses:?}; it must depend on no other module of the plugin"
        );
    }
    let cli = &top[&vec!["cli".to_owned()]];
    assert!(
        !cli.contains(&vec!["commands".to_owned()]),
        "cli (clap types only) uses commands: {cli:?}"
    );
}

#[test]
fn a_planted_cycle_is_found() {
    let a = vec!["a".to_owned()];
    let b = vec!["b".to_owned()];
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(find_cycle(&graph), Some(vec![a.clone(), b, a]));
    let mut found = Vec::new();
    expand(" kube::{self, apply::{DryRun, apply}}, x", Vec::new(), &mut found);
    assert_eq!(
        found,
        [
            vec!["kube", "self"],
            vec!["kube", "apply", "DryRun"],
            vec!["kube", "apply", "apply"]
        ]
        .map(|p| p.into_iter().map(str::to_owned).collect::<Vec<_>>())
    );
}

#[test]
fn only_the_printer_writes_to_the_terminal() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut offenders = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        // The printer owns stdout and stderr; `complete.rs` is a program of its own.
        if rel == Path::new("printer.rs") || rel == Path::new("complete.rs") {
            continue;
        }
        let code = production_code(&std::fs::read_to_string(file).expect("readable"));
        for needle in ["println!", "print!", "io::stdout()", "io::stderr()"] {
            if code.contains(needle) {
                offenders.push(format!("{}: {needle}", rel.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "write through the Printer instead: {offenders:?}");
}

#[test]
fn every_module_says_what_it_is_for() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let silent: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("readable");
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.strip_prefix(&src).expect("under src").display().to_string())
        .collect();
    assert!(silent.is_empty(), "modules without a first `//!` comment: {silent:?}");
}
