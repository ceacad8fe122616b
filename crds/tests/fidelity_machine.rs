//! MachineDeployments judged as machine-controller judges them: one test per rule of the fidelity
//! audit that changed, named after its row.
//!
//! Each test cites the upstream code of its rule: `KKP` is kubermatic/kubermatic at 2974df5 and `MC`
//! kubermatic/machine-controller at f106833, paths relative to those repositories.

mod common;

use common::{SSH_KEY, machine_deployment, with, without};
use kkp_crds::admission::{Verdict, admit, validate};
use kkp_crds::context::Context;
use kkp_crds::providers::{MACHINE_CONTROLLER_PROVIDERS, Provider};
use kkp_crds::request::Request;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const VALUE: &str = "/spec/template/spec/providerSpec/value";
const SPEC: &str = "/spec/template/spec/providerSpec/value/cloudProviderSpec";

fn create(md: &Value) -> Verdict {
    admit(&Request::create(md), &Context::default())
}

fn errors(v: &Verdict) -> Vec<String> {
    v.errors.iter().map(ToString::to_string).collect()
}

fn create_errors(md: &Value) -> Vec<String> {
    errors(&create(md))
}

fn admitted(md: &Value) {
    let v = create(md);
    assert_eq!(errors(&v), Vec::<String>::new());
}

fn os(md: &Value, os: &str) -> Value {
    with(md, &format!("{VALUE}/operatingSystem"), json!(os))
}

fn set(md: &Value, field: &str, value: Value) -> Value {
    with(md, &format!("{SPEC}/{field}"), value)
}

fn skew_context() -> Context {
    Context {
        cluster_version: Some(semver::Version::new(1, 36, 3)),
        ..Context::default()
    }
}

// False rejections.

/// Upstream (PG4): MC gce/config.go:46-55,303-321; gce/provider.go:137-140
#[test]
fn pg4_gce_flatcar_and_custom_image_os_are_allowed() {
    let gce = machine_deployment(Provider::Gcp);
    admitted(&os(&gce, "flatcar"));
    admitted(&os(&set(&gce, "customImage", json!("my-rhel-image")), "rhel"));
    assert_eq!(
        create_errors(&os(&gce, "rhel")),
        [
            "spec.template.spec.providerSpec.value.operatingSystem: Unsupported value: \"rhel\": supported values: \"ubuntu\", \"flatcar\""
        ]
    );
}

/// Upstream (PH3): MC hetzner/provider.go:227-232
#[test]
fn ph3_hetzner_os_is_checked_only_without_an_image() {
    let hetzner = machine_deployment(Provider::Hetzner);
    admitted(&os(&hetzner, "rhel"));
    let no_image = set(&hetzner, "image", json!(""));
    admitted(&os(&no_image, "rockylinux"));
    assert_eq!(
        create_errors(&os(&no_image, "flatcar")),
        [
            "spec.template.spec.providerSpec.value.operatingSystem: Unsupported value: \"flatcar\": supported values: \"ubuntu\", \"rockylinux\""
        ]
    );
}

/// Upstream (PZ3): MC azure/provider.go:211-231
#[test]
fn pz3_azure_os_is_checked_only_without_an_image_id_or_reference() {
    let azure = machine_deployment(Provider::Azure);
    assert_eq!(
        create_errors(&os(&azure, "amzn2")),
        [
            "spec.template.spec.providerSpec.value.operatingSystem: Unsupported value: \"amzn2\": supported values: \"ubuntu\", \"flatcar\", \"rhel\", \"rockylinux\""
        ]
    );
    admitted(&os(
        &set(&azure, "imageID", json!("/subscriptions/s/images/amzn2")),
        "amzn2",
    ));
    let reference = json!({ "publisher": "p", "offer": "o", "sku": "s", "version": "latest" });
    admitted(&os(&set(&azure, "imageReference", reference), "amzn2"));
}

