//! Tests of the provider schemas: that each compiles, the errors it reports and the defaults it
//! fills, on written examples and on upstream objects.

use pretty_assertions::assert_eq;
use serde_json::json;

use super::documents::views;
use super::*;
use crate::providers::{
    AwsCloudSpec, AzureCloudSpec, DigitaloceanCloudSpec, GcpCloudSpec, HetznerCloudSpec, KubevirtCloudSpec,
    OpenstackCloudSpec, VsphereCloudSpec,
};

fn cluster_path(p: Provider) -> Path {
    Path::root("spec").child("cloud").child(p.name())
}

fn machine_path() -> Path {
    Path::root("spec")
        .child("template")
        .child("spec")
        .child("providerSpec")
        .child("value")
        .child("cloudProviderSpec")
}

fn os_path() -> Path {
    Path::root("spec")
        .child("template")
        .child("spec")
        .child("providerSpec")
        .child("value")
        .child("operatingSystemSpec")
}

fn cluster_errors(p: Provider, block: &Value) -> Vec<String> {
    check(cluster_cloud_schema(p), block, &cluster_path(p))
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn machine_errors(p: Provider, spec: &Value) -> Vec<String> {
    check(machine_cloud_schema(p), spec, &machine_path())
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn os_errors(os: OperatingSystem, spec: &Value) -> Vec<String> {
    check(os_schema(os), spec, &os_path())
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// `base` with the top-level keys of `patch` replaced (a `null` in the patch removes the key).
fn with(base: &Value, patch: Value) -> Value {
    let mut out = base.clone();
    if let (Some(target), Some(changes)) = (out.as_object_mut(), patch.as_object()) {
        for (k, v) in changes {
            if v.is_null() {
                target.remove(k);
            } else {
                target.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn secret_ref(key: &str) -> Value {
    json!({"secretKeyRef": {"namespace": "kube-system", "name": "machine-controller-creds", "key": key}})
}

const M: &str = "spec.template.spec.providerSpec.value.cloudProviderSpec";

// ---------------------------------------------------------------------------------------------
// Valid objects, written for these tests after the upstream examples.

fn cluster_example(p: Provider) -> Value {
    let reference = json!({"name": format!("credential-{}-xyz", p.name()), "namespace": "kubermatic"});
    match p {
        Provider::Aws => json!({
            "credentialsReference": reference,
            "instanceProfileName": "",
            "roleARN": "",
            "routeTableID": "",
            "securityGroupID": "sg-0123",
            "vpcID": "vpc-0abc",
            "nodePortsAllowedIPRanges": {"cidrBlocks": ["0.0.0.0/0", "::/0"]}
        }),
        Provider::Azure => json!({
            "tenantID": "tenant",
            "subscriptionID": "subscription",
            "clientID": "client",
            "clientSecret": "secret",
            "resourceGroup": "",
            "vnetResourceGroup": "",
            "vnet": "",
            "subnet": "",
            "routeTable": "",
            "securityGroup": "",
            "availabilitySet": "",
            "assignAvailabilitySet": true,
            "loadBalancerSKU": "standard",
            "nodePortsAllowedIPRange": "10.0.0.0/8"
        }),
        Provider::Digitalocean => json!({"token": "dop_v1_abc"}),
        Provider::Gcp => json!({
            "serviceAccount": "eyJwcm9qZWN0X2lkIjoicCJ9",
            "network": "global/networks/default",
            "subnetwork": ""
        }),
        Provider::Hetzner => json!({"credentialsReference": reference, "network": "kkp"}),
        Provider::Kubevirt => json!({
            "credentialsReference": reference,
            "storageClasses": [{"name": "px-csi-db", "isDefaultClass": true}],
            "preAllocatedDataVolumes": [
                {"name": "ubuntu", "url": "http://images/ubuntu.img", "size": "10Gi", "storageClass": "px-csi-db"}
            ]
        }),
        Provider::Openstack => json!({
            "credentialsReference": reference,
            "floatingIPPool": "ext-net",
            "network": "",
            "routerID": "",
            "securityGroups": "",
            "subnetID": "",
            "subnetCidr": "192.168.1.0/24",
            "ipv6SubnetCidr": "",
            "loadBalancerClasses": [{"name": "internal", "config": {"floatingNetworkID": "net-1"}}]
        }),
        Provider::Vsphere => json!({
            "credentialsReference": reference,
            "username": "",
            "password": "",
            "networks": ["/dc/network/VM Network"],
            "folder": "/dc/vm/kkp",
            "datastore": "vsan",
            "storagePolicy": "",
            "infraManagementUser": {},
            "tags": {"tags": ["env-test"], "categoryID": "urn:vmomi:cat"}
        }),
    }
}

fn machine_example(p: Provider) -> Value {
    match p {
        Provider::Aws => json!({
            "accessKeyId": secret_ref("accessKeyId"),
            "secretAccessKey": secret_ref("secretAccessKey"),
            "region": "eu-central-1",
            "availabilityZone": "eu-central-1a",
            "vpcId": "vpc-0abc",
            "subnetId": "subnet-0abc",
            "securityGroupIDs": ["sg-0123"],
            "instanceType": "t3.medium",
            "instanceProfile": "kubernetes-xyz",
            "diskSize": 50,
            "diskType": "gp3",
            "diskIops": 3000,
            "ebsVolumeEncrypted": false,
            "tags": {"KubernetesCluster": "xyz"},
            "assignPublicIP": true,
            "isSpotInstance": true,
            "spotInstanceConfig": {"maxPrice": "0.05", "persistentRequest": true}
        }),
        Provider::Azure => json!({
            "tenantID": secret_ref("tenantID"),
            "clientID": secret_ref("clientID"),
            "clientSecret": secret_ref("clientSecret"),
            "subscriptionID": secret_ref("subscriptionID"),
            "location": "westeurope",
            "resourceGroup": "kubernetes-xyz",
            "vmSize": "Standard_D2s_v3",
            "vnetName": "kubernetes-xyz",
            "subnetName": "kubernetes-xyz",
            "osDiskSize": 30,
            "zones": ["1"],
            "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
            "assignPublicIP": {"value": false},
            "securityProfile": {"securityType": "TrustedLaunch", "secureBootEnabled": true}
        }),
        Provider::Digitalocean => json!({
            "token": secret_ref("token"),
            "region": "fra1",
            "size": "s-2vcpu-4gb",
            "ipv6": false,
            "private_networking": true,
            "tags": ["kkp", {"value": "xyz"}]
        }),
        Provider::Gcp => json!({
            "serviceAccount": secret_ref("serviceAccount"),
            "zone": "europe-west3-a",
            "machineType": "e2-standard-2",
            "diskSize": 50,
            "diskType": "pd-ssd",
            "preemptible": false,
            "automaticRestart": true,
            "labels": {"kubernetes_cluster": "xyz"},
            "tags": ["kubernetes-cluster-xyz"]
        }),
        Provider::Hetzner => json!({
            "token": secret_ref("token"),
            "serverType": "cx22",
            "location": "fsn1",
            "image": "ubuntu-24.04",
            "networks": ["kkp"],
            "assignPublicIPv4": false,
            "assignPublicIPv6": false
        }),
        Provider::Kubevirt => json!({
            "clusterName": "xyz",
            "auth": {"kubeconfig": {"value": "YXBpVmVyc2lvbjogdjE="}},
            "virtualMachine": {
                "template": {
                    "vcpus": {"cores": 2},
                    "memory": "4Gi",
                    "primaryDisk": {"osImage": "http://images/ubuntu.img", "size": "20Gi", "storageClassName": "px"}
                },
                "dnsPolicy": "None",
                "dnsConfig": {"nameservers": ["8.8.8.8"]}
            },
            "topologySpreadConstraints": [
                {"maxSkew": "1", "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"}
            ]
        }),
        Provider::Openstack => json!({
            "identityEndpoint": secret_ref("identityEndpoint"),
            "applicationCredentialID": secret_ref("applicationCredentialID"),
            "applicationCredentialSecret": secret_ref("applicationCredentialSecret"),
            "region": "RegionOne",
            "image": "Ubuntu 24.04",
            "flavor": "m1.medium",
            "securityGroups": ["kubernetes-xyz"],
            "floatingIpPool": "ext-net",
            "rootDiskSizeGB": 20,
            "nodeVolumeAttachLimit": null,
            "disablePortSecurity": false,
            "tags": {"system-cluster": "xyz"}
        }),
        Provider::Vsphere => json!({
            "username": "kkp",
            "password": secret_ref("password"),
            "vsphereURL": "https://vcenter.example.com",
            "datacenter": "dc-1",
            "cluster": "cl-1",
            "templateVMName": "ubuntu-24.04",
            "networks": ["VM Network"],
            "folder": "/dc-1/vm/kkp",
            "datastoreCluster": "dsc-1",
            "allowInsecure": false,
            "vmAntiAffinity": true,
            "cpus": 2,
            "memoryMB": 4096,
            "diskSizeGB": 20,
            "tags": [{"name": "env-test", "categoryID": "urn:vmomi:cat"}]
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Compilation and the files themselves.

#[test]
fn every_schema_compiles_and_is_named_for_its_file() {
    for p in Provider::ALL {
        let _ = cluster_cloud_schema(p);
        let _ = machine_cloud_schema(p);
        assert_eq!(
            cluster_cloud_schema_json(p)["$id"],
            json!(format!("{BASE_URI}{}", cluster_source(p).0)),
            "{p} cluster schema"
        );
        assert_eq!(
            machine_cloud_schema_json(p)["$id"],
            json!(format!("{BASE_URI}machine/{}.json", p.machine_name())),
            "{p} machine schema"
        );
    }
    for os in OperatingSystem::ALL {
        let _ = os_schema(os);
        assert_eq!(
            os_schema_json(os)["$id"],
            json!(format!("{BASE_URI}os/{}.json", os.name()))
        );
    }
    assert_eq!(common_schema_json()["$id"], json!(format!("{BASE_URI}common.json")));
    for doc in DOCUMENTS.all() {
        assert_eq!(
            doc["$schema"],
            json!("https://json-schema.org/draft/2020-12/schema"),
            "{}",
            doc["$id"]
        );
    }
}

#[test]
fn the_shared_definitions_resolve_from_other_schemas() {
    let validator = compile(&json!({
        "$ref": format!("{BASE_URI}common.json#/$defs/configVarString")
    }))
    .unwrap();
    assert!(validator.is_valid(&json!("plain")));
    assert!(validator.is_valid(&json!({"configMapKeyRef": {"namespace": "a", "name": "b", "key": "c"}})));
    assert!(!validator.is_valid(&json!(true)));
}

#[test]
fn custom_formats_are_checked() {
    let validator = compile(&json!({
        "type": "object",
        "properties": {
            "cidr": {"format": "cidr"},
            "version": {"format": "semver"},
            "data": {"format": "base64"}
        }
    }))
    .unwrap();
    for good in [
        json!({"cidr": "10.0.0.0/16", "version": "1.30.2", "data": "aGVsbG8="}),
        json!({"cidr": "fd00::/64", "version": "v1.35.7", "data": ""}),
        json!({"cidr": "10.0.0.1/24", "version": "1.36.0-rc.1"}),
    ] {
        assert!(validator.is_valid(&good), "{good}");
    }
    for bad in [
        json!({"cidr": "10.0.0.0"}),
        json!({"cidr": "10.0.0.0/33"}),
        json!({"cidr": "fd00::/129"}),
        json!({"version": "1.30"}),
        json!({"version": "vv1.30.0"}),
        json!({"data": "not base64!"}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
    }
    let errors = check(&validator, &json!({"version": "latest"}), &Path::root("spec"));
    assert_eq!(
        errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["spec.version: Invalid value: \"latest\": must be a semantic version such as 1.30.2"]
    );
}

#[test]
fn a_broken_schema_is_an_error_not_a_panic() {
    let err = compile(&json!({"type": "no-such-type"}))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("invalid schema: "), "{err}");
}

/// Every property a Cluster schema knows is a field of the typed block, so nothing the schema
/// describes ends up in `other`.
#[test]
fn cluster_schemas_and_typed_blocks_name_the_same_fields() {
    fn sample(node: &Value) -> Value {
        let (_, target) = views(common_schema_json(), node).pop().unwrap_or((node, node));
        let ty = target.get("type").or_else(|| node.get("type"));
        let first = match ty {
            Some(Value::Array(types)) => types.first().and_then(Value::as_str).unwrap_or("string"),
            Some(Value::String(t)) => t.as_str(),
            _ => "object",
        };
        match first {
            "boolean" => json!(true),
            "integer" => json!(1),
            "array" => json!([]),
            "object" => json!({}),
            _ => json!("x"),
        }
    }
    for p in Provider::ALL {
        let schema = cluster_cloud_schema_json(p);
        let block: Map<String, Value> = schema["properties"]
            .as_object()
            .map(|props| props.iter().map(|(k, v)| (k.clone(), sample(v))).collect())
            .unwrap_or_default();
        let block = Value::Object(block);
        let other = match p {
            Provider::Aws => serde_json::from_value::<AwsCloudSpec>(block).map(|b| b.other),
            Provider::Azure => serde_json::from_value::<AzureCloudSpec>(block).map(|b| b.other),
            Provider::Digitalocean => serde_json::from_value::<DigitaloceanCloudSpec>(block).map(|b| b.other),
            Provider::Gcp => serde_json::from_value::<GcpCloudSpec>(block).map(|b| b.other),
            Provider::Hetzner => serde_json::from_value::<HetznerCloudSpec>(block).map(|b| b.other),
            Provider::Kubevirt => serde_json::from_value::<KubevirtCloudSpec>(block).map(|b| b.other),
            Provider::Openstack => serde_json::from_value::<OpenstackCloudSpec>(block).map(|b| b.other),
            Provider::Vsphere => serde_json::from_value::<VsphereCloudSpec>(block).map(|b| b.other),
        };
        let other = other.unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(
            other.is_empty(),
            "{p}: schema fields missing from the typed block: {:?}",
            other.keys()
        );
    }
}

/// The credential fields the providers name are all described, and marked secret where they are.
#[test]
fn credential_fields_are_in_the_cluster_schemas() {
    for p in Provider::ALL {
        let schema = cluster_cloud_schema_json(p);
        for field in p.credential_fields() {
            let pointer = format!("/properties/{}", field.replace('.', "/properties/"));
            assert!(schema.pointer(&pointer).is_some(), "{p}: {field} is not in the schema");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Valid examples pass.

#[test]
fn written_cluster_examples_are_valid() {
    for p in Provider::ALL {
        assert_eq!(cluster_errors(p, &cluster_example(p)), Vec::<String>::new(), "{p}");
    }
}

#[test]
fn written_machine_examples_are_valid() {
    for p in Provider::ALL {
        assert_eq!(machine_errors(p, &machine_example(p)), Vec::<String>::new(), "{p}");
    }
}

#[test]
fn operating_system_specs_are_valid() {
    assert!(os_errors(OperatingSystem::Ubuntu, &json!({"distUpgradeOnBoot": true})).is_empty());
    assert!(os_errors(OperatingSystem::Amzn2, &json!({})).is_empty());
    assert!(os_errors(OperatingSystem::Rockylinux, &json!({"distUpgradeOnBoot": false})).is_empty());
    assert!(os_errors(OperatingSystem::Flatcar, &json!({"provisioningUtility": "cloud-init"})).is_empty());
    let rhel = json!({
        "distUpgradeOnBoot": false,
        "rhelSubscriptionManagerUser": "user",
        "rhelSubscriptionManagerPassword": "pass",
        "rhsmOfflineToken": "token",
        "attachSubscription": true,
        "rhelUseSatelliteServer": true,
        "rhelSatelliteServer": "satellite.example.com",
        "rhelOrganizationName": "org",
        "rhelActivationKey": "key"
    });
    assert!(os_errors(OperatingSystem::Rhel, &rhel).is_empty());
    // Fields of other systems are ignored, as machine-controller ignores them.
    assert!(os_errors(OperatingSystem::Ubuntu, &rhel).is_empty());
}

#[test]
fn values_may_come_from_secrets_and_config_maps() {
    let config_map = json!({"configMapKeyRef": {"namespace": "kube-system", "name": "mc", "key": "region"}});
    let aws = with(
        &machine_example(Provider::Aws),
        json!({
            "region": config_map,
            "instanceType": {"value": "t3.large"},
            "vpcId": {"secretKeyRef": {"namespace": "kube-system", "name": "mc", "key": "vpc"}, "value": "vpc-1"},
            "ebsVolumeEncrypted": {"value": true},
            "diskType": {"configMapKeyRef": {"namespace": "kube-system", "name": "mc", "key": "diskType"}},
            "securityGroupIDs": [config_map, "sg-2"]
        }),
    );
    assert_eq!(machine_errors(Provider::Aws, &aws), Vec::<String>::new());
    let vsphere = with(
        &machine_example(Provider::Vsphere),
        json!({
            "datastoreCluster": null,
            "datastore": secret_ref("datastore"),
            "allowInsecure": {"secretKeyRef": {"namespace": "kube-system", "name": "mc", "key": "insecure"}},
            "cpus": 4
        }),
    );
    assert_eq!(machine_errors(Provider::Vsphere, &vsphere), Vec::<String>::new());
    // machine-controller reads numbers given for strings as their text.
    let kubevirt = json!({
        "virtualMachine": {"template": {"cpus": 2, "memory": "2Gi"}},
        "topologySpreadConstraints": [{"maxSkew": 1}]
    });
    assert_eq!(machine_errors(Provider::Kubevirt, &kubevirt), Vec::<String>::new());
}

#[test]
fn machine_credentials_may_be_left_to_the_environment() {
    for p in Provider::ALL {
        let mut spec = machine_example(p);
        if let Some(map) = spec.as_object_mut() {
            for key in [
                "accessKeyId",
                "secretAccessKey",
                "tenantID",
                "clientID",
                "clientSecret",
                "subscriptionID",
                "token",
                "serviceAccount",
                "username",
                "password",
                "identityEndpoint",
                "applicationCredentialID",
                "applicationCredentialSecret",
            ] {
                map.remove(key);
            }
            map.remove("auth");
        }
        assert_eq!(machine_errors(p, &spec), Vec::<String>::new(), "{p}");
    }
}

// ---------------------------------------------------------------------------------------------
// Failing cases say exactly what is wrong.

#[test]
fn missing_required_fields_are_named() {
    let aws = with(&machine_example(Provider::Aws), json!({"instanceType": null}));
    assert_eq!(
        machine_errors(Provider::Aws, &aws),
        [format!("{M}.instanceType: Required value")]
    );

    let empty = with(&machine_example(Provider::Azure), json!({"vmSize": ""}));
    assert_eq!(
        machine_errors(Provider::Azure, &empty),
        [format!("{M}.vmSize: Required value")]
    );

    assert_eq!(
        machine_errors(Provider::Gcp, &json!({})),
        [
            format!("{M}.machineType: Required value"),
            format!("{M}.zone: Required value")
        ]
    );
    assert_eq!(
        machine_errors(Provider::Digitalocean, &json!({"region": "fra1"})),
        [format!("{M}.size: Required value")]
    );
    assert_eq!(
        machine_errors(Provider::Hetzner, &json!({"location": "fsn1"})),
        [format!("{M}.serverType: Required value")]
    );
    assert_eq!(
        machine_errors(Provider::Openstack, &json!({"image": "ubuntu"})),
        [format!("{M}.flavor: Required value")]
    );
    assert_eq!(
        machine_errors(Provider::Vsphere, &json!({"datastore": "ds"})),
        [format!("{M}.templateVMName: Required value")]
    );
    assert_eq!(
        machine_errors(Provider::Kubevirt, &json!({})),
        [format!("{M}.virtualMachine: Required value")]
    );

    let gcp = with(&cluster_example(Provider::Gcp), json!({"network": null}));
    assert_eq!(
        cluster_errors(Provider::Gcp, &gcp),
        ["spec.cloud.gcp.network: Required value"]
    );
    let vsphere = with(&cluster_example(Provider::Vsphere), json!({"storagePolicy": null}));
    assert_eq!(
        cluster_errors(Provider::Vsphere, &vsphere),
        ["spec.cloud.vsphere.storagePolicy: Required value"]
    );
    let openstack = with(&cluster_example(Provider::Openstack), json!({"routerID": null}));
    assert_eq!(
        cluster_errors(Provider::Openstack, &openstack),
        ["spec.cloud.openstack.routerID: Required value"]
    );
}

#[test]
fn cluster_credentials_are_inline_or_referenced() {
    let aws = with(&cluster_example(Provider::Aws), json!({"credentialsReference": null}));
    assert_eq!(
        cluster_errors(Provider::Aws, &aws),
        [
            "spec.cloud.aws.accessKeyID: Required value: set accessKeyID, or a credentialsReference (name and \
             namespace) to the Secret that holds it",
            "spec.cloud.aws.secretAccessKey: Required value: set secretAccessKey, or a credentialsReference (name \
             and namespace) to the Secret that holds it",
        ]
    );
    let inline = with(&aws, json!({"accessKeyID": "AKIA", "secretAccessKey": "s3cret"}));
    assert_eq!(cluster_errors(Provider::Aws, &inline), Vec::<String>::new());

    // A reference without a namespace does not count.
    let hetzner = json!({"credentialsReference": {"name": "credential-hetzner-xyz"}});
    assert_eq!(
        cluster_errors(Provider::Hetzner, &hetzner),
        [
            "spec.cloud.hetzner.token: Required value: set token, or a credentialsReference (name and namespace) to \
          the Secret that holds it"
        ]
    );
    assert_eq!(
        cluster_errors(Provider::Digitalocean, &json!({"token": ""})),
        [
            "spec.cloud.digitalocean.token: Required value: set token, or a credentialsReference (name and namespace) \
          to the Secret that holds it"
        ]
    );
    let azure = with(&cluster_example(Provider::Azure), json!({"clientSecret": ""}));
    assert_eq!(
        cluster_errors(Provider::Azure, &azure),
        [
            "spec.cloud.azure.clientSecret: Required value: set clientSecret, or a credentialsReference (name and \
          namespace) to the Secret that holds it"
        ]
    );
    assert_eq!(
        cluster_errors(Provider::Kubevirt, &json!({})),
        [
            "spec.cloud.kubevirt.kubeconfig: Required value: set kubeconfig, or a credentialsReference (name and \
          namespace) to the Secret that holds it"
        ]
    );
}

#[test]
fn openstack_application_credentials_replace_user_credentials() {
    let base = json!({"floatingIPPool": "", "network": "", "routerID": "", "securityGroups": "", "subnetID": ""});
    let app = with(
        &base,
        json!({"applicationCredentialID": "id", "applicationCredentialSecret": "secret"}),
    );
    assert_eq!(cluster_errors(Provider::Openstack, &app), Vec::<String>::new());

    let half = with(&base, json!({"applicationCredentialID": "id"}));
    let errors = cluster_errors(Provider::Openstack, &half);
    assert_eq!(
        errors.first().map(String::as_str),
        Some(
            "spec.cloud.openstack.applicationCredentialSecret: Required value: applicationCredentialSecret is \
             required with applicationCredentialID"
        )
    );
    let user = with(
        &base,
        json!({"domain": "Default", "username": "u", "password": "p", "projectID": "x"}),
    );
    assert_eq!(cluster_errors(Provider::Openstack, &user), Vec::<String>::new());
    let no_password = with(&user, json!({"password": null}));
    assert_eq!(
        cluster_errors(Provider::Openstack, &no_password),
        [
            "spec.cloud.openstack.password: Required value: set password, or a credentialsReference (name and \
          namespace) to the Secret that holds it, or use application credentials"
        ]
    );
    let suffix = with(&app, json!({"ingressHostnameSuffix": "nip.io"}));
    assert_eq!(
        cluster_errors(Provider::Openstack, &suffix),
        ["spec.cloud.openstack.ingressHostnameSuffix: Forbidden: may only be set when enableIngressHostname is true"]
    );
    let enabled = with(&suffix, json!({"enableIngressHostname": true}));
    assert_eq!(cluster_errors(Provider::Openstack, &enabled), Vec::<String>::new());
}

#[test]
fn aws_iam_reconciling_off_needs_role_and_profile() {
    let block = with(&cluster_example(Provider::Aws), json!({"disableIAMReconciling": true}));
    assert_eq!(
        cluster_errors(Provider::Aws, &block),
        [
            "spec.cloud.aws.instanceProfileName: Required value: instanceProfileName is required when \
             disableIAMReconciling is true",
            "spec.cloud.aws.roleARN: Required value: roleARN is required when disableIAMReconciling is true",
        ]
    );
    let given = with(
        &block,
        json!({"roleARN": "arn:aws:iam::1:role/cp", "instanceProfileName": "nodes"}),
    );
    assert_eq!(cluster_errors(Provider::Aws, &given), Vec::<String>::new());
}

#[test]
fn unsupported_enum_values_list_the_supported_ones() {
    let azure = with(&cluster_example(Provider::Azure), json!({"loadBalancerSKU": "premium"}));
    assert_eq!(
        cluster_errors(Provider::Azure, &azure),
        [
            "spec.cloud.azure.loadBalancerSKU: Unsupported value: \"premium\": supported values: \"\", \"standard\", \
          \"basic\""
        ]
    );
    let aws = with(&machine_example(Provider::Aws), json!({"diskType": "magnetic"}));
    assert_eq!(
        machine_errors(Provider::Aws, &aws),
        [format!(
            "{M}.diskType: Unsupported value: \"magnetic\": supported values: \"standard\", \"io1\", \
             \"gp2\", \"gp3\", \"sc1\", \"st1\""
        )]
    );
    let gce = with(&machine_example(Provider::Gcp), json!({"diskType": "pd-balanced"}));
    assert_eq!(
        machine_errors(Provider::Gcp, &gce),
        [format!(
            "{M}.diskType: Unsupported value: \"pd-balanced\": supported values: \"pd-standard\", \"pd-ssd\""
        )]
    );
    let kubevirt = json!({"virtualMachine": {"template": {"cpus": "1", "memory": "1Gi"}, "dnsPolicy": "Cluster"}});
    assert_eq!(
        machine_errors(Provider::Kubevirt, &kubevirt),
        [format!(
            "{M}.virtualMachine.dnsPolicy: Unsupported value: \"Cluster\": supported values: \
             \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""
        )]
    );
    assert_eq!(
        os_errors(OperatingSystem::Flatcar, &json!({"provisioningUtility": "cloudinit"})),
        [
            "spec.template.spec.providerSpec.value.operatingSystemSpec.provisioningUtility: Unsupported value: \
          \"cloudinit\": supported values: \"\", \"ignition\", \"cloud-init\""
        ]
    );
}

#[test]
fn bad_formats_and_types_are_invalid_values() {
    let aws = with(
        &cluster_example(Provider::Aws),
        json!({"nodePortsAllowedIPRange": "10.0.0.0/40", "nodePortsAllowedIPRanges": {"cidrBlocks": ["0.0.0.0/0", "any"]}}),
    );
    assert_eq!(
        cluster_errors(Provider::Aws, &aws),
        [
            "spec.cloud.aws.nodePortsAllowedIPRange: Invalid value: \"10.0.0.0/40\": must be a CIDR such as \
             10.0.0.0/16 or fd00::/64",
            "spec.cloud.aws.nodePortsAllowedIPRanges.cidrBlocks[1]: Invalid value: \"any\": must be a CIDR such as \
             10.0.0.0/16 or fd00::/64",
        ]
    );
    let openstack = with(
        &cluster_example(Provider::Openstack),
        json!({"subnetCidr": "192.168.1.0"}),
    );
    assert_eq!(
        cluster_errors(Provider::Openstack, &openstack),
        [
            "spec.cloud.openstack.subnetCidr: Invalid value: \"192.168.1.0\": must be a CIDR such as 10.0.0.0/16 or \
          fd00::/64"
        ]
    );
    let azure = with(
        &cluster_example(Provider::Azure),
        json!({"assignAvailabilitySet": "yes"}),
    );
    assert_eq!(
        cluster_errors(Provider::Azure, &azure),
        ["spec.cloud.azure.assignAvailabilitySet: Invalid value: \"yes\": must be of type boolean"]
    );
    let gce = with(
        &machine_example(Provider::Gcp),
        json!({"diskSize": "50", "multizone": "true"}),
    );
    assert_eq!(
        machine_errors(Provider::Gcp, &gce),
        [
            format!("{M}.diskSize: Invalid value: \"50\": must be of type integer"),
            format!(
                "{M}.multizone: Invalid value: \"true\": must be a boolean, or an object with value, secretKeyRef \
                 or configMapKeyRef"
            ),
        ]
    );
    let vsphere = with(
        &machine_example(Provider::Vsphere),
        json!({"cpus": -1, "cluster": ["cl-1"]}),
    );
    assert_eq!(
        machine_errors(Provider::Vsphere, &vsphere),
        [
            format!(
                "{M}.cluster: Invalid value: [\"cl-1\"]: must be a string, or an object with value, secretKeyRef or \
                 configMapKeyRef"
            ),
            format!("{M}.cpus: Invalid value: -1: must be greater than or equal to 0"),
        ]
    );
    let reference = with(
        &machine_example(Provider::Aws),
        json!({"region": {"secretKeyRef": {"name": "mc", "key": "region"}}}),
    );
    assert_eq!(
        machine_errors(Provider::Aws, &reference),
        [format!("{M}.region.secretKeyRef.namespace: Required value")]
    );
    assert_eq!(
        os_errors(OperatingSystem::Ubuntu, &json!({"distUpgradeOnBoot": "yes"})),
        [
            "spec.template.spec.providerSpec.value.operatingSystemSpec.distUpgradeOnBoot: Invalid value: \"yes\": must \
          be of type boolean"
        ]
    );
}

#[test]
fn secrets_never_appear_in_messages() {
    let gcp = with(
        &cluster_example(Provider::Gcp),
        json!({"serviceAccount": "{\"private_key\": \"KEY\"}"}),
    );
    assert_eq!(
        cluster_errors(Provider::Gcp, &gcp),
        ["spec.cloud.gcp.serviceAccount: Invalid value: \"<redacted>\": must be base64-encoded"]
    );
    let gce = with(
        &machine_example(Provider::Gcp),
        json!({"serviceAccount": {"value": "PRIVATE KEY"}}),
    );
    assert_eq!(
        machine_errors(Provider::Gcp, &gce),
        [format!(
            "{M}.serviceAccount.value: Invalid value: \"<redacted>\": must be a JSON document, as it is or base64-encoded"
        )]
    );
    let aws = with(&machine_example(Provider::Aws), json!({"secretAccessKey": true}));
    assert_eq!(
        machine_errors(Provider::Aws, &aws),
        [format!(
            "{M}.secretAccessKey: Invalid value: \"<redacted>\": must be a string, or an object with value, \
             secretKeyRef or configMapKeyRef"
        )]
    );
    let kubevirt = with(
        &machine_example(Provider::Kubevirt),
        json!({"auth": {"kubeconfig": "apiVersion: v1"}}),
    );
    assert_eq!(
        machine_errors(Provider::Kubevirt, &kubevirt),
        [format!(
            "{M}.auth.kubeconfig: Invalid value: \"<redacted>\": must be base64-encoded"
        )]
    );
}

#[test]
fn mutually_exclusive_fields_say_so() {
    let vsphere = with(&cluster_example(Provider::Vsphere), json!({"datastoreCluster": "dsc"}));
    assert_eq!(
        cluster_errors(Provider::Vsphere, &vsphere),
        [
            "spec.cloud.vsphere: Invalid value: {\"datastore\":\"vsan\",\"datastoreCluster\":\"dsc\"}: datastore and \
          datastoreCluster are mutually exclusive"
        ]
    );
    let networks = with(&cluster_example(Provider::Vsphere), json!({"vmNetName": "VM Network"}));
    assert_eq!(
        cluster_errors(Provider::Vsphere, &networks),
        [
            "spec.cloud.vsphere: Invalid value: {\"networks\":[\"/dc/network/VM Network\"],\"vmNetName\":\"VM \
          Network\"}: networks and vmNetName cannot be set at the same time"
        ]
    );

    let both = with(&machine_example(Provider::Vsphere), json!({"datastore": "ds"}));
    assert_eq!(
        machine_errors(Provider::Vsphere, &both),
        [format!(
            "{M}: Invalid value: {{\"datastore\":\"ds\",\"datastoreCluster\":\"dsc-1\"}}: datastore and \
             datastoreCluster are mutually exclusive"
        )]
    );
    let neither = with(&machine_example(Provider::Vsphere), json!({"datastoreCluster": ""}));
    assert_eq!(
        machine_errors(Provider::Vsphere, &neither),
        [format!(
            "{M}: Required value: one of datastore or datastoreCluster must be set"
        )]
    );
    let legacy = with(&machine_example(Provider::Vsphere), json!({"vmNetName": "VM Network"}));
    assert_eq!(
        machine_errors(Provider::Vsphere, &legacy),
        [format!(
            "{M}: Invalid value: {{\"networks\":[\"VM Network\"],\"vmNetName\":\"VM Network\"}}: networks and the \
             deprecated vmNetName are mutually exclusive"
        )]
    );
    let anti_affinity = with(&machine_example(Provider::Vsphere), json!({"cluster": ""}));
    assert_eq!(
        machine_errors(Provider::Vsphere, &anti_affinity),
        [format!("{M}.cluster: Required value: vmAntiAffinity needs the cluster")]
    );

    let hetzner = with(&machine_example(Provider::Hetzner), json!({"datacenter": "fsn1-dc14"}));
    assert_eq!(
        machine_errors(Provider::Hetzner, &hetzner),
        [format!(
            "{M}: Invalid value: {{\"datacenter\":\"fsn1-dc14\",\"location\":\"fsn1\"}}: location and the deprecated \
             datacenter are mutually exclusive"
        )]
    );
    let offline = with(&machine_example(Provider::Hetzner), json!({"networks": []}));
    assert_eq!(
        machine_errors(Provider::Hetzner, &offline),
        [format!(
            "{M}: Invalid value: {{\"assignPublicIPv4\":false,\"assignPublicIPv6\":false,\"networks\":[]}}: a server \
             needs a public IPv4 or IPv6 address or a network"
        )]
    );
    let gce = with(&machine_example(Provider::Gcp), json!({"preemptible": true}));
    assert_eq!(
        machine_errors(Provider::Gcp, &gce),
        [format!(
            "{M}: Invalid value: {{\"automaticRestart\":true,\"preemptible\":true}}: automatic restart can only be \
             enabled for standard instances, preemptible instances cannot be restarted"
        )]
    );
}

#[test]
fn kubevirt_machines_need_resources_unless_an_instancetype_is_given() {
    let vm = |v: Value| json!({"virtualMachine": v});
    assert_eq!(
        machine_errors(Provider::Kubevirt, &vm(json!({"template": {"cpus": "1"}}))),
        [format!(
            "{M}.virtualMachine.template.memory: Required value: memory is required unless an instancetype is given"
        )]
    );
    assert_eq!(
        machine_errors(Provider::Kubevirt, &vm(json!({"template": {"memory": "2Gi"}}))),
        [format!(
            "{M}.virtualMachine.template.cpus: Required value: either cpus or vcpus.cores must be set unless an \
             instancetype is given"
        )]
    );
    // machine-controller reads vcpus when both are given and never parses cpus.
    assert_eq!(
        machine_errors(
            Provider::Kubevirt,
            &vm(json!({"template": {"memory": "2Gi", "cpus": "2", "vcpus": {"cores": 2}}}))
        ),
        Vec::<String>::new()
    );
    let instancetype = vm(json!({"instancetype": {"name": "standard-2", "kind": "VirtualMachineInstancetype"}}));
    assert_eq!(machine_errors(Provider::Kubevirt, &instancetype), Vec::<String>::new());
    assert_eq!(
        machine_errors(
            Provider::Kubevirt,
            &vm(json!({"template": {"memory": "2Gi", "cpus": "1"}, "dnsPolicy": "None"}))
        ),
        [format!(
            "{M}.virtualMachine.dnsConfig.nameservers: Required value: dnsPolicy None needs at least one nameserver"
        )]
    );
    let headers = vm(json!({
        "template": {"memory": "2Gi", "cpus": "1", "primaryDisk": {"extraHeaders": ["a: b"], "extraHeadersSecretRef": "h"}}
    }));
    assert_eq!(
        machine_errors(Provider::Kubevirt, &headers),
        [format!(
            "{M}.virtualMachine.template.primaryDisk: Invalid value: {{\"extraHeaders\":[\"a: \
             b\"],\"extraHeadersSecretRef\":\"h\"}}: extraHeaders and extraHeadersSecretRef are mutually exclusive"
        )]
    );
}

#[test]
fn aws_disk_rules_follow_the_volume_type() {
    let io1 = with(
        &machine_example(Provider::Aws),
        json!({"diskType": "io1", "diskIops": null}),
    );
    assert_eq!(
        machine_errors(Provider::Aws, &io1),
        [format!("{M}.diskIops: Required value: io1 volumes need diskIops")]
    );
    let low = with(&io1, json!({"diskIops": 50}));
    assert_eq!(
        machine_errors(Provider::Aws, &low),
        [format!(
            "{M}.diskIops: Invalid value: 50: io1 volumes take 100 to 64000 IOPS"
        )]
    );
    let gp3 = with(&machine_example(Provider::Aws), json!({"diskIops": 100}));
    assert_eq!(
        machine_errors(Provider::Aws, &gp3),
        [format!(
            "{M}.diskIops: Invalid value: 100: gp3 volumes take 3000 to 64000 IOPS"
        )]
    );
    let spot = with(
        &machine_example(Provider::Aws),
        json!({"spotInstanceConfig": {"persistentRequest": true}}),
    );
    // machine-controller needs a spotInstanceConfig for a spot instance, not a maxPrice in it.
    assert_eq!(machine_errors(Provider::Aws, &spot), Vec::<String>::new());
    let no_config = with(
        &machine_example(Provider::Aws),
        json!({"isSpotInstance": true, "spotInstanceConfig": null}),
    );
    assert_eq!(
        machine_errors(Provider::Aws, &no_config),
        [format!(
            "{M}.spotInstanceConfig: Required value: spot instances need a spotInstanceConfig (its maxPrice may be empty)"
        )]
    );
}

#[test]
fn unknown_machine_fields_are_rejected_like_machine_controller_does() {
    let aws = with(&machine_example(Provider::Aws), json!({"instanceTyp": "t3.small"}));
    assert_eq!(
        machine_errors(Provider::Aws, &aws),
        [format!(
            "{M}.instanceTyp: Forbidden: unknown field; machine-controller rejects it"
        )]
    );
    let nested = with(
        &machine_example(Provider::Azure),
        json!({"imageReference": {"publisher": "p", "image": "x"}}),
    );
    assert_eq!(
        machine_errors(Provider::Azure, &nested),
        [format!(
            "{M}.imageReference.image: Forbidden: unknown field; machine-controller rejects it"
        )]
    );
    // Cluster blocks keep what they do not know; the API server prunes it.
    let cluster = with(&cluster_example(Provider::Hetzner), json!({"futureField": 1}));
    assert_eq!(cluster_errors(Provider::Hetzner, &cluster), Vec::<String>::new());
}

#[test]
fn errors_are_sorted_and_unique() {
    let spec = json!({"zone": "", "machineType": "", "diskSize": -1, "diskType": "x", "extra": 1});
    let errors = check(machine_cloud_schema(Provider::Gcp), &spec, &machine_path());
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    let mut sorted = fields.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(fields, sorted);
    assert_eq!(errors.len(), 5);
}

// ---------------------------------------------------------------------------------------------
// Defaulting.

#[test]
fn defaults_fill_absent_fields_and_only_those() {
    let mut aws = json!({"region": "eu-central-1", "diskType": "gp2"});
    apply_defaults(machine_cloud_schema_json(Provider::Aws), &mut aws);
    assert_eq!(
        aws,
        json!({"region": "eu-central-1", "diskType": "gp2", "assignPublicIP": true})
    );

    let mut bare = json!({});
    apply_defaults(machine_cloud_schema_json(Provider::Aws), &mut bare);
    assert_eq!(bare, json!({"diskType": "standard", "assignPublicIP": true}));

    let mut gce = json!({"zone": "europe-west3-a"});
    apply_defaults(machine_cloud_schema_json(Provider::Gcp), &mut gce);
    assert_eq!(
        gce,
        json!({"zone": "europe-west3-a", "diskSize": 25, "diskType": "pd-standard"})
    );

    let mut flatcar = json!({"disableAutoUpdate": true});
    apply_defaults(os_schema_json(OperatingSystem::Flatcar), &mut flatcar);
    assert_eq!(
        flatcar,
        json!({
            "disableAutoUpdate": true, "disableLocksmithD": false, "disableUpdateEngine": false,
            "provisioningUtility": "ignition"
        })
    );

    let mut azure = json!({"credentialsReference": {"name": "c", "namespace": "kubermatic"}});
    apply_defaults(cluster_cloud_schema_json(Provider::Azure), &mut azure);
    assert_eq!(
        azure,
        json!({
            "credentialsReference": {"name": "c", "namespace": "kubermatic"},
            "resourceGroup": "",
            "vnetResourceGroup": "",
            "vnet": "",
            "subnet": "",
            "routeTable": "",
            "securityGroup": "",
            "availabilitySet": "",
            "loadBalancerSKU": "standard"
        })
    );
    assert_eq!(cluster_errors(Provider::Azure, &azure), Vec::<String>::new());

    let mut vsphere = json!({"credentialsReference": {"name": "c", "namespace": "kubermatic"}, "datastore": "ds"});
    apply_defaults(cluster_cloud_schema_json(Provider::Vsphere), &mut vsphere);
    assert_eq!(vsphere["storagePolicy"], json!(""));
    assert_eq!(vsphere["infraManagementUser"], json!({}));
}

#[test]
fn defaults_reach_into_present_sub_objects_and_lists() {
    let schema = json!({
        "type": "object",
        "properties": {
            "child": {"$ref": "#/$defs/child"},
            "items": {"type": "array", "items": {"$ref": "#/$defs/child"}}
        },
        "$defs": {"child": {"type": "object", "properties": {"size": {"default": 10}}}}
    });
    let mut instance = json!({"child": {}, "items": [{}, {"size": 3}]});
    apply_defaults(&schema, &mut instance);
    assert_eq!(
        instance,
        json!({"child": {"size": 10}, "items": [{"size": 10}, {"size": 3}]})
    );
    // Absent sub-objects without a default stay absent.
    let mut empty = json!({});
    apply_defaults(&schema, &mut empty);
    assert_eq!(empty, json!({}));
    // Values that are not objects are left alone.
    let mut scalar = json!("x");
    apply_defaults(&schema, &mut scalar);
    assert_eq!(scalar, json!("x"));
}

#[test]
fn defaulting_is_idempotent() {
    for p in Provider::ALL {
        for (schema, start) in [
            (cluster_cloud_schema_json(p), cluster_example(p)),
            (machine_cloud_schema_json(p), machine_example(p)),
            (cluster_cloud_schema_json(p), json!({})),
            (machine_cloud_schema_json(p), json!({})),
        ] {
            let mut once = start.clone();
            apply_defaults(schema, &mut once);
            let mut twice = once.clone();
            apply_defaults(schema, &mut twice);
            assert_eq!(once, twice, "{p}");
        }
    }
    for os in OperatingSystem::ALL {
        let mut once = json!({});
        apply_defaults(os_schema_json(os), &mut once);
        let mut twice = once.clone();
        apply_defaults(os_schema_json(os), &mut twice);
        assert_eq!(once, twice, "{os}");
    }
}

// ---------------------------------------------------------------------------------------------
// Real objects from upstream.

fn upstream_dir() -> std::path::PathBuf {
    // `scripts/test.sh` finds the folder and exports it; a plain `cargo test` uses the checkout's sibling.
    std::env::var_os("KKP_UPSTREAM_EXAMPLES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/upstream-examples").into())
}

fn upstream(prefix: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(upstream_dir())
        .unwrap_or_else(|e| panic!("upstream examples: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix) && name.ends_with(".yaml"))
        .map(|name| {
            let text = std::fs::read_to_string(upstream_dir().join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let value: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn upstream_cluster_blocks_validate() {
    let clusters = upstream("cluster-");
    let mut checked = 0;
    for (name, cluster) in &clusters {
        let cloud = &cluster["spec"]["cloud"];
        let provider_name = cloud["providerName"].as_str().unwrap_or_default();
        let Some(provider) = Provider::from_name(provider_name) else {
            // nutanix and vmwareclouddirector: providers this project has no schemas for.
            assert!(
                ["nutanix", "vmwareclouddirector"].contains(&provider_name),
                "{name}: {provider_name}"
            );
            continue;
        };
        let block = &cloud[provider.name()];
        assert!(block.is_object(), "{name}: no {provider} block");
        assert_eq!(cluster_errors(provider, block), Vec::<String>::new(), "{name}");
        let mut defaulted = block.clone();
        apply_defaults(cluster_cloud_schema_json(provider), &mut defaulted);
        assert_eq!(
            cluster_errors(provider, &defaulted),
            Vec::<String>::new(),
            "{name} after defaulting"
        );
        checked += 1;
    }
    // aws, azure, digitalocean, gcp, hetzner, kubevirt, openstack and four vsphere clusters.
    assert_eq!(checked, 11);
}

/// The upstream MachineDeployments that current machine-controller would reject, and exactly why.
fn known_upstream_machine_errors(name: &str) -> Vec<String> {
    let unknown = |field: &str| format!("{M}.{field}: Forbidden: unknown field; machine-controller rejects it");
    match name {
        // A 2021 example of the flat kubevirt layout machine-controller no longer reads; its strict
        // decoding rejects every one of these fields, and there is no virtualMachine.
        "md-kubevirt-cc-legacy.yaml" => {
            let mut errors: Vec<String> = [
                "cpus",
                "dnsConfig",
                "dnsPolicy",
                "kubeconfig",
                "memory",
                "namespace",
                "pvcSize",
                "sourceURL",
                "storageClassName",
            ]
            .iter()
            .map(|f| unknown(f))
            .collect();
            errors.push(format!("{M}.virtualMachine: Required value"));
            errors.sort();
            errors
        }
        // Without security groups machine-controller refuses the machine ("no security groups were specified").
        "md-aws.yaml" => vec![format!(
            "{M}.securityGroupIDs: Required value: no security groups were specified"
        )],
        // An operating system field pasted into the cloud provider block; strict decoding rejects it.
        "md-openstack-legacy.yaml" => vec![unknown("rhsmOfflineToken")],
        // The kubeconfig placeholder is not base64, which machine-controller requires of a value.
        "md-kubevirt.yaml" | "md-kubevirt-legacy-noinstancetype.yaml" => {
            vec![format!(
                "{M}.auth.kubeconfig.value: Invalid value: \"<redacted>\": must be base64-encoded"
            )]
        }
        _ => vec![],
    }
}

#[test]
fn upstream_machine_deployments_validate() {
    let deployments = upstream("md-");
    assert!(deployments.len() >= 16, "{} MachineDeployments", deployments.len());
    for (name, md) in &deployments {
        let value = &md["spec"]["template"]["spec"]["providerSpec"]["value"];
        let provider_name = value["cloudProvider"].as_str().unwrap_or_default();
        let provider = Provider::from_machine_name(provider_name).unwrap_or_else(|| panic!("{name}: {provider_name}"));
        let spec = &value["cloudProviderSpec"];
        assert_eq!(
            machine_errors(provider, spec),
            known_upstream_machine_errors(name),
            "{name}"
        );

        let os_name = value["operatingSystem"].as_str().unwrap_or_default();
        match OperatingSystem::from_name(os_name) {
            Some(os) => {
                assert!(provider.supports(os), "{name}: {provider} with {os}");
                assert_eq!(
                    os_errors(os, &value["operatingSystemSpec"]),
                    Vec::<String>::new(),
                    "{name}"
                );
            }
            // CoreOS Container Linux was dropped from machine-controller long ago; only the 2020
            // azure example still names it, and there is no schema for its settings.
            None => assert_eq!((name.as_str(), os_name), ("md-azure-legacy-coreos.yaml", "coreos")),
        }
    }
}

#[test]
fn upstream_kubevirt_examples_validate_once_the_placeholder_is_filled_in() {
    for (name, md) in upstream("md-kubevirt") {
        let mut spec = md["spec"]["template"]["spec"]["providerSpec"]["value"]["cloudProviderSpec"].clone();
        if let Some(value) = spec.pointer_mut("/auth/kubeconfig/value") {
            *value = json!("YXBpVmVyc2lvbjogdjEKa2luZDogQ29uZmlnCg==");
        } else {
            continue;
        }
        assert_eq!(
            machine_errors(Provider::Kubevirt, &spec),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn upstream_machine_deployments_stay_valid_after_defaulting() {
    for (name, md) in upstream("md-") {
        if !known_upstream_machine_errors(&name).is_empty() {
            continue;
        }
        let value = &md["spec"]["template"]["spec"]["providerSpec"]["value"];
        let Some(provider) = value["cloudProvider"].as_str().and_then(Provider::from_machine_name) else {
            continue;
        };
        let mut spec = value["cloudProviderSpec"].clone();
        apply_defaults(machine_cloud_schema_json(provider), &mut spec);
        assert_eq!(machine_errors(provider, &spec), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn null_properties_are_dropped_at_any_depth_and_nothing_is_copied_without_them() {
    let clean = json!({ "a": 1, "b": { "c": [ { "d": "x" } ] } });
    assert!(matches!(without_nulls(&clean), Cow::Borrowed(_)));
    assert_eq!(*without_nulls(&clean), clean);
    let nulls = json!({ "a": null, "b": { "c": [ { "d": null, "e": 1 }, null ] } });
    let stripped = without_nulls(&nulls);
    assert!(matches!(stripped, Cow::Owned(_)));
    // Null properties go; null list elements stay, as Go's decoder keeps them.
    assert_eq!(*stripped, json!({ "b": { "c": [ { "e": 1 }, null ] } }));
}
