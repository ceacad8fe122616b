//! Structured fuzzing of the engine: generated JSON, mutated Clusters and MachineDeployments and
//! random AdmissionPolicies go through decoding, defaulting, validation and policy evaluation,
//! which must never panic and must keep their invariants:
//!
//! - a verdict is allowed exactly when it has no errors and no denying violation, its code and
//!   message say the same, and it serializes;
//! - the patch of `mutate` and `admit` applies to the object as sent and yields the returned
//!   object (the apiserver refuses a review whose patch does not apply, whatever the failure
//!   policy); without a returned object there is no patch;
//! - `admit` gives the same answer twice.
//!
//! `KKP_FUZZ_CASES` sets the number of cases of each test (default [`DEFAULT_CASES`], small
//! enough for every `make test`); `make fuzz` runs many more in release. The random seed is fixed
//! unless `KKP_FUZZ_SEED` names one (`random` for a fresh one, which is printed), so a run can be
//! repeated. Each test prints how many cases it ran.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock, Mutex, Once};
use std::time::Instant;

use common::{cluster, defaulted, machine_deployment};
use kkp_crds::admission::{MAX_MESSAGE_BYTES, Verdict, admit, mutate, validate};
use kkp_crds::context::Context;
use kkp_crds::platform::Datacenters;
use kkp_crds::policy::{AdmissionPolicy, Enforcement, PolicySet, evaluate_scale};
use kkp_crds::providers::Provider;
use kkp_crds::request::{Operation, Request, UserInfo};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Value, json};

/// Cases per test when `KKP_FUZZ_CASES` is not set.
const DEFAULT_CASES: u32 = 128;
/// The seed when `KKP_FUZZ_SEED` is not set.
const DEFAULT_SEED: u64 = 0x6b6b_7066_757a_7a31;

// ---- running ---------------------------------------------------------------------------------------

fn cases() -> u32 {
    match std::env::var("KKP_FUZZ_CASES") {
        Ok(n) => n
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("KKP_FUZZ_CASES must be a number, not {n:?}")),
        Err(_) => DEFAULT_CASES,
    }
}

fn seed() -> u64 {
    match std::env::var("KKP_FUZZ_SEED").as_deref() {
        Err(_) => DEFAULT_SEED,
        Ok("random") => {
            // The time and the process differ from run to run; good enough to pick a seed.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default();
            now ^ u64::from(std::process::id()).rotate_left(32)
        }
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("KKP_FUZZ_SEED must be a number or `random`, not {s:?}")),
    }
}

/// How often each kind of outcome came up, so a run shows what its cases reached.
static STATS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

fn count(what: String) {
    if let Ok(mut stats) = STATS.lock() {
        *stats.entry(what).or_default() += 1;
    }
}

/// Panics anywhere in the process, caught or not (the CEL sandbox catches its evaluator's), with
/// the thread and the place.
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if let Ok(mut panics) = PANICS.lock() {
                panics.push(format!("thread {thread} at {place}"));
            }
            default(info);
        }));
    });
}

/// Runs `test` on `cases()` values of `strategy`, prints how many ran, and fails with the smallest
/// failing value proptest finds.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    record_panics();
    let cases = cases();
    let seed = seed();
    let config = Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz.proptest-regressions"
        )))),
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let started = Instant::now();
    let result = runner.run(&strategy, test);
    let caught: Vec<String> = PANICS.lock().map(|p| p.clone()).unwrap_or_default();
    let distinct: BTreeSet<&String> = caught.iter().collect();
    let stats = STATS.lock().map(|s| s.clone()).unwrap_or_default();
    eprintln!(
        "fuzz: {name}: {cases} cases (seed {seed}) in {:.1?}; panics seen (caught ones included): {} {distinct:?}; \
         outcomes (shrinking included, all tests of this binary so far): {stats:?}",
        started.elapsed(),
        caught.len()
    );
    if let Err(e) = result {
        panic!("fuzz: {name} failed (seed {seed}; KKP_FUZZ_SEED={seed} repeats the run): {e}");
    }
}

// ---- values ------------------------------------------------------------------------------------------

