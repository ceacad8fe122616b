//! The embedded manifests parse as the typed Kubernetes objects they claim to be, and agree with
//! the server: paths, ports, Secret, probes, security and least-privilege RBAC.

use std::collections::BTreeMap;

use base64::Engine as _;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhook,
    ValidatingWebhookConfiguration, WebhookClientConfig,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Namespace, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kkp_manifests::{
    CA_BUNDLE_PLACEHOLDER, CA_CERT_KEY, CA_KEY_KEY, DEFAULT_IMAGE, HEALTH_PORT, HEALTHZ_PATH, MUTATE_PATH, NAME,
    NAMESPACE, READYZ_PATH, SERVICE_DNS_NAMES, TLS_PORT, TLS_SECRET_NAME, VALIDATE_EXEMPTION_PATH, VALIDATE_PATH,
    VALIDATE_POLICY_PATH, VALIDATE_SCALE_PATH, Variant, tls_secret, webhook_manifests, with_ca_bundle, with_image,
};
use serde::Deserialize;
use serde_json::Value;

const VARIANTS: [Variant; 2] = [Variant::CertManager, Variant::GeneratedCerts];

/// Every document of every manifest of a variant, as JSON.
fn documents(variant: Variant) -> Vec<Value> {
    webhook_manifests(variant)
        .into_iter()
        .flat_map(|(name, yaml)| parse_all(name, yaml))
        .collect()
}

fn parse_all(name: &str, yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{name} does not parse: {e}")))
        .collect()
}

