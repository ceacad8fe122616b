//! The krew plugin manifest template `plugins/kkp.yaml` follows krew's rules and names this
//! workspace's version, so `make release` fills in a manifest krew accepts.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

const PLATFORMS: [(&str, &str); 4] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

fn manifest() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/kkp.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer}"))
}

#[test]
fn names_kind_and_descriptions() {
    let m = manifest();
    assert_eq!(
        str_at(&m, "/apiVersion"),
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(str_at(&m, "/kind"), "Plugin");
    assert_eq!(str_at(&m, "/metadata/name"), "kkp");
    assert!(str_at(&m, "/spec/homepage").starts_with("https://"));
    let short = str_at(&m, "/spec/shortDescription");
    assert!(
        !short.is_empty() && short.chars().count() <= 50,
        "krew allows 50 characters: {short:?}"
    );
    assert!(!str_at(&m, "/spec/description").trim().is_empty());
}

#[test]
fn version_is_the_workspace_version_with_a_v() {
    assert_eq!(
        str_at(&manifest(), "/spec/version"),
        concat!("v", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn four_platforms_each_with_archive_sha256_and_bin() {
    let m = manifest();
    let platforms = m
        .pointer("/spec/platforms")
        .and_then(Value::as_array)
        .expect("spec.platforms");
    assert_eq!(platforms.len(), PLATFORMS.len());
    let version = env!("CARGO_PKG_VERSION");
    let mut seen = BTreeSet::new();
    for p in platforms {
        let labels = p
            .pointer("/selector/matchLabels")
            .and_then(Value::as_object)
            .expect("matchLabels");
        assert_eq!(labels.len(), 2, "{labels:?}");
        let (os, arch) = (
            str_at(p, "/selector/matchLabels/os"),
            str_at(p, "/selector/matchLabels/arch"),
        );
        assert!(PLATFORMS.contains(&(os, arch)), "unexpected platform {os}/{arch}");
        assert!(seen.insert((os, arch)), "{os}/{arch} listed twice");

        let uri = str_at(p, "/uri");
        assert!(uri.starts_with("https://") && uri.ends_with(".tar.gz"), "{uri}");
        assert!(
            uri.ends_with(&format!("/v{version}/kubectl-kkp_v{version}_{os}_{arch}.tar.gz")),
            "{uri}"
        );

        // A real sum, or the placeholder scripts/release.sh fills in for the platform it builds on.
        let sha = str_at(p, "/sha256");
        let is_sum = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
        assert!(
            is_sum || sha == format!("@SHA256_{os}_{arch}@"),
            "{os}/{arch}: sha256 {sha:?}"
        );

        assert_eq!(str_at(p, "/bin"), "kubectl-kkp");
        let files = p.pointer("/files").and_then(Value::as_array).expect("files");
        let from: Vec<&str> = files.iter().map(|f| str_at(f, "/from")).collect();
        assert!(from.contains(&"kubectl-kkp"), "{os}/{arch}: files {from:?}");
        assert!(files.iter().all(|f| !str_at(f, "/to").is_empty()));
    }
}