/// Strings that mean something to some field, and some that mean nothing anywhere.
const STRINGS: &[&str] = &[
    "",
    " ",
    "1.35.7",
    "v1.35.7",
    "1.35",
    "1",
    "1.2.3.4",
    "99999999999999999999.1.1",
    "-1.0.0",
    "1.35.7-rc.1+build.5",
    "0.0.0",
    "1.36.0",
    "1.30.0",
    "10.0.0.0/8",
    "::/0",
    "172.25.0.0/16",
    "fd00::/104",
    "300.1.1.1/33",
    "fe80::1/129",
    "10.0.0.1",
    "aws",
    "hetzner",
    "openstack",
    "vsphere",
    "kubevirt",
    "gcp",
    "azure",
    "digitalocean",
    "cilium",
    "canal",
    "none",
    "ipvs",
    "iptables",
    "nftables",
    "ebpf",
    "NodePort",
    "LoadBalancer",
    "Tunneling",
    "IPv4",
    "IPv6",
    "IPv4+IPv6",
    "16Gi",
    "4096Mi",
    "1e9",
    "1e400",
    "NaN",
    "Inf",
    "-Inf",
    "-2",
    "0x10",
    "2.5",
    "500m",
    "true",
    "null",
    "ubuntu",
    "flatcar",
    "rhel",
    "rockylinux",
    "cx22",
    "t3.medium",
    "aws-dc1",
    "hetzner-dc1",
    "kube-system",
    "kubermatic",
    "30000-32767",
    "1-0",
    "65536-70000",
    "-",
    "*/5 * * * *",
    "ssh-ed25519 AAAA",
    "ssh-rsa !!!",
    "e30=",
    "=====",
    "https://vc.example",
    "http://[::1",
    "a\u{0}b",
    "ü",
    "\u{202e}rtl",
    "😀",
    "\u{FFFF}",
    "${VAR}",
    "'",
    "\"",
    "\\",
    "/",
    "~1",
    "a.b/c",
    "project-id",
    "system/project",
    "k7bxrtzfwl",
    "2024-01-01T00:00:00Z",
    "not-a-time",
];

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(STRINGS).prop_map(String::from),
        3 => "\\PC{0,24}",
        2 => "[a-z0-9.-]{0,70}",
        1 => (0usize..6000, select(&["x", "é", "1", ".", "/"][..])).prop_map(|(n, s)| s.repeat(n)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        select(
            &[
                0i64,
                -1,
                1,
                2,
                3,
                5,
                24,
                32,
                33,
                128,
                65535,
                65536,
                i32::MAX as i64 + 1,
                i64::MAX,
                i64::MIN
            ][..]
        )
        .prop_map(Value::from),
        Just(json!(u64::MAX)),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        select(&[0.5f64, -0.0, 1e308, -1e308, 1e-300, 2.0][..]).prop_map(|f| json!(f)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => Just(Value::Null),
        2 => any::<bool>().prop_map(Value::Bool),
        3 => number(),
        5 => string().prop_map(Value::String),
        1 => Just(json!({})),
        1 => Just(json!([])),
    ]
}

/// Field names of every example object (so generated maps hit typed fields), and others.
static KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
    fn collect(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    out.insert(k.clone());
                    collect(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut keys = BTreeSet::new();
    for base in BASES.iter() {
        collect(base, &mut keys);
    }
    for extra in [
        "deletionTimestamp",
        "generateName",
        "namespace",
        "valueFrom",
        "secretKeyRef",
        "configMapKeyRef",
        "ipFamily",
        "proxyMode",
        "cidrBlocks",
        "nodeCidrMaskSizeIPv4",
        "nodeCidrMaskSizeIPv6",
        "apiServerAllowedIPRanges",
        "tunnelingAgentIP",
        "updateWindow",
        "encryptionConfiguration",
        "podSecurityPolicy",
        "usePodSecurityPolicyAdmissionPlugin",
        "datastoreCluster",
        "kubermatic.k8c.io/initial-machinedeployment-request",
        "system/project",
        "replicas",
        "paused",
        "strategy",
        "minReadySeconds",
        "sshPublicKeys",
        "network",
        "cpus",
        "memory",
        "memoryMB",
        "expose",
        "exposeStrategy",
        "cniPlugin",
        "",
    ] {
        keys.insert(extra.to_owned());
    }
    keys.into_iter().collect()
});

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(KEYS.clone()),
        1 => string(),
    ]
}

/// Arbitrary JSON, at most 5 levels and about 64 values.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Arbitrary JSON dressed as one of our objects now and then, so the engine does not skip it.
fn json_object() -> impl Strategy<Value = Value> {
    let header = prop_oneof![
        Just(None),
        Just(Some(("kubermatic.k8c.io/v1", "Cluster"))),
        Just(Some(("cluster.k8s.io/v1alpha1", "MachineDeployment"))),
    ];
    (header, json_value(), json_value(), json_value()).prop_map(|(header, whole, metadata, spec)| match header {
        None => whole,
        Some((api_version, kind)) => {
            json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec })
        }
    })
}

