//! Every MachineDeployment rule: one case that passes and one that fails with the exact error.

mod common;

use common::{create_errors, defaulted, machine_deployment, update_errors, with, without};
use kkp_crds::admission::validate;
use kkp_crds::context::Context;
use kkp_crds::providers::Provider;
use kkp_crds::request::Request;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const VALUE: &str = "/spec/template/spec/providerSpec/value";

fn base() -> Value {
    defaulted(&machine_deployment(Provider::Hetzner))
}

fn fails(changed: Value, expected: &[&str]) {
    assert_eq!(
        create_errors(&base()),
        Vec::<String>::new(),
        "the base deployment must be valid"
    );
    assert_eq!(create_errors(&changed), expected);
}

#[test]
fn every_provider_example_is_valid_after_defaulting() {
    for p in Provider::ALL {
        let obj = defaulted(&machine_deployment(p));
        assert_eq!(create_errors(&obj), Vec::<String>::new(), "{p}");
    }
}

#[test]
fn replicas_not_negative() {
    fails(
        with(&base(), "/spec/replicas", json!(-1)),
        &["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    );
}

#[test]
fn selector_rules() {
    fails(without(&base(), "/spec/selector"), &["spec.selector: Required value"]);
    fails(
        with(&base(), "/spec/selector", json!({})),
        &["spec.selector: Invalid value: \"{}\": empty selector is invalid for deployment"],
    );
    fails(
        with(&base(), "/spec/selector/matchLabels/machine", json!("other")),
        &[
            "spec.template.metadata.labels: Invalid value: {\"machine\":\"md-k7bxrtzfwl-worker\"}: `selector` does not match template `labels`",
        ],
    );
    let exprs = json!([{ "key": "machine", "operator": "Exists", "values": ["x"] }]);
    fails(
        with(&base(), "/spec/selector/matchExpressions", exprs),
        &["spec.selector.matchExpressions[0].values: Forbidden: may not be specified for Exists and DoesNotExist"],
    );
    let ok = json!([{ "key": "machine", "operator": "In", "values": ["md-k7bxrtzfwl-worker"] }]);
    assert_eq!(
        create_errors(&with(&base(), "/spec/selector/matchExpressions", ok)),
        Vec::<String>::new()
    );
}

#[test]
fn strategy_rules() {
    fails(
        with(&base(), "/spec/strategy/type", json!("Recreate")),
        &["spec.strategy.type: Unsupported value: \"Recreate\": supported values: \"RollingUpdate\""],
    );
    fails(
        with(
            &base(),
            "/spec/strategy/rollingUpdate",
            json!({ "maxSurge": 0, "maxUnavailable": 0 }),
        ),
        &["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when maxSurge is 0"],
    );
    fails(
        with(
            &base(),
            "/spec/strategy/rollingUpdate",
            json!({ "maxSurge": "x", "maxUnavailable": "150%" }),
        ),
        &[
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"x\": must be an integer or a percentage such as 25%",
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%",
        ],
    );
    fails(
        with(&base(), "/spec/strategy/rollingUpdate/maxSurge", json!(-1)),
        &["spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0"],
    );
    assert_eq!(
        create_errors(&with(
            &base(),
            "/spec/strategy/rollingUpdate",
            json!({ "maxSurge": "25%", "maxUnavailable": "25%" })
        )),
        Vec::<String>::new()
    );
}

#[test]
fn kubelet_version_rules() {
    fails(
        without(&base(), "/spec/template/spec/versions/kubelet"),
        &["spec.template.spec.versions.kubelet: Required value: the kubelet version of the machines"],
    );
    fails(
        with(&base(), "/spec/template/spec/versions/kubelet", json!("latest")),
        &[
            "spec.template.spec.versions.kubelet: Invalid value: \"latest\": not a semantic version: expected up to three dot-separated numbers such as 1.35.2, found \"latest\"",
        ],
    );
}

#[test]
fn kubelet_skew_against_a_known_cluster_version() {
    let ctx = Context {
        cluster_version: Some(semver::Version::new(1, 36, 3)),
        ..Context::default()
    };
    let old_kubelet = with(&base(), "/spec/template/spec/versions/kubelet", json!("1.33.1"));
    let errors: Vec<String> = validate(&Request::create(&old_kubelet), &ctx)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "spec.template.spec.versions.kubelet: Invalid value: \"1.33.1\": kubelet 1.33.1 is not compatible with control plane 1.36.3: it must be 1.34 to 1.36",
        ]
    );
    assert!(validate(&Request::create(&base()), &ctx).errors.is_empty());
}

