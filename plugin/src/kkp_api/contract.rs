//! Contract tests: every body the plugin sends validates against the KKP API's own specification,
//! and the client does what it should against the stand-in KKP API (real HTTPS, tokens,
//! permissions), including never letting the token out.

use std::time::Duration;

use kkp_e2e::kkp_api_spec;
use kkp_e2e::kkp_api_stand_in::{Account, KkpApiStandIn, Options, Role};
use serde_json::{Value, json};

use super::client::{ApiError, KkpClient};
use super::clusters::FindError;
use super::convert;
use super::models::{CreateClusterSpec, NodeDeployment};
use super::settings::{ApiSettings, Token, Trust};
use crate::cli::generate::TemplateArgs;
use crate::commands::generate;
use crate::commands::verdicts::admit::{self, CheckOptions, Input};
use crate::platform::Platform;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.contract-test-token.c2ln";
const PROJECT: &str = "xw2k9fgh4t";

/// The defaulted objects `create cluster --provider PROVIDER` sends.
fn generated(provider: &str, sets: &[&str]) -> Vec<Value> {
    let args = TemplateArgs {
        provider: Some(provider.into()),
        datacenter: Some(format!("{provider}-dc1")),
        project: Some(PROJECT.into()),
        ssh_public_keys: vec![
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQ1cZf3cpkBZ4/0rlFWzPm1YjFnKVzFAQVIGrLvGsc4 demo@example.com".into(),
        ],
        set: sets.iter().map(|s| (*s).to_owned()).collect(),
        ..TemplateArgs::default()
    };
    let platform = Platform::builtin();
    let objects = generate::render("demo", &args, &platform).expect("the template renders");
    let inputs = objects.into_iter().map(Input::generated).collect();
    let opts = CheckOptions {
        platform,
        cluster_version: None,
    };
    admit::check(inputs, &opts)
        .into_iter()
        .map(|c| {
            assert!(c.allowed(), "{provider}: {:?}", c.messages());
            c.into_object()
        })
        .collect()
}

fn assert_valid(definition: &str, body: &impl serde::Serialize, what: &str) {
    let spec = kkp_api_spec::spec().expect("the KKP API specification");
    let value = serde_json::to_value(body).unwrap();
    if let Err(errors) = spec.validate_definition(definition, &value) {
        panic!(
            "{what}: the {definition} the plugin sends does not match the specification:\n{}\n{value:#}",
            errors.join("\n")
        );
    }
}

#[test]
fn the_create_bodies_of_every_provider_match_the_specification() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "aws",
            &[
                "AWS_REGION=eu-central-1",
                "AWS_VPC_ID=vpc-0a1b2c3d",
                "AWS_SECURITY_GROUP_ID=sg-0a1b2c3d",
            ],
        ),
        ("hetzner", &["HETZNER_LOCATION=fsn1"]),
        (
            "kubevirt",
            &["KUBEVIRT_OS_IMAGE=docker://quay.io/kubermatic-virt-disks/ubuntu:24.04"],
        ),
        ("openstack", &["OPENSTACK_IMAGE=Ubuntu 24.04"]),
        ("digitalocean", &["DO_REGION=fra1"]),
    ];
    for (provider, sets) in cases {
        let objects = generated(provider, sets);
        let cluster = objects
            .iter()
            .find(|o| o["kind"] == "Cluster")
            .expect("a Cluster")
            .clone();
        let mds: Vec<Value> = objects
            .iter()
            .filter(|o| o["kind"] == "MachineDeployment")
            .cloned()
            .collect();
        for credential in [None, Some("preset")] {
            let (spec, later) = convert::create_spec(&cluster, &mds, credential);
            assert_valid("CreateClusterSpec", &spec, provider);
            assert!(
                spec.node_deployment.is_some(),
                "{provider}: the first worker pool goes with the cluster"
            );
            for md in &later {
                assert_valid("NodeDeployment", md, provider);
            }
        }
    }
}

#[test]
fn patch_bodies_and_checked_seed_payloads_match_the_specification() {
    let dir = kkp_e2e::upstream::examples_dir()
        .expect("the upstream examples")
        .join("kkp-api");
    let catalog = kkp_crds::versions::VersionCatalog::default();
    let mut checked_files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // Today's versions; what else the file lacks is the verdict's to name.
        for pointer in [
            "/cluster/spec/version",
            "/nodeDeployment/spec/template/versions/kubelet",
            "/spec/template/versions/kubelet",
        ] {
            if let Some(v) = value.pointer_mut(pointer) {
                *v = json!("1.35.8");
            }
        }
        let verdict = super::payload::check(&value, &catalog);
        checked_files += 1;
        if !verdict.ok() {
            continue;
        }
        match verdict.payload.unwrap() {
            super::payload::Payload::Cluster(spec) => assert_valid("CreateClusterSpec", &spec, &name),
            super::payload::Payload::MachineDeployment(md) => assert_valid("NodeDeployment", &md, &name),
            super::payload::Payload::Addon(addon) => assert_valid("Addon", &addon, &name),
        }
    }
    assert!(checked_files >= 8, "{checked_files} payload files in {}", dir.display());
    // The patches the plugin sends are objects (the specification's Patch).
    let spec = kkp_api_spec::spec().unwrap();
    let patch = json!({"labels": {"team": "a"}, "spec": {"version": "1.35.8"}});
    let schema = spec
        .request_schema("PATCH", "/api/v2/projects/{project_id}/clusters/{cluster_id}")
        .expect("the patch body's schema");
    spec.validate(schema, &patch).unwrap();
}

