//! The Helm chart (charts/kkp-webhook) against `kubectl kkp install`: its copies of the manifests
//! and CRDs are the sources byte for byte, `helm lint` passes, `helm template` with the default
//! values renders exactly the objects `kubectl kkp install --dry-run=client` prints (object by
//! object, for both certificate sources), each value changes what it names and nothing else, bad
//! values are refused naming the value, and the CA the chart generates renews the webhook's
//! serving certificate. A real helm, built from its Go module, renders everything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kkp_e2e::plugin_support::{self, Ran};
use kkp_e2e::tools;
use pretty_assertions::assert_eq;
use serde::Deserialize as _;
use serde_json::{Value, json};

const RUN_TIMEOUT: Duration = Duration::from_secs(180);

fn root() -> PathBuf {
    plugin_support::workspace_root()
}

fn chart_dir() -> PathBuf {
    root().join("charts").join("kkp-webhook")
}

fn helm_command(args: &[&str]) -> Command {
    let helm = tools::helm().unwrap_or_else(|e| panic!("helm is needed for the chart tests: {e}"));
    let home = tempfile::tempdir().expect("a home for helm").keep();
    let mut command = Command::new(helm);
    command
        .args(args)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG");
    command
}

fn helm(args: &[&str]) -> Ran {
    plugin_support::run(helm_command(args), RUN_TIMEOUT).expect("helm runs")
}

/// `helm template` of the chart with `extra` arguments (values), CRDs included; must succeed.
fn template(extra: &[&str]) -> Vec<Value> {
    let chart = chart_dir();
    let mut args = vec![
        "template",
        "kkp-webhook",
        chart.to_str().expect("a UTF-8 path"),
        "--include-crds",
    ];
    args.extend_from_slice(extra);
    let ran = helm(&args);
    assert_eq!(ran.code, Some(0), "helm template failed: {}", ran.both());
    documents(&ran.stdout)
}

/// `kubectl-kkp install --dry-run=client -o yaml --show-secrets` with `extra` flags. It needs no
/// cluster: a client dry run sends nothing.
fn install_dry_run(extra: &[&str]) -> Vec<Value> {
    let plugin = plugin_support::plugin_dir().expect("the plugin builds");
    let home = tempfile::tempdir().expect("a home");
    let mut command = Command::new(plugin.join(plugin_support::PLUGIN_BINARY));
    command
        .args(["install", "--dry-run=client", "-o", "yaml", "--show-secrets"])
        .args(extra)
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("no-kubeconfig"));
    let ran = plugin_support::run(command, RUN_TIMEOUT).expect("the plugin runs");
    assert_eq!(ran.code, Some(0), "install --dry-run=client failed: {}", ran.both());
    documents(&ran.stdout)
}

fn documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).expect("YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// The objects by `kind namespace/name`; a key seen twice fails the test.
fn by_key(objects: Vec<Value>) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for object in objects {
        let key = format!(
            "{} {} {}/{}",
            object["apiVersion"].as_str().unwrap_or_default(),
            object["kind"].as_str().unwrap_or_default(),
            object["metadata"]["namespace"].as_str().unwrap_or_default(),
            object["metadata"]["name"].as_str().unwrap_or_default()
        );
        assert!(map.insert(key.clone(), object).is_none(), "{key} twice");
    }
    map
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind}");
    found[0]
}

/// The generated parts (the Secret's certificates and keys, the caBundles) replaced by a marker,
/// after checking they are there and agree: every caBundle is the Secret's CA.
fn without_generated(objects: Vec<Value>, what: &str) -> Vec<Value> {
    let secret = objects
        .iter()
        .find(|o| o["kind"] == "Secret")
        .unwrap_or_else(|| panic!("{what}: no Secret"))
        .clone();
    let data = secret["data"].as_object().expect("the Secret has data");
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "{what}: {keys:?}");
    for key in ["tls.crt", "tls.key", "ca.crt", "ca.key"] {
        let value = data.get(key).and_then(Value::as_str).unwrap_or_default();
        let decoded = STANDARD
            .decode(value)
            .unwrap_or_else(|e| panic!("{what}: {key} is not base64: {e}"));
        assert!(
            String::from_utf8_lossy(&decoded).contains("-----BEGIN "),
            "{what}: {key} is not PEM"
        );
    }
    let ca = data["ca.crt"].as_str().expect("ca.crt").to_owned();
    objects
        .into_iter()
        .map(|mut o| {
            if o["kind"] == "Secret" {
                for value in o["data"].as_object_mut().expect("data").values_mut() {
                    *value = json!("<generated>");
                }
            }
            if let Some(hooks) = o["webhooks"].as_array_mut() {
                for hook in hooks {
                    assert_eq!(
                        hook["clientConfig"]["caBundle"],
                        json!(ca),
                        "{what}: a caBundle is not the Secret's CA"
                    );
                    hook["clientConfig"]["caBundle"] = json!("<ca>");
                }
            }
            o
        })
        .collect()
}