// ---- mutated objects -----------------------------------------------------------------------------

/// Every example: a Cluster and a MachineDeployment per provider, as written and as defaulted.
static BASES: LazyLock<Vec<Value>> = LazyLock::new(|| {
    Provider::ALL
        .iter()
        .flat_map(|&p| {
            let (c, md) = (cluster(p), machine_deployment(p));
            [defaulted(&c), defaulted(&md), c, md]
        })
        .collect()
});

/// One change to an object: at a node picked by its index among all nodes.
#[derive(Clone, Debug)]
enum Edit {
    /// Replace the node with this value.
    Replace(Index, Value),
    /// Insert this key (into an object; an array gets the value pushed).
    Insert(Index, String, Value),
    Delete(Index),
    /// Wrap the node in this many levels of objects and arrays.
    Nest(Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<Index>(), json_value()).prop_map(|(i, v)| Edit::Replace(i, v)),
        3 => (any::<Index>(), key(), json_value()).prop_map(|(i, k, v)| Edit::Insert(i, k, v)),
        2 => any::<Index>().prop_map(Edit::Delete),
        1 => (any::<Index>(), prop_oneof![0usize..20, 120usize..140, 200usize..300]).prop_map(|(i, n)| Edit::Nest(i, n)),
    ]
}

/// The JSON pointers of every node below the root.
fn pointers(value: &Value) -> Vec<String> {
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let p = format!("{at}/{}", escape(k));
                    out.push(p.clone());
                    walk(v, &p, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let p = format!("{at}/{i}");
                    out.push(p.clone());
                    walk(v, &p, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}

fn apply(mut object: Value, edits: &[Edit]) -> Value {
    for edit in edits {
        let nodes = pointers(&object);
        if nodes.is_empty() {
            break;
        }
        let at = |i: &Index| nodes[i.index(nodes.len())].clone();
        match edit {
            Edit::Replace(i, v) => {
                if let Some(node) = object.pointer_mut(&at(i)) {
                    *node = v.clone();
                }
            }
            Edit::Insert(i, k, v) => {
                // Into the node when it holds fields, else next to it.
                let p = at(i);
                let target = match object.pointer(&p) {
                    Some(Value::Object(_) | Value::Array(_)) => p,
                    _ => p
                        .rsplit_once('/')
                        .map(|(parent, _)| parent.to_owned())
                        .unwrap_or_default(),
                };
                match object.pointer_mut(&target) {
                    Some(Value::Object(map)) => {
                        map.insert(k.clone(), v.clone());
                    }
                    Some(Value::Array(items)) => items.push(v.clone()),
                    _ => {}
                }
            }
            Edit::Delete(i) => {
                let p = at(i);
                let (parent, last) = p.rsplit_once('/').unwrap_or_default();
                let last = last.replace("~1", "/").replace("~0", "~");
                match object.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&last);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(n) = last.parse::<usize>()
                            && n < items.len()
                        {
                            items.remove(n);
                        }
                    }
                    _ => {}
                }
            }
            Edit::Nest(i, depth) => {
                if let Some(node) = object.pointer_mut(&at(i)) {
                    let mut v = node.take();
                    for level in 0..*depth {
                        v = if level % 2 == 0 { json!({ "x": v }) } else { json!([v]) };
                    }
                    *node = v;
                }
            }
        }
    }
    object
}

/// An example changed by a few edits, and the same example changed by others (the stored object
/// of an update).
fn mutated_pair() -> impl Strategy<Value = (Value, Value)> {
    (
        select(BASES.clone()),
        prop::collection::vec(edit(), 1..6),
        prop::collection::vec(edit(), 0..4),
    )
        .prop_map(|(base, new_edits, old_edits)| (apply(base.clone(), &new_edits), apply(base, &old_edits)))
}

// ---- policies ----------------------------------------------------------------------------------------

