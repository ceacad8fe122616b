//! The container image `make image` builds (scripts/image.sh): an OCI image archive whose config
//! runs /kkp-webhook as a non-root user, with one layer holding only that binary (no shell, no
//! libc: the binary is static and stripped) and the reference it loads as. crane, built from its
//! Go module, assembles it; nothing here needs a container daemon.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kkp_e2e::plugin_support;
use pretty_assertions::assert_eq;
use serde_json::Value;

/// A cold build of the webhook for the musl target takes minutes.
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn blob(layout: &Path, descriptor: &Value) -> PathBuf {
    let digest = descriptor["digest"].as_str().expect("a digest");
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    layout.join("blobs").join("sha256").join(hex)
}

fn untar(archive: &Path, into: &Path, gzip: bool) {
    std::fs::create_dir_all(into).expect("a folder");
    let mut command = Command::new("tar");
    command
        .arg(if gzip { "-xzf" } else { "-xf" })
        .arg(archive)
        .arg("-C")
        .arg(into);
    let status = command.status().expect("tar runs");
    assert!(status.success(), "tar could not unpack {}", archive.display());
}

/// The ELF's program headers as (type, file offset, file size), and its section header types
/// (64-bit little-endian only).
fn elf_headers(binary: &[u8]) -> (Vec<(u32, usize, usize)>, Vec<u32>) {
    assert_eq!(&binary[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(binary[4], 2, "not a 64-bit ELF");
    assert_eq!(binary[5], 1, "not little-endian");
    let u16_at = |o: usize| u16::from_le_bytes([binary[o], binary[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(binary[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_le_bytes(binary[o..o + 8].try_into().expect("8 bytes")) as usize;
    let (phoff, shoff) = (u64_at(0x20), u64_at(0x28));
    let (phentsize, phnum, shentsize, shnum) = (u16_at(0x36), u16_at(0x38), u16_at(0x3a), u16_at(0x3c));
    let programs = (0..phnum)
        .map(|i| phoff + i * phentsize)
        .map(|h| (u32_at(h), u64_at(h + 0x08), u64_at(h + 0x20)))
        .collect();
    let sections = (0..shnum).map(|i| u32_at(shoff + i * shentsize + 4)).collect();
    (programs, sections)
}

/// The tags of the dynamic section's entries (a static PIE has one, to relocate itself).
fn dynamic_tags(binary: &[u8], offset: usize, size: usize) -> Vec<u64> {
    binary[offset..offset + size]
        .chunks_exact(16)
        .map(|entry| u64::from_le_bytes(entry[..8].try_into().expect("8 bytes")))
        .collect()
}

const PT_INTERP: u32 = 3;
const PT_DYNAMIC: u32 = 2;
const DT_NEEDED: u64 = 1;
const SHT_SYMTAB: u32 = 2;

#[test]
fn make_image_builds_an_oci_archive_of_the_static_webhook_alone_run_as_non_root() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let archive = dir.path().join("kkp-webhook.oci.tar");
    let image = "registry.example.org/team/kkp-webhook:test";
    let mut command = Command::new("bash");
    command
        .arg(plugin_support::workspace_root().join("scripts").join("image.sh"))
        .arg(&archive)
        .env("IMAGE", image)
        // The image of the release profile, without its optimisation (minutes of a cold build).
        .env("KKP_IMAGE_PROFILE", "image-check");
    let ran = plugin_support::run(command, BUILD_TIMEOUT).expect("scripts/image.sh runs");
    assert_eq!(ran.code, Some(0), "scripts/image.sh failed: {}", ran.both());
    assert_eq!(ran.stdout.trim(), archive.to_str().expect("a UTF-8 path"));

    let layout = dir.path().join("layout");
    untar(&archive, &layout, false);
    assert_eq!(read_json(&layout.join("oci-layout"))["imageLayoutVersion"], "1.0.0");
    let index = read_json(&layout.join("index.json"));
    let manifests = index["manifests"].as_array().expect("manifests");
    assert_eq!(manifests.len(), 1, "{index}");
    assert_eq!(manifests[0]["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(manifests[0]["annotations"]["org.opencontainers.image.ref.name"], image);

    let manifest = read_json(&blob(&layout, &manifests[0]));
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let config = read_json(&blob(&layout, &manifest["config"]));
    assert_eq!(config["os"], "linux");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(config["architecture"], arch);
    let run = &config["config"];
    assert_eq!(run["Entrypoint"], serde_json::json!(["/kkp-webhook"]));
    assert!(run["Cmd"].is_null(), "no command through a shell: {run}");
    let user = run["User"].as_str().expect("a user");
    let uid: u32 = user
        .split(':')
        .next()
        .and_then(|u| u.parse().ok())
        .expect("a numeric user");
    assert_ne!(uid, 0, "the image runs as root");
    assert_eq!(user, "65532:65532");

    // One layer, holding only the binary: no shell, no libc, nothing else.
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 1, "{manifest}");
    let unpacked = dir.path().join("layer");
    let gzip = layers[0]["mediaType"].as_str().is_some_and(|t| t.ends_with("+gzip"));
    untar(&blob(&layout, &layers[0]), &unpacked, gzip);
    let entries: Vec<String> = std::fs::read_dir(&unpacked)
        .expect("the layer")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["kkp-webhook"]);
    let binary_path = unpacked.join("kkp-webhook");
    let binary = std::fs::read(&binary_path).expect("the binary");
    let (programs, sections) = elf_headers(&binary);
    assert!(
        !programs.iter().any(|(kind, _, _)| *kind == PT_INTERP),
        "the binary asks for a dynamic loader"
    );
    for (_, offset, size) in programs.iter().filter(|(kind, _, _)| *kind == PT_DYNAMIC) {
        let tags = dynamic_tags(&binary, *offset, *size);
        assert!(!tags.contains(&DT_NEEDED), "the binary links shared libraries");
    }
    assert!(!sections.contains(&SHT_SYMTAB), "the binary is not stripped");

    // It runs with nothing around it, and names its version.
    let version = Command::new(&binary_path)
        .arg("--version")
        .output()
        .expect("the binary runs");
    assert!(version.status.success(), "{version:?}");
    let printed = String::from_utf8_lossy(&version.stdout);
    assert!(printed.contains(env!("CARGO_PKG_VERSION")), "{printed}");
}