fn assert_same_objects(helm: Vec<Value>, install: Vec<Value>) {
    let helm = by_key(helm);
    let install = by_key(install);
    assert_eq!(
        helm.keys().collect::<Vec<_>>(),
        install.keys().collect::<Vec<_>>(),
        "helm template and install render different objects"
    );
    for (key, object) in &helm {
        assert_eq!(object, &install[key], "{key} differs between helm template and install");
    }
}

fn yaml_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_chart_copies_are_the_manifests_and_crds_byte_for_byte() {
    let crds = root().join("crds");
    let report_crds = root().join("manifests").join("crds");
    for (sources, copy) in [
        (
            vec![root().join("manifests").join("webhook")],
            chart_dir().join("files"),
        ),
        (vec![crds, report_crds], chart_dir().join("crds")),
    ] {
        // Every file of the sources, by name, with the folder it comes from.
        let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
        for source in &sources {
            let names = yaml_files(source);
            assert!(!names.is_empty(), "{} has no manifests", source.display());
            for name in names {
                let path = source.join(&name);
                assert!(files.insert(name.clone(), path).is_none(), "{name} is in two sources");
            }
        }
        assert_eq!(
            yaml_files(&copy),
            files.keys().cloned().collect::<Vec<_>>(),
            "{} does not hold the files of {sources:?}; run 'make chart'",
            copy.display(),
        );
        for (name, source) in files {
            let a = std::fs::read(&source).expect("the source");
            let b = std::fs::read(copy.join(&name)).expect("the copy");
            assert!(
                a == b,
                "{} differs from its source {}; run 'make chart'",
                copy.join(&name).display(),
                source.display()
            );
        }
    }
}

#[test]
fn helm_lint_passes_with_the_defaults_and_with_cert_manager() {
    let chart = chart_dir();
    let chart = chart.to_str().expect("a UTF-8 path");
    for extra in [&[][..], &["--set", "certificates.source=cert-manager"][..]] {
        let mut args = vec!["lint", "--strict", chart];
        args.extend_from_slice(extra);
        let ran = helm(&args);
        assert_eq!(ran.code, Some(0), "helm lint {extra:?}: {}", ran.both());
        assert!(
            ran.stdout.contains("1 chart(s) linted, 0 chart(s) failed"),
            "{}",
            ran.both()
        );
    }
}

#[test]
fn helm_template_renders_exactly_what_install_applies_with_generated_certificates() {
    let helm = without_generated(template(&[]), "helm template");
    let install = without_generated(install_dry_run(&[]), "install");
    assert!(helm.len() >= 15, "too few objects: {}", helm.len());
    assert_same_objects(helm, install);
}

#[test]
fn helm_template_renders_exactly_what_install_applies_with_cert_manager() {
    let helm = template(&["--set", "certificates.source=cert-manager"]);
    let install = install_dry_run(&["--cert-manager"]);
    assert!(helm.iter().any(|o| o["kind"] == "Certificate"));
    assert!(
        !helm.iter().any(|o| o["kind"] == "Secret"),
        "cert-manager writes the Secret, not the chart"
    );
    assert_same_objects(helm, install);
}