fn kind_of(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

/// The one document of a kind, as its typed object.
fn one<T: serde::de::DeserializeOwned>(docs: &[Value], kind: &str) -> T {
    let found: Vec<&Value> = docs.iter().filter(|d| kind_of(d) == kind).collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind}");
    serde_json::from_value(found[0].clone()).unwrap_or_else(|e| panic!("{kind} does not match its type: {e}"))
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn every_document_has_api_version_kind_and_name() {
    for variant in VARIANTS {
        let docs = documents(variant);
        assert!(docs.len() >= 9, "{variant:?}: too few documents: {}", docs.len());
        for doc in &docs {
            assert!(doc["apiVersion"].is_string(), "{doc}");
            assert!(!kind_of(doc).is_empty(), "{doc}");
            assert!(doc["metadata"]["name"].is_string(), "{doc}");
        }
    }
}

#[test]
fn namespaced_objects_live_in_kkp_system() {
    let cluster_scoped = [
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ];
    for variant in VARIANTS {
        for doc in documents(variant) {
            let ns = doc["metadata"]["namespace"].as_str();
            if cluster_scoped.contains(&kind_of(&doc)) {
                assert_eq!(ns, None, "{} is cluster-scoped", kind_of(&doc));
            } else {
                assert_eq!(ns, Some(NAMESPACE), "{} {}", kind_of(&doc), doc["metadata"]["name"]);
            }
        }
    }
    let docs = documents(Variant::GeneratedCerts);
    let ns: Namespace = one(&docs, "Namespace");
    assert_eq!(ns.metadata.name.as_deref(), Some(NAMESPACE));
}

#[test]
fn the_namespace_comes_first() {
    for variant in VARIANTS {
        assert_eq!(kind_of(&documents(variant)[0]), "Namespace");
    }
}

fn expect_rule(rule: &RuleWithOperations, group: &str, version: &str, resource: &str, scope: &str) {
    assert_eq!(rule.api_groups.as_deref(), Some(&[group.to_string()][..]));
    assert_eq!(rule.api_versions.as_deref(), Some(&[version.to_string()][..]));
    assert_eq!(rule.resources.as_deref(), Some(&[resource.to_string()][..]));
    assert_eq!(
        rule.operations.as_deref(),
        Some(&["CREATE".to_string(), "UPDATE".to_string()][..])
    );
    assert_eq!(rule.scope.as_deref(), Some(scope));
}

fn expect_rules(rules: Option<&Vec<RuleWithOperations>>) {
    let rules = rules.expect("rules");
    assert_eq!(rules.len(), 2);
    expect_rule(&rules[0], "kubermatic.k8c.io", "v1", "clusters", "Cluster");
    expect_rule(
        &rules[1],
        "cluster.k8s.io",
        "v1alpha1",
        "machinedeployments",
        "Namespaced",
    );
}

fn expect_client(client: &WebhookClientConfig, path: &str, variant: Variant) {
    assert_eq!(client.url, None);
    let service = client.service.as_ref().expect("service reference");
    assert_eq!(service.name, NAME);
    assert_eq!(service.namespace, NAMESPACE);
    assert_eq!(service.path.as_deref(), Some(path));
    assert_eq!(service.port, Some(443));
    match variant {
        Variant::CertManager => assert!(client.ca_bundle.is_none(), "cert-manager injects the caBundle"),
        Variant::GeneratedCerts => assert_eq!(
            client.ca_bundle.as_ref().map(|b| b.0.clone()),
            Some(
                base64::engine::general_purpose::STANDARD
                    .decode(CA_BUNDLE_PLACEHOLDER)
                    .unwrap()
            )
        ),
    }
}

fn mutating(variant: Variant) -> MutatingWebhook {
    let config: MutatingWebhookConfiguration = one(&documents(variant), "MutatingWebhookConfiguration");
    let hooks = config.webhooks.expect("webhooks");
    assert_eq!(hooks.len(), 1);
    hooks.into_iter().next().unwrap()
}

fn validating_hooks(variant: Variant) -> Vec<ValidatingWebhook> {
    let config: ValidatingWebhookConfiguration = one(&documents(variant), "ValidatingWebhookConfiguration");
    config.webhooks.expect("webhooks")
}

fn validating(variant: Variant) -> ValidatingWebhook {
    let hooks = validating_hooks(variant);
    assert_eq!(hooks.len(), 4);
    hooks.into_iter().next().unwrap()
}

#[test]
fn policies_and_scale_requests_are_validated_too() {
    assert_eq!(VALIDATE_POLICY_PATH, "/validate-policy");
    assert_eq!(VALIDATE_SCALE_PATH, "/validate-scale");
    for variant in VARIANTS {
        let hooks = validating_hooks(variant);
        let names: Vec<&str> = hooks.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "validation.kkp-webhook.kubectl-kkp.io",
                "policies.kkp-webhook.kubectl-kkp.io",
                "scale.kkp-webhook.kubectl-kkp.io",
                "exemptions.kkp-webhook.kubectl-kkp.io"
            ]
        );
        expect_client(&hooks[3].client_config, VALIDATE_EXEMPTION_PATH, variant);
        for (hook, path, group, version, resource, scope, operations) in [
            (
                &hooks[1],
                VALIDATE_POLICY_PATH,
                "policy.kubectl-kkp.io",
                "v1alpha1",
                "admissionpolicies",
                "Cluster",
                &["CREATE", "UPDATE"][..],
            ),
            (
                &hooks[2],
                VALIDATE_SCALE_PATH,
                "cluster.k8s.io",
                "v1alpha1",
                "machinedeployments/scale",
                "Namespaced",
                &["UPDATE"][..],
            ),
        ] {
            expect_client(&hook.client_config, path, variant);
            let rules = hook.rules.as_ref().expect("rules");
            assert_eq!(rules.len(), 1);
            let rule = &rules[0];
            assert_eq!(rule.api_groups.as_deref(), Some(&[group.to_string()][..]));
            assert_eq!(rule.api_versions.as_deref(), Some(&[version.to_string()][..]));
            assert_eq!(rule.resources.as_deref(), Some(&[resource.to_string()][..]));
            let expected: Vec<String> = operations.iter().map(|o| o.to_string()).collect();
            assert_eq!(rule.operations.as_deref(), Some(&expected[..]));
            assert_eq!(rule.scope.as_deref(), Some(scope));
            assert_eq!(hook.failure_policy.as_deref(), Some("Fail"));
            assert_eq!(hook.side_effects, "None");
            assert!(hook.timeout_seconds.is_some_and(|t| (1..=5).contains(&t)));
        }
    }
}