/// Boolean CEL over the objects, and expressions that fail, are not bools, or break a limit.
const CEL_ATOMS: &[&str] = &[
    "true",
    "false",
    "kind == 'Cluster'",
    "kind == 'MachineDeployment'",
    "has(object.spec)",
    "has(object.spec.replicas)",
    "has(object.metadata.labels)",
    "object.metadata.name.startsWith('k7')",
    "object.metadata.name.size() < 64",
    "size(object.metadata.name) > 0",
    "'project-id' in object.metadata.labels",
    "object.metadata.labels['project-id'] == 'xw2k9fgh4t'",
    "object.spec.replicas <= 3",
    "object.spec.version.startsWith('1.35')",
    "object.spec.cloud.dc.endsWith('dc1')",
    "object.metadata.labels.all(k, k.size() < 10)",
    "object.spec.template.spec.providerSpec.value.cloudProviderSpec.cpus <= 4",
    "object.spec.humanReadableName.matches('^[a-z]+$')",
    "object.spec.humanReadableName.matches('[')",
    "int(object.spec.version) > 1",
    "double(object.spec.replicas) / 0.0 > 1.0",
    "object.spec.replicas / 0 == 1",
    "object.spec.replicas % 0 == 1",
    "lists.range(100000).size() > 0",
    "lists.range(100001).size() > 0",
    "lists.range(-1).size() > 0",
    "object.metadata.name.replace('', 'xx').size() > 0",
    "object.metadata.name.replace('k', 'kk', -1).size() > 0",
    "[1, 2, 3].exists(x, x == 2)",
    "object.spec.cloud.dc.split('-').size() == 2",
    "type(object.spec) == map",
    "object.spec.nonexistent",
    "1 + 1",
    "'a' + 1 == 'a1'",
    "object.spec.x.y.z == null",
    "object.metadata.labels.map(k, k + k).size() >= 0",
    "object.spec.clusterNetwork.pods.cidrBlocks.all(c, c.contains('/'))",
    "isURL(object.spec.version)",
    "quantity('4Gi').isGreaterThan(quantity('1Gi'))",
    "quantity('x').isGreaterThan(quantity('1Gi'))",
    "ip('10.0.0.1').family() == 4",
    "cidr('10.0.0.0/8').containsIP('10.1.1.1')",
    "cidr('10.0.0.0/99').containsIP('10.1.1.1')",
    "9223372036854775807 + 1 > 0",
    "-9223372036854775808 - 1 < 0",
    "dyn(object.spec).replicas == 1",
    "object.spec.?replicas.orValue(0) < 5",
    "object.metadata.name.substring(5, 2) == ''",
    "object.metadata.name.charAt(1000) == ''",
    "object.spec.template.spec.providerSpec.value.sshPublicKeys.all(k, k.startsWith('ssh-'))",
    "string(object.spec) != ''",
    "object.metadata.labels.exists_one(k, k == 'project-id')",
];

fn cel_expression() -> impl Strategy<Value = String> {
    let atom = select(CEL_ATOMS).prop_map(String::from);
    let grammar = atom.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("({a}) ? ({b}) : ({c})")),
            inner
                .clone()
                .prop_map(|a| format!("object.metadata.labels.exists(k, {a})")),
            inner.prop_map(|a| format!("lists.range(30).all(i, lists.range(30).all(j, {a}))")),
        ]
    });
    prop_oneof![
        8 => grammar,
        1 => "\\PC{0,40}",
        1 => (0usize..80).prop_map(|n| format!("{}true{}", "(".repeat(n), ")".repeat(n))),
        1 => (0usize..700, select(&["!", "-", "true && "][..])).prop_map(|(n, op)| format!("{}true", op.repeat(n))),
        1 => (0usize..6000).prop_map(|n| format!("'{}' != ''", "a".repeat(n))),
    ]
}

fn strings_from(items: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![4 => select(items).prop_map(String::from), 1 => string()],
        0..max,
    )
}

const PROVIDERS: &[&str] = &[
    "aws",
    "azure",
    "gcp",
    "hetzner",
    "vsphere",
    "openstack",
    "digitalocean",
    "kubevirt",
    "packet",
];
const CONSTRAINTS: &[&str] = &[">=1.34, <1.37", "1.35.x", "~1.35", "^1.34", "*", "<1.0.0", "=1.35.7"];
const BAD_CONSTRAINTS: &[&str] = &[
    "",
    ">=",
    "garbage",
    ">= 1.34 || < 1.0",
    "!=1.35.7",
    ">=99999999999999999999",
];

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 0i64..10,
        1 => any::<i64>(),
        1 => select(&[i64::MIN, -1, i64::MAX][..]),
    ]
}

