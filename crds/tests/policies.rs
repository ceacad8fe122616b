//! Admission policies: every rule with a case that passes and one that fails, selection,
//! exemptions, enforcement, and policies that do not compile.

mod common;

use common::{cluster, defaulted, machine_deployment, with};
use kkp_crds::admission::{admit, validate};
use kkp_crds::context::Context;
use kkp_crds::policy::sandbox::limits::{MAX_NESTING_DEPTH, MAX_OPERATORS};
use kkp_crds::policy::{
    AdmissionPolicy, Enforcement, PolicySet, RATCHETED, compile, evaluate, evaluate_all, evaluate_scale,
};
use kkp_crds::providers::Provider;
use kkp_crds::request::{Request, ResourceKind, UserInfo};
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

/// The compile error of a policy with one CEL rule.
fn cel_error(expression: &str) -> String {
    let p = policy(
        "p",
        json!({ "rules": { "cel": [{ "name": "r", "expression": expression }] } }),
    );
    compile(&p).expect_err(expression).to_string()
}

fn nested_maps(levels: usize, width: usize) -> String {
    let list = format!("[{}]", vec!["0"; width].join(","));
    let mut nested = "0".to_owned();
    for level in 0..levels {
        nested = format!("{list}.map(v{level}, {nested})");
    }
    format!("size({nested}) > 0")
}

#[test]
fn cel_rules_over_a_limit_do_not_compile_and_say_which() {
    let long = format!("{} == 1", vec!["1"; 3000].join(" * 0 + "));
    assert!(
        cel_error(&long).contains("characters long; the limit is 5000"),
        "{}",
        cel_error(&long)
    );
    let deep = format!("{}true{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(
        cel_error(&deep),
        "rules.cel[0] (r): the expression nests brackets 200 deep; the limit is 32"
    );
    let chain = format!("{} > 0", vec!["1"; 1500].join("+"));
    assert!(
        cel_error(&chain).ends_with(&format!("operators; the limit is {MAX_OPERATORS}")),
        "{}",
        cel_error(&chain)
    );
    // Ten million steps of nested maps: far over the cost budget.
    let costly = cel_error(&nested_maps(7, 10));
    assert!(costly.contains("over the cost budget of 1000000"), "{costly}");
    assert!(cel_error("lists.range(object.spec.replicas).size() > 0").contains("lists.range needs a literal bound"),);
    assert!(cel_error("object.spec.(").contains("the expression does not compile"));
    // A chain of conditionals the CEL parser panics on: reported, not a crash.
    let conditionals = format!("{}true", "true ? true : ".repeat(240));
    let crashed = cel_error(&conditionals);
    assert!(crashed.contains("crashed the CEL parser"), "{crashed}");
}

#[test]
fn expressions_at_the_limits_compile_and_evaluate() {
    // As deep and as long a chain as allowed, together: the parser and the evaluator stay within
    // their stacks.
    let depth = MAX_NESTING_DEPTH - 2;
    let chain = vec!["1"; MAX_OPERATORS - 2].join("+");
    let expression = format!("size({}[{chain}]{}) + 0 > 0", "[".repeat(depth), "]".repeat(depth));
    let conditions = format!("{}true{}", "(".repeat(MAX_NESTING_DEPTH), ")".repeat(MAX_NESTING_DEPTH));
    let affordable = nested_maps(2, 90);
    let p = policy(
        "p",
        json!({ "rules": { "cel": [
            { "name": "deep", "expression": expression },
            { "name": "nested", "expression": conditions },
            { "name": "maps", "expression": affordable },
        ] } }),
    );
    let s = set(&[p]);
    let md = hetzner_md();
    assert_eq!(evaluate(&s, &ResourceKind::of(&md), &md, None), vec![]);
}

#[test]
fn cel_failures_keep_credentials_out_of_messages() {
    let secret = "YXBpVmVyc2lvbjogdjE=";
    let kv = defaulted(&machine_deployment(Provider::Kubevirt));
    let expression = "object.spec.template.spec.providerSpec.value.cloudProviderSpec.auth.kubeconfig.value + 1 > 0";
    let messages = violations(json!({ "cel": [{ "name": "leak", "expression": expression }] }), &kv);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("the expression failed"), "{messages:?}");
    assert!(!messages[0].contains(secret), "{messages:?}");
}

fn md_spec(md: &Value, field: &str, value: Value) -> Value {
    with(
        md,
        &format!("/spec/template/spec/providerSpec/value/cloudProviderSpec/{field}"),
        value,
    )
}