#[test]
fn the_mutating_webhook_calls_the_mutate_path() {
    assert_eq!(MUTATE_PATH, "/mutate");
    for variant in VARIANTS {
        let hook = mutating(variant);
        expect_client(&hook.client_config, MUTATE_PATH, variant);
        expect_rules(hook.rules.as_ref());
        assert_eq!(hook.failure_policy.as_deref(), Some("Fail"));
        assert_eq!(hook.side_effects, "None");
        assert_eq!(hook.reinvocation_policy.as_deref(), Some("IfNeeded"));
        assert_eq!(hook.admission_review_versions, ["v1"]);
        assert!(hook.timeout_seconds.is_some_and(|t| (1..=5).contains(&t)));
        assert!(hook.name.contains('.'), "webhook names must be fully qualified");
    }
}

#[test]
fn the_validating_webhook_calls_the_validate_path() {
    assert_eq!(VALIDATE_PATH, "/validate");
    for variant in VARIANTS {
        let hook = validating(variant);
        expect_client(&hook.client_config, VALIDATE_PATH, variant);
        expect_rules(hook.rules.as_ref());
        assert_eq!(hook.failure_policy.as_deref(), Some("Fail"));
        assert_eq!(hook.side_effects, "None");
        assert_eq!(hook.admission_review_versions, ["v1"]);
        assert!(hook.timeout_seconds.is_some_and(|t| (1..=5).contains(&t)));
        assert!(hook.name.contains('.'));
    }
}

#[test]
fn cert_manager_injects_the_ca_of_the_serving_certificate() {
    let docs = documents(Variant::CertManager);
    let inject = format!("{NAMESPACE}/{TLS_SECRET_NAME}");
    for kind in ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] {
        let doc = docs.iter().find(|d| kind_of(d) == kind).unwrap();
        assert_eq!(
            doc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            inject.as_str()
        );
    }
    let serving = docs
        .iter()
        .find(|d| kind_of(d) == "Certificate" && d["metadata"]["name"] == TLS_SECRET_NAME)
        .expect("serving Certificate");
    assert_eq!(serving["spec"]["secretName"], TLS_SECRET_NAME);
    let dns: Vec<&str> = serving["spec"]["dnsNames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(dns, SERVICE_DNS_NAMES);
    // The serving certificate is issued by a CA Issuer, itself backed by a CA Certificate.
    let issuer = serving["spec"]["issuerRef"]["name"].as_str().unwrap();
    let ca_issuer = docs
        .iter()
        .find(|d| kind_of(d) == "Issuer" && d["metadata"]["name"] == issuer)
        .unwrap();
    let ca_secret = ca_issuer["spec"]["ca"]["secretName"].as_str().unwrap();
    let ca_cert = docs
        .iter()
        .find(|d| kind_of(d) == "Certificate" && d["spec"]["secretName"] == ca_secret)
        .unwrap();
    assert_eq!(ca_cert["spec"]["isCA"], true);
}

#[test]
fn the_generated_variant_has_no_cert_manager_objects() {
    let docs = documents(Variant::GeneratedCerts);
    assert!(
        docs.iter()
            .all(|d| !d["apiVersion"].as_str().unwrap().starts_with("cert-manager.io"))
    );
}

fn webhook_container(deployment: &Deployment) -> Container {
    let pod = deployment.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    assert_eq!(pod.containers.len(), 1);
    pod.containers[0].clone()
}

fn port_named(container: &Container, name: &str) -> i32 {
    container
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| p.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no container port {name}"))
        .container_port
}

