//! The module graph of one of the workspace's crates, read from its sources, and the import
//! cycles in it: what the layer tests hold the plugin, the engine and the webhook to.
//!
//! Every `crate::…`, `super::…` and `self::…` path, and every use of a child module by name,
//! outside test-only code (`#[cfg(test)]`) is an edge from the file it is written in to the
//! deepest module it names; a name the crate root re-exports (`crate::Cluster`) counts as the
//! module it comes from. The graph can be checked at two levels: each file as its own module,
//! and the top-level modules ([`top_level`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path such as `["commands", "get", "kubeconfig"]`; the crate root is empty.
pub type ModPath = Vec<String>;

/// Each module (file) and the modules it uses.
pub type Graph = BTreeMap<ModPath, BTreeSet<ModPath>>;

/// A source file or folder that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading {path}: {source}")]
pub struct SourceError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Where a crate's sources are and which of its files are not part of the module tree.
#[derive(Debug, Clone)]
pub struct CrateSources {
    /// The crate's `src` folder.
    pub src: PathBuf,
    /// The crate root's file name under `src`: `lib.rs` or `main.rs`.
    pub root: &'static str,
    /// Files and folders under `src` that are programs of their own (`main.rs` beside a
    /// `lib.rs`, `bin/`), not modules of the crate.
    pub programs: Vec<PathBuf>,
}

