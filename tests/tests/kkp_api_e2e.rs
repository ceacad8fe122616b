//! End to end through the KKP REST API: `kubectl kkp` run by the real kubectl against the stand-in
//! KKP API of the harness (`kkp_e2e::kkp_api_stand_in`; no KKP API can run here), which checks
//! every request against the API's own specification. Covers the seed's curl-script operations:
//! create with --wait and re-run, apply of every seed payload file, get, describe, kubeconfig,
//! delete and delete --all, and the errors a user meets (wrong token, wrong project, API down,
//! a wait that times out).

use std::path::{Path, PathBuf};
use std::time::Duration;

use kkp_e2e::kkp_api_stand_in::{Account, KkpApiStandIn, Options, Role};
use kkp_e2e::plugin_support::{self, Ran};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.e2e-service-account-token.c2lnbmF0dXJl";
const PROJECT: &str = "xw2k9fgh4t";
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
const KUBEVIRT_IMAGE: &str = "KUBEVIRT_OS_IMAGE=docker://quay.io/kubermatic-virt-disks/ubuntu:24.04";

/// A stand-in KKP API and a folder with its CA, a token file and a kubeconfig path.
struct Api {
    stand_in: KkpApiStandIn,
    dir: tempfile::TempDir,
}

fn start(healthy_after: Duration) -> Api {
    start_serving(healthy_after, STAND_IN_KUBECONFIG.into())
}

/// The kubeconfig the stand-in hands out unless a test gives a real one.
const STAND_IN_KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: user\n  cluster:\n    server: https://127.0.0.1:1\n\
     contexts:\n- name: admin@user\n  context:\n    cluster: user\n    user: admin\n\
     current-context: admin@user\nusers:\n- name: admin\n  user:\n    token: user-cluster-token\n";

fn start_serving(healthy_after: Duration, kubeconfig: String) -> Api {
    let stand_in = KkpApiStandIn::start(Options {
        accounts: vec![
            Account {
                token: TOKEN.into(),
                email: "ci@example.com".into(),
                project: PROJECT.into(),
                role: Role::Editor,
            },
            Account {
                token: "other-project-token-0123456789".into(),
                email: "other@example.com".into(),
                project: "otherproj1".into(),
                role: Role::Editor,
            },
        ],
        datacenters: vec!["kv-europe-west3-c".into(), "vsphere".into()],
        healthy_after,
        deleting_for: Duration::from_secs(2),
        kubeconfig,
        accessible_addons: [
            "cluster-autoscaler",
            "ingress-nginx",
            "kube-state-metrics",
            "node-exporter",
        ]
        .map(String::from)
        .to_vec(),
    })
    .expect("the stand-in KKP API starts");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), stand_in.ca_pem()).unwrap();
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    std::fs::create_dir_all(dir.path().join("home")).unwrap();
    Api { stand_in, dir }
}

impl Api {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `kubectl kkp ARGS --api URL --token-file F --project P --certificate-authority CA`.
    fn kkp(&self, args: &[&str]) -> Ran {
        let flags = self
            .stand_in
            .plugin_flags(&self.path("token"), &self.path("ca.pem"), PROJECT);
        let mut all: Vec<&str> = args.to_vec();
        all.extend(flags.iter().map(String::as_str));
        self.raw(&all, &[])
    }

    /// `kubectl kkp ARGS` with only the environment given.
    fn raw(&self, args: &[&str], env: &[(&str, &str)]) -> Ran {
        let plugin_dir = plugin_support::plugin_dir().expect("the plugin builds");
        let kubectl_dir = kkp_e2e::bin_dir().expect("the control-plane binaries (kubectl)");
        let mut command =
            plugin_support::kubectl(kubectl_dir, plugin_dir, &self.path("kubeconfig"), &self.path("home"));
        command.arg("kkp").args(args);
        for (k, v) in env {
            command.env(k, v);
        }
        plugin_support::run(command, RUN_TIMEOUT).expect("kubectl kkp runs")
    }