/// Upstream (PV6): MC vsphere/provider.go, openstack/provider.go (no OS check)
#[test]
fn pv6_vsphere_and_openstack_have_no_os_table() {
    for p in [Provider::Vsphere, Provider::Openstack] {
        admitted(&os(&machine_deployment(p), "amzn2"));
    }
}

/// Upstream (PA8): MC aws/provider.go:438-443,612-615
#[test]
fn pa8_aws_spot_needs_a_spot_config_but_no_max_price() {
    let aws = set(&machine_deployment(Provider::Aws), "isSpotInstance", json!(true));
    assert_eq!(
        create_errors(&aws),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.spotInstanceConfig: Required value: spot instances need a spotInstanceConfig (its maxPrice may be empty)"
        ]
    );
    admitted(&set(&aws, "spotInstanceConfig", json!({})));
    admitted(&set(&aws, "spotInstanceConfig", json!({ "maxPrice": "" })));
}

/// Upstream (PK4): MC kubevirt/provider.go:943-962,669-671
#[test]
fn pk4_kubevirt_cpus_and_vcpus_together_are_accepted() {
    let kubevirt = set(
        &machine_deployment(Provider::Kubevirt),
        "virtualMachine/template/vcpus",
        json!({ "cores": 2 }),
    );
    admitted(&kubevirt);
}

/// Upstream (PG5): MC gce/config.go:252-283
#[test]
fn pg5_gce_service_account_is_plain_or_base64_json() {
    let gce = machine_deployment(Provider::Gcp);
    let plain = r#"{"type":"service_account","project_id":"p"}"#;
    admitted(&set(&gce, "serviceAccount", json!(plain)));
    admitted(&set(
        &gce,
        "serviceAccount",
        json!("eyJ0eXBlIjoic2VydmljZV9hY2NvdW50In0="),
    ));
    admitted(&set(&gce, "serviceAccount", json!({ "value": plain })));
    assert_eq!(
        create_errors(&set(&gce, "serviceAccount", json!("bm90IGpzb24="))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.serviceAccount: Invalid value: \"<redacted>\": must be a JSON document, as it is or base64-encoded"
        ]
    );
}

/// Upstream (MV15): MC pkg/admission/machines.go:157-164; cmd/webhook/main.go:70
#[test]
fn mv15_two_part_kubelet_versions_are_coerced_and_pre_releases_refused() {
    let md = machine_deployment(Provider::Hetzner);
    for k in ["1.35", "v1.35", "v1.35.7"] {
        admitted(&with(&md, "/spec/template/spec/versions/kubelet", json!(k)));
    }
    assert_eq!(
        create_errors(&with(&md, "/spec/template/spec/versions/kubelet", json!("1.35.0-rc.1"))),
        [
            "spec.template.spec.versions.kubelet: Invalid value: \"1.35.0-rc.1\": pre-release versions are not allowed: machine-controller's version constraint >=0.0.0 excludes them"
        ]
    );
    let v = admit(
        &Request::create(&with(&md, "/spec/template/spec/versions/kubelet", json!("1.36"))),
        &skew_context(),
    );
    assert_eq!(errors(&v), Vec::<String>::new(), "1.36 is 1.36.0, within the skew");
}