#[test]
fn the_image_value_and_install_image_take_any_reference_alike() {
    for image in [
        "registry.example.org:5000/team/kkp-webhook:v0.1.0-rc.1",
        "kkp-webhook@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ] {
        let set = format!("image={image}");
        let helm = without_generated(template(&["--set", &set]), "helm template");
        let install = without_generated(install_dry_run(&["--image", image]), "install");
        assert_eq!(
            one(&helm, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"],
            json!(image)
        );
        assert_same_objects(helm, install);
    }
}

#[test]
fn each_value_changes_what_it_names_and_nothing_else() {
    let defaults = by_key(without_generated(template(&[]), "defaults"));
    let changed = template(&[
        "--set",
        "replicas=3",
        "--set",
        "resources.limits.memory=512Mi",
        "--set",
        "resources.requests.cpu=250m",
        "--set",
        "nodeSelector.node-role\\.kubernetes\\.io/control-plane=",
        "--set",
        "tolerations[0].key=node-role.kubernetes.io/control-plane",
        "--set",
        "tolerations[0].operator=Exists",
        "--set",
        "tolerations[0].effect=NoSchedule",
        "--set",
        "imagePullPolicy=Always",
        "--set",
        "exemptions.namespaces={kube-system,legacy}",
    ]);
    let changed = by_key(without_generated(changed, "changed"));
    assert_eq!(defaults.keys().collect::<Vec<_>>(), changed.keys().collect::<Vec<_>>());
    for (key, before) in &defaults {
        let after = &changed[key];
        match before["kind"].as_str().unwrap_or_default() {
            "Deployment" => {
                assert_eq!(after["spec"]["replicas"], json!(3));
                let pod = &after["spec"]["template"]["spec"];
                assert_eq!(
                    pod["nodeSelector"],
                    json!({"node-role.kubernetes.io/control-plane": ""})
                );
                assert_eq!(
                    pod["tolerations"],
                    json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}])
                );
                let container = &pod["containers"][0];
                assert_eq!(container["imagePullPolicy"], "Always");
                assert_eq!(
                    container["resources"],
                    json!({"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}})
                );
                // Everything else is the manifest's.
                let mut expected = before.clone();
                expected["spec"]["replicas"] = json!(3);
                expected["spec"]["template"]["spec"]["nodeSelector"] = pod["nodeSelector"].clone();
                expected["spec"]["template"]["spec"]["tolerations"] = pod["tolerations"].clone();
                expected["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("Always");
                expected["spec"]["template"]["spec"]["containers"][0]["resources"] = container["resources"].clone();
                assert_eq!(after, &expected);
            }
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" => {
                let mut expected = before.clone();
                for hook in expected["webhooks"].as_array_mut().expect("webhooks") {
                    hook["namespaceSelector"]["matchExpressions"]
                        .as_array_mut()
                        .expect("the exempt label's expression")
                        .push(json!({
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": ["kube-system", "legacy"]
                        }));
                }
                assert_eq!(after, &expected, "{key}");
            }
            _ => assert_eq!(after, before, "{key} changed"),
        }
    }
}

#[test]
fn without_create_namespace_the_namespace_is_left_out() {
    let objects = template(&["--set", "createNamespace=false"]);
    assert!(!objects.iter().any(|o| o["kind"] == "Namespace"));
    assert!(objects.iter().any(|o| o["kind"] == "Deployment"));
}

#[test]
fn bad_values_are_refused_naming_the_value() {
    let chart = chart_dir();
    let chart = chart.to_str().expect("a UTF-8 path");
    for (set, named) in [
        ("replicas=0", "'/replicas': minimum"),
        (
            "certificates.source=vault",
            "'/certificates/source': value must be one of",
        ),
        ("image=", "'/image'"),
        ("replica=2", "'replica' not allowed"),
        (
            "exemptions.namespaces={Not_A_Name}",
            "'/exemptions/namespaces/0': 'Not_A_Name' does not match",
        ),
        ("tolerations[0].operator=Sometimes", "'/tolerations/0/operator'"),
    ] {
        let ran = helm(&["template", "kkp-webhook", chart, "--set", set]);
        assert_ne!(ran.code, Some(0), "--set {set} was accepted: {}", ran.stdout);
        assert!(
            ran.stderr
                .contains("values don't meet the specifications of the schema"),
            "--set {set}: {}",
            ran.stderr
        );
        assert!(
            ran.stderr.contains(named),
            "--set {set}: the error does not name {named}: {}",
            ran.stderr
        );
    }
}

#[test]
fn the_generated_ca_renews_the_serving_certificate_for_the_service_names() {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;

    let objects = template(&[]);
    let secret = one(&objects, "Secret");
    let file = |key: &str| -> Vec<u8> {
        STANDARD
            .decode(secret["data"][key].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{key}: {e}"))
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    for key in ["ca.crt", "ca.key"] {
        std::fs::write(dir.path().join(key), file(key)).expect("write");
    }
    let served = CertificateDer::from_pem_slice(&file("tls.crt")).expect("tls.crt is a PEM certificate");
    let ca = kkp_webhook::renewal::Ca::read(&dir.path().join("ca.crt"), &dir.path().join("ca.key"))
        .unwrap_or_else(|e| panic!("the webhook cannot use the chart's CA: {e}"));
    assert!(
        ca.issued(&served),
        "the chart's CA did not issue its serving certificate"
    );
    let renewed = kkp_webhook::renewal::issue_like(
        &ca,
        &served,
        Duration::from_secs(86_400),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap_or_else(|e| panic!("renewing from the chart's CA: {e}"));
    let leaf = renewed.chain.first().expect("a renewed certificate");
    assert!(ca.issued(leaf), "the renewed certificate is not the CA's");
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf).expect("the renewed certificate parses");
    let names: Vec<String> = parsed
        .subject_alternative_name()
        .expect("SANs parse")
        .map(|san| san.value.general_names.iter().map(|n| n.to_string()).collect())
        .unwrap_or_default();
    for dns in kkp_manifests::SERVICE_DNS_NAMES {
        assert!(names.iter().any(|n| n.contains(dns)), "{dns} missing from {names:?}");
    }
}