    fn clusters(&self) -> Vec<(String, String)> {
        self.stand_in.clusters(PROJECT)
    }

    #[track_caller]
    fn assert_honest(&self) {
        assert_eq!(
            self.stand_in.violations(),
            Vec::<String>::new(),
            "requests or answers off the specification"
        );
    }
}

fn create_args(name: &str) -> Vec<&str> {
    vec![
        "create",
        "cluster",
        name,
        "--provider",
        "kubevirt",
        "--datacenter",
        "kv-europe-west3-c",
        "--set",
        KUBEVIRT_IMAGE,
        "--credential",
        "api-presets",
    ]
}

fn upstream(file: &str) -> PathBuf {
    kkp_e2e::upstream::examples_dir()
        .expect("the upstream examples")
        .join("kkp-api")
        .join(file)
}

/// A seed payload file with today's Kubernetes version instead of 2021's, written to `dir`.
fn with_todays_version(file: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(upstream(file)).unwrap();
    let text = text.replace("1.20.11", "1.35.8").replace("1.21.5", "1.35.8");
    let path = dir.join(format!("today-{file}"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn create_waits_until_healthy_and_a_re_run_converges() {
    let api = start(Duration::from_secs(3));
    let mut args = create_args("demo");
    args.extend(["--wait", "--timeout", "60s", "-vvv"]);
    let ran = api.kkp(&args);
    ran.expect_code(0)
        .expect_stdout("cluster \"demo\" (ID ")
        .expect_stdout("created")
        .expect_stderr("Cluster \"demo\"")
        .expect_stderr("is healthy");
    assert!(
        !ran.both().contains(TOKEN),
        "the token leaked into a -vvv run:\n{}",
        ran.both()
    );
    let clusters = api.clusters();
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    let id = clusters[0].0.clone();
    assert_eq!(
        api.stand_in.machine_deployments(&id),
        ["demo-worker"],
        "the initial node deployment"
    );

    // The same command again: found by name, nothing duplicated.
    let again = api.kkp(&args);
    again.expect_code(0).expect_stdout("unchanged");
    assert_eq!(api.clusters().len(), 1);
    assert_eq!(api.stand_in.machine_deployments(&id), ["demo-worker"]);
    let posts = api
        .stand_in
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/clusters"))
        .count();
    assert_eq!(posts, 1, "one create, then converging");

    // A changed flag patches the cluster.
    let mut newer = create_args("demo");
    newer.extend(["--kubernetes-version", "1.36.4", "--wait=false"]);
    api.kkp(&newer).expect_code(0).expect_stdout("configured");
    let patch = api
        .stand_in
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PATCH")
        .expect("a PATCH");
    assert!(patch.body.contains("\"version\":\"1.36.4\""), "{}", patch.body);
    assert!(
        !patch.body.contains("null"),
        "no nulls in a merge patch: {}",
        patch.body
    );
    api.assert_honest();
}

#[test]
fn every_seed_payload_file_applies_or_is_refused_naming_the_fix() {
    let api = start(Duration::from_secs(2));
    let cases: [(&str, &[&str]); 10] = [
        (
            "vsphere-cluster.json",
            &["cluster.spec.version", "1.20.11 is no longer offered"],
        ),
        (
            "vsphere-cluster-with-initial-node-deployment.json",
            &[
                "cluster.spec.openshift",
                "nodeDeployment.spec.template.versions.kubelet",
            ],
        ),
        (
            "vsphere-machine_deployment_ubuntu.json",
            &["ubuntu.distUpgrade", "distUpgradeOnBoot"],
        ),
        (
            "vsphere-machine_deployment_flatcar.json",
            &["spec.versions: has moved", "spec.template.versions.kubelet"],
        ),
        (
            "vsphere-machine_deployment_centos.json",
            &["CentOS is no longer supported", "rockylinux"],
        ),
        ("kubevirt-cluster.json", &["1.21.5 is no longer offered"]),
        (
            "kubevirt-with-autoscaling-cluster.json",
            &["1.21.5 is no longer offered"],
        ),
        (
            "kubevirt-machine_deployment_ubuntu.json",
            &[
                "kubevirt.sourceURL: has moved: use primaryDiskOSImage",
                "kubevirt.pvcSize",
            ],
        ),
        (
            "kubevirt-with-autoscaling-md.yaml",
            &["MachineDeployment ubuntu-scaling-node-pool"],
        ),
        (
            "kubevirt-with-autoscaling-md-small.yaml",
            &["MachineDeployment ubuntu-scaling-node-pool-small"],
        ),
    ];
    // The two addon files are valid as they are: they apply below.
    let addons = [
        "kubevirt-addon-cluster-autoscaler.json",
        "kubevirt-addon-ingress-nginx.json",
    ];
    let files: Vec<String> = std::fs::read_dir(upstream(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.ends_with(".json") || f.ends_with(".yaml"))
        .collect();
    assert_eq!(
        files.len(),
        cases.len() + addons.len(),
        "every payload file has a case: {files:?}"
    );
    for (file, expected) in cases {
        let path = upstream(file);
        let ran = api.kkp(&["apply", "-f", path.to_str().unwrap(), "--cluster", "any"]);
        ran.expect_code(1).expect_stderr("nothing was sent");
        for text in expected {
            ran.expect_stderr(text);
        }
    }
    assert!(api.stand_in.requests().is_empty(), "a refused file sends nothing");

    // With today's version the cluster files apply; --dry-run first sends nothing.
    let dry = with_todays_version("kubevirt-cluster.json", api.dir.path());
    api.kkp(&["apply", "-f", dry.to_str().unwrap(), "--dry-run"])
        .expect_code(0)
        .expect_stdout("cluster \"tobi-api-kvirt\" would be created");
    assert!(api.stand_in.requests().is_empty());
    for file in [
        "kubevirt-cluster.json",
        "kubevirt-with-autoscaling-cluster.json",
        "vsphere-cluster.json",
    ] {
        let path = with_todays_version(file, api.dir.path());
        api.kkp(&["apply", "-f", path.to_str().unwrap()])
            .expect_code(0)
            .expect_stdout("created");
    }
    let names: Vec<String> = api.clusters().into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["tobi-api-kvirt", "tobi-api-kvirt-md-yaml", "tobi-api-vsphere"]);
    // Applying again patches nothing, creates nothing.
    let path = with_todays_version("vsphere-cluster.json", api.dir.path());
    api.kkp(&["apply", "-f", path.to_str().unwrap()])
        .expect_code(0)
        .expect_stdout("unchanged");

    // The ubuntu machine deployment, fixed as the verdict says, goes to the cluster once healthy.
    let md = with_todays_version("vsphere-machine_deployment_ubuntu.json", api.dir.path());
    let text = std::fs::read_to_string(&md)
        .unwrap()
        .replace("\"distUpgrade\"", "\"distUpgradeOnBoot\"");
    std::fs::write(&md, text).unwrap();
    api.kkp(&[
        "apply",
        "-f",
        md.to_str().unwrap(),
        "--cluster",
        "tobi-api-vsphere",
        "--wait",
        "--timeout",
        "60s",
    ])
    .expect_code(0)
    .expect_stdout("machine deployment \"ubuntu-node-pool\" of cluster \"tobi-api-vsphere\"")
    .expect_stdout("created");
    api.kkp(&["apply", "-f", md.to_str().unwrap(), "--cluster", "tobi-api-vsphere"])
        .expect_code(0)
        .expect_stdout("unchanged");

    // The seed's addon files, as they are: a dry run sends nothing, then each is created once;
    // applying again changes nothing, and changed variables are patched.
    let before = api.stand_in.requests().len();
    let autoscaler = upstream(addons[0]);
    let nginx = upstream(addons[1]);
    let (autoscaler, nginx) = (autoscaler.to_str().unwrap(), nginx.to_str().unwrap());
    api.kkp(&["apply", "-f", autoscaler, "--cluster", "tobi-api-kvirt", "--dry-run"])
        .expect_code(0)
        .expect_stdout("addon \"cluster-autoscaler\" would be created or patched in cluster tobi-api-kvirt");
    assert_eq!(api.stand_in.requests().len(), before, "a dry run sends nothing");
    api.kkp(&["apply", "-f", autoscaler, "-f", nginx])
        .expect_code(1)
        .expect_stderr("--cluster NAME|ID is required");
    api.kkp(&["apply", "-f", autoscaler, "-f", nginx, "--cluster", "tobi-api-kvirt"])
        .expect_code(0)
        .expect_stdout("addon \"cluster-autoscaler\" of cluster \"tobi-api-kvirt\"")
        .expect_stdout("addon \"ingress-nginx\" of cluster \"tobi-api-kvirt\"")
        .expect_stdout("created");
    api.kkp(&["apply", "-f", autoscaler, "-f", nginx, "--cluster", "tobi-api-kvirt"])
        .expect_code(0)
        .expect_stdout("addon \"ingress-nginx\" of cluster \"tobi-api-kvirt\" (ID ")
        .expect_stdout(") unchanged");
    let changed = api.path("ingress-nginx.json");
    let text = std::fs::read_to_string(nginx).unwrap().replace("\"3\"", "\"5\"");
    std::fs::write(&changed, text).unwrap();
    api.kkp(&["apply", "-f", changed.to_str().unwrap(), "--cluster", "tobi-api-kvirt"])
        .expect_code(0)
        .expect_stdout(") configured");
    let patches: Vec<String> = api
        .stand_in
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/addons/ingress-nginx"))
        .map(|r| r.body)
        .collect();
    assert_eq!(patches.len(), 1, "one PATCH for the one change: {patches:?}");
    assert!(patches[0].contains("\"replicas\":\"5\""), "{}", patches[0]);
    // A refused addon names the field and sends nothing.
    let bad = api.path("bad-addon.json");
    std::fs::write(
        &bad,
        r#"{"name": "Ingress_Nginx", "spec": {"variables": {"replicas": "3"}}}"#,
    )
    .unwrap();
    let before = api.stand_in.requests().len();
    api.kkp(&["apply", "-f", bad.to_str().unwrap(), "--cluster", "tobi-api-kvirt"])
        .expect_code(1)
        .expect_stderr("name: \"Ingress_Nginx\" is not an addon name");
    assert_eq!(api.stand_in.requests().len(), before, "a refused file sends nothing");
    // A misspelt addon (valid as a name) is one KKP does not offer: refused before the POST,
    // naming what the cluster can still install.
    let misspelt = api.path("misspelt-addon.json");
    std::fs::write(
        &misspelt,
        r#"{"name": "ingres-nginx", "spec": {"variables": {"replicas": "3"}}}"#,
    )
    .unwrap();
    api.kkp(&["apply", "-f", misspelt.to_str().unwrap(), "--cluster", "tobi-api-kvirt"])
        .expect_code(1)
        .expect_stderr("addon(s) \"ingres-nginx\" cannot be installed in cluster \"tobi-api-kvirt\"")
        .expect_stderr("KKP offers kube-state-metrics, node-exporter; nothing was sent");
    assert!(
        !api.stand_in
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.body.contains("ingres-nginx")),
        "nothing was sent"
    );
    api.assert_honest();
}

#[test]
fn get_describe_kubeconfig_and_delete() {
    let api = start(Duration::from_secs(1));
    for file in ["kubevirt-cluster.json", "kubevirt-with-autoscaling-cluster.json"] {
        let path = with_todays_version(file, api.dir.path());
        api.kkp(&["apply", "-f", path.to_str().unwrap(), "--wait", "--timeout", "60s"])
            .expect_code(0);
    }
    let ids: Vec<String> = api.clusters().into_iter().map(|(id, _)| id).collect();

    let table = api.kkp(&["get", "clusters"]);
    table
        .expect_code(0)
        .expect_stdout("NAME")
        .expect_stdout("tobi-api-kvirt-md-yaml")
        .expect_stdout(&ids[0])
        .expect_stdout("kubevirt")
        .expect_stdout("kv-europe-west3-c");
    let json = api.kkp(&["get", "cluster", "tobi-api-kvirt", "-o", "json"]);
    json.expect_code(0);
    let one: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(one["id"], ids[0].as_str());
    api.kkp(&["get", "clusters", "-o", "name"])
        .expect_code(0)
        .expect_stdout(&ids[1]);

    let described = api.kkp(&["describe", "cluster", "tobi-api-kvirt"]);
    described
        .expect_code(0)
        .expect_stdout("Name:        tobi-api-kvirt")
        .expect_stdout(&format!("ID:          {}", ids[0]))
        .expect_stdout("every required component is up")
        .expect_stdout("apiserver")
        .expect_stdout("Machine deployments: none");

    let kubeconfig = api.kkp(&["get", "kubeconfig", "tobi-api-kvirt"]);
    kubeconfig.expect_code(0).expect_stdout("current-context: admin@user");
    let file = api.path("user.kubeconfig");
    api.kkp(&["get", "kubeconfig", &ids[0], "--output-file", file.to_str().unwrap()])
        .expect_code(0);
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    api.kkp(&["get", "kubeconfig", "tobi-api-kvirt", "--merge", "--set-current"])
        .expect_code(0)
        .expect_stderr("Merged the kubeconfig");
    let merged = std::fs::read_to_string(api.path("kubeconfig")).unwrap();
    assert!(merged.contains("server: https://127.0.0.1:1"), "{merged}");

    // Deleting asks first; without a terminal and without --yes nothing is deleted.
    api.kkp(&["delete", "cluster", "tobi-api-kvirt"])
        .expect_code(1)
        .expect_stderr("--yes");
    assert_eq!(api.clusters().len(), 2);
    api.kkp(&["delete", "cluster", "tobi-api-kvirt", "--yes", "--timeout", "60s"])
        .expect_code(0)
        .expect_stderr("is gone");
    assert_eq!(api.clusters().len(), 1);
    api.kkp(&["describe", "cluster", "tobi-api-kvirt"])
        .expect_code(1)
        .expect_stderr("kubectl kkp get clusters");

    // The seed's delete-all.
    let path = with_todays_version("kubevirt-cluster.json", api.dir.path());
    api.kkp(&["apply", "-f", path.to_str().unwrap()]).expect_code(0);
    assert_eq!(api.clusters().len(), 2);
    api.kkp(&["delete", "clusters", "--all"])
        .expect_code(1)
        .expect_stderr("--yes");
    api.kkp(&["delete", "clusters", "--all", "--yes", "--timeout", "60s"])
        .expect_code(0)
        .expect_stderr("is gone");
    assert!(api.clusters().is_empty());
    let delete = api
        .stand_in
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .unwrap();
    assert!(
        delete
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("DeleteLoadBalancers") && v == "true")
    );
    api.kkp(&["get", "clusters"])
        .expect_code(0)
        .expect_stderr("No clusters found in KKP project");
    api.assert_honest();
}

#[test]
fn errors_say_what_is_wrong_without_showing_the_token() {
    let api = start(Duration::from_secs(600));
    // KKP_API with the seed's /api/v2 suffix, the token from KKP_TOKEN, a wrong token.
    let url = format!("{}/api/v2", api.stand_in.url());
    let ca = api.path("ca.pem");
    let wrong = "wrong-token-that-must-not-show-0123";
    let ran = api.raw(
        &["get", "clusters", "--certificate-authority", ca.to_str().unwrap()],
        &[("KKP_API", &url), ("KKP_TOKEN", wrong), ("KKP_PROJECT", PROJECT)],
    );
    ran.expect_code(1).expect_stderr("invalid, expired or revoked");
    assert!(!ran.both().contains(wrong), "{}", ran.both());
    // The right token, the seed's way, works.
    api.raw(
        &["get", "clusters", "--certificate-authority", ca.to_str().unwrap()],
        &[("KKP_API", &url), ("KKP_TOKEN", TOKEN), ("KKP_PROJECT", PROJECT)],
    )
    .expect_code(0);

    // A project the token does not belong to.
    let ran = api.raw(
        &[
            "get",
            "clusters",
            "--certificate-authority",
            ca.to_str().unwrap(),
            "--project",
            "otherproj1",
        ],
        &[("KKP_API", &url), ("KKP_TOKEN", TOKEN)],
    );
    ran.expect_code(1)
        .expect_stderr("KKP project otherproj1")
        .expect_stderr("doesn't belong");

    // No CA: the TLS error names the URL; --insecure-skip-tls-verify says it is insecure.
    let ran = api.raw(
        &["get", "clusters"],
        &[("KKP_API", &url), ("KKP_TOKEN", TOKEN), ("KKP_PROJECT", PROJECT)],
    );
    ran.expect_code(1)
        .expect_stderr(api.stand_in.url())
        .expect_stderr("--certificate-authority");
    api.raw(
        &["get", "clusters", "--insecure-skip-tls-verify"],
        &[("KKP_API", &url), ("KKP_TOKEN", TOKEN), ("KKP_PROJECT", PROJECT)],
    )
    .expect_code(0)
    .expect_stderr("insecure");

    // No token at all.
    api.raw(&["get", "clusters"], &[("KKP_API", &url), ("KKP_PROJECT", PROJECT)])
        .expect_code(1)
        .expect_stderr("--token-file");

    // A wait that times out: exit 124, saying what it waited for.
    let mut args = create_args("slow");
    args.extend(["--wait", "--timeout", "3s"]);
    let ran = api.kkp(&args);
    ran.expect_code(124)
        .expect_stderr("timed out")
        .expect_stderr("to become healthy");

    // Names that are not there.
    api.kkp(&["describe", "cluster", "nope"])
        .expect_code(1)
        .expect_stderr("no cluster named or with ID \"nope\" in KKP project xw2k9fgh4t");

    // The API down: which URL, and why.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("https://127.0.0.1:{port}");
    let ran = api.raw(
        &["get", "clusters"],
        &[("KKP_API", &down), ("KKP_TOKEN", TOKEN), ("KKP_PROJECT", PROJECT)],
    );
    ran.expect_code(1)
        .expect_stderr(&format!("cannot reach the KKP API at {down}"));
    assert!(!ran.both().contains(TOKEN));

    // Without --api nothing changes: the Kubernetes API is used (no kubeconfig here).
    let ran = api.raw(&["get", "clusters"], &[]);
    ran.expect_code(1).expect_no_stderr("KKP API");
    api.assert_honest();
}

#[test]
fn machine_deployment_files_go_into_the_user_cluster_through_its_kubeconfig() {
    use kube::api::{Api as KubeApi, ApiResource, DynamicObject};
    let user = kkp_e2e::ControlPlane::start_blocking(kkp_e2e::ControlPlaneOptions::named("user"))
        .expect("a user control plane");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(user.client()).expect("a client of the user cluster");
    let crd = kkp_e2e::shipped_crd("cluster.k8s.io_machinedeployments.yaml").expect("the shipped CRD");
    rt.block_on(kkp_e2e::install_crds(&client, &crd))
        .expect("the MachineDeployment CRD installs");
    let api = start_serving(Duration::from_secs(1), user.kubeconfig().to_owned());
    let cluster = with_todays_version("kubevirt-with-autoscaling-cluster.json", api.dir.path());
    api.kkp(&["apply", "-f", cluster.to_str().unwrap(), "--wait", "--timeout", "60s"])
        .expect_code(0);

    // The seed's md.yaml of 2021 is refused by the same engine as validate, naming each field.
    let old = with_todays_version("kubevirt-with-autoscaling-md-small.yaml", api.dir.path());
    api.kkp(&[
        "apply",
        "-f",
        old.to_str().unwrap(),
        "--cluster",
        "tobi-api-kvirt-md-yaml",
    ])
    .expect_code(1)
    .expect_stderr("cloudProviderSpec.sourceURL")
    .expect_stderr("nothing was sent");

    let md = kkp_e2e::examples::machine_deployment("pool-a", "default", "1.35.8");
    let file = api.path("md.yaml");
    std::fs::write(&file, serde_yaml::to_string(&md).unwrap()).unwrap();
    api.kkp(&[
        "apply",
        "-f",
        file.to_str().unwrap(),
        "--cluster",
        "tobi-api-kvirt-md-yaml",
    ])
    .expect_code(0)
    .expect_stdout("pool-a");
    let resource = ApiResource::erase::<kkp_crds::MachineDeployment>(&());
    let mds: KubeApi<DynamicObject> = KubeApi::namespaced_with(client, "kube-system", &resource);
    let found = rt
        .block_on(mds.get("pool-a"))
        .expect("the MachineDeployment is in the user cluster's kube-system");
    assert_eq!(found.data["spec"]["replicas"], 1);

    // KubeOne's workers: Terraform computes Hetzner's real output.tf, `generate machinedeployments`
    // turns kubeone_workers into MachineDeployments (JSON: one List), and apply sends them the
    // same way. (The stand-in's cluster is a KubeVirt one; the API does not tie workers to it.)
    if let Some(terraform) = kkp_e2e::terraform::binary() {
        let key_file = api.path("id.pub");
        std::fs::write(&key_file, SSH_KEY).unwrap();
        let tf_dir = api.path("terraform");
        std::fs::create_dir_all(&tf_dir).unwrap();
        let (vars, locals) = kkp_e2e::terraform::hetzner_inputs("workers", 2, &key_file);
        let output = kkp_e2e::terraform::kubeone_output(&terraform, &tf_dir, "hetzner", vars, locals);
        let tf_json = api.path("tf.json");
        std::fs::write(&tf_json, output).unwrap();
        let generated = api.path("kubeone-workers.json");
        api.raw(
            &[
                "generate",
                "machinedeployments",
                "--terraform-output",
                tf_json.to_str().unwrap(),
                "--cluster",
                "workers",
                "-o",
                "json",
                "--write-to",
                generated.to_str().unwrap(),
            ],
            &[],
        )
        .expect_code(0);
        api.kkp(&[
            "apply",
            "-f",
            generated.to_str().unwrap(),
            "--cluster",
            "tobi-api-kvirt-md-yaml",
        ])
        .expect_code(0)
        .expect_stdout("workers-pool1");
        let pool = rt
            .block_on(mds.get("workers-pool1"))
            .expect("KubeOne's worker pool is in the user cluster's kube-system");
        assert_eq!(pool.data["spec"]["replicas"], 2);
        let value = &pool.data["spec"]["template"]["spec"]["providerSpec"]["value"];
        assert_eq!(value["cloudProvider"], "hetzner");
        assert_eq!(value["sshPublicKeys"], serde_json::json!([SSH_KEY]));
    }
    api.assert_honest();
}

const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQ1cZf3cpkBZ4/0rlFWzPm1YjFnKVzFAQVIGrLvGsc4 demo@example.com";
