//! KubeOne's Terraform output as input, checked with KubeOne's real `output.tf` files: Terraform
//! itself computes their outputs (the cloud resources they read are stood in for by locals, as no
//! cloud can be reached here), and the plugin turns `kubeone_workers` into MachineDeployments.

use std::path::{Path, PathBuf};
use std::process::Command;

use kkp_e2e::terraform;
use serde_json::{Value, json};

const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQ1cZf3cpkBZ4/0rlFWzPm1YjFnKVzFAQVIGrLvGsc4 demo@example.com";

fn upstream_examples() -> PathBuf {
    std::env::var_os("KKP_UPSTREAM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/upstream-examples")))
}

fn kkp(args: &[&str], dir: &Path) -> (i32, String, String) {
    kkp_with_stdin(args, dir, "")
}

fn kkp_with_stdin(args: &[&str], dir: &Path, stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-kkp"))
        .args(args)
        .env_clear()
        .env("HOME", "/nonexistent-home")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the plugin runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn items(stdout: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(stdout).expect("JSON output");
    match doc.get("items") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![doc],
    }
}

#[test]
fn aws_output_tf_gives_a_machine_deployment_per_zone() {
    let Some(terraform) = terraform::binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let vars = json!({
        "cluster_name": "demo",
        "aws_region": "eu-central-1",
        "initial_machinedeployment_replicas": 2,
        "initial_machinedeployment_operating_system_profile": "osp-ubuntu",
        "initial_machinedeployment_spotinstances_max_price": 0,
        "disable_auto_update": false,
        "provisioning_utility": "",
        "worker_type": "t3.medium",
        "worker_volume_size": 50,
        "os": "ubuntu",
        "ssh_port": 22,
        "bastion_port": 22,
        "apiserver_alternative_names": [],
        "control_plane_labels": {}
    });
    let locals = json!({
        "ami": "ami-0a1b2c3d4e5f60718",
        "bastion_user": "ubuntu",
        "ssh_username": "ubuntu",
        "cluster_autoscaler_min_replicas": 1,
        "cluster_autoscaler_max_replicas": 5,
        "initial_machinedeployment_spotinstances": false,
        "kubeapi_endpoint": "demo-api-lb.elb.eu-central-1.amazonaws.com",
        "subnets": {"eu-central-1a": "subnet-0a", "eu-central-1b": "subnet-0b", "eu-central-1c": "subnet-0c"},
        "worker_deploy_ssh_key": [SSH_KEY],
        "worker_os": "ubuntu",
        "zoneA": "eu-central-1a",
        "zoneB": "eu-central-1b",
        "zoneC": "eu-central-1c"
    });
    let output = terraform::kubeone_output(&terraform, dir.path(), "aws", vars, locals);
    std::fs::write(dir.path().join("tf.json"), &output).unwrap();

    let (code, stdout, stderr) = kkp(
        &[
            "generate",
            "machinedeployments",
            "--terraform-output",
            "tf.json",
            "--cluster",
            "demo",
            "--kubernetes-version",
            "1.35.7",
            "-o",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let mds = items(&stdout);
    let names: Vec<&str> = mds.iter().map(|m| m["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["demo-eu-central-1a", "demo-eu-central-1b", "demo-eu-central-1c"]
    );
    for (md, zone) in mds.iter().zip(["eu-central-1a", "eu-central-1b", "eu-central-1c"]) {
        let name = format!("demo-{zone}");
        assert_eq!(md["metadata"]["namespace"], "kube-system");
        assert_eq!(md["spec"]["replicas"], 2);
        assert_eq!(
            md["metadata"]["annotations"]["k8c.io/operating-system-profile"],
            "osp-ubuntu"
        );
        assert_eq!(
            md["metadata"]["annotations"]["cluster.k8s.io/cluster-api-autoscaler-node-group-max-size"],
            "5"
        );
        assert_eq!(md["spec"]["selector"]["matchLabels"], json!({"workerset": name}));
        let template = &md["spec"]["template"];
        assert_eq!(
            template["metadata"]["labels"],
            json!({"workerset": name, "isSpotInstance": "false"})
        );
        assert_eq!(template["spec"]["versions"]["kubelet"], "1.35.7");
        let value = &template["spec"]["providerSpec"]["value"];
        assert_eq!(value["cloudProvider"], "aws");
        assert_eq!(value["operatingSystem"], "ubuntu");
        assert_eq!(value["sshPublicKeys"], json!([SSH_KEY]));
        assert_eq!(value["operatingSystemSpec"]["distUpgradeOnBoot"], false);
        let cloud = &value["cloudProviderSpec"];
        assert_eq!(cloud["availabilityZone"], zone);
        assert_eq!(cloud["subnetId"], format!("subnet-0{}", &zone[zone.len() - 1..]));
        assert_eq!(cloud["instanceType"], "t3.medium");
        assert_eq!(cloud["diskSize"], 50);
        assert_eq!(cloud["securityGroupIDs"], json!(["aws_security_group.common.id-0"]));
        assert_eq!(
            cloud["tags"],
            json!({"demo-workers": "", "kubernetes.io/cluster/demo": "shared"})
        );
        assert!(value.get("annotations").is_none() && value.get("labels").is_none());
    }

    // The same output is a value source for templates, under documented names.
    std::fs::write(
        dir.path().join("t.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${CLUSTER_NAME}\ndata:\n  \
         endpoint: ${KUBEONE_API_ENDPOINT}\n  user: ${KUBEONE_HOSTS_CONTROL_PLANE_SSH_USER}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = kkp(
        &[
            "generate",
            "cluster",
            "demo",
            "--from",
            "t.yaml",
            "--terraform-output",
            "tf.json",
            "--list-variables",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("KUBEONE_API_ENDPOINT "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(
        row,
        [
            "KUBEONE_API_ENDPOINT",
            "yes",
            "terraform",
            "demo-api-lb.elb.eu-central-1.amazonaws.com"
        ],
        "{stdout}"
    );
    let (code, stdout, stderr) = kkp(
        &[
            "generate",
            "cluster",
            "demo",
            "--from",
            "t.yaml",
            "--terraform-output",
            "tf.json",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("endpoint: demo-api-lb.elb.eu-central-1.amazonaws.com\n"),
        "{stdout}"
    );
    assert!(stdout.contains("user: ubuntu\n"), "{stdout}");
}

#[test]
fn hetzner_output_tf_gives_its_pool_with_the_key_file() {
    let Some(terraform) = terraform::binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("id.pub");
    std::fs::write(&key_file, SSH_KEY).unwrap();
    let (vars, locals) = terraform::hetzner_inputs("demo", 1, &key_file);
    let output = terraform::kubeone_output(&terraform, dir.path(), "hetzner", vars, locals);
    std::fs::write(dir.path().join("tf.json"), &output).unwrap();
    let (code, stdout, stderr) = kkp_with_stdin(
        &[
            "generate",
            "md",
            "--terraform-output",
            "-",
            "--cluster",
            "demo",
            "-o",
            "json",
        ],
        dir.path(),
        &output,
    );
    assert_eq!(code, 0, "{stderr}");
    let mds = items(&stdout);
    assert_eq!(mds.len(), 1);
    let md = &mds[0];
    assert_eq!(md["metadata"]["name"], "demo-pool1");
    let value = &md["spec"]["template"]["spec"]["providerSpec"]["value"];
    assert_eq!(value["cloudProvider"], "hetzner");
    assert_eq!(value["sshPublicKeys"], json!([SSH_KEY]));
    assert_eq!(value["cloudProviderSpec"]["serverType"], "cx22");
    assert_eq!(value["cloudProviderSpec"]["location"], "fsn1");
    assert_eq!(
        value["cloudProviderSpec"]["networks"],
        json!(["hcloud_network.net.id-0"])
    );
    assert_eq!(
        value["cloudProviderSpec"]["labels"],
        json!({"kubeone_cluster_name": "demo", "demo-workers": "pool1"})
    );
    assert!(
        value["cloudProviderSpec"].get("tags").is_none(),
        "only AWS machines get the cluster tag"
    );
}

/// KubeOne's own test data: a Terraform output with only `kubeone_api`.
#[test]
fn an_output_without_workers_says_so() {
    let file = upstream_examples().join(
        "kubeone/pkg/apis/kubeone/config/testdata/\
         TestV1Beta2ToV1Beta3Migration-default_api_endpoint_with_terraform_output.tfoutput.json",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = file.display().to_string();
    let (code, stdout, stderr) = kkp(
        &[
            "generate",
            "machinedeployments",
            "--terraform-output",
            &file,
            "--cluster",
            "demo",
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.contains("the Terraform output has no kubeone_workers output (KubeOne's output.tf defines it)"),
        "{stderr}"
    );
}

#[test]
fn invalid_pools_are_reported_per_pool_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let pool = |replicas: Value, cloud: Value, os: &str| {
        json!({"replicas": replicas, "providerSpec": {
            "operatingSystem": os, "sshPublicKeys": [SSH_KEY], "cloudProviderSpec": cloud}})
    };
    let hetzner = json!({"serverType": "cx22", "location": "fsn1", "image": "ubuntu-24.04"});
    let output = json!({
        "kubeone_hosts": {"sensitive": false, "value": {"control_plane": {"cloud_provider": "hetzner"}}},
        "kubeone_workers": {"sensitive": false, "value": {
            "demo-good": pool(json!(1), hetzner.clone(), "ubuntu"),
            "demo-bad-replicas": pool(json!("two"), hetzner.clone(), "ubuntu"),
            "demo-no-cloud": {"replicas": 1, "providerSpec": {"operatingSystem": "ubuntu"}},
        }}
    });
    std::fs::write(dir.path().join("tf.json"), output.to_string()).unwrap();
    let args = [
        "generate",
        "machinedeployments",
        "--terraform-output",
        "tf.json",
        "--cluster",
        "demo",
    ];
    let (code, _, stderr) = kkp(&args, dir.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("2 fields are invalid in kubeone_workers:"), "{stderr}");
    assert!(
        stderr.contains("pool \"demo-bad-replicas\": replicas: must be a whole number from 0 up, not \"two\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("pool \"demo-no-cloud\": providerSpec.cloudProviderSpec: required"),
        "{stderr}"
    );

    // Well-formed pools that the engine refuses: named per MachineDeployment and field.
    let output = json!({
        "kubeone_workers": {"value": {
            "demo-good": pool(json!(1), hetzner.clone(), "ubuntu"),
            "demo-no-type": pool(json!(1), json!({"location": "fsn1"}), "ubuntu"),
            "demo-bad-os": pool(json!(1), hetzner, "windows"),
        }}
    });
    std::fs::write(dir.path().join("tf.json"), output.to_string()).unwrap();
    let (code, stdout, stderr) = kkp(&[&args[..], &["--provider", "hetzner"]].concat(), dir.path());
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("MachineDeployment demo-no-type"), "{stderr}");
    assert!(stderr.contains("serverType"), "{stderr}");
    assert!(stderr.contains("MachineDeployment demo-bad-os"), "{stderr}");
    assert!(stderr.contains("operatingSystem"), "{stderr}");
    assert!(!stderr.contains("demo-good"), "{stderr}");
}
