//! The embedded schema documents, parsed once, and the `$ref`s between them followed.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use crate::providers::{OperatingSystem, Provider};

pub(super) fn cluster_source(p: Provider) -> (&'static str, &'static str) {
    p.descriptor().cluster_schema
}

pub(super) fn machine_source(p: Provider) -> (&'static str, &'static str) {
    p.descriptor().machine_schema
}

pub(super) fn os_source(os: OperatingSystem) -> (&'static str, &'static str) {
    match os {
        OperatingSystem::Ubuntu => ("os/ubuntu.json", include_str!("../../schemas/os/ubuntu.json")),
        OperatingSystem::Flatcar => ("os/flatcar.json", include_str!("../../schemas/os/flatcar.json")),
        OperatingSystem::Rhel => ("os/rhel.json", include_str!("../../schemas/os/rhel.json")),
        OperatingSystem::Rockylinux => ("os/rockylinux.json", include_str!("../../schemas/os/rockylinux.json")),
        OperatingSystem::Amzn2 => ("os/amzn2.json", include_str!("../../schemas/os/amzn2.json")),
    }
}

const COMMON: (&str, &str) = ("common.json", include_str!("../../schemas/common.json"));

/// The parsed schema documents, in the order of [`Provider::ALL`] and [`OperatingSystem::ALL`].
pub(super) struct Documents {
    pub(super) common: Value,
    pub(super) cluster: Vec<Value>,
    pub(super) machine: Vec<Value>,
    pub(super) os: Vec<Value>,
}

impl Documents {
    pub(super) fn all(&self) -> impl Iterator<Item = &Value> {
        std::iter::once(&self.common)
            .chain(&self.cluster)
            .chain(&self.machine)
            .chain(&self.os)
    }
}

/// Parses an embedded schema file. The files are part of the crate and every one is parsed by the
/// tests, so a failure here is a build defect, not bad input.
fn parse((path, text): (&str, &str)) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("embedded schema {path} is not JSON: {e}"))
}

pub(super) static DOCUMENTS: LazyLock<Documents> = LazyLock::new(|| Documents {
    common: parse(COMMON),
    cluster: Provider::ALL.iter().map(|p| parse(cluster_source(*p))).collect(),
    machine: Provider::ALL.iter().map(|p| parse(machine_source(*p))).collect(),
    os: OperatingSystem::ALL.iter().map(|os| parse(os_source(*os))).collect(),
});

/// Every embedded document by its `$id`.
pub(super) static BY_ID: LazyLock<HashMap<&'static str, &'static Value>> = LazyLock::new(|| {
    DOCUMENTS
        .all()
        .filter_map(|doc| doc.get("$id").and_then(Value::as_str).map(|id| (id, doc)))
        .collect()
});

pub(super) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16);
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            // Two hex digits make one byte.
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Deep enough for every embedded schema; guards against reference cycles.
pub(super) const MAX_DEPTH: usize = 32;

/// A schema node and the node its `$ref` chain leads to, each with the document it lives in.
pub(super) fn views<'a>(root: &'a Value, node: &'a Value) -> Vec<(&'a Value, &'a Value)> {
    let mut out = vec![(root, node)];
    let (mut root, mut node) = (root, node);
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        if out.len() > MAX_DEPTH {
            break;
        }
        let Some((next_root, next)) = resolve(root, reference) else {
            break;
        };
        out.push((next_root, next));
        (root, node) = (next_root, next);
    }
    out
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<(&'a Value, &'a Value)> {
    let (id, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    let doc: &'a Value = if id.is_empty() { root } else { BY_ID.get(id).copied()? };
    let target = doc.pointer(&percent_decode(fragment))?;
    Some((doc, target))
}

pub(super) fn views_default<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    views(root, node).into_iter().find_map(|(_, view)| view.get("default"))
}