/// The `spec` of an AdmissionPolicy: every rule now and then, CEL from the grammar, and now and
/// then a field of the wrong type (the policy then does not decode).
fn policy_spec() -> impl Strategy<Value = Value> {
    let rules = (
        (
            prop::option::of(strings_from(PROVIDERS, 4)),
            prop::option::of(strings_from(&["aws-dc1", "hetzner-dc1", "vsphere-dc1"], 3)),
            prop::option::of(prop_oneof![4 => select(CONSTRAINTS), 1 => select(BAD_CONSTRAINTS)]),
            prop::option::of(strings_from(&["cilium", "canal", "none"], 3)),
            prop::option::of(strings_from(&["NodePort", "LoadBalancer", "Tunneling"], 3)),
            prop::option::of((
                select(PROVIDERS),
                strings_from(&["cx22", "t3.medium", "m1.medium", "s-2vcpu-4gb"], 3),
            )),
        ),
        (
            prop::option::of((prop::option::of(int()), prop::option::of(int()))),
            prop::option::of((
                prop::option::of(int()),
                prop::option::of(prop_oneof![
                    4 => select(&["16Gi", "1", "512Mi"][..]),
                    1 => select(&["x", "", "1e9", "-1Gi"][..])
                ]),
            )),
            prop::option::of(int()),
            prop::option::of(int()),
            prop::option::of(strings_from(
                &["project-id", "project-id=xw2k9fgh4t", "=", "a=b=c", ""],
                3,
            )),
            prop::option::of(strings_from(&["owner", "owner=me", "="], 2)),
            prop::option::of(any::<bool>()),
            prop::option::of(prop::collection::vec(
                (
                    prop_oneof![8 => select(&["a", "b", "team-prefix"][..]), 1 => Just("")],
                    cel_expression(),
                    prop::option::of(string()),
                ),
                0..4,
            )),
        ),
    )
        .prop_map(
            |(
                (providers, dcs, versions, cnis, exposes, sizes),
                (vsphere, kubevirt, max_replicas, max_workers, labels, annotations, inline, cel),
            )| {
                let mut rules = serde_json::Map::new();
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        rules.insert(k.to_owned(), v);
                    }
                };
                put("providers", providers.map(|v| json!(v)));
                put("datacenters", dcs.map(|v| json!(v)));
                put("kubernetesVersions", versions.map(|v| json!(v)));
                put("cniTypes", cnis.map(|v| json!(v)));
                put("exposeStrategies", exposes.map(|v| json!(v)));
                put("instanceSizes", sizes.map(|(p, s)| json!({ p: s })));
                put(
                    "vsphere",
                    vsphere.map(|(c, m)| json!({ "maxCPUs": c, "maxMemoryMB": m })),
                );
                put(
                    "kubevirt",
                    kubevirt.map(|(c, m)| json!({ "maxCPUs": c, "maxMemory": m })),
                );
                put("maxReplicas", max_replicas.map(|v| json!(v)));
                put("maxWorkers", max_workers.map(|v| json!(v)));
                put("requiredLabels", labels.map(|v| json!(v)));
                put("requiredAnnotations", annotations.map(|v| json!(v)));
                put("forbidInlineCredentials", inline.map(|v| json!(v)));
                put(
                    "cel",
                    cel.map(|rules| {
                        Value::Array(
                        rules
                            .into_iter()
                            .map(|(name, expression, message)| {
                                json!({ "name": name, "expression": expression, "message": message })
                            })
                            .collect(),
                    )
                    }),
                );
                Value::Object(rules)
            },
        );
    (
        prop::option::of(prop_oneof![4 => select(&["Deny", "Warn", "Audit"][..]), 1 => select(&["deny", ""][..])]),
        prop::option::of(prop_oneof![
            Just(json!({ "matchLabels": { "project-id": "xw2k9fgh4t" } })),
            Just(json!({ "matchExpressions": [{ "key": "project-id", "operator": "Exists" }] })),
            Just(json!({ "matchExpressions": [{ "key": "project-id", "operator": "In", "values": [] }] })),
            Just(json!({ "matchExpressions": [{ "key": "x", "operator": "Bogus", "values": ["a"] }] })),
            Just(json!({})),
        ]),
        prop::option::of(Just(json!({ "groups": ["platform-admins"], "users": ["root"] }))),
        prop::option::of(any::<bool>()),
        rules,
        prop_oneof![
            8 => Just(None),
            1 => (select(&["enforcement", "rules", "selector", "exemptions", "allowReferences"][..]), json_value())
                .prop_map(Some),
        ],
    )
        .prop_map(|(enforcement, selector, exemptions, allow_references, rules, broken)| {
            let mut spec = json!({ "rules": rules });
            if let Some(e) = enforcement {
                spec["enforcement"] = json!(e);
            }
            if let Some(s) = selector {
                spec["selector"] = s;
            }
            if let Some(e) = exemptions {
                spec["exemptions"] = e;
            }
            if let Some(a) = allow_references {
                spec["allowReferences"] = json!(a);
            }
            if let Some((field, value)) = broken {
                spec[field] = value;
            }
            spec
        })
}