#[test]
fn restricted_fields_given_by_reference_are_denied_unless_allowed() {
    let referenced = md_spec(
        &hetzner_md(),
        "serverType",
        json!({ "configMapKeyRef": { "name": "sizes", "namespace": "kube-system", "key": "big" } }),
    );
    let rules = json!({ "instanceSizes": { "hetzner": ["cx22"] } });
    assert_eq!(
        violations(rules.clone(), &referenced),
        [
            "policy \"p\" rule instanceSizes.hetzner: serverType is given by reference (configMapKeyRef), but this rule restricts it: write the value inline"
        ]
    );
    let allowing = set(&[policy("p", json!({ "allowReferences": true, "rules": rules }))]);
    assert_eq!(
        evaluate(&allowing, &ResourceKind::MachineDeployment, &referenced, None),
        vec![]
    );
    // A rule that does not restrict the field does not mind.
    assert_eq!(
        violations(json!({ "maxReplicas": 9 }), &referenced),
        Vec::<String>::new()
    );
    // `{value: …}` is inline.
    let wrapped = md_spec(&hetzner_md(), "serverType", json!({ "value": "cx52" }));
    assert_eq!(
        violations(json!({ "instanceSizes": { "hetzner": ["cx22"] } }), &wrapped),
        ["policy \"p\" rule instanceSizes.hetzner: serverType \"cx52\" is not allowed; allowed: cx22"]
    );

    let kv = defaulted(&machine_deployment(Provider::Kubevirt));
    let hidden = with(
        &kv,
        "/spec/template/spec/providerSpec/value/cloudProviderSpec/virtualMachine/template/memory",
        json!({ "secretKeyRef": { "name": "vm", "namespace": "kube-system", "key": "memory" } }),
    );
    assert_eq!(
        violations(json!({ "kubevirt": { "maxMemory": "8Gi" } }), &hidden),
        [
            "policy \"p\" rule kubevirt.maxMemory: memory is given by reference (secretKeyRef), but this rule restricts it: write the value inline"
        ]
    );
}

#[test]
fn cpus_and_memory_must_be_finite_non_negative_numbers() {
    let vs = defaulted(&machine_deployment(Provider::Vsphere));
    let rules = json!({ "vsphere": { "maxCPUs": 4, "maxMemoryMB": 8192 } });
    for cpus in ["NaN", "Inf", "-inf", "-2", "lots"] {
        assert_eq!(
            violations(rules.clone(), &md_spec(&vs, "cpus", json!(cpus))),
            [format!(
                "policy \"p\" rule vsphere.maxCPUs: cpus {cpus:?} is not a valid value for this rule"
            )],
            "{cpus}"
        );
    }
    assert_eq!(
        violations(rules.clone(), &md_spec(&vs, "cpus", json!(-1))),
        ["policy \"p\" rule vsphere.maxCPUs: cpus \"-1\" is not a valid value for this rule"]
    );
    assert_eq!(
        violations(rules.clone(), &md_spec(&vs, "cpus", json!("4"))),
        Vec::<String>::new()
    );
    assert_eq!(
        violations(rules, &md_spec(&vs, "memoryMB", json!("NaN"))),
        ["policy \"p\" rule vsphere.maxMemoryMB: memoryMB \"NaN\" is not a valid value for this rule"]
    );
    let kv = defaulted(&machine_deployment(Provider::Kubevirt));
    let nan = with(
        &kv,
        "/spec/template/spec/providerSpec/value/cloudProviderSpec/virtualMachine/template/cpus",
        json!("NaN"),
    );
    assert_eq!(
        violations(json!({ "kubevirt": { "maxCPUs": 4 } }), &nan),
        ["policy \"p\" rule kubevirt.maxCPUs: cpus \"NaN\" is not a valid value for this rule"]
    );
}

#[test]
fn a_provider_spec_from_elsewhere_is_denied_where_a_policy_reads_it() {
    let mut md = hetzner_md();
    let machine = md
        .pointer_mut("/spec/template/spec/providerSpec")
        .expect("a provider spec");
    *machine = json!({ "valueFrom": { "machineDeploymentProviderSpecRef": { "name": "elsewhere" } } });
    assert_eq!(
        violations(json!({ "instanceSizes": { "hetzner": ["cx22"] } }), &md),
        [
            "policy \"p\" rule providerSpec: the machines' provider spec comes from providerSpec.valueFrom, which policies cannot read: write providerSpec.value inline"
        ]
    );
    assert_eq!(violations(json!({ "maxReplicas": 9 }), &md), Vec::<String>::new());
}

fn deny_ctx(rules: Value) -> Context {
    Context {
        policies: set(&[policy("p", json!({ "rules": rules }))]),
        ..Context::default()
    }
}