/// Upstream (MD5): MC defaults.go:49-55
#[test]
fn md5_an_empty_strategy_type_defaults_to_rolling_update() {
    let md = with(&machine_deployment(Provider::Aws), "/spec/strategy/type", json!(""));
    let v = create(&md);
    assert_eq!(errors(&v), Vec::<String>::new());
    let object = v.object.expect("defaulted");
    assert_eq!(object["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(object["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
}

// Go zero values.

/// An AWS MachineDeployment as Go's encoding/json writes the upstream structs: every field
/// present, the optional ones with their zero values.
fn go_serialised_aws() -> Value {
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": { "name": "workers", "namespace": "kube-system", "creationTimestamp": null },
        "spec": {
            "replicas": null,
            "selector": { "matchLabels": { "machine": "workers" }, "matchExpressions": null },
            "template": {
                "metadata": { "creationTimestamp": null, "labels": { "machine": "workers" } },
                "spec": {
                    "metadata": { "creationTimestamp": null },
                    "taints": null,
                    "providerSpec": { "value": {
                        "sshPublicKeys": null,
                        "caPublicKey": "",
                        "cloudProvider": "aws",
                        "cloudProviderSpec": {
                            "accessKeyId": "", "secretAccessKey": "", "assumeRoleARN": "", "assumeRoleExternalID": "",
                            "region": "eu-central-1", "availabilityZone": "eu-central-1a", "vpcId": "vpc-1",
                            "subnetId": "", "securityGroupIDs": ["sg-1"], "instanceProfile": "workers",
                            "instanceType": "t3.medium", "ami": "", "diskSize": 25, "diskType": "",
                            "diskIops": null, "ebsVolumeEncrypted": null, "ebsOptimized": null, "tags": null,
                            "assignPublicIP": null, "isSpotInstance": null, "spotInstanceConfig": null
                        },
                        "operatingSystem": "ubuntu",
                        "operatingSystemSpec": null,
                        "network": null
                    } },
                    "versions": { "kubelet": "1.35.7" },
                    "configSource": null
                }
            },
            "strategy": { "type": "", "rollingUpdate": null },
            "minReadySeconds": null,
            "revisionHistoryLimit": null,
            "paused": false,
            "progressDeadlineSeconds": null
        },
        "status": {}
    })
}