fn user() -> impl Strategy<Value = Option<UserInfo>> {
    prop::option::of(
        (
            select(&["alice", "root", ""][..]),
            prop::collection::vec(select(&["platform-admins", "system:masters", ""][..]), 0..3),
        )
            .prop_map(|(name, groups)| UserInfo {
                username: name.to_owned(),
                groups: groups.into_iter().map(String::from).collect(),
            }),
    )
}

/// A policy set with every kind of rule, so that objects meet the policy code even in the tests
/// that do not generate policies.
static BUSY_POLICIES: LazyLock<PolicySet> = LazyLock::new(|| {
    let policies: Vec<AdmissionPolicy> = [
        json!({ "enforcement": "Deny", "rules": {
            "providers": ["aws", "hetzner", "vsphere", "kubevirt"], "datacenters": ["aws-dc1", "hetzner-dc1"],
            "kubernetesVersions": ">=1.34, <1.37", "cniTypes": ["cilium"], "exposeStrategies": ["NodePort"],
            "instanceSizes": { "aws": ["t3.medium"], "hetzner": ["cx22"] },
            "vsphere": { "maxCPUs": 4, "maxMemoryMB": 8192 }, "kubevirt": { "maxCPUs": 4, "maxMemory": "8Gi" },
            "maxReplicas": 3, "maxWorkers": 5, "requiredLabels": ["project-id"], "forbidInlineCredentials": true,
            "cel": [{ "name": "named", "expression": "object.metadata.name.size() < 20", "message": "short names" }]
        }}),
        json!({ "enforcement": "Warn", "selector": { "matchLabels": { "project-id": "xw2k9fgh4t" } }, "rules": {
            "requiredAnnotations": ["owner"],
            "cel": [{ "name": "replicas", "expression": "kind != 'MachineDeployment' || object.spec.replicas <= 2" }]
        }}),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, spec)| policy(&format!("busy-{i}"), spec).expect("the busy policies decode"))
    .collect();
    let (set, failed) = PolicySet::compile(&policies);
    assert!(failed.is_empty(), "{failed:?}");
    set
});

fn policy(name: &str, spec: Value) -> Result<AdmissionPolicy, serde_json::Error> {
    serde_json::from_value(json!({
        "apiVersion": "policy.kubectl-kkp.io/v1alpha1",
        "kind": "AdmissionPolicy",
        "metadata": { "name": name },
        "spec": spec
    }))
}

// ---- invariants --------------------------------------------------------------------------------------

/// What every verdict must say about itself; `sent` is the object in the request.
fn check(verdict: &Verdict, sent: Option<&Value>, what: &str) -> Result<(), TestCaseError> {
    let denies = verdict.violations.iter().any(|v| v.enforcement == Enforcement::Deny);
    prop_assert_eq!(verdict.allowed(), verdict.errors.is_empty() && !denies, "{}", what);
    match verdict.code() {
        200 => prop_assert!(verdict.allowed(), "{}", what),
        400 => prop_assert!(!verdict.errors.is_empty(), "{}", what),
        403 => prop_assert!(verdict.errors.is_empty() && denies, "{}", what),
        other => prop_assert!(false, "{}: code {}", what, other),
    }
    let message = verdict.message();
    prop_assert_eq!(message.is_empty(), verdict.allowed(), "{}: {}", what, message);
    prop_assert!(message.len() <= MAX_MESSAGE_BYTES, "{}: {} bytes", what, message.len());
    if verdict.skipped.is_some() {
        prop_assert!(verdict.errors.is_empty() && verdict.violations.is_empty(), "{}", what);
    }
    serde_json::to_string(verdict).map_err(|e| TestCaseError::fail(format!("{what}: does not serialize: {e}")))?;
    match (&verdict.object, sent) {
        (Some(out), Some(sent)) => {
            let mut patched = sent.clone();
            if let Err(e) = json_patch::patch(&mut patched, &verdict.patch) {
                return Err(TestCaseError::fail(format!(
                    "{what}: the patch does not apply: {e}\npatch: {:?}",
                    verdict.patch
                )));
            }
            prop_assert_eq!(&patched, out, "{}: the patch does not yield the returned object", what);
        }
        (Some(_), None) => prop_assert!(false, "{}: an object without one in the request", what),
        (None, _) => prop_assert!(verdict.patch.0.is_empty(), "{}: a patch without an object", what),
    }
    Ok(())
}