#[test]
fn updates_deny_only_the_violations_they_introduce_or_change() {
    // An object stored before the policy: its size breaks the policy.
    let stored = md_spec(&hetzner_md(), "serverType", json!("cx52"));
    let ctx = deny_ctx(json!({ "instanceSizes": { "hetzner": ["cx22"] }, "maxReplicas": 3 }));
    assert!(!validate(&Request::create(&stored), &ctx).allowed());

    // A controller updates its labels: admitted, with a warning, and recorded as audited.
    let relabelled = with(&stored, "/metadata/labels", json!({ "touched": "yes" }));
    let v = validate(&Request::update(&relabelled, &stored), &ctx);
    assert!(v.allowed(), "{}", v.message());
    let warnings = v.all_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("serverType \"cx52\" is not allowed") && warnings[0].contains(RATCHETED));
    assert!(v.violations.iter().any(|x| x.enforcement == Enforcement::Audit));

    // Changing the violating field is checked in full.
    let other = md_spec(&stored, "serverType", json!("cx62"));
    let v = validate(&Request::update(&other, &stored), &ctx);
    assert!(!v.allowed());
    assert!(
        v.message().contains("serverType \"cx62\" is not allowed"),
        "{}",
        v.message()
    );

    // A new violation next to an old one: the new one denies.
    let scaled = with(&relabelled, "/spec/replicas", json!(5));
    let v = validate(&Request::update(&scaled, &stored), &ctx);
    assert!(!v.allowed());
    assert_eq!(
        v.denials().map(|x| x.rule.as_str()).collect::<Vec<_>>(),
        ["maxReplicas"]
    );
}

#[test]
fn cel_violations_ratchet_only_while_the_spec_is_unchanged() {
    let stored = with(&hetzner_md(), "/spec/replicas", json!(5));
    let ctx = deny_ctx(json!({ "cel": [{ "name": "small", "expression": "object.spec.replicas <= 3" }] }));
    let relabelled = with(&stored, "/metadata/labels", json!({ "touched": "yes" }));
    assert!(validate(&Request::update(&relabelled, &stored), &ctx).allowed());
    let changed = with(&stored, "/spec/minReadySeconds", json!(10));
    assert!(!validate(&Request::update(&changed, &stored), &ctx).allowed());
}

#[test]
fn scale_requests_get_the_replica_rules() {
    let s = set(&[
        policy("p", json!({ "rules": { "maxReplicas": 3 } })),
        policy(
            "team-b",
            json!({ "selector": { "matchLabels": { "project-id": "b" } }, "rules": { "maxWorkers": 4 } }),
        ),
        policy(
            "admins",
            json!({ "exemptions": { "groups": ["admins"] }, "rules": { "maxReplicas": 1 } }),
        ),
        policy("labels", json!({ "rules": { "requiredLabels": ["team"] } })),
    ]);
    let scale = |replicas: i64| {
        json!({ "apiVersion": "autoscaling/v1", "kind": "Scale",
                "metadata": { "name": "workers", "namespace": "kube-system" },
                "spec": { "replicas": replicas } })
    };
    let admin = UserInfo {
        username: "root".into(),
        groups: vec!["admins".into()],
    };
    let rules = |e: &kkp_crds::policy::Evaluation| -> Vec<String> {
        e.violations
            .iter()
            .map(|v| format!("{}/{}/{}", v.policy, v.rule, v.enforcement))
            .collect()
    };
    // Labels unknown: every policy with a replica rule applies, whatever its selector.
    let unknown = evaluate_scale(&s, &scale(5), Some(&scale(2)), None, Some(&admin));
    assert_eq!(rules(&unknown), ["p/maxReplicas/Deny", "team-b/maxWorkers/Deny"]);
    assert_eq!(unknown.matched, ["p", "team-b"]);
    // Labels known: the selector decides.
    let labels = [("project-id".to_owned(), "a".to_owned())].into();
    let known = evaluate_scale(&s, &scale(5), None, Some(&labels), None);
    assert_eq!(rules(&known), ["admins/maxReplicas/Deny", "p/maxReplicas/Deny"]);
    // Within the limits: nothing.
    assert!(
        evaluate_scale(&s, &scale(1), None, Some(&labels), None)
            .violations
            .is_empty()
    );
    // The replica count it already had: admitted with a warning.
    let same = evaluate_scale(&s, &scale(5), Some(&scale(5)), Some(&labels), Some(&admin));
    assert_eq!(rules(&same), ["p/maxReplicas/Warn", "p/maxReplicas/Audit"]);
}

#[test]
fn evaluation_lists_matched_policies_even_without_violations() {
    let s = set(&[policy("p", json!({ "rules": { "maxReplicas": 9 } }))]);
    let md = hetzner_md();
    let e = evaluate_all(&s, &ResourceKind::MachineDeployment, &md, None);
    assert_eq!(e.matched, ["p"]);
    assert!(e.violations.is_empty());
}