impl CrateSources {
    /// The crate in the workspace folder `dir` (such as `crds`), rooted at `root`.
    pub fn in_workspace(dir: &str, root: &'static str, programs: &[&str]) -> Self {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Self {
            src: workspace.join(dir).join("src"),
            root,
            programs: programs.iter().map(PathBuf::from).collect(),
        }
    }

    /// Every `.rs` file under `src`, programs included, sorted, with its path relative to `src`.
    pub fn files(&self) -> Result<Vec<(PathBuf, PathBuf)>, SourceError> {
        let mut files = Vec::new();
        rust_files(&self.src, &mut files)?;
        Ok(files
            .into_iter()
            .map(|f| {
                let rel = f.strip_prefix(&self.src).expect("a file under src").to_path_buf();
                (f, rel)
            })
            .collect())
    }

    /// The files of the crate's module tree: [`Self::files`] without the programs.
    pub fn module_files(&self) -> Result<Vec<(PathBuf, PathBuf)>, SourceError> {
        let mut files = self.files()?;
        files.retain(|(_, rel)| !self.programs.iter().any(|p| rel.starts_with(p)));
        Ok(files)
    }

    /// The module graph of the crate's production code.
    pub fn graph(&self) -> Result<Graph, SourceError> {
        let mut files = Vec::new();
        for (file, rel) in self.module_files()? {
            let text = std::fs::read_to_string(&file).map_err(|source| SourceError { path: file, source })?;
            files.push((module_of(&rel, self.root), text));
        }
        Ok(graph_of(files))
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let error = |source| SourceError {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(error)? {
        entries.push(entry.map_err(error)?.path());
    }
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The module a file defines: `a/b.rs` and `a/b/mod.rs` are `a::b`, the crate root file the root.
pub fn module_of(rel: &Path, root: &str) -> ModPath {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    if last != "mod.rs" && !(parts.is_empty() && last == root) {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// The source without comments, string contents and `#[cfg(test)]` items.
pub fn production_code(text: &str) -> String {
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
pub fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
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
pub fn expand(rest: &str, base: Vec<String>, found: &mut Vec<Vec<String>>) {
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

/// `parent` joined with `path`, each leading `super` segment (of `super::super::x`) going one
/// module further up.
fn above(parent: &[String], path: Vec<String>) -> ModPath {
    let mut base = parent.to_vec();
    let mut rest = path.into_iter().peekable();
    while rest.next_if(|s| s == "super").is_some() {
        base.pop();
    }
    base.extend(rest);
    base
}

/// The graph of files given as their module and their text.
pub fn graph_of(files: Vec<(ModPath, String)>) -> Graph {
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
        .map(|(module, text)| (module, production_code(&text)))
        .collect();
    let modules: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    // The names the crate root re-exports (`pub use cluster::Cluster;`), and their modules.
    let reexports: BTreeMap<String, ModPath> = files
        .iter()
        .filter(|(module, _)| module.is_empty())
        .flat_map(|(_, code)| paths_after(code, "pub use "))
        .filter_map(|path| {
            let from = resolve(&path, &modules);
            let name = path.last()?.clone();
            (!from.is_empty()).then_some((name, from))
        })
        .collect();
    let mut graph = BTreeMap::new();
    for (module, code) in &files {
        let mut uses = BTreeSet::new();
        for path in paths_after(code, "crate::") {
            let target = match path.first().and_then(|name| reexports.get(name)) {
                Some(from) if !modules.contains(&path[..1]) => from.clone(),
                _ => resolve(&path, &modules),
            };
            uses.insert(target);
        }
        let parent: ModPath = module[..module.len().saturating_sub(1)].to_vec();
        for path in paths_after(code, "super::") {
            uses.insert(resolve(&above(&parent, path), &modules));
        }
        let children: Vec<&ModPath> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .collect();
        for prefix in
            std::iter::once("self::".to_owned()).chain(children.iter().map(|c| format!("{}::", c[c.len() - 1])))
        {
            for path in paths_after(code, &prefix) {
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

/// The graph with every module folded into its top-level module.
pub fn top_level(graph: &Graph) -> Graph {
    let mut top: Graph = BTreeMap::new();
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

/// The groups of modules that import each other, directly or not (the strongly connected
/// components of more than one module), each in order.
pub fn groups(graph: &Graph) -> Vec<BTreeSet<ModPath>> {
    let mut seen: BTreeSet<ModPath> = BTreeSet::new();
    let mut found = Vec::new();
    for start in graph.keys() {
        if seen.contains(start) {
            continue;
        }
        let mut group: BTreeSet<ModPath> = reachable(graph, start)
            .into_iter()
            .filter(|other| other != start && reachable(graph, other).contains(start))
            .collect();
        if group.is_empty() {
            continue;
        }
        group.insert(start.clone());
        seen.extend(group.iter().cloned());
        found.push(group);
    }
    found
}

/// One cycle of each of the [`groups`], as the modules along it, the first module (the group's
/// first) repeated at the end.
pub fn cycles(graph: &Graph) -> Vec<Vec<ModPath>> {
    groups(graph)
        .iter()
        .map(|group| shortest_cycle(graph, group.first().expect("a group has modules")))
        .collect()
}

/// Every module `start` reaches through one or more edges.
fn reachable(graph: &Graph, start: &ModPath) -> BTreeSet<ModPath> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&ModPath> = graph.get(start).into_iter().flatten().collect();
    while let Some(next) = todo.pop() {
        if seen.insert(next.clone()) {
            todo.extend(graph.get(next).into_iter().flatten());
        }
    }
    seen
}

/// The shortest path from `start` back to itself (breadth first); `start` must be on a cycle.
pub fn shortest_cycle(graph: &Graph, start: &ModPath) -> Vec<ModPath> {
    let mut came_from: BTreeMap<ModPath, ModPath> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.clone()]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                // `start` has no predecessor: the walk back ends there.
                let mut path = vec![node.clone()];
                let mut at = node.clone();
                while let Some(prev) = came_from.get(&at) {
                    path.push(prev.clone());
                    at = prev.clone();
                }
                path.reverse();
                path.push(start.clone());
                return path;
            }
            if !came_from.contains_key(next) && next != start {
                came_from.insert(next.clone(), node.clone());
                queue.push_back(next.clone());
            }
        }
    }
    panic!("{} is on no cycle", start.join("::"));
}

/// A cycle as `a -> b -> a`.
pub fn show(cycle: &[ModPath]) -> String {
    cycle.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(" -> ")
}