/// Whether a verdict depends on the clock or the load (a CEL rule that ran out of time or found
/// no free evaluation slot); such verdicts are not compared.
fn timing_dependent(verdict: &Verdict) -> bool {
    verdict.violations.iter().any(|v| {
        v.message.contains("did not finish within") || v.message.contains("too many CEL evaluations are running")
    })
}

fn same(a: &Verdict, b: &Verdict, what: &str) -> Result<(), TestCaseError> {
    if timing_dependent(a) || timing_dependent(b) {
        return Ok(());
    }
    let json = |v: &Verdict| serde_json::to_value(v).unwrap_or_default();
    prop_assert_eq!(json(a), json(b), "{}: not deterministic", what);
    prop_assert_eq!(&a.object, &b.object, "{}: not deterministic", what);
    prop_assert_eq!(&a.patch, &b.patch, "{}: not deterministic", what);
    Ok(())
}

/// Every entry point on one object (and an update to it from `old`).
fn run_all(object: &Value, old: &Value, ctx: &Context, user: Option<&UserInfo>) -> Result<(), TestCaseError> {
    let create = Request {
        user,
        ..Request::create(object)
    };
    let update = Request {
        user,
        ..Request::update(object, old)
    };
    let admitted = admit(&create, ctx);
    count(format!(
        "admit CREATE {}",
        match (&admitted.skipped, admitted.code()) {
            (Some(_), _) => "skipped",
            (None, 200) => "allowed",
            (None, 400) => "invalid",
            (None, _) => "forbidden",
        }
    ));
    if !admitted.violations.is_empty() {
        count("policy violations".into());
    }
    check(&admitted, Some(object), "admit CREATE")?;
    same(&admitted, &admit(&create, ctx), "admit CREATE")?;
    check(&mutate(&create, ctx), Some(object), "mutate CREATE")?;
    check(&validate(&create, ctx), Some(object), "validate CREATE")?;
    check(&mutate(&update, ctx), Some(object), "mutate UPDATE")?;
    check(&validate(&update, ctx), Some(object), "validate UPDATE")?;
    check(&admit(&update, ctx), Some(object), "admit UPDATE")?;
    for operation in [Operation::Delete, Operation::Connect] {
        let other = Request {
            operation,
            object: None,
            old_object: Some(old),
            user,
        };
        let v = admit(&other, ctx);
        check(&v, None, "admit DELETE/CONNECT")?;
        prop_assert!(v.allowed() && v.skipped.is_some());
    }
    Ok(())
}

// ---- the tests ---------------------------------------------------------------------------------------

#[test]
fn arbitrary_json_never_panics() {
    let ctx = Context {
        policies: BUSY_POLICIES.clone(),
        ..Context::default()
    };
    fuzz("arbitrary JSON", (json_object(), json_object()), |(object, old)| {
        run_all(&object, &old, &ctx, None)
    });
}

#[test]
fn mutated_clusters_and_machine_deployments_never_panic() {
    let plain = Context::default();
    // A Seed with a datacenter of each provider the examples name (so the rules that need one
    // run), one with extra settings and one of the wrong provider.
    let mut dcs: serde_json::Map<String, Value> = Provider::ALL
        .iter()
        .map(|p| (common::datacenter(*p), json!({ "spec": { p.name(): {} } })))
        .collect();
    dcs.insert(
        "hetzner-dc1".into(),
        json!({ "spec": { "hetzner": { "datacenter": "fsn1-dc14", "network": "kkp" }, "enforcePodSecurityPolicy": true } }),
    );
    dcs.insert(
        "aws-dc1".into(),
        json!({ "spec": { "hetzner": { "datacenter": "fsn1-dc14" } } }),
    );
    let seed = json!({
        "apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed",
        "metadata": { "name": "europe", "namespace": "kubermatic" },
        "spec": { "datacenters": dcs }
    });
    let with_policies = Context {
        policies: BUSY_POLICIES.clone(),
        cluster_version: Some(semver::Version::new(1, 35, 7)),
        datacenters: Some(Arc::new(Datacenters::from_seeds([&seed]).expect("a valid seed"))),
        ..Context::default()
    };
    fuzz("mutated objects", (mutated_pair(), user()), |((object, old), user)| {
        run_all(&object, &old, &plain, None)?;
        run_all(&object, &old, &with_policies, user.as_ref())
    });
}