#[test]
fn the_import_body_matches_the_specification() {
    let body = super::models::ExternalClusterBody::new("prod", "apiVersion: v1\nkind: Config\n");
    assert_valid("body", &body, "register cluster");
    let spec = kkp_api_spec::spec().unwrap();
    let schema = spec
        .request_schema("PUT", "/api/v2/projects/{project_id}/kubernetes/clusters/{cluster_id}")
        .expect("the update body's schema");
    spec.validate(schema, &serde_json::to_value(&body).unwrap()).unwrap();
    // What the API lists decodes into the plugin's model.
    let listed = json!([{"id": "x7k2m9q4wz", "name": "prod", "cloud": {"bringYourOwn": {}},
        "spec": {"version": "1.36.3"}, "status": {"state": "Running"}}]);
    let schema = match spec
        .response_body("GET", "/api/v2/projects/{project_id}/kubernetes/clusters", 200)
        .expect("the list's answer")
    {
        kkp_api_spec::ResponseBody::Schema(schema) => schema,
        kkp_api_spec::ResponseBody::Empty => panic!("the list answers a body"),
    };
    spec.validate(&schema, &listed).unwrap();
    let clusters: Vec<super::models::ExternalCluster> = serde_json::from_value(listed).unwrap();
    assert_eq!(clusters[0].state(), Some("Running"));
}

fn options() -> Options {
    Options {
        accounts: vec![
            Account {
                token: TOKEN.into(),
                email: "ci@example.com".into(),
                project: PROJECT.into(),
                role: Role::Editor,
            },
            Account {
                token: "viewer-token-0123456789".into(),
                email: "viewer@example.com".into(),
                project: PROJECT.into(),
                role: Role::Viewer,
            },
        ],
        datacenters: vec!["kv-europe-west3-c".into()],
        healthy_after: Duration::from_secs(3),
        deleting_for: Duration::from_secs(2),
        kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n".into(),
        accessible_addons: vec!["cluster-autoscaler".into(), "node-exporter".into()],
    }
}

fn client(stand_in: &KkpApiStandIn, token: &str, project: &str, trust: Trust) -> KkpClient {
    KkpClient::new(ApiSettings {
        base: stand_in.url().into(),
        token: Token::new(token),
        project: project.into(),
        trust,
    })
    .unwrap()
}

fn trusted(stand_in: &KkpApiStandIn, dir: &std::path::Path) -> Trust {
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, stand_in.ca_pem()).unwrap();
    Trust::Verify { extra_ca: Some(ca) }
}

fn kubevirt_spec(name: &str) -> CreateClusterSpec {
    serde_json::from_value(json!({
        "cluster": {"name": name, "credential": "api-presets",
            "spec": {"cloud": {"dc": "kv-europe-west3-c", "kubevirt": {}}, "version": "1.35.8"}},
        "nodeDeployment": {"name": "pool", "spec": {"replicas": 1, "template": {
            "cloud": {"kubevirt": {"cpus": "2", "memory": "4Gi", "primaryDiskOSImage": "img",
                "primaryDiskStorageClassName": "local", "primaryDiskSize": "10Gi"}},
            "operatingSystem": {"ubuntu": {}}, "versions": {"kubelet": "1.35.8"}}}}
    }))
    .unwrap()
}