#[test]
fn config_source_is_forbidden() {
    fails(
        with(&base(), "/spec/template/spec/configSource", json!({ "configMap": {} })),
        &["spec.template.spec.configSource: Forbidden: dynamic kubelet configuration is not supported"],
    );
}

#[test]
fn ssh_keys_must_parse() {
    fails(
        with(
            &base(),
            &format!("{VALUE}/sshPublicKeys/0"),
            json!("<< YOUR_PUBLIC_KEY >>"),
        ),
        &[
            "spec.template.spec.providerSpec.value.sshPublicKeys[0]: Invalid value: \"<< YOUR_PUBLIC_KEY >>\": not an SSH public key: no known key type (such as ssh-ed25519 or ssh-rsa)",
        ],
    );
}

#[test]
fn provider_and_operating_system_must_be_supported() {
    fails(
        with(&base(), &format!("{VALUE}/cloudProvider"), json!("gcp")),
        &[
            "spec.template.spec.providerSpec.value.cloudProvider: Unsupported value: \"gcp\": supported values: \"alibaba\", \"anexia\", \"aws\", \"azure\", \"baremetal\", \"digitalocean\", \"edge\", \"equinixmetal\", \"external\", \"fake\", \"gce\", \"hetzner\", \"kubevirt\", \"linode\", \"nutanix\", \"opennebula\", \"openstack\", \"packet\", \"scaleway\", \"vmware-cloud-director\", \"vsphere\", \"vultr\"",
        ],
    );
    fails(
        with(&base(), &format!("{VALUE}/operatingSystem"), json!("centos")),
        &[
            "spec.template.spec.providerSpec.value.operatingSystem: Unsupported value: \"centos\": supported values: \"ubuntu\", \"flatcar\", \"rhel\", \"rockylinux\", \"amzn2\"",
        ],
    );
    // Without an image of its own a Hetzner machine runs what hcloud has images for.
    let no_image = without(&base(), &format!("{VALUE}/cloudProviderSpec/image"));
    fails(
        with(&no_image, &format!("{VALUE}/operatingSystem"), json!("flatcar")),
        &[
            "spec.template.spec.providerSpec.value.operatingSystem: Unsupported value: \"flatcar\": supported values: \"ubuntu\", \"rockylinux\"",
        ],
    );
    fails(
        without(&base(), &format!("{VALUE}/cloudProviderSpec")),
        &["spec.template.spec.providerSpec.value.cloudProviderSpec: Required value"],
    );
}

#[test]
fn provider_schema_errors_carry_the_full_path() {
    let errors = create_errors(&without(&base(), &format!("{VALUE}/cloudProviderSpec/serverType")));
    assert_eq!(
        errors,
        ["spec.template.spec.providerSpec.value.cloudProviderSpec.serverType: Required value"]
    );
}

#[test]
fn machine_template_checked_only_when_changed_on_update() {
    let old = with(
        &base(),
        &format!("{VALUE}/sshPublicKeys/0"),
        json!("<< YOUR_PUBLIC_KEY >>"),
    );
    let scaled = with(&old, "/spec/replicas", json!(3));
    assert_eq!(update_errors(&old, &scaled), Vec::<String>::new());
    let changed = with(&old, &format!("{VALUE}/operatingSystem"), json!("rockylinux"));
    assert_eq!(
        update_errors(&old, &changed),
        [
            "spec.template.spec.providerSpec.value.sshPublicKeys[0]: Invalid value: \"<< YOUR_PUBLIC_KEY >>\": not an SSH public key: no known key type (such as ssh-ed25519 or ssh-rsa)",
        ]
    );
}