#[test]
fn random_policies_never_panic() {
    let strategy = (
        prop::collection::vec(policy_spec(), 1..4),
        mutated_pair(),
        user(),
        prop_oneof![
            number()
                .prop_map(|n| json!({ "apiVersion": "autoscaling/v1", "kind": "Scale", "spec": { "replicas": n } })),
            json_value(),
        ],
    );
    fuzz("random policies", strategy, |(specs, (object, old), user, scale)| {
        let specs_len = specs.len();
        let policies: Vec<AdmissionPolicy> = specs
            .into_iter()
            .enumerate()
            .filter_map(|(i, spec)| policy(&format!("p{i}"), spec).ok())
            .collect();
        let (set, failed) = PolicySet::compile(&policies);
        count(format!("policies decoded {}/{}", policies.len(), specs_len));
        count(format!("policies compiled {}/{}", set.len(), policies.len()));
        prop_assert_eq!(set.len() + failed.len(), policies.len());
        for (name, error) in &failed {
            prop_assert!(!error.to_string().is_empty(), "policy {} failed without a reason", name);
        }
        let ctx = Context {
            policies: set,
            ..Context::default()
        };
        run_all(&object, &old, &ctx, user.as_ref())?;
        let scaled = evaluate_scale(&ctx.policies, &scale, Some(&old), None, user.as_ref());
        prop_assert!(scaled.violations.iter().all(|v| !v.message.is_empty()));
        Ok(())
    });
}

// ---- what the fuzzer found -------------------------------------------------------------------------

/// A defaulted Hetzner Cluster with a field no type models holding a map of many entries, and a policy whose
/// CEL rule fails on it (a string method called on the map).
fn cluster_with_a_map_where_a_rule_wants_a_string() -> (Value, Context) {
    let mut object = defaulted(&cluster(Provider::Hetzner));
    object["spec"]["extra"] = (0..16).map(|i| (format!("key{i}"), json!(i))).collect();
    let policy = policy(
        "strings",
        json!({ "rules": { "cel": [{ "name": "extra", "expression": "object.spec.extra.startsWith('a')" }] } }),
    )
    .expect("a policy");
    let (set, failed) = PolicySet::compile(&[policy]);
    assert!(failed.is_empty(), "{failed:?}");
    (
        object,
        Context {
            policies: set,
            ..Context::default()
        },
    )
}

/// Found by `random_policies_never_panic` (admit was not deterministic): the CEL crate prints the
/// value a rule failed on with `{:?}`, and a map's entries in hash order, so the same object got a
/// different denial message on every evaluation.
#[test]
fn cel_failure_messages_do_not_depend_on_map_order() {
    let (object, ctx) = cluster_with_a_map_where_a_rule_wants_a_string();
    let messages: BTreeSet<String> = (0..12)
        .map(|_| {
            let verdict = validate(&Request::create(&object), &ctx);
            assert!(!verdict.allowed(), "{verdict:?}");
            verdict.message()
        })
        .collect();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let message = messages.into_iter().next().unwrap_or_default();
    assert!(message.contains("the expression failed"), "{message}");
    assert!(
        !message.contains("key7"),
        "the map's entries are not in the message: {message}"
    );
}

/// The consequence: ratcheting compares messages, so an update that leaves such an object as it
/// was must be admitted (with a warning), not judged a new violation.
#[test]
fn an_unchanged_object_whose_cel_rule_fails_on_a_map_ratchets() {
    let (object, ctx) = cluster_with_a_map_where_a_rule_wants_a_string();
    for _ in 0..12 {
        let verdict = validate(&Request::update(&object, &object), &ctx);
        assert!(verdict.allowed(), "{}", verdict.message());
        let warned = verdict.violations.iter().filter(|v| v.enforcement == Enforcement::Warn);
        assert_eq!(warned.count(), 1, "{:?}", verdict.violations);
    }
}
