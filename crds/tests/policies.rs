//! Admission policies: every rule with a case that passes and one that fails, selection,
//! exemptions, enforcement, and policies that do not compile.

mod common;

use common::{cluster, defaulted, machine_deployment, with};
use kkp_crds::admission::{Context, Request, ResourceKind, UserInfo, admit, validate};
use kkp_crds::policy::{AdmissionPolicy, Enforcement, PolicySet, compile, evaluate};
use kkp_crds::providers::Provider;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn policy(name: &str, spec: Value) -> AdmissionPolicy {
    serde_json::from_value(json!({
        "apiVersion": "policy.kubectl-kkp.io/v1alpha1",
        "kind": "AdmissionPolicy",
        "metadata": { "name": name },
        "spec": spec
    }))
    .expect("a policy")
}

fn set(policies: &[AdmissionPolicy]) -> PolicySet {
    let (set, failed) = PolicySet::compile(policies);
    assert!(failed.is_empty(), "{failed:?}");
    set
}

/// The violation messages of one policy with these rules on this object.
fn violations(rules: Value, object: &Value) -> Vec<String> {
    let s = set(&[policy("p", json!({ "rules": rules }))]);
    evaluate(&s, &ResourceKind::of(object), object, None)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn hetzner_cluster() -> Value {
    defaulted(&cluster(Provider::Hetzner))
}

fn hetzner_md() -> Value {
    defaulted(&machine_deployment(Provider::Hetzner))
}

#[test]
fn providers_rule() {
    assert_eq!(
        violations(json!({ "providers": ["hetzner"] }), &hetzner_cluster()),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(json!({ "providers": ["aws", "openstack"] }), &hetzner_cluster()),
        ["policy \"p\" rule providers: provider \"hetzner\" is not allowed; allowed: aws, openstack",]
    );
    assert_eq!(
        violations(json!({ "providers": ["aws"] }), &hetzner_md()),
        ["policy \"p\" rule providers: provider \"hetzner\" is not allowed; allowed: aws",]
    );
    let gce = defaulted(&machine_deployment(Provider::Gcp));
    assert_eq!(violations(json!({ "providers": ["gcp"] }), &gce), Vec::<String>::new());
}

#[test]
fn datacenters_rule() {
    assert_eq!(
        violations(json!({ "datacenters": ["hetzner-dc1"] }), &hetzner_cluster()),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(json!({ "datacenters": ["hetzner-nbg1"] }), &hetzner_cluster()),
        ["policy \"p\" rule datacenters: datacenter \"hetzner-dc1\" is not allowed; allowed: hetzner-nbg1",]
    );
}

#[test]
fn kubernetes_versions_rule() {
    assert_eq!(
        violations(json!({ "kubernetesVersions": ">=1.35, <1.36" }), &hetzner_cluster()),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(json!({ "kubernetesVersions": ">=1.36" }), &hetzner_cluster()),
        ["policy \"p\" rule kubernetesVersions: Kubernetes version \"1.35.7\" is not allowed; allowed: >=1.36",]
    );
    assert_eq!(
        violations(json!({ "kubernetesVersions": "~1.34" }), &hetzner_md()),
        ["policy \"p\" rule kubernetesVersions: kubelet version \"1.35.7\" is not allowed; allowed: ~1.34",]
    );
}

#[test]
fn cni_and_expose_strategy_rules() {
    assert_eq!(
        violations(
            json!({ "cniTypes": ["cilium"], "exposeStrategies": ["NodePort"] }),
            &hetzner_cluster()
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(
            json!({ "cniTypes": ["canal"], "exposeStrategies": ["LoadBalancer", "Tunneling"] }),
            &hetzner_cluster()
        ),
        [
            "policy \"p\" rule cniTypes: CNI \"cilium\" is not allowed; allowed: canal",
            "policy \"p\" rule exposeStrategies: expose strategy \"NodePort\" is not allowed; allowed: LoadBalancer, Tunneling",
        ]
    );
}

#[test]
fn instance_sizes_rule() {
    assert_eq!(
        violations(
            json!({ "instanceSizes": { "hetzner": ["cx22", "cx32"] } }),
            &hetzner_md()
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(json!({ "instanceSizes": { "hetzner": ["cx11"] } }), &hetzner_md()),
        ["policy \"p\" rule instanceSizes.hetzner: serverType \"cx22\" is not allowed; allowed: cx11",]
    );
    let aws = defaulted(&machine_deployment(Provider::Aws));
    assert_eq!(
        violations(json!({ "instanceSizes": { "aws": ["t3.small"] } }), &aws),
        ["policy \"p\" rule instanceSizes.aws: instanceType \"t3.medium\" is not allowed; allowed: t3.small",]
    );
    for (p, field, value) in [
        (Provider::Azure, "vmSize", "Standard_D2s_v3"),
        (Provider::Gcp, "machineType", "n1-standard-2"),
        (Provider::Openstack, "flavor", "m1.medium"),
        (Provider::Digitalocean, "size", "s-2vcpu-4gb"),
    ] {
        let md = defaulted(&machine_deployment(p));
        let rules = json!({ "instanceSizes": { p.name(): ["tiny"] } });
        assert_eq!(
            violations(rules, &md),
            [format!(
                "policy \"p\" rule instanceSizes.{}: {field} {value:?} is not allowed; allowed: tiny",
                p.name()
            )]
        );
    }
}

#[test]
fn vsphere_and_kubevirt_limits() {
    let vs = defaulted(&machine_deployment(Provider::Vsphere));
    assert_eq!(
        violations(json!({ "vsphere": { "maxCPUs": 2, "maxMemoryMB": 4096 } }), &vs),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(json!({ "vsphere": { "maxCPUs": 1, "maxMemoryMB": 2048 } }), &vs),
        [
            "policy \"p\" rule vsphere.maxCPUs: 2 CPUs exceed the maximum of 1",
            "policy \"p\" rule vsphere.maxMemoryMB: 4096 MB of memory exceed the maximum of 2048 MB",
        ]
    );
    let kv = defaulted(&machine_deployment(Provider::Kubevirt));
    assert_eq!(
        violations(json!({ "kubevirt": { "maxCPUs": 4, "maxMemory": "8Gi" } }), &kv),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(json!({ "kubevirt": { "maxCPUs": 1, "maxMemory": "2Gi" } }), &kv),
        [
            "policy \"p\" rule kubevirt.maxCPUs: 2 CPUs exceed the maximum of 1",
            "policy \"p\" rule kubevirt.maxMemory: memory exceeds the maximum of 2Gi",
        ]
    );
}

#[test]
fn replica_and_worker_limits() {
    let md = with(&hetzner_md(), "/spec/replicas", json!(5));
    assert_eq!(
        violations(json!({ "maxReplicas": 5, "maxWorkers": 10 }), &md),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(json!({ "maxReplicas": 3, "maxWorkers": 4 }), &md),
        [
            "policy \"p\" rule maxReplicas: 5 replicas exceed the maximum of 3",
            "policy \"p\" rule maxWorkers: 5 workers exceed the maximum of 4 per cluster",
        ]
    );
    let request = json!({ "spec": { "replicas": 7 } }).to_string();
    let c = with(
        &hetzner_cluster(),
        "/metadata/annotations",
        json!({ "kubermatic.io/initial-machinedeployment-request": request }),
    );
    assert_eq!(
        violations(json!({ "maxWorkers": 4 }), &c),
        ["policy \"p\" rule maxWorkers: 7 workers exceed the maximum of 4 per cluster",]
    );
}

#[test]
fn required_labels_and_annotations() {
    let rules = json!({ "requiredLabels": ["project-id", "team=platform"], "requiredAnnotations": ["owner"] });
    assert_eq!(
        violations(rules.clone(), &hetzner_cluster()),
        [
            "policy \"p\" rule requiredLabels: the label team=platform is required",
            "policy \"p\" rule requiredAnnotations: the annotation owner is required",
        ]
    );
    let c = with(&hetzner_cluster(), "/metadata/labels/team", json!("platform"));
    let c = with(&c, "/metadata/annotations/owner", json!("alice"));
    assert_eq!(violations(rules, &c), Vec::<String>::new());
}

#[test]
fn inline_credentials_can_be_forbidden() {
    let rules = json!({ "forbidInlineCredentials": true });
    assert_eq!(violations(rules.clone(), &hetzner_cluster()), Vec::<String>::new());
    let inline = with(&hetzner_cluster(), "/spec/cloud/hetzner/token", json!("secret-token"));
    assert_eq!(
        violations(rules.clone(), &inline),
        [
            "policy \"p\" rule forbidInlineCredentials: credentials must come from a reference, not inline: spec.cloud.hetzner.token",
        ]
    );
    assert_eq!(
        violations(rules.clone(), &hetzner_md()),
        [
            "policy \"p\" rule forbidInlineCredentials: credentials must come from a reference, not inline: spec.template.spec.providerSpec.value.cloudProviderSpec.token",
        ]
    );
    let by_ref = with(
        &hetzner_md(),
        "/spec/template/spec/providerSpec/value/cloudProviderSpec/token",
        json!({ "secretKeyRef": { "namespace": "kube-system", "name": "hetzner", "key": "token" } }),
    );
    assert_eq!(violations(rules, &by_ref), Vec::<String>::new());
}

#[test]
fn cel_rules() {
    let rules = json!({ "cel": [
        { "name": "named-humanly", "expression": "kind != 'Cluster' || object.spec.humanReadableName.startsWith('team-')", "message": "human names start with team-" },
        { "name": "few-replicas", "expression": "kind != 'MachineDeployment' || object.spec.replicas <= 3" }
    ] });
    assert_eq!(
        violations(rules.clone(), &hetzner_cluster()),
        ["policy \"p\" rule cel.named-humanly: human names start with team-",]
    );
    let named = with(&hetzner_cluster(), "/spec/humanReadableName", json!("team-a"));
    assert_eq!(violations(rules.clone(), &named), Vec::<String>::new());
    assert_eq!(
        violations(rules.clone(), &with(&hetzner_md(), "/spec/replicas", json!(2))),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(rules, &with(&hetzner_md(), "/spec/replicas", json!(9))),
        ["policy \"p\" rule cel.few-replicas: kind != 'MachineDeployment' || object.spec.replicas <= 3 must hold",]
    );
}

#[test]
fn selector_and_exemptions() {
    let p = policy(
        "team-a",
        json!({
            "selector": { "matchLabels": { "project-id": "xw2k9fgh4t" } },
            "exemptions": { "users": ["admin"], "groups": ["platform-admins"] },
            "rules": { "providers": ["aws"] }
        }),
    );
    let s = set(&[p]);
    let c = hetzner_cluster();
    let kind = ResourceKind::of(&c);
    let exempt = UserInfo {
        username: "admin".into(),
        groups: vec![],
    };
    assert_eq!(
        kkp_crds::policy::evaluate_all(&s, &kind, &c, Some(&exempt)).matched,
        Vec::<String>::new()
    );
    assert_eq!(kkp_crds::policy::evaluate_all(&s, &kind, &c, None).matched, ["team-a"]);
    assert_eq!(evaluate(&s, &kind, &c, None).len(), 1);
    let other_project = with(&c, "/metadata/labels/project-id", json!("other"));
    assert_eq!(evaluate(&s, &kind, &other_project, None).len(), 0);
    let admin = UserInfo {
        username: "admin".into(),
        groups: vec![],
    };
    assert_eq!(evaluate(&s, &kind, &c, Some(&admin)).len(), 0);
    let member = UserInfo {
        username: "bob".into(),
        groups: vec!["platform-admins".into()],
    };
    assert_eq!(evaluate(&s, &kind, &c, Some(&member)).len(), 0);
    let user = UserInfo {
        username: "bob".into(),
        groups: vec!["devs".into()],
    };
    assert_eq!(evaluate(&s, &kind, &c, Some(&user)).len(), 1);
}

#[test]
fn a_project_selector_picks_machine_deployments_by_their_machines_project() {
    let s = set(&[policy(
        "project-limits",
        json!({
            "selector": { "matchLabels": { "project-id": "xw2k9fgh4t" } },
            "rules": { "maxReplicas": 2, "requiredLabels": ["project-id"] }
        }),
    )]);
    let md = with(&hetzner_md(), "/spec/replicas", json!(3));
    let md = with(
        &md,
        "/spec/template/spec/metadata/labels",
        json!({"system/project": "xw2k9fgh4t"}),
    );
    let kind = ResourceKind::of(&md);
    assert_eq!(
        kkp_crds::policy::selector_labels(&kind, &md)
            .get("project-id")
            .map(String::as_str),
        Some("xw2k9fgh4t")
    );
    // Selected through its machines' project; the derived label does not count as the object's own.
    let messages: Vec<String> = evaluate(&s, &kind, &md, None).iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "policy \"project-limits\" rule maxReplicas: 3 replicas exceed the maximum of 2",
            "policy \"project-limits\" rule requiredLabels: the label project-id is required",
        ]
    );
    // Another project's machines, and an object whose own label names another project, are not selected.
    let elsewhere = with(
        &md,
        "/spec/template/spec/metadata/labels",
        json!({"system/project": "other"}),
    );
    assert!(evaluate(&s, &kind, &elsewhere, None).is_empty());
    let own_label = with(&md, "/metadata/labels", json!({"project-id": "other"}));
    assert!(evaluate(&s, &kind, &own_label, None).is_empty());
    // Clusters are selected by their own labels only.
    let c = with(&hetzner_cluster(), "/metadata/labels", json!({}));
    assert!(
        kkp_crds::policy::evaluate_all(&s, &ResourceKind::of(&c), &c, None)
            .matched
            .is_empty()
    );
}

#[test]
fn enforcement_decides_the_verdict() {
    let c = hetzner_cluster();
    for (enforcement, allowed, warnings) in [("Deny", false, 0), ("Warn", true, 1), ("Audit", true, 0)] {
        let p = policy(
            "only-aws",
            json!({ "enforcement": enforcement, "rules": { "providers": ["aws"] } }),
        );
        let ctx = Context {
            policies: set(&[p]),
            ..Context::default()
        };
        let v = validate(&Request::create(&c), &ctx);
        assert_eq!(v.allowed(), allowed, "{enforcement}");
        assert_eq!(v.all_warnings().len(), warnings, "{enforcement}");
        assert_eq!(v.violations.len(), 1);
        assert_eq!(v.matched_policies, ["only-aws"]);
        if enforcement == "Deny" {
            assert_eq!(v.code(), 403);
            assert_eq!(
                v.message(),
                "Cluster.kubermatic.k8c.io \"k7bxrtzfwl\" is forbidden: [policy \"only-aws\" rule providers: provider \"hetzner\" is not allowed; allowed: aws]"
            );
        }
    }
    assert_eq!(Enforcement::default(), Enforcement::Deny);
}

#[test]
fn admit_applies_policies_after_defaulting() {
    // cniTypes sees the defaulted CNI, as the validating webhook does after the mutating one.
    let p = policy("no-cilium", json!({ "rules": { "cniTypes": ["canal"] } }));
    let ctx = Context {
        policies: set(&[p]),
        ..Context::default()
    };
    let v = admit(&Request::create(&cluster(Provider::Hetzner)), &ctx);
    assert!(!v.allowed());
    assert_eq!(v.violations[0].rule, "cniTypes");
}

#[test]
fn broken_policies_say_why_and_do_not_stop_the_others() {
    let bad = policy(
        "bad",
        json!({ "rules": {
        "kubernetesVersions": "newest please",
        "providers": ["aws", "moon"],
        "kubevirt": { "maxMemory": "lots" },
        "maxReplicas": -1,
        "cel": [{ "name": "x", "expression": "object.spec.(" }]
    } }),
    );
    let good = policy("good", json!({ "rules": { "providers": ["aws"] } }));
    let err = compile(&bad).unwrap_err();
    assert_eq!(err.problems.len(), 5, "{err}");
    assert!(
        err.problems[0].starts_with("rules.kubernetesVersions: \"newest please\" is not a semver constraint"),
        "{err}"
    );
    assert_eq!(
        err.problems[1],
        "rules.providers[1]: unknown provider \"moon\"; known: aws, azure, digitalocean, gcp, hetzner, kubevirt, openstack, vsphere"
    );
    assert_eq!(
        err.problems[2],
        "rules.kubevirt.maxMemory: \"lots\" is not a quantity such as 16Gi"
    );
    assert_eq!(err.problems[3], "rules.maxReplicas: must not be negative");
    assert!(
        err.problems[4].starts_with("rules.cel[0] (x): the expression does not compile"),
        "{err}"
    );
    let (s, failed) = PolicySet::compile(&[bad, good]);
    assert_eq!(s.len(), 1);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, "bad");
}

#[test]
fn objects_not_ours_are_not_evaluated() {
    let p = policy("only-aws", json!({ "rules": { "providers": ["aws"] } }));
    let foreign = json!({ "apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": { "name": "x" } });
    assert_eq!(
        evaluate(&set(&[p]), &ResourceKind::of(&foreign), &foreign, None),
        vec![]
    );
}