#[test]
fn the_deployment_runs_two_restricted_replicas() {
    let deployment: Deployment = one(&documents(Variant::GeneratedCerts), "Deployment");
    let spec = deployment.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(2));
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some(NAME));
    let pod_security = pod.security_context.as_ref().unwrap();
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert_eq!(pod_security.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");

    let container = webhook_container(&deployment);
    assert_eq!(container.image.as_deref(), Some(DEFAULT_IMAGE));
    let security = container.security_context.as_ref().unwrap();
    assert_eq!(security.run_as_non_root, Some(true));
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(
        security.capabilities.as_ref().unwrap().drop.as_deref(),
        Some(&["ALL".to_string()][..])
    );
    assert_eq!(security.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");

    let resources = container.resources.as_ref().unwrap();
    for key in ["cpu", "memory"] {
        assert!(resources.requests.as_ref().unwrap().contains_key(key), "request {key}");
        assert!(resources.limits.as_ref().unwrap().contains_key(key), "limit {key}");
    }
}

#[test]
fn the_deployment_serves_tls_and_health_on_the_expected_ports() {
    let deployment: Deployment = one(&documents(Variant::GeneratedCerts), "Deployment");
    let container = webhook_container(&deployment);
    assert_eq!(port_named(&container, "https"), i32::from(TLS_PORT));
    assert_eq!(port_named(&container, "health"), i32::from(HEALTH_PORT));
    let args = container.args.clone().unwrap();
    assert!(
        args.contains(&format!("--listen-address=0.0.0.0:{TLS_PORT}")),
        "{args:?}"
    );
    assert!(
        args.contains(&format!("--health-listen-address=0.0.0.0:{HEALTH_PORT}")),
        "{args:?}"
    );
    assert!(args.contains(&"--log-format=json".to_string()));

    for (probe, path) in [
        (&container.liveness_probe, HEALTHZ_PATH),
        (&container.readiness_probe, READYZ_PATH),
    ] {
        let get = probe.as_ref().unwrap().http_get.as_ref().unwrap();
        assert_eq!(get.path.as_deref(), Some(path));
        assert_eq!(get.port, IntOrString::String("health".into()));
    }

    // The certificate files the server reads come from the TLS Secret's mount.
    let mount = &container.volume_mounts.as_ref().unwrap()[0];
    assert_eq!(mount.read_only, Some(true));
    let cert_arg = args.iter().find_map(|a| a.strip_prefix("--tls-cert-file=")).unwrap();
    let key_arg = args
        .iter()
        .find_map(|a| a.strip_prefix("--tls-private-key-file="))
        .unwrap();
    assert_eq!(cert_arg, format!("{}/tls.crt", mount.mount_path));
    assert_eq!(key_arg, format!("{}/tls.key", mount.mount_path));
    // And the CA the webhook renews its certificate from, from the same Secret.
    for (flag, key) in [("--ca-cert-file=", CA_CERT_KEY), ("--ca-key-file=", CA_KEY_KEY)] {
        let arg = args.iter().find_map(|a| a.strip_prefix(flag)).unwrap();
        assert_eq!(arg, format!("{}/{key}", mount.mount_path));
    }
    let pod = deployment.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let volume = pod
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == mount.name)
        .unwrap();
    assert_eq!(
        volume.secret.as_ref().unwrap().secret_name.as_deref(),
        Some(TLS_SECRET_NAME)
    );
}

#[test]
fn service_and_pdb_select_the_deployments_pods() {
    let docs = documents(Variant::CertManager);
    let deployment: Deployment = one(&docs, "Deployment");
    let spec = deployment.spec.as_ref().unwrap();
    let pod_labels = spec.template.metadata.as_ref().unwrap().labels.clone().unwrap();
    let selector = spec.selector.match_labels.clone().unwrap();
    assert!(selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v)));

    let service: Service = one(&docs, "Service");
    assert_eq!(service.metadata.name.as_deref(), Some(NAME));
    let service_spec = service.spec.unwrap();
    let service_selector = service_spec.selector.unwrap();
    assert!(service_selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v)));
    let https = service_spec
        .ports
        .unwrap()
        .into_iter()
        .find(|p| p.port == 443)
        .expect("port 443");
    assert_eq!(https.target_port, Some(IntOrString::String("https".into())));

    let pdb: PodDisruptionBudget = one(&docs, "PodDisruptionBudget");
    let pdb_spec = pdb.spec.unwrap();
    assert_eq!(pdb_spec.min_available, Some(IntOrString::Int(1)));
    assert_eq!(pdb_spec.selector.unwrap().match_labels, Some(selector));
    assert!(
        labels(&[("app.kubernetes.io/name", NAME)])
            .iter()
            .all(|(k, v)| pod_labels.get(k) == Some(v))
    );
}