/// Upstream (MD11): MC pkg/cloudprovider/provider/gce/provider.go:86-100
#[test]
fn md11_go_zero_values_are_unset_everywhere() {
    let v = create(&go_serialised_aws());
    assert_eq!(errors(&v), Vec::<String>::new());
    let object = v.object.expect("defaulted");
    let spec = &object["spec"]["template"]["spec"]["providerSpec"]["value"]["cloudProviderSpec"];
    assert_eq!(spec["diskType"], "standard");
    assert_eq!(spec["assignPublicIP"], true);
    assert_eq!(object["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(object["spec"]["replicas"], 1);

    let gce = set(&machine_deployment(Provider::Gcp), "diskSize", json!(0));
    let gce = set(&gce, "diskType", json!(""));
    let v = create(&gce);
    assert_eq!(errors(&v), Vec::<String>::new());
    let spec = &v.object.expect("defaulted")["spec"]["template"]["spec"]["providerSpec"]["value"]["cloudProviderSpec"];
    assert_eq!(spec["diskSize"], 25);
    assert_eq!(spec["diskType"], "pd-standard");
}

/// Upstream (MD8): MC sdk/userdata/ubuntu/config.go:30-35; flatcar/config.go:44-58;
///   pkg/admission/machines.go:176-184
#[test]
fn md8_operating_system_specs_are_defaulted_as_machine_controller_does() {
    let md = without(
        &machine_deployment(Provider::Aws),
        &format!("{VALUE}/operatingSystemSpec"),
    );
    let rhel = create(&os(&md, "rhel")).object.expect("defaulted");
    let spec = &rhel["spec"]["template"]["spec"]["providerSpec"]["value"]["operatingSystemSpec"];
    assert_eq!(spec["distUpgradeOnBoot"], false);
    assert_eq!(spec["rhelSubscriptionManagerUser"], "");
    assert_eq!(spec["attachSubscription"], false);
    // A present spec of another system stays as it is ...
    let given = with(&md, &format!("{VALUE}/operatingSystemSpec"), json!({}));
    let ubuntu = create(&given).object.expect("defaulted");
    assert_eq!(
        ubuntu["spec"]["template"]["spec"]["providerSpec"]["value"]["operatingSystemSpec"],
        json!({})
    );
    // ... and a flatcar one is always completed, an empty provisioningUtility becoming ignition.
    let flatcar = with(
        &os(&md, "flatcar"),
        &format!("{VALUE}/operatingSystemSpec"),
        json!({ "provisioningUtility": "" }),
    );
    let flatcar = create(&flatcar).object.expect("defaulted");
    assert_eq!(
        flatcar["spec"]["template"]["spec"]["providerSpec"]["value"]["operatingSystemSpec"],
        json!({
            "disableAutoUpdate": false, "disableLocksmithD": false, "disableUpdateEngine": false,
            "provisioningUtility": "ignition"
        })
    );
}

// The providers machine-controller knows.

/// Upstream (MV12): MC sdk/providerconfig/types.go:94-117; pkg/cloudprovider/provider.go
#[test]
fn mv12_unmodelled_cloud_providers_are_admitted_with_a_warning() {
    let base = machine_deployment(Provider::Hetzner);
    for name in [
        "edge",
        "nutanix",
        "vmware-cloud-director",
        "anexia",
        "packet",
        "external",
    ] {
        let md = with(&base, &format!("{VALUE}/cloudProvider"), json!(name));
        let md = with(&md, &format!("{VALUE}/cloudProviderSpec"), json!({ "anything": 1 }));
        let v = create(&md);
        assert_eq!(errors(&v), Vec::<String>::new(), "{name}");
        assert_eq!(
            v.warnings,
            [format!(
                "spec.template.spec.providerSpec.value.cloudProvider: {name:?} is a machine-controller provider this webhook does not model; only the generic MachineDeployment rules were applied"
            )]
        );
    }
    // The generic rules still apply.
    let edge = with(&base, &format!("{VALUE}/cloudProvider"), json!("edge"));
    assert_eq!(
        create_errors(&os(&edge, "windows")),
        [
            "spec.template.spec.providerSpec.value.operatingSystem: Unsupported value: \"windows\": supported values: \"ubuntu\", \"flatcar\", \"rhel\", \"rockylinux\", \"amzn2\""
        ]
    );
    let unknown = with(&base, &format!("{VALUE}/cloudProvider"), json!("gcp"));
    let mut names = MACHINE_CONTROLLER_PROVIDERS.to_vec();
    names.sort_unstable();
    let listed: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    assert_eq!(
        create_errors(&unknown),
        [format!(
            "spec.template.spec.providerSpec.value.cloudProvider: Unsupported value: \"gcp\": supported values: {}",
            listed.join(", ")
        )]
    );
    assert_eq!(MACHINE_CONTROLLER_PROVIDERS.len(), 22);
    assert_eq!(Provider::ALL.len(), 8);
}

// UPDATE.

/// Upstream (X1): none in admission; KKP applies the skew in pkg/validation/nodeupdate/nodeupdate.go:45-63
///   (API and initial-MachineDeployment controller only)
#[test]
fn x1_kubelet_skew_refuses_new_and_changed_kubelets_and_warns_otherwise() {
    let ctx = skew_context();
    let old_kubelet = with(
        &machine_deployment(Provider::Hetzner),
        "/spec/template/spec/versions/kubelet",
        json!("1.33.1"),
    );
    let expected = [
        "spec.template.spec.versions.kubelet: Invalid value: \"1.33.1\": kubelet 1.33.1 is not compatible with control plane 1.36.3: it must be 1.34 to 1.36",
    ];
    assert_eq!(errors(&admit(&Request::create(&old_kubelet), &ctx)), expected);
    let stored = admit(&Request::create(&old_kubelet), &Context::default())
        .object
        .expect("defaulted");
    // An update that leaves the template alone is not checked at all.
    let scaled = with(&stored, "/spec/replicas", json!(3));
    let v = validate(&Request::update(&scaled, &stored), &ctx);
    assert_eq!((errors(&v), v.warnings.len()), (vec![], 0));
    // One that changes the template but not the kubelet gets a warning.
    let relabelled = with(&stored, "/spec/template/spec/metadata/labels/team", json!("a"));
    let v = validate(&Request::update(&relabelled, &stored), &ctx);
    assert_eq!(errors(&v), Vec::<String>::new());
    assert_eq!(
        v.warnings,
        [
            "spec.template.spec.versions.kubelet: kubelet 1.33.1 is not compatible with control plane 1.36.3: it must be 1.34 to 1.36"
        ]
    );
    // One that changes the kubelet to another skewed version is refused.
    let changed = with(&stored, "/spec/template/spec/versions/kubelet", json!("1.33.2"));
    assert_eq!(
        errors(&validate(&Request::update(&changed, &stored), &ctx)),
        [
            "spec.template.spec.versions.kubelet: Invalid value: \"1.33.2\": kubelet 1.33.2 is not compatible with control plane 1.36.3: it must be 1.34 to 1.36"
        ]
    );
}

/// Upstream (MV11): MC pkg/admission/machinedeployments.go:62-77
#[test]
fn mv11_objects_being_deleted_are_not_checked() {
    let mut md = with(
        &machine_deployment(Provider::Hetzner),
        &format!("{VALUE}/cloudProvider"),
        json!("nope"),
    );
    md["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    let v = validate(&Request::update(&md, &md), &Context::default());
    assert_eq!(errors(&v), Vec::<String>::new());
    assert!(v.skipped.is_some());
}

/// Upstream (X11): none: a rule upstream does not have (see the README's deliberate differences)
#[test]
fn x11_operating_system_spec_oddities_are_warnings() {
    let md = with(
        &os(&machine_deployment(Provider::Aws), "flatcar"),
        &format!("{VALUE}/operatingSystemSpec"),
        json!({ "disableAutoUpdate": "yes" }),
    );
    let v = create(&md);
    assert_eq!(errors(&v), Vec::<String>::new());
    assert_eq!(
        v.warnings,
        [
            "spec.template.spec.providerSpec.value.operatingSystemSpec.disableAutoUpdate: Invalid value: \"yes\": must be of type boolean (machine-controller ignores it)"
        ]
    );
}

/// Upstream (X13): none: a rule upstream does not have (see the README's deliberate differences)
#[test]
fn x13_aws_negative_disk_sizes_are_left_to_aws_and_zero_is_refused() {
    let aws = machine_deployment(Provider::Aws);
    admitted(&set(&aws, "diskSize", json!(-5)));
    assert_eq!(
        create_errors(&set(&aws, "diskSize", json!(0))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.diskSize: Required value: diskSize must be specified and > 0"
        ]
    );
}

// Missing rejections.

/// Upstream (MV9): MC sdk/providerconfig/types.go:368-371; pkg/admission/machinedeployments.go:54
#[test]
fn mv9_provider_spec_value_is_required_even_with_value_from() {
    let md = without(&machine_deployment(Provider::Aws), VALUE);
    let md = with(
        &md,
        "/spec/template/spec/providerSpec/valueFrom",
        json!({ "machineDeploymentRef": "x" }),
    );
    assert_eq!(
        create_errors(&md),
        [
            "spec.template.spec.providerSpec.value: Required value: machine-controller reads the provider configuration from value only, not valueFrom"
        ]
    );
}

/// Upstream (MV10): MC sdk/providerconfig/types.go:379; machinedeployments.go:54,117-121
#[test]
fn mv10_unknown_provider_config_keys_are_refused() {
    let md = with(
        &machine_deployment(Provider::Aws),
        &format!("{VALUE}/sshPublicKey"),
        json!([SSH_KEY]),
    );
    let md = with(
        &md,
        &format!("{VALUE}/network"),
        json!({ "cidr": "10.0.0.5/24", "gatway": "10.0.0.1", "dns": { "server": [] } }),
    );
    assert_eq!(
        create_errors(&md),
        [
            "spec.template.spec.providerSpec.value.sshPublicKey: Forbidden: unknown field; machine-controller rejects it",
            "spec.template.spec.providerSpec.value.network.gatway: Forbidden: unknown field; machine-controller rejects it",
            "spec.template.spec.providerSpec.value.network.dns.server: Forbidden: unknown field; machine-controller rejects it",
        ]
    );
    // Decoding happens on every request, also when an update leaves the template alone.
    let stored = with(
        &common::defaulted(&machine_deployment(Provider::Aws)),
        &format!("{VALUE}/sshPublicKey"),
        json!([]),
    );
    let scaled = with(&stored, "/spec/replicas", json!(2));
    assert_eq!(
        errors(&validate(&Request::update(&scaled, &stored), &Context::default())),
        ["spec.template.spec.providerSpec.value.sshPublicKey: Forbidden: unknown field; machine-controller rejects it"]
    );
}

/// Upstream (MV18): MC sdk/cloudprovider/*/types.go GetConfig (StrictUnmarshal)
#[test]
fn mv18_cloud_provider_spec_keys_are_strict_and_ebs_optimized_is_one_of_them() {
    let aws = machine_deployment(Provider::Aws);
    admitted(&set(&aws, "ebsOptimized", json!(true)));
    assert_eq!(
        create_errors(&set(&aws, "ebsOptimised", json!(true))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.ebsOptimised: Forbidden: unknown field; machine-controller rejects it"
        ]
    );
}

/// Upstream (PA2): MC aws/provider.go:96-103,536-538
#[test]
fn pa2_aws_io2_is_not_a_machine_controller_volume_type() {
    let aws = set(&machine_deployment(Provider::Aws), "diskType", json!("io2"));
    assert_eq!(
        create_errors(&aws),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.diskType: Unsupported value: \"io2\": supported values: \"standard\", \"io1\", \"gp2\", \"gp3\", \"sc1\", \"st1\""
        ]
    );
}

/// Upstream (PA6): MC aws/provider.go:598-600
#[test]
fn pa6_aws_needs_security_groups() {
    let expected = [
        "spec.template.spec.providerSpec.value.cloudProviderSpec.securityGroupIDs: Required value: no security groups were specified",
    ];
    for empty in [json!([]), json!(null)] {
        assert_eq!(
            create_errors(&set(&machine_deployment(Provider::Aws), "securityGroupIDs", empty)),
            expected
        );
    }
    assert_eq!(
        create_errors(&without(
            &machine_deployment(Provider::Aws),
            &format!("{SPEC}/securityGroupIDs")
        )),
        expected
    );
}

/// Upstream (PZ2): MC azure/provider.go:1137-1152
#[test]
fn pz2_azure_public_ip_sku_is_basic_or_standard() {
    let azure = machine_deployment(Provider::Azure);
    for ok in ["", "Basic", "Standard"] {
        admitted(&set(&azure, "publicIPSKU", json!(ok)));
    }
    assert_eq!(
        create_errors(&set(&azure, "publicIPSKU", json!("Premium"))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.publicIPSKU: Unsupported value: \"Premium\": supported values: \"\", \"Basic\", \"Standard\""
        ]
    );
}

/// Upstream (PV5): MC vsphere/provider.go:258-265
#[test]
fn pv5_vsphere_tags_need_an_id_or_name_and_a_category() {
    let vsphere = machine_deployment(Provider::Vsphere);
    admitted(&set(
        &vsphere,
        "tags",
        json!([{ "name": "team", "categoryID": "urn:cat" }]),
    ));
    admitted(&set(
        &vsphere,
        "tags",
        json!([{ "id": "urn:tag", "categoryID": "urn:cat" }]),
    ));
    assert_eq!(
        create_errors(&set(&vsphere, "tags", json!([{ "description": "x" }]))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.tags[0].categoryID: Required value: a tag needs its categoryID",
            "spec.template.spec.providerSpec.value.cloudProviderSpec.tags[0].name: Required value: a tag needs its id or name",
        ]
    );
}

/// Upstream (PO2): MC openstack/provider.go:612-615
#[test]
fn po2_openstack_machine_uid_tag_is_reserved() {
    let openstack = set(
        &machine_deployment(Provider::Openstack),
        "tags",
        json!({ "machine-uid": "x" }),
    );
    assert_eq!(
        create_errors(&openstack),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.tags[machine-uid]: Forbidden: the machine-uid tag is reserved for machine-controller"
        ]
    );
}

/// Upstream (PK5): MC kubevirt/provider.go:351-357
#[test]
fn pk5_kubevirt_primary_disk_needs_a_size() {
    let kubevirt = machine_deployment(Provider::Kubevirt);
    let path = "virtualMachine/template/primaryDisk/size";
    assert_eq!(
        create_errors(&without(&kubevirt, &format!("{SPEC}/{path}"))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.virtualMachine.template.primaryDisk.size: Required value: the primary disk needs a size such as 20Gi"
        ]
    );
    assert_eq!(
        create_errors(&set(&kubevirt, path, json!("20 gigs"))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.virtualMachine.template.primaryDisk.size: Invalid value: \"20 gigs\": must be a quantity such as 20Gi"
        ]
    );
    admitted(&set(&kubevirt, path, json!("21474836480")));
}

/// Upstream (PK8): MC kubevirt/provider.go:692-697
#[test]
fn pk8_kubevirt_eviction_strategy_is_external_or_live_migrate() {
    let kubevirt = machine_deployment(Provider::Kubevirt);
    admitted(&set(&kubevirt, "virtualMachine/evictionStrategy", json!("LiveMigrate")));
    assert_eq!(
        create_errors(&set(&kubevirt, "virtualMachine/evictionStrategy", json!("None"))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.virtualMachine.evictionStrategy: Unsupported value: \"None\": supported values: \"\", \"External\", \"LiveMigrate\""
        ]
    );
}

/// Upstream (MD12): MC pkg/cloudprovider/provider/hetzner/provider.go:486-530
#[test]
fn md12_hetzner_datacenter_moves_to_location_and_numeric_ids_are_refused() {
    let hetzner = without(&machine_deployment(Provider::Hetzner), &format!("{SPEC}/location"));
    let v = create(&set(&hetzner, "datacenter", json!("nbg1-dc3")));
    assert_eq!(errors(&v), Vec::<String>::new());
    let object = v.object.expect("defaulted");
    let spec = &object["spec"]["template"]["spec"]["providerSpec"]["value"]["cloudProviderSpec"];
    assert_eq!((&spec["location"], &spec["datacenter"]), (&json!("nbg1"), &json!("")));
    assert_eq!(
        create_errors(&set(&hetzner, "datacenter", json!("4"))),
        [
            "spec.template.spec.providerSpec.value.cloudProviderSpec.datacenter: Invalid value: \"4\": is a numeric ID; give the location (such as fsn1) instead"
        ]
    );
}

/// Upstream (MD10): MC aws/provider.go:516-521
#[test]
fn md10_aws_spot_machines_get_the_termination_handler_label() {
    let aws = set(&machine_deployment(Provider::Aws), "isSpotInstance", json!(true));
    let aws = set(&aws, "spotInstanceConfig", json!({ "maxPrice": "0.1" }));
    let v = create(&aws);
    assert_eq!(errors(&v), Vec::<String>::new());
    assert_eq!(
        v.object.expect("defaulted")["spec"]["template"]["spec"]["metadata"]["labels"],
        json!({ "k8c.io/aws-spot": "aws-node-termination-handler" })
    );
}

/// Upstream (MV1): MC pkg/admission/machinedeployments_validation.go:43
#[test]
fn mv1_selector_label_keys_and_values_must_be_well_formed() {
    let md = machine_deployment(Provider::Hetzner);
    let md = with(
        &md,
        "/spec/selector/matchLabels",
        json!({ "bad key": "x", "machine": "md-k7bxrtzfwl-worker" }),
    );
    let md = with(&md, "/spec/template/metadata/labels/bad key", json!("x"));
    let md = with(
        &md,
        "/spec/selector/matchExpressions",
        json!([{ "key": "tier", "operator": "NotIn", "values": ["-x"] }]),
    );
    assert_eq!(
        create_errors(&md),
        [
            "spec.selector.matchLabels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            "spec.selector.matchExpressions[0].values[0]: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ]
    );
}

/// Upstream (MV19): MC provider Validate functions (e.g. gce/provider.go:117-126)
#[test]
fn mv19_ip_family_is_known_and_ipv6_only_where_supported() {
    let network = |p: Provider, family: &str| {
        with(
            &machine_deployment(p),
            &format!("{VALUE}/network"),
            json!({ "ipFamily": family }),
        )
    };
    admitted(&network(Provider::Hetzner, "IPv6"));
    admitted(&network(Provider::Gcp, "IPv4+IPv6"));
    assert_eq!(
        create_errors(&network(Provider::Gcp, "IPv6")),
        [
            "spec.template.spec.providerSpec.value.network.ipFamily: Invalid value: \"IPv6\": IPv6-only network family not supported yet"
        ]
    );
    assert_eq!(
        create_errors(&network(Provider::Aws, "IPv5")),
        [
            "spec.template.spec.providerSpec.value.network.ipFamily: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\", \"IPv4+IPv6\", \"IPv6+IPv4\""
        ]
    );
}

/// Each provider's optional fields as Go writes them when unset.
fn go_zero_fields(p: Provider) -> Value {
    match p {
        Provider::Aws => {
            json!({ "ami": "", "diskIops": null, "tags": null, "isSpotInstance": null, "ebsVolumeEncrypted": null })
        }
        Provider::Azure => json!({
            "imagePlan": null, "imageReference": null, "imageID": "", "osDiskSize": 0, "osDiskSKU": null,
            "dataDiskSize": 0, "publicIPSKU": "", "zones": null, "securityProfile": null, "assignPublicIP": null,
            "tags": null, "loadBalancerSku": "", "availabilitySet": "", "assignAvailabilitySet": null
        }),
        Provider::Gcp => json!({
            "diskSize": 0, "diskType": "", "labels": null, "tags": null, "guestOSFeatures": null, "customImage": "",
            "preemptible": null, "automaticRestart": null, "network": "", "subnetwork": ""
        }),
        Provider::Hetzner => json!({
            "datacenter": "", "networks": null, "firewalls": null, "labels": null, "assignPublicIPv4": null,
            "assignPublicIPv6": null, "placementGroupPrefix": ""
        }),
        Provider::Vsphere => {
            json!({ "tags": null, "datastoreCluster": "", "cluster": "", "vmNetName": "", "networks": null })
        }
        Provider::Openstack => json!({
            "rootDiskSizeGB": null, "nodeVolumeAttachLimit": null, "tags": null, "networks": null, "subnet": "",
            "trustDevicePath": null, "configDrive": null, "serverGroup": ""
        }),
        Provider::Digitalocean => json!({ "backups": null, "ipv6": null, "monitoring": null, "tags": null }),
        Provider::Kubevirt => json!({ "topologySpreadConstraints": null, "clusterName": "", "projectID": "" }),
    }
}

/// Upstream (MD11): MC pkg/cloudprovider/provider/gce/provider.go:86-100
#[test]
fn md11_every_provider_admits_its_optional_fields_as_go_zero_values() {
    for p in Provider::ALL {
        let mut md = machine_deployment(p);
        for (field, zero) in go_zero_fields(p).as_object().into_iter().flatten() {
            md = set(&md, field, zero.clone());
        }
        md = with(&md, &format!("{VALUE}/operatingSystemSpec"), Value::Null);
        md = with(&md, &format!("{VALUE}/network"), Value::Null);
        md = with(&md, &format!("{VALUE}/caPublicKey"), json!(""));
        md = with(&md, "/spec/template/spec/taints", Value::Null);
        let v = create(&md);
        assert_eq!(errors(&v), Vec::<String>::new(), "{p}");
        assert!(v.warnings.is_empty(), "{p}: {:?}", v.warnings);
    }
}
