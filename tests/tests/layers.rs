//! The modules of the plugin, the engine (`kkp_crds`) and the webhook depend on each other in one
//! direction: no import cycle, neither among a crate's top-level modules nor among its files. In
//! the plugin, cluster access (`k8s`), the KKP REST API client (`kkp_api`), `output` and `exit`
//! use no other module, and only the printer writes to the terminal.
//!
//! The graphs are read from the sources (`kkp_e2e::module_graph`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kkp_e2e::module_graph::{
    CrateSources, Graph, ModPath, cycles, expand, groups, production_code, shortest_cycle, show, top_level,
};

fn plugin() -> CrateSources {
    // `complete.rs` is a program of its own (`kubectl_complete-kkp`).
    CrateSources::in_workspace("plugin", "main.rs", &["complete.rs"])
}

fn engine() -> CrateSources {
    CrateSources::in_workspace("crds", "lib.rs", &["bin"])
}

fn webhook() -> CrateSources {
    CrateSources::in_workspace("webhook", "lib.rs", &["main.rs"])
}

fn module(path: &str) -> ModPath {
    path.split("::").map(str::to_owned).collect()
}

fn read(sources: &CrateSources) -> Graph {
    sources.graph().expect("the crate's sources are readable")
}

/// Fails with every cycle of the crate, at both levels.
fn assert_no_cycle(name: &str, sources: &CrateSources) {
    let graph = read(sources);
    let mut found = Vec::new();
    for (level, graph) in [("top-level modules", top_level(&graph)), ("files", graph)] {
        for group in groups(&graph) {
            let cycle = show(&shortest_cycle(&graph, group.first().expect("a group has modules")));
            let members: Vec<String> = group.iter().map(|m| m.join("::")).collect();
            found.push(format!("{level}: {cycle} (the group: {})", members.join(", ")));
        }
    }
    assert!(
        found.is_empty(),
        "the {name}'s modules import each other in a cycle:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_graphs_are_read_from_the_sources() {
    // A reader that found no edges would pass every check below.
    let graph = read(&plugin());
    let top = top_level(&graph);
    let commands = &top[&module("commands")];
    assert!(commands.contains(&module("k8s")), "{commands:?}");
    assert!(commands.contains(&module("cli")), "{commands:?}");
    let dispatch = &graph[&module("commands")];
    assert!(dispatch.contains(&module("commands::generate")), "{dispatch:?}");

    let graph = read(&engine());
    let admission = &top_level(&graph)[&module("admission")];
    assert!(admission.contains(&module("defaulting")), "{admission:?}");
    assert!(admission.contains(&module("validation")), "{admission:?}");
    // `crate::Cluster` is the crate root's re-export of `cluster::Cluster`.
    assert!(
        graph.values().any(|uses| uses.contains(&module("cluster"))),
        "nothing uses cluster: {graph:?}"
    );
    assert!(!graph.contains_key(&module("bin::crdgen")), "a program is no module");

    let graph = read(&webhook());
    let top = top_level(&graph);
    assert!(!top.contains_key(&module("main")), "a program is no module");
    let server = &top[&module("server")];
    assert!(server.contains(&module("tls")), "{server:?}");
}

#[test]
fn the_plugin_has_no_import_cycle() {
    assert_no_cycle("plugin", &plugin());
}

#[test]
fn the_engine_has_no_import_cycle() {
    assert_no_cycle("engine", &engine());
}

#[test]
fn the_webhook_has_no_import_cycle() {
    assert_no_cycle("webhook", &webhook());
}

#[test]
fn the_plugins_bottom_layers_use_nothing_above_them() {
    let top = top_level(&read(&plugin()));
    for bottom in ["k8s", "kkp_api", "output", "exit"] {
        let uses = top.get(&module(bottom)).cloned().unwrap_or_default();
        assert!(
            uses.is_empty(),
            "{bottom} uses {uses:?}; it must depend on no other module of the plugin"
        );
    }
    let cli = &top[&module("cli")];
    assert!(
        !cli.contains(&module("commands")),
        "cli (clap types only) uses commands: {cli:?}"
    );
}

#[test]
fn a_planted_cycle_is_found() {
    let (a, b, c, d) = (module("a"), module("b"), module("c"), module("d"));
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone(), c.clone()])),
        (c.clone(), BTreeSet::from([d.clone()])),
        (d.clone(), BTreeSet::from([c.clone()])),
    ]);
    assert_eq!(
        cycles(&graph),
        vec![
            vec![a.clone(), b.clone(), a.clone()],
            vec![c.clone(), d.clone(), c.clone()]
        ]
    );
    assert!(cycles(&BTreeMap::from([(a.clone(), BTreeSet::from([b.clone()]))])).is_empty());
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
fn a_planted_cycle_through_super_and_a_reexport_is_found() {
    let files = vec![
        (Vec::new(), "mod a;\nmod b;\npub use b::B;".to_owned()),
        (module("a"), "pub mod inner;\nuse crate::B;".to_owned()),
        (module("a::inner"), "pub fn f() {}".to_owned()),
        (module("b"), "pub struct B;\nfn g() { super::a::inner::f() }".to_owned()),
    ];
    let graph = kkp_e2e::module_graph::graph_of(files);
    assert_eq!(graph[&module("a")], BTreeSet::from([module("b")]));
    assert_eq!(graph[&module("b")], BTreeSet::from([module("a::inner")]));
    assert_eq!(
        cycles(&top_level(&graph)),
        vec![vec![module("a"), module("b"), module("a")]]
    );
}

#[test]
fn only_the_printer_writes_to_the_terminal() {
    let mut offenders = Vec::new();
    for (file, rel) in plugin().files().expect("the plugin's sources are readable") {
        // The printer owns stdout and stderr; `complete.rs` is a program of its own.
        if rel == Path::new("printer.rs") || rel == Path::new("complete.rs") {
            continue;
        }
        let code = production_code(&std::fs::read_to_string(&file).expect("readable"));
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
    for (name, sources) in [("plugin", plugin()), ("engine", engine()), ("webhook", webhook())] {
        let silent: Vec<String> = sources
            .files()
            .expect("the crate's sources are readable")
            .into_iter()
            .filter(|(file, _)| {
                let text = std::fs::read_to_string(file).expect("readable");
                !text.trim_start().starts_with("//!")
            })
            .map(|(_, rel)| rel.display().to_string())
            .collect();
        assert!(
            silent.is_empty(),
            "{name} modules without a first `//!` comment: {silent:?}"
        );
    }
}