#[test]
fn being_deleted_passes() {
    let mut md = with(&base(), "/spec/replicas", json!(-5));
    md["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    assert_eq!(create_errors(&md), Vec::<String>::new());
}

#[test]
fn name_must_be_a_dns_subdomain() {
    assert_eq!(
        create_errors(&with(&base(), "/metadata/name", json!("workers-1.eu"))),
        Vec::<String>::new()
    );
    for bad in ["Workers_1", "workers-"] {
        fails(
            with(&base(), "/metadata/name", json!(bad)),
            &[&format!(
                "metadata.name: Invalid value: \"{bad}\": must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.'"
            )],
        );
    }
}

#[test]
fn selector_expressions_need_values_and_a_known_operator() {
    let expr = |e: Value| with(&base(), "/spec/selector/matchExpressions", json!([e]));
    assert_eq!(
        create_errors(&expr(
            json!({ "key": "machine", "operator": "NotIn", "values": ["other"] })
        )),
        Vec::<String>::new()
    );
    fails(
        expr(json!({ "key": "machine", "operator": "In" })),
        &[
            "spec.selector.matchExpressions[0].values: Required value: must be specified for In and NotIn",
            "spec.template.metadata.labels: Invalid value: {\"machine\":\"md-k7bxrtzfwl-worker\"}: `selector` does not match template `labels`",
        ],
    );
    fails(
        expr(json!({ "key": "machine", "operator": "NotIn", "values": [] })),
        &["spec.selector.matchExpressions[0].values: Required value: must be specified for In and NotIn"],
    );
    fails(
        expr(json!({ "key": "machine", "operator": "Equals", "values": ["md-k7bxrtzfwl-worker"] })),
        &[
            "spec.selector.matchExpressions[0].operator: Unsupported value: \"Equals\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
            "spec.template.metadata.labels: Invalid value: {\"machine\":\"md-k7bxrtzfwl-worker\"}: `selector` does not match template `labels`",
        ],
    );
}

#[test]
fn vsphere_anti_affinity_and_vm_group_need_the_cluster() {
    let vsphere = defaulted(&machine_deployment(Provider::Vsphere));
    assert_eq!(create_errors(&vsphere), Vec::<String>::new());
    let spec = format!("{VALUE}/cloudProviderSpec");
    let anti = with(&vsphere, &format!("{spec}/vmAntiAffinity"), json!(true));
    assert_eq!(
        create_errors(&anti),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.cluster: Required value: vmAntiAffinity needs the cluster"
        ]
    );
    let group = with(&vsphere, &format!("{spec}/vmGroup"), json!("kkp-workers"));
    assert_eq!(
        create_errors(&group),
        ["spec.template.spec.providerSpec.value.cloudProviderSpec.cluster: Required value: vmGroup needs the cluster"]
    );
    let both = with(&anti, &format!("{spec}/vmGroup"), json!("kkp-workers"));
    let both = with(&both, &format!("{spec}/cluster"), json!("cl1"));
    assert_eq!(create_errors(&both), Vec::<String>::new());
    let off = with(&vsphere, &format!("{spec}/vmAntiAffinity"), json!(false));
    assert_eq!(create_errors(&off), Vec::<String>::new());
}

#[test]
fn every_wrong_type_is_reported_at_once() {
    let mut md = with(&base(), "/spec/replicas", json!("three"));
    md = with(&md, &format!("{VALUE}/sshPublicKeys"), json!(common::SSH_KEY));
    md = with(&md, "/spec/template/metadata/labels/machine", json!(true));
    md = with(&md, "/spec/strategy/rollingUpdate/maxSurge", json!({ "percent": 25 }));
    fails(
        md,
        &[
            "spec.replicas: Invalid value: \"three\": must be of type integer",
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: {\"percent\":25}: must be of type integer or string",
            "spec.template.metadata.labels[machine]: Invalid value: true: must be of type string",
            &format!(
                "spec.template.spec.providerSpec.value.sshPublicKeys: Invalid value: {:?}: must be of type array",
                common::SSH_KEY
            ),
        ],
    );
}

#[test]
fn rules_and_provider_schemas_still_speak_about_the_fields_that_decode() {
    let mut md = with(&base(), "/spec/replicas", json!("three"));
    md = with(&md, "/spec/template/spec/versions/kubelet", json!(1.35));
    md = with(&md, "/spec/strategy/type", json!("Recreate"));
    md = with(&md, &format!("{VALUE}/cloudProviderSpec/serverType"), json!(["cx22"]));
    fails(
        md,
        &[
            "spec.replicas: Invalid value: \"three\": must be of type integer",
            "spec.template.spec.versions.kubelet: Invalid value: 1.35: must be of type string",
            "spec.strategy.type: Unsupported value: \"Recreate\": supported values: \"RollingUpdate\"",
            "spec.template.spec.providerSpec.value.cloudProviderSpec.serverType: Invalid value: [\"cx22\"]: must be a string, or an object with value, secretKeyRef or configMapKeyRef",
        ],
    );
}

#[test]
fn wrong_types_in_the_provider_spec_are_the_provider_schema_s_to_report() {
    fails(
        with(
            &base(),
            &format!("{VALUE}/cloudProviderSpec/serverType"),
            json!(["cx22"]),
        ),
        &[
            "spec.template.spec.providerSpec.value.cloudProviderSpec.serverType: Invalid value: [\"cx22\"]: must be a string, or an object with value, secretKeyRef or configMapKeyRef",
        ],
    );
}

#[test]
fn numbers_out_of_range_are_type_errors() {
    fails(
        with(&base(), "/spec/replicas", json!(5_000_000_000_i64)),
        &["spec.replicas: Invalid value: 5000000000: must be less than or equal to 2147483647"],
    );
}