#[tokio::test]
async fn the_client_runs_a_clusters_life_against_the_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let stand_in = KkpApiStandIn::start(options()).unwrap();
    let c = client(&stand_in, TOKEN, PROJECT, trusted(&stand_in, dir.path()));
    assert!(c.list_clusters().await.unwrap().is_empty());
    let created = c.create_cluster(&kubevirt_spec("demo")).await.unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(c.find_cluster("demo").await.unwrap().id.as_deref(), Some(id.as_str()));
    assert_eq!(c.find_cluster(&id).await.unwrap().name, "demo");
    let err = c.create_cluster(&kubevirt_spec("demo")).await.unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(err.to_string().contains("already exists"), "{err}");

    let health = c.cluster_health(&id).await.unwrap();
    assert!(!health.not_up().is_empty(), "a new cluster is not up yet: {health:?}");
    let err = c
        .create_machine_deployment(&id, &NodeDeployment::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        Some(503),
        "machine deployments wait for a healthy cluster: {err}"
    );
    assert!(err.to_string().contains("not ready yet"), "{err}");
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(c.cluster_health(&id).await.unwrap().not_up().is_empty());
    let mds = c.list_machine_deployments(&id).await.unwrap();
    assert_eq!(mds.iter().filter_map(|m| m.id.as_deref()).collect::<Vec<_>>(), ["pool"]);
    let scaled = c
        .patch_machine_deployment(&id, "pool", &json!({"spec": {"replicas": 3}}))
        .await
        .unwrap();
    assert_eq!(scaled.spec.replicas, 3);
    assert_eq!(
        c.find_by_name("demo").await.unwrap().and_then(|c| c.id),
        Some(id.clone())
    );
    assert!(c.find_by_name("other").await.unwrap().is_none());

    let mut installable = c.installable_addons(&id).await.unwrap();
    installable.sort();
    assert_eq!(installable, ["cluster-autoscaler", "node-exporter"]);

    let patched = c.patch_cluster(&id, &json!({"labels": {"team": "a"}})).await.unwrap();
    assert_eq!(patched.labels.get("team").map(String::as_str), Some("a"));
    let kubeconfig = c.kubeconfig(&id).await.unwrap();
    assert!(kubeconfig.starts_with("apiVersion: v1"), "{kubeconfig}");

    c.delete_cluster(&id, true, true).await.unwrap();
    let deleting = c.get_cluster(&id).await.unwrap();
    assert!(deleting.deletion_timestamp.is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let err = c.get_cluster(&id).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("cluster {id:?} was not found in KKP project {PROJECT}")),
        "{err}"
    );

    let delete = stand_in.requests().into_iter().find(|r| r.method == "DELETE").unwrap();
    assert!(
        delete
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("DeleteVolumes") && v == "true")
    );
    assert_eq!(stand_in.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn errors_name_the_token_the_project_and_the_url_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let stand_in = KkpApiStandIn::start(options()).unwrap();
    let trust = trusted(&stand_in, dir.path());
    let secret = "wrong-token-abcdef-0123";
    let err = client(&stand_in, secret, PROJECT, trust.clone())
        .list_clusters()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    let text = err.to_string();
    assert!(
        text.contains("invalid, expired or revoked") && !text.contains(secret),
        "{text}"
    );

    let err = client(&stand_in, TOKEN, "otherproj1", trust.clone())
        .list_clusters()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("otherproj1") && text.contains("read clusters") && text.contains("doesn't belong"),
        "{text}"
    );

    let viewer = client(&stand_in, "viewer-token-0123456789", PROJECT, trust.clone());
    let err = viewer.create_cluster(&kubevirt_spec("v")).await.unwrap_err();
    assert!(
        err.to_string().contains("create clusters") && err.to_string().contains("editor"),
        "{err}"
    );

    let c = client(&stand_in, TOKEN, PROJECT, trust.clone());
    c.create_cluster(&kubevirt_spec("twin")).await.unwrap();
    let mut other = kubevirt_spec("twin");
    other.cluster.spec.version = Some("1.20.11".into());
    let err = c.create_cluster(&other).await.unwrap_err();
    assert!(
        err.to_string().contains("answered 400") && err.to_string().contains("unsupported version"),
        "{err}"
    );
    match c.find_cluster("nope").await.unwrap_err() {
        FindError::NotFound { .. } => {}
        e => panic!("{e}"),
    }

    // An unknown CA is a TLS error naming the URL and the fix; --insecure-skip-tls-verify works.
    let err = client(&stand_in, TOKEN, PROJECT, Trust::Verify { extra_ca: None })
        .list_clusters()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(stand_in.url()) && text.contains("--certificate-authority"),
        "{text}"
    );
    assert!(
        client(&stand_in, TOKEN, PROJECT, Trust::Insecure)
            .list_clusters()
            .await
            .is_ok()
    );

    // Nothing listening: the URL and the reason.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = KkpClient::new(ApiSettings {
        base: format!("https://127.0.0.1:{port}"),
        token: Token::new(TOKEN),
        project: PROJECT.into(),
        trust,
    })
    .unwrap();
    let text = down.list_clusters().await.unwrap_err().to_string();
    assert!(
        text.contains(&format!("https://127.0.0.1:{port}")) && text.to_lowercase().contains("refused"),
        "{text}"
    );
    assert!(!format!("{down:?}").contains(TOKEN));
    assert_eq!(stand_in.violations(), Vec::<String>::new());
}