#[test]
fn rbac_reads_policies_and_the_platform_configuration_and_patches_policy_status() {
    let docs = documents(Variant::GeneratedCerts);
    let account: ServiceAccount = one(&docs, "ServiceAccount");
    assert_eq!(account.metadata.name.as_deref(), Some(NAME));
    let role: ClusterRole = one(&docs, "ClusterRole");
    let rules = role.rules.unwrap();
    let granted: Vec<(String, String, Vec<String>)> = rules
        .iter()
        .flat_map(|r| {
            let groups = r.api_groups.clone().unwrap_or_default();
            let resources = r.resources.clone().unwrap_or_default();
            groups
                .into_iter()
                .flat_map(move |g| resources.clone().into_iter().map(move |res| (g.clone(), res)))
                .map(|(g, res)| (g, res, r.verbs.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let report_verbs: Vec<String> = ["list", "create", "patch", "delete"].map(String::from).to_vec();
    assert_eq!(
        granted,
        [
            (
                "policy.kubectl-kkp.io".into(),
                "admissionpolicies".into(),
                vec!["list".into(), "watch".into()]
            ),
            (
                "policy.kubectl-kkp.io".into(),
                "admissionpolicies/status".into(),
                vec!["patch".into()]
            ),
            (
                "kubermatic.k8c.io".into(),
                "kubermaticconfigurations".into(),
                vec!["get".into(), "list".into(), "watch".into()]
            ),
            (
                "kubermatic.k8c.io".into(),
                "seeds".into(),
                vec!["get".into(), "list".into(), "watch".into()]
            ),
            (
                "cluster.k8s.io".into(),
                "machinedeployments".into(),
                vec!["list".into(), "watch".into()]
            ),
            (
                "kubermatic.k8c.io".into(),
                "clusters".into(),
                vec!["list".into(), "watch".into()]
            ),
            ("wgpolicyk8s.io".into(), "policyreports".into(), report_verbs.clone()),
            ("wgpolicyk8s.io".into(), "clusterpolicyreports".into(), report_verbs),
        ]
    );
    assert!(
        rules
            .iter()
            .all(|r| r.resource_names.is_none() && r.non_resource_urls.is_none())
    );
    let binding: ClusterRoleBinding = one(&docs, "ClusterRoleBinding");
    assert_eq!(binding.role_ref.name, NAME);
    let subject = &binding.subjects.unwrap()[0];
    assert_eq!((subject.kind.as_str(), subject.name.as_str()), ("ServiceAccount", NAME));
    assert_eq!(subject.namespace.as_deref(), Some(NAMESPACE));
}

#[test]
fn the_ca_bundle_placeholder_is_replaced() {
    let (_, yaml) = webhook_manifests(Variant::GeneratedCerts).pop().unwrap();
    // One per webhook: defaulting, validation, policies, scale and exemptions.
    assert_eq!(yaml.matches(CA_BUNDLE_PLACEHOLDER).count(), 5);
    let pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let filled = with_ca_bundle(yaml, pem);
    assert!(!filled.contains(CA_BUNDLE_PLACEHOLDER));
    let docs = parse_all("filled", &filled);
    let config: ValidatingWebhookConfiguration = serde_json::from_value(
        docs.into_iter()
            .find(|d| kind_of(d) == "ValidatingWebhookConfiguration")
            .unwrap(),
    )
    .unwrap();
    let bundle = config.webhooks.unwrap()[0].client_config.ca_bundle.clone().unwrap();
    assert_eq!(bundle.0, pem);
}

#[test]
fn the_image_can_be_replaced() {
    let (_, yaml) = webhook_manifests(Variant::CertManager)
        .into_iter()
        .find(|(n, _)| *n == "deployment.yaml")
        .unwrap();
    let docs = parse_all("deployment", &with_image(yaml, "registry.example/kkp-webhook:dev"));
    let deployment: Deployment = serde_json::from_value(docs[0].clone()).unwrap();
    assert_eq!(
        webhook_container(&deployment).image.as_deref(),
        Some("registry.example/kkp-webhook:dev")
    );
}

#[test]
fn the_tls_secret_holds_the_certificate_and_key() {
    let secret = tls_secret(b"CERT", b"KEY", b"CA", b"CAKEY");
    let docs = parse_all("secret", &secret);
    let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(docs[0].clone()).unwrap();
    assert_eq!(secret.metadata.name.as_deref(), Some(TLS_SECRET_NAME));
    assert_eq!(secret.metadata.namespace.as_deref(), Some(NAMESPACE));
    assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
    let data = secret.data.unwrap();
    assert_eq!(data["tls.crt"].0, b"CERT");
    assert_eq!(data["tls.key"].0, b"KEY");
    assert_eq!(data["ca.crt"].0, b"CA");
    assert_eq!(data["ca.key"].0, b"CAKEY");
}

#[test]
fn a_network_policy_opens_only_the_tls_port_and_metrics_to_monitoring() {
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    for variant in VARIANTS {
        let docs = documents(variant);
        let policy: NetworkPolicy = one(&docs, "NetworkPolicy");
        let deployment: Deployment = one(&docs, "Deployment");
        let spec = policy.spec.expect("a spec");
        // It selects the webhook's pods.
        let pod_labels = deployment.spec.unwrap().template.metadata.unwrap().labels.unwrap();
        let selected = spec.pod_selector.unwrap().match_labels.unwrap();
        assert!(!selected.is_empty());
        for (k, v) in &selected {
            assert_eq!(pod_labels.get(k), Some(v), "the policy selects the pods by {k}");
        }
        assert_eq!(spec.policy_types.as_deref(), Some(&["Ingress".to_string()][..]));
        let rules = spec.ingress.expect("ingress rules");
        assert_eq!(rules.len(), 2, "one rule for the apiserver, one for metrics");
        let port_of = |rule: &k8s_openapi::api::networking::v1::NetworkPolicyIngressRule| {
            let ports = rule.ports.as_ref().expect("ports");
            assert_eq!(ports.len(), 1, "each rule opens one port");
            assert_eq!(ports[0].protocol.as_deref(), Some("TCP"));
            match ports[0].port.as_ref().expect("a port") {
                IntOrString::Int(p) => *p,
                IntOrString::String(s) => panic!("a numeric port, not {s}"),
            }
        };
        let tls = rules
            .iter()
            .find(|r| port_of(r) == i32::from(TLS_PORT))
            .expect("the TLS port is open");
        let peers = tls.from.as_ref().expect("peers");
        let cidrs: Vec<&str> = peers
            .iter()
            .map(|p| {
                p.ip_block
                    .as_ref()
                    .expect("the apiserver is named by address")
                    .cidr
                    .as_str()
            })
            .collect();
        assert_eq!(cidrs, ["0.0.0.0/0", "::/0"], "open to the apiserver wherever it runs");
        let metrics = rules
            .iter()
            .find(|r| port_of(r) == i32::from(HEALTH_PORT))
            .expect("the metrics port is open");
        let peers = metrics.from.as_ref().expect("peers");
        assert_eq!(peers.len(), 1);
        assert!(peers[0].ip_block.is_none() && peers[0].pod_selector.is_none());
        assert_eq!(
            peers[0].namespace_selector.as_ref().unwrap().match_labels,
            Some(labels(&[("kubernetes.io/metadata.name", "monitoring")])),
            "only the monitoring namespace scrapes metrics"
        );
        // Applied after the Deployment's namespace exists.
        let names: Vec<&str> = webhook_manifests(variant).iter().map(|(n, _)| *n).collect();
        let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(at("namespace.yaml") < at("networkpolicy.yaml"));
    }
}
