//! The Cluster's `spec.cloud.aws` block (KKP `AWSCloudSpec`), and the provider's registry entry with its machine rules.

use serde_json::Value;

use super::registry::{Descriptor, MachineLabels, OsSupport, no_rules};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use super::secret_reference::GlobalSecretKeySelector;
use crate::shared_fields::{NetworkRanges, Other};

/// Amazon Web Services: credentials and the VPC resources KKP creates or reuses.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AwsCloudSpec {
    pub credentials_reference: Option<GlobalSecretKeySelector>,
    #[serde(rename = "accessKeyID")]
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// An IAM role to assume for every AWS call.
    #[serde(rename = "assumeRoleARN")]
    pub assume_role_arn: Option<String>,
    #[serde(rename = "assumeRoleExternalID")]
    pub assume_role_external_id: Option<String>,
    /// Empty means KKP creates one.
    #[serde(rename = "vpcID")]
    pub vpc_id: Option<String>,
    /// The IAM role the control plane assumes.
    #[serde(rename = "roleARN")]
    pub role_arn: Option<String>,
    #[serde(rename = "routeTableID")]
    pub route_table_id: Option<String>,
    pub instance_profile_name: Option<String>,
    #[serde(rename = "securityGroupID")]
    pub security_group_id: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRange")]
    pub node_ports_allowed_ip_range: Option<String>,
    #[serde(rename = "nodePortsAllowedIPRanges")]
    pub node_ports_allowed_ip_ranges: Option<NetworkRanges>,
    /// Leave IAM alone (air-gapped setups); then roleARN and instanceProfileName must be given.
    #[serde(rename = "disableIAMReconciling")]
    pub disable_iam_reconciling: Option<bool>,
    #[serde(flatten)]
    pub other: Other,
}

/// The registry entry.
pub(super) const DESCRIPTOR: Descriptor = Descriptor {
    name: "aws",
    machine_name: "aws",
    credential_fields: &[
        "accessKeyID",
        "secretAccessKey",
        "assumeRoleARN",
        "assumeRoleExternalID",
    ],
    cluster_schema: ("cluster/aws.json", include_str!("../../schemas/cluster/aws.json")),
    machine_schema: ("machine/aws.json", include_str!("../../schemas/machine/aws.json")),
    // machine-controller has AMI filters for all five systems.
    operating_systems: |_| OsSupport::Any,
    ipv6_only: true,
    machine_defaults,
    machine_rules: no_rules,
};

/// The label machine-controller puts on spot machines, for the node termination handler.
pub const SPOT_LABEL: (&str, &str) = ("k8c.io/aws-spot", "aws-node-termination-handler");

fn machine_defaults(spec: &mut Value, labels: &mut MachineLabels) {
    if spec.get("isSpotInstance").and_then(Value::as_bool) == Some(true) {
        labels.insert(SPOT_LABEL.0.to_owned(), SPOT_LABEL.1.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn upstream_field_names_round_trip() {
        let block = json!({
            "credentialsReference": {"name": "credential-aws-x", "namespace": "kubermatic"},
            "accessKeyID": "AKIA",
            "secretAccessKey": "s",
            "assumeRoleARN": "arn:aws:iam::1:role/r",
            "assumeRoleExternalID": "ext",
            "vpcID": "vpc-1",
            "roleARN": "role",
            "routeTableID": "rtb-1",
            "instanceProfileName": "profile",
            "securityGroupID": "sg-1",
            "nodePortsAllowedIPRange": "10.0.0.0/8",
            "nodePortsAllowedIPRanges": {"cidrBlocks": ["0.0.0.0/0"]},
            "disableIAMReconciling": true,
            "futureField": {"kept": 1}
        });
        let spec: AwsCloudSpec = serde_json::from_value(block.clone()).unwrap();
        assert_eq!(spec.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(spec.role_arn.as_deref(), Some("role"));
        assert_eq!(spec.disable_iam_reconciling, Some(true));
        assert!(spec.other.contains_key("futureField"));
        assert_eq!(serde_json::to_value(&spec).unwrap(), block);
    }
}
