//! End to end: `kubectl kkp` run through the real kubectl against two real control planes, a
//! management ("seed") cluster with the KKP Cluster CRD and a user cluster with the
//! MachineDeployment CRD, both with kkp-webhook registered. A small stand-in for KKP's seed controller (`kkp_e2e::fake_kkp`) plays KKP: it
//! reports new clusters Creating, then Running and healthy, writes their `admin-kubeconfig`
//! Secret (the user control plane's admin kubeconfig) and holds a finalizer on deletion for a
//! moment, like KKP's cleanup.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kkp_e2e::fake_kkp::FakeKkp;
use kkp_e2e::plugin_support::{self, Ran, SeedAndUser};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};

/// Clusters the stand-in controller manages; others are left alone (no status ever).
const MANAGED_PREFIX: &str = "e2e-";
/// The finalizer the stand-in controller holds until a deleted cluster has been "cleaned up".
const FINALIZER: &str = "kubermatic.k8c.io/cleanup-e2e";
/// How long a managed cluster stays Creating before it runs.
const CREATING_FOR: Duration = Duration::from_secs(2);
/// How long a plugin run may take before the test gives up on it.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

struct Env {
    planes: &'static SeedAndUser,
    plugin_dir: &'static Path,
    home: tempfile::TempDir,
}

/// The control planes with their CRDs, the built plugin, and the stand-in controller, once per
/// test binary.
fn env() -> &'static Env {
    static ENV: OnceLock<Result<Env, String>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let plugin_dir = plugin_support::plugin_dir().map_err(|e| e.to_string())?;
        let planes = plugin_support::seed_and_user().map_err(|e| e.to_string())?;
        rt().block_on(install_crds(planes))?;
        // kkp-webhook guards both clusters, as it would in production: everything the plugin sends
        // passes its admission.
        kkp_e2e::webhook_support::spawn_registered(&[&planes.seed, &planes.user], Duration::from_secs(60))
            .map_err(|e| e.to_string())?;
        start_fake_kkp(planes);
        let home = tempfile::tempdir().map_err(|e| e.to_string())?;
        Ok(Env {
            planes,
            plugin_dir,
            home,
        })
    });
    match env {
        Ok(env) => env,
        Err(e) => panic!("the end-to-end environment did not start: {e}"),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A CRD manifest this project ships, exactly as generated.
fn crd(file: &str) -> String {
    kkp_e2e::shipped_crd(file).expect("a shipped CRD")
}

async fn install_crds(planes: &SeedAndUser) -> Result<(), String> {
    let seed = planes.seed.client().await.map_err(|e| e.to_string())?;
    kkp_e2e::install_crds(&seed, &crd("kubermatic.k8c.io_clusters.yaml"))
        .await
        .map_err(|e| e.to_string())?;
    let user = planes.user.client().await.map_err(|e| e.to_string())?;
    kkp_e2e::install_crds(&user, &crd("cluster.k8s.io_machinedeployments.yaml"))
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn clusters_resource() -> ApiResource {
    ApiResource::erase::<kkp_crds::Cluster>(&())
}

fn machine_deployments_resource() -> ApiResource {
    ApiResource::erase::<kkp_crds::MachineDeployment>(&())
}

/// Starts the stand-in for KKP's seed controller.
fn start_fake_kkp(planes: &'static SeedAndUser) {
    let mut fake = FakeKkp::new(&planes.user, MANAGED_PREFIX);
    fake.finalizer = FINALIZER.to_owned();
    fake.creating_for = CREATING_FOR;
    // The stand-in runs for the whole test binary, as the shared control planes do.
    std::mem::forget(fake.spawn(&planes.seed));
}

/// `kubectl kkp ARGS` with the seed as the kubeconfig.
fn kkp(args: &[&str]) -> Ran {
    let env = env();
    kkp_with(env.planes.seed.kubeconfig_path(), args)
}

/// `kubectl kkp ARGS` with `KUBECONFIG` set to `kubeconfig`.
fn kkp_with(kubeconfig: &Path, args: &[&str]) -> Ran {
    let env = env();
    let mut command = plugin_support::kubectl(env.planes.seed.bin_dir(), env.plugin_dir, kubeconfig, env.home.path());
    command.arg("kkp").args(args);
    plugin_support::run(command, RUN_TIMEOUT).expect("kubectl kkp runs")
}

/// Plain `kubectl ARGS`.
fn kubectl(kubeconfig: &Path, args: &[&str]) -> Ran {
    let env = env();
    let mut command = plugin_support::kubectl(env.planes.seed.bin_dir(), env.plugin_dir, kubeconfig, env.home.path());
    command.args(args);
    plugin_support::run(command, RUN_TIMEOUT).expect("kubectl runs")
}

/// The flags of a valid Hetzner cluster.
fn template_flags() -> Vec<&'static str> {
    vec![
        "--provider",
        "hetzner",
        "--datacenter",
        "hetzner-fsn1",
        "--project",
        "p8kfs2x9jw",
        "--set",
        "HETZNER_LOCATION=fsn1",
        "--set",
        "HETZNER_NETWORK=net1",
    ]
}

fn create(name: &str, extra: &[&str]) -> Ran {
    let mut args = vec!["create", "cluster", name];
    args.extend(template_flags());
    args.extend_from_slice(&["--timeout", "2m"]);
    args.extend_from_slice(extra);
    kkp(&args)
}

/// A managed cluster, created and running.
fn running_cluster(prefix: &str) -> String {
    let name = kkp_e2e::unique_name(&format!("{MANAGED_PREFIX}{prefix}"));
    let ran = create(&name, &[]);
    ran.expect_code(0);
    name
}

async fn seed_cluster(name: &str) -> Option<DynamicObject> {
    let seed = env().planes.seed.client().await.expect("a seed client");
    let api: Api<DynamicObject> = Api::all_with(seed, &clusters_resource());
    api.get_opt(name).await.expect("reading the cluster")
}

async fn user_machine_deployment(name: &str) -> Option<DynamicObject> {
    let user = env().planes.user.client().await.expect("a user client");
    let api: Api<DynamicObject> = Api::namespaced_with(user, "kube-system", &machine_deployments_resource());
    api.get_opt(name).await.expect("reading the machine deployment")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

#[test]
fn create_waits_for_the_cluster_applies_its_workers_and_converges() {
    let name = kkp_e2e::unique_name("e2e-create");
    let ran = create(&name, &[]);
    ran.expect_code(0);
    ran.expect_stdout(&format!("cluster.kubermatic.k8c.io/{name} created"));
    ran.expect_stdout(&format!("machinedeployment.cluster.k8s.io/{name}-worker created"));
    assert!(
        ran.stderr.contains("phase Creating"),
        "progress shows the phase: {}",
        ran.both()
    );
    ran.expect_stderr("Running and healthy");
    assert!(
        !ran.stderr.contains('\u{1b}'),
        "no spinner without a terminal: {}",
        ran.both()
    );
    ran.expect_stderr(&format!("kubectl kkp get kubeconfig {name}"));

    rt().block_on(async {
        let cluster = seed_cluster(&name).await.expect("the Cluster is on the seed");
        let labels = cluster.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get("project-id").map(String::as_str), Some("p8kfs2x9jw"));
        let managers: Vec<String> = cluster
            .metadata
            .managed_fields
            .iter()
            .flatten()
            .filter_map(|m| m.manager.clone())
            .collect();
        assert!(managers.iter().any(|m| m == "kubectl-kkp"), "{managers:?}");
        let md = user_machine_deployment(&format!("{name}-worker"))
            .await
            .expect("the MachineDeployment is in the user cluster");
        assert_eq!(md.data.pointer("/spec/replicas").and_then(Value::as_i64), Some(1));
    });

    // The same command again: everything is there already and nothing changes.
    let again = create(&name, &[]);
    again.expect_code(0);
    again.expect_stdout(&format!("cluster.kubermatic.k8c.io/{name} unchanged"));
    again.expect_stdout(&format!("machinedeployment.cluster.k8s.io/{name}-worker unchanged"));
    assert!(
        !again.stderr.contains("phase Creating"),
        "a running cluster is seen at once: {}",
        again.both()
    );

    // -o json prints what the servers returned.
    let json_run = create(&name, &["-o", "json"]);
    json_run.expect_code(0);
    let list: Value = serde_json::from_str(&json_run.stdout).expect("JSON on stdout");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["metadata"]["name"], name.as_str());
}

/// KubeOne's workers without the KKP API: Terraform computes Hetzner's real output.tf,
/// `generate machinedeployments` turns kubeone_workers into MachineDeployments, and `apply -f`
/// sends them through the seed into the running cluster's user cluster.
#[test]
fn kubeone_worker_pools_are_applied_into_a_running_cluster_through_the_seed() {
    let Some(terraform) = kkp_e2e::terraform::binary() else {
        return;
    };
    let name = kkp_e2e::unique_name(&format!("{MANAGED_PREFIX}kubeone"));
    let human = format!("KubeOne pools {name}");
    create(&name, &["--human-readable-name", &human]).expect_code(0);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("id.pub");
    std::fs::write(
        &key_file,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQ1cZf3cpkBZ4/0rlFWzPm1YjFnKVzFAQVIGrLvGsc4 demo@example.com",
    )
    .unwrap();
    let tf_dir = dir.path().join("terraform");
    std::fs::create_dir_all(&tf_dir).unwrap();
    let (vars, locals) = kkp_e2e::terraform::hetzner_inputs("pools", 3, &key_file);
    let output = kkp_e2e::terraform::kubeone_output(&terraform, &tf_dir, "hetzner", vars, locals);
    let tf_json = dir.path().join("tf.json");
    std::fs::write(&tf_json, output).unwrap();
    let workers = dir.path().join("workers.json");
    kkp(&[
        "generate",
        "machinedeployments",
        "--terraform-output",
        tf_json.to_str().unwrap(),
        "--cluster",
        "pools",
        "-o",
        "json",
        "--write-to",
        workers.to_str().unwrap(),
    ])
    .expect_code(0);

    // Not a KKP API payload: without --api, only MachineDeployments go, and only to a cluster ID.
    kkp(&["apply", "-f", workers.to_str().unwrap()])
        .expect_code(1)
        .expect_stderr("--cluster NAME|ID is required");
    kkp(&["apply", "-f", workers.to_str().unwrap(), "--cluster", "no-such-cluster"])
        .expect_code(1)
        .expect_stderr("has no KKP cluster of that ID or human-readable name");
    // The cluster by its human-readable name, then by its ID.
    let applied = kkp(&["apply", "-f", workers.to_str().unwrap(), "--cluster", &human]);
    applied
        .expect_code(0)
        .expect_stdout("machinedeployment.cluster.k8s.io/pools-pool1 created");
    rt().block_on(async {
        let md = user_machine_deployment("pools-pool1")
            .await
            .expect("KubeOne's pool is in the user cluster's kube-system");
        assert_eq!(md.data.pointer("/spec/replicas").and_then(Value::as_i64), Some(3));
        assert_eq!(
            md.data
                .pointer("/spec/template/spec/providerSpec/value/cloudProvider")
                .and_then(Value::as_str),
            Some("hetzner")
        );
    });
    kkp(&["apply", "-f", workers.to_str().unwrap(), "--cluster", &name])
        .expect_code(0)
        .expect_stdout("machinedeployment.cluster.k8s.io/pools-pool1 unchanged");
}

#[test]
fn an_interrupted_create_is_finished_by_running_it_again() {
    let name = kkp_e2e::unique_name("e2e-resume");
    let first = create(&name, &["--wait=false"]);
    first.expect_code(0);
    first.expect_stderr("were not applied yet");
    assert!(
        rt().block_on(user_machine_deployment(&format!("{name}-worker")))
            .is_none()
    );
    let second = create(&name, &[]);
    second.expect_code(0);
    second.expect_stdout(&format!("cluster.kubermatic.k8c.io/{name} unchanged"));
    assert!(
        rt().block_on(user_machine_deployment(&format!("{name}-worker")))
            .is_some()
    );
}

#[test]
fn get_kubeconfig_prints_writes_and_merges_without_losing_entries() {
    let env = env();
    let name = running_cluster("kubeconfig");
    let user_server = env.planes.user.server_url();

    let printed = kkp(&["get", "kubeconfig", &name]);
    printed.expect_code(0);
    printed.expect_stdout(&user_server);

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("out").join("kubeconfig");
    let written = kkp(&[
        "get",
        "kubeconfig",
        &name,
        "--output-file",
        file.to_str().expect("utf8"),
    ]);
    written.expect_code(0);
    assert!(written.stdout.is_empty(), "{}", written.both());
    assert_eq!(mode(&file), 0o600);
    assert!(std::fs::read_to_string(&file).expect("read").contains(&user_server));

    // A kubeconfig of the user's own: the seed plus a user named like KKP's ("default") used
    // by another context, which the merge must keep.
    let mut mine: serde_yaml::Value =
        serde_yaml::from_str(env.planes.seed.kubeconfig()).expect("the seed kubeconfig parses");
    let users = mine["users"].as_sequence_mut().expect("users");
    users.push(serde_yaml::from_str("{name: default, user: {token: not-a-real-token}}").expect("yaml"));
    let contexts = mine["contexts"].as_sequence_mut().expect("contexts");
    contexts.push(serde_yaml::from_str("{name: other, context: {cluster: seed, user: default}}").expect("yaml"));
    let merged_path: PathBuf = dir.path().join("config");
    std::fs::write(&merged_path, serde_yaml::to_string(&mine).expect("yaml")).expect("write");

    let merged = kkp(&[
        "--kubeconfig",
        merged_path.to_str().expect("utf8"),
        "get",
        "kubeconfig",
        &name,
        "--merge",
        "--set-current",
    ]);
    merged.expect_code(0);
    merged.expect_stderr(&format!("as context \"{name}\""));
    merged.expect_stderr("\"default\" is taken (another server, or another kubeconfig file)");
    assert_eq!(mode(&merged_path), 0o600);

    // Plain kubectl with the merged file reaches the user cluster.
    let ns = kubectl(&merged_path, &["get", "ns"]);
    ns.expect_code(0);
    ns.expect_stdout("kube-system");
    let mds = kubectl(
        &merged_path,
        &[
            "-n",
            "kube-system",
            "get",
            "machinedeployments.cluster.k8s.io",
            "-o",
            "name",
        ],
    );
    mds.expect_code(0);
    assert!(
        mds.stdout.contains(&format!("{name}-worker")),
        "only the user cluster has it: {}",
        mds.both()
    );

    // Nothing of the user's own was lost, and the seed is still reachable through its context.
    let contexts = kubectl(&merged_path, &["config", "get-contexts", "-o", "name"]);
    for want in ["seed", "other", name.as_str()] {
        assert!(
            contexts.stdout.lines().any(|l| l == want),
            "{want}: {}",
            contexts.both()
        );
    }
    let users = kubectl(&merged_path, &["config", "view", "-o", "jsonpath={.users[*].name}"]);
    let users: Vec<&str> = users.stdout.split_whitespace().collect();
    assert!(
        users.contains(&"default") && users.contains(&format!("default-{name}").as_str()),
        "{users:?}"
    );
    let seed_ns = kubectl(&merged_path, &["--context", "seed", "get", "ns", "-o", "name"]);
    seed_ns.expect_code(0);

    // Merging again refreshes the same entries instead of adding more.
    // Its current context is the user cluster now, so the seed is named explicitly.
    let path = merged_path.to_str().expect("utf8");
    let again = kkp(&[
        "--kubeconfig",
        path,
        "--context",
        "seed",
        "get",
        "kubeconfig",
        &name,
        "--merge",
    ]);
    again.expect_code(0);
    let contexts = kubectl(&merged_path, &["config", "get-contexts", "-o", "name"]);
    assert_eq!(contexts.stdout.lines().count(), 3, "{}", contexts.both());
}

#[test]
fn get_lists_and_shows_clusters_like_kubectl() {
    let name = running_cluster("get");
    let table = kkp(&["get", "clusters"]);
    table.expect_code(0);
    let header = table.stdout.lines().next().expect("a header");
    for column in [
        "NAME",
        "HUMAN NAME",
        "PROVIDER",
        "DATACENTER",
        "VERSION",
        "PHASE",
        "AGE",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .expect("a row for the cluster");
    let cells: Vec<&str> = row.split_whitespace().collect();
    let default_version = kkp_crds::versions::VersionCatalog::default().default.to_string();
    assert_eq!(
        &cells[..6],
        [
            name.as_str(),
            name.as_str(),
            "hetzner",
            "hetzner-fsn1",
            default_version.as_str(),
            "Running"
        ],
        "{row}"
    );
    assert!(
        cells[6].ends_with('s') || cells[6].ends_with('m'),
        "an age like 5s or 2m: {row}"
    );

    let one = kkp(&["get", "cluster", &name, "--no-headers"]);
    one.expect_code(0);
    assert_eq!(one.stdout.lines().count(), 1, "{}", one.both());

    let json = kkp(&["get", "clusters", "-A", "-o", "json"]);
    json.expect_code(0);
    let list: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(list["kind"], "List");
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|c| c["metadata"]["name"] == name.as_str())
    );

    let object = kkp(&["get", "cluster", &name, "-o", "yaml"]);
    let parsed: Value = serde_yaml::from_str(&object.stdout).expect("YAML");
    assert_eq!(parsed["status"]["phase"], "Running");
    assert!(
        parsed["metadata"].get("managedFields").is_none(),
        "managed fields are hidden like kubectl does"
    );

    let names = kkp(&["get", "clusters", "-l", "project-id=p8kfs2x9jw", "-o", "name"]);
    assert!(
        names
            .stdout
            .lines()
            .any(|l| l == format!("cluster.kubermatic.k8c.io/{name}")),
        "{}",
        names.both()
    );
    let none = kkp(&["get", "clusters", "-l", "project-id=nope"]);
    none.expect_code(0);
    assert!(
        none.stdout.is_empty() && none.stderr.contains("No clusters found"),
        "{}",
        none.both()
    );
}

#[test]
fn describe_shows_health_conditions_and_workers() {
    let name = running_cluster("describe");
    let ran = kkp(&["describe", "cluster", &name]);
    ran.expect_code(0);
    let text = &ran.stdout;
    assert!(
        text.starts_with(&format!("Cluster {name}\n")),
        "the human name is the name: {text}"
    );
    assert!(text.contains("Phase:     Running\n"), "{text}");
    assert!(text.contains("✓ apiserver"), "{text}");
    assert!(text.contains("✓ ClusterControllerReconciledSuccessfully"), "{text}");
    assert!(
        text.contains(&format!("{name}-worker   replicas 1")),
        "workers are read from the user cluster: {text}"
    );
    assert!(!text.contains('\u{1b}'), "plain text when not on a terminal: {text}");

    let coloured = kkp(&["describe", "cluster", &name, "--color=always"]);
    coloured.expect_stdout("\u{1b}[32m✓");
}

#[test]
fn dry_runs_send_nothing() {
    let name = kkp_e2e::unique_name("e2e-dry");
    let client = create(&name, &["--dry-run=client"]);
    client.expect_code(0);
    let docs: Vec<Value> = client
        .stdout
        .split("\n---\n")
        .map(|d| serde_yaml::from_str(d).expect("YAML documents"))
        .collect();
    assert_eq!(docs[0]["kind"], "Cluster");
    assert_eq!(docs[1]["kind"], "MachineDeployment");

    let server = create(&name, &["--dry-run=server"]);
    server.expect_code(0);
    server.expect_stdout(&format!("cluster.kubermatic.k8c.io/{name} created (server dry run)"));
    server.expect_stderr("not checked by the server");
    assert!(
        rt().block_on(seed_cluster(&name)).is_none(),
        "a dry run leaves nothing behind"
    );
}

#[test]
fn invalid_objects_are_refused_before_anything_is_sent() {
    let name = kkp_e2e::unique_name("e2e-invalid");
    let ran = create(&name, &["--kubernetes-version", "1.20.0"]);
    ran.expect_code(1);
    assert!(
        ran.stderr.contains("spec.version"),
        "the field is named: {}",
        ran.both()
    );
    ran.expect_stderr("nothing was sent");
    assert_eq!(ran.stderr.matches("error:").count(), 1, "reported once: {}", ran.both());
    assert!(rt().block_on(seed_cluster(&name)).is_none());
}

#[test]
fn delete_asks_first_and_waits_for_the_finalizers() {
    let name = running_cluster("delete");
    let refused = kkp(&["delete", "cluster", &name]);
    refused.expect_code(1);
    refused.expect_stderr("pass --yes");
    assert!(rt().block_on(seed_cluster(&name)).is_some(), "nothing was deleted");

    let deleted = kkp(&["delete", "cluster", &name, "--yes", "--wait", "--timeout", "1m"]);
    deleted.expect_code(0);
    deleted.expect_stdout(&format!("cluster.kubermatic.k8c.io \"{name}\" deleted"));
    deleted.expect_stderr(&format!("waiting for finalizers: {FINALIZER}"));
    deleted.expect_stderr("is gone");
    assert!(rt().block_on(seed_cluster(&name)).is_none());

    let again = kkp(&["delete", "cluster", &name, "--yes"]);
    again.expect_code(1);
    again.expect_stderr("not found");
    let ignored = kkp(&["delete", "cluster", &name, "--yes", "--ignore-not-found"]);
    ignored.expect_code(0);
}

#[test]
fn a_cluster_that_is_not_found_is_an_error_that_says_what_to_do() {
    for args in [
        vec!["get", "cluster", "no-such-cluster"],
        vec!["describe", "cluster", "no-such-cluster"],
        vec!["get", "kubeconfig", "no-such-cluster"],
    ] {
        let ran = kkp(&args);
        assert_eq!(ran.code, Some(1), "{args:?}: {}", ran.both());
        assert!(
            ran.stderr
                .contains("cluster \"no-such-cluster\" not found on the management cluster (context \"seed\")"),
            "{args:?}: {}",
            ran.both()
        );
        assert!(
            ran.stderr.contains("kubectl kkp get clusters"),
            "{args:?}: {}",
            ran.both()
        );
    }
    let bad_context = kkp(&["--context", "nope", "get", "clusters"]);
    bad_context.expect_code(1);
    bad_context.expect_stderr("available contexts: seed");
}

#[test]
fn a_wait_that_times_out_exits_124_and_says_what_it_waited_for() {
    // Not managed by the stand-in controller: nobody will ever report this cluster running.
    let name = kkp_e2e::unique_name("lonely");
    let mut args = vec!["create", "cluster", name.as_str()];
    args.extend(template_flags());
    args.extend_from_slice(&["--timeout", "3s"]);
    env();
    let started = Instant::now();
    let ran = kkp(&args);
    ran.expect_code(124);
    assert!(started.elapsed() < Duration::from_secs(60), "the timeout is honoured");
    ran.expect_stderr("timed out");
    ran.expect_stderr(&format!("cluster \"{name}\" to be Running and healthy"));
    ran.expect_stderr("last seen: no status yet");
    assert!(
        rt().block_on(seed_cluster(&name)).is_some(),
        "the Cluster itself was applied"
    );

    // describe says why it cannot show the workers of a cluster that never ran.
    let described = kkp(&["describe", "cluster", &name]);
    described.expect_code(0);
    described.expect_stdout("Phase:     no status yet");
    let why = format!("not available: the user cluster's kubeconfig (secret cluster-{name}/admin-kubeconfig");
    described.expect_stdout(&why);
    let cleanup = kkp(&["delete", "cluster", &name, "--yes"]);
    cleanup.expect_code(0);
}

#[test]
fn get_kubeconfig_finds_cluster_api_and_kind_provider_secrets() {
    let env = env();
    let namespace = kkp_e2e::unique_name("capi");
    let capi = kkp_e2e::unique_name("capi-cluster");
    let kind = kkp_e2e::unique_name("kind-cluster");
    let fake = FakeKkp::new(&env.planes.user, MANAGED_PREFIX);
    let capi_text = fake.kkp_style_kubeconfig(&capi);
    let kind_text = fake.kkp_style_kubeconfig(&kind);
    rt().block_on(async {
        let seed = env.planes.seed.client().await.expect("a seed client");
        let namespaces: Api<Namespace> = Api::all(seed.clone());
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("a namespace");
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("the namespace");
        let secrets: Api<Secret> = Api::namespaced(seed, &namespace);
        for (name, key, text) in [
            (format!("{capi}-kubeconfig"), "value", &capi_text),
            (format!("{kind}-config"), "config", &kind_text),
        ] {
            let secret: Secret = serde_json::from_value(json!({"metadata": {"name": name}, "stringData": {key: text}}))
                .expect("a secret");
            secrets
                .create(&PostParams::default(), &secret)
                .await
                .expect("the secret");
        }
    });

    let found = kkp(&["get", "kubeconfig", &capi, "-n", &namespace]);
    found.expect_code(0);
    assert_eq!(found.stdout, capi_text);
    let found = kkp(&["get", "kubeconfig", &kind, "-n", &namespace]);
    found.expect_code(0);
    assert_eq!(found.stdout, kind_text);

    // Another namespace has neither: the error lists every place it looked.
    let missing = kkp(&["get", "kubeconfig", &capi]);
    missing.expect_code(1);
    missing.expect_stderr(&format!("Cluster API secret default/{capi}-kubeconfig"));
    missing.expect_stderr(&format!("kind provider secret default/{capi}-config"));
    let only_kkp = kkp(&["get", "kubeconfig", &capi, "-n", &namespace, "--convention", "kkp"]);
    only_kkp.expect_code(1);
}

/// A Cluster API `Cluster` CRD as far as these tests need it: the real group, kind, versions
/// (v1beta2 and, for the Kubernetes provider's templates, v1alpha3) and status subresource, with
/// the schema left open.
const CAPI_CLUSTER_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusters.cluster.x-k8s.io
spec:
  group: cluster.x-k8s.io
  names: {kind: Cluster, listKind: ClusterList, plural: clusters, singular: cluster}
  scope: Namespaced
  versions:
    - name: v1beta2
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
    - name: v1alpha3
      served: true
      storage: false
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"#;

/// A clusterctl-style template: a ConfigMap the cluster's add-ons read, and the Cluster.
const CAPI_TEMPLATE: &str = r#"
apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata:
  name: ${CLUSTER_NAME}
  namespace: ${NAMESPACE}
spec:
  clusterNetwork:
    pods:
      cidrBlocks: ["${POD_CIDR:=192.168.0.0/16}"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${CLUSTER_NAME}-addons
  namespace: ${NAMESPACE}
data:
  kubernetesVersion: ${KUBERNETES_VERSION}
"#;

/// What the stand-in for Cluster API's controllers does with a cluster.
#[derive(Clone, Copy)]
enum CapiScript {
    /// Infrastructure first, then the control plane and the kubeconfig secret, then Available.
    BecomesAvailable,
    /// The controller gives up with a failure message.
    Fails,
}

/// Plays Cluster API's controllers for the named clusters until `stop` is set: it patches their
/// status step by step, as the real controllers would, and writes the kubeconfig secret.
fn spawn_fake_capi(
    namespace: String,
    clusters: Vec<(String, CapiScript)>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use kube::api::{Patch, PatchParams};
    let env = env();
    let user_kubeconfig = env.planes.user.kubeconfig().to_owned();
    std::thread::spawn(move || {
        rt().block_on(async move {
            let seed = env.planes.seed.client().await.expect("a seed client");
            let gvk = kube::api::GroupVersionKind::gvk("cluster.x-k8s.io", "v1beta2", "Cluster");
            let api: Api<DynamicObject> =
                Api::namespaced_with(seed.clone(), &namespace, &ApiResource::from_gvk_with_plural(&gvk, "clusters"));
            let secrets: Api<Secret> = Api::namespaced(seed, &namespace);
            let mut first_seen: std::collections::HashMap<String, Instant> = Default::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for (name, script) in &clusters {
                    if api.get_opt(name).await.ok().flatten().is_none() {
                        continue;
                    }
                    let age = first_seen.entry(name.clone()).or_insert_with(Instant::now).elapsed();
                    let condition = |kind: &str, up: bool, reason: &str| {
                        json!({"type": kind, "status": if up { "True" } else { "False" }, "reason": reason,
                               "lastTransitionTime": "2026-01-01T00:00:00Z"})
                    };
                    let status = match script {
                        CapiScript::Fails => json!({"phase": "Failed", "deprecated": {"v1beta1": {
                            "failureReason": "InvalidConfiguration", "failureMessage": "region eu-nowhere-1 does not exist"}}}),
                        CapiScript::BecomesAvailable => {
                            let initialized = age >= Duration::from_millis(1500);
                            let available = age >= Duration::from_secs(3);
                            if initialized {
                                let secret: Secret = serde_json::from_value(json!({
                                    "metadata": {"name": format!("{name}-kubeconfig"),
                                                 "labels": {"cluster.x-k8s.io/cluster-name": name}},
                                    "type": "cluster.x-k8s.io/secret",
                                    "stringData": {"value": user_kubeconfig},
                                }))
                                .expect("a secret");
                                let params = PatchParams::apply("fake-capi").force();
                                let _ = secrets.patch(&format!("{name}-kubeconfig"), &params, &Patch::Apply(&secret)).await;
                            }
                            json!({
                                "phase": if available { "Provisioned" } else { "Provisioning" },
                                "conditions": [
                                    condition("Available", available, if available { "Available" } else { "NotAvailable" }),
                                    condition("InfrastructureReady", true, "Ready"),
                                    condition("ControlPlaneInitialized", initialized,
                                              if initialized { "Initialized" } else { "WaitingForControlPlane" }),
                                ],
                            })
                        }
                    };
                    let patch = json!({"status": status});
                    if let Err(e) = api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                        eprintln!("fake Cluster API: {name}: {e}");
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    })
}

#[test]
fn create_applies_a_cluster_api_template_and_waits_until_the_cluster_is_available() {
    let env = env();
    let namespace = kkp_e2e::unique_name("capi-create");
    let available = kkp_e2e::unique_name("capi-ok");
    let failing = kkp_e2e::unique_name("capi-fail");
    let lonely = kkp_e2e::unique_name("capi-lonely");
    rt().block_on(async {
        let seed = env.planes.seed.client().await.expect("a seed client");
        kkp_e2e::install_crds(&seed, CAPI_CLUSTER_CRD)
            .await
            .expect("the Cluster API CRD");
        let namespaces: Api<Namespace> = Api::all(seed);
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace}})).expect("a namespace");
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("the namespace");
    });
    let dir = tempfile::tempdir().expect("a temp dir");
    let template = dir.path().join("cluster-template.yaml");
    std::fs::write(&template, CAPI_TEMPLATE).expect("the template");
    let template = template.to_str().expect("a UTF-8 path");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let controller = spawn_fake_capi(
        namespace.clone(),
        vec![
            (available.clone(), CapiScript::BecomesAvailable),
            (failing.clone(), CapiScript::Fails),
        ],
        stop.clone(),
    );
    let create = |name: &str, timeout: &str| {
        kkp(&[
            "create",
            "cluster",
            name,
            "--from",
            template,
            "-n",
            &namespace,
            "--kubernetes-version",
            "v1.35.7",
            "--timeout",
            timeout,
        ])
    };

    // Applied in dependency order, then the wait shows the conditions as they change.
    let ran = create(&available, "2m");
    ran.expect_code(0);
    let applied: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(
        applied,
        [
            format!("configmap/{available}-addons created"),
            format!("cluster.cluster.x-k8s.io/{available} created"),
        ],
        "{}",
        ran.both()
    );
    let label = format!("cluster {namespace}/{available}");
    for line in [
        format!(
            "{label}: phase Provisioning; InfrastructureReady, ControlPlaneInitialized not yet (WaitingForControlPlane), Available not yet (NotAvailable)"
        ),
        format!("{label}: available"),
        format!(
            "Cluster {namespace}/{available} is available. Get its kubeconfig with: kubectl kkp get kubeconfig {available} -n {namespace} --merge --set-current"
        ),
    ] {
        assert!(
            ran.stderr.lines().any(|l| l == line),
            "missing line {line:?} in:\n{}",
            ran.both()
        );
    }
    // The hint works: the kubeconfig reaches the user cluster.
    let kubeconfig = kkp(&["get", "kubeconfig", &available, "-n", &namespace]);
    kubeconfig.expect_code(0);
    assert_eq!(kubeconfig.stdout, env.planes.user.kubeconfig());
    // Running it again converges at once.
    let again = create(&available, "30s");
    again.expect_code(0);
    again.expect_stderr("is available");

    // A controller that gives up ends the wait with its reason, exit 1.
    let ran = create(&failing, "2m");
    ran.expect_code(1);
    ran.expect_stderr(&format!(
        "Cluster API cluster {namespace}/{failing} will not become available: its controller reports a failure: \
             InvalidConfiguration: region eu-nowhere-1 does not exist"
    ));

    // Nobody reconciles this one: the wait times out with exit 124 and the last state.
    let ran = create(&lonely, "3s");
    ran.expect_code(124);
    ran.expect_stderr(&format!("Cluster API cluster {namespace}/{lonely} to be available"));
    ran.expect_stderr("last seen: no status yet");

    // --wait=false applies and says how to go on.
    let name = kkp_e2e::unique_name("capi-nowait");
    let ran = kkp(&[
        "create",
        "cluster",
        &name,
        "--from",
        template,
        "-n",
        &namespace,
        "--kubernetes-version",
        "v1.35.7",
        "--wait=false",
    ]);
    ran.expect_code(0);
    ran.expect_stderr("Not waiting (--wait=false)");

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    controller.join().expect("the stand-in controller ends");
}

#[test]
fn a_generated_id_is_found_again_so_re_running_converges() {
    let human = kkp_e2e::unique_name("Team Cluster");
    let run = || {
        let mut args = vec!["create", "cluster", human.as_str(), "--generate-name"];
        args.extend(template_flags());
        args.push("--wait=false");
        kkp(&args)
    };
    let first = run();
    first.expect_code(0);
    let id = first
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Generated cluster ID \""))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no generated ID in:\n{}", first.both()))
        .to_owned();
    let stored = rt()
        .block_on(seed_cluster(&id))
        .expect("the cluster with the generated ID");
    assert_eq!(stored.data["spec"]["humanReadableName"], json!(human));

    // The same command again continues with that cluster instead of making a second one.
    let second = run();
    second.expect_code(0);
    second.expect_stderr(&format!("Continuing with cluster \"{id}\""));
    second.expect_no_stderr("Generated cluster ID");
    let listed = kkp(&["get", "clusters", "-l", "project-id=p8kfs2x9jw", "-o", "json"]);
    listed.expect_code(0);
    let list: Value = serde_json::from_str(&listed.stdout).expect("a JSON list");
    let same_name = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|c| c["spec"]["humanReadableName"] == json!(human))
        .count();
    assert_eq!(same_name, 1, "{}", listed.stdout);

    let cleanup = kkp(&["delete", "cluster", &id, "--yes"]);
    cleanup.expect_code(0);
}

#[test]
fn a_cluster_made_by_another_tool_is_never_taken_over() {
    // The dashboard's cluster: same project and human-readable name, another field manager.
    let human = kkp_e2e::unique_name("Dashboard Cluster");
    let foreign_id = kkp_e2e::unique_name("dash");
    let mut args = vec![
        "generate",
        "cluster",
        foreign_id.as_str(),
        "--human-readable-name",
        human.as_str(),
    ];
    args.extend(template_flags());
    args.extend(["-o", "json"]);
    let generated = kkp(&args);
    generated.expect_code(0);
    let list: Value = serde_json::from_str(&generated.stdout).expect("a JSON list");
    let cluster = list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|o| o["kind"] == "Cluster"))
        .expect("a Cluster")
        .clone();
    rt().block_on(async {
        let seed = env().planes.seed.client().await.expect("a seed client");
        let api: Api<DynamicObject> = Api::all_with(seed, &clusters_resource());
        let object: DynamicObject = serde_json::from_value(cluster).expect("an object");
        let params = PostParams {
            field_manager: Some("kubermatic-dashboard".to_owned()),
            ..PostParams::default()
        };
        api.create(&params, &object).await.expect("the dashboard's cluster");
    });

    let mut args = vec!["create", "cluster", human.as_str(), "--generate-name"];
    args.extend(template_flags());
    args.push("--wait=false");
    let ran = kkp(&args);
    ran.expect_code(0);
    ran.expect_stderr("Generated cluster ID");
    ran.expect_no_stderr("Continuing with cluster");
    let id = ran
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Generated cluster ID \""))
        .and_then(|rest| rest.split('"').next())
        .expect("the generated ID")
        .to_owned();
    assert_ne!(id, foreign_id);
    for name in [&id, &foreign_id] {
        let cleanup = kkp(&["delete", "cluster", name, "--yes"]);
        cleanup.expect_code(0);
    }
}

/// Replaces the `admin-kubeconfig` of a running cluster with `text` (the stand-in controller
/// writes it once, when the cluster starts running, and leaves it alone afterwards).
fn replace_admin_kubeconfig(name: &str, text: &str) {
    use kube::api::{Patch, PatchParams};
    rt().block_on(async {
        let seed = env().planes.seed.client().await.expect("a seed client");
        let secrets: Api<Secret> = Api::namespaced(seed, &format!("cluster-{name}"));
        let patch = json!({"stringData": {"kubeconfig": text}});
        secrets
            .patch("admin-kubeconfig", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("the secret is replaced");
    });
}

#[test]
fn a_kubeconfig_secret_that_runs_a_program_is_refused_until_allowed() {
    let env = env();
    let name = running_cluster("exec");
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("the-program-ran");
    // The user cluster's admin kubeconfig, whose user also runs a program: it leaves a mark and
    // hands out a token (the client certificate still authenticates).
    let fake = FakeKkp::new(&env.planes.user, MANAGED_PREFIX);
    let mut config: serde_yaml::Value =
        serde_yaml::from_str(&fake.kkp_style_kubeconfig(&name)).expect("the kubeconfig parses");
    let credential =
        r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"e2e"}}"#;
    let script = format!("touch '{}'; printf '%s' '{credential}'", marker.display());
    config["users"][0]["user"]["exec"] = serde_yaml::to_value(json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "/bin/sh",
        "args": ["-c", script],
        "interactiveMode": "Never",
    }))
    .expect("YAML");
    replace_admin_kubeconfig(&name, &serde_yaml::to_string(&config).expect("renders"));

    let secret = format!("secret cluster-{name}/admin-kubeconfig (key \"kubeconfig\")");
    let refused = kkp(&["get", "kubeconfig", &name]);
    refused.expect_code(1);
    assert!(refused.stdout.is_empty(), "{}", refused.both());
    refused.expect_stderr(&format!(
        "refusing the kubeconfig in {secret}: user \"default\" sets users[0].user.exec (runs the command \"/bin/sh\")"
    ));
    refused.expect_stderr("could run any program on this machine");
    refused.expect_stderr("run the command again with --allow-exec");

    // create reaches the user cluster through that kubeconfig to apply the workers: refused too,
    // before the program could run.
    let create_refused = create(&name, &[]);
    create_refused.expect_code(1);
    create_refused.expect_stderr(&format!("refusing the kubeconfig in {secret}"));
    let described = kkp(&["describe", "cluster", &name]);
    described.expect_code(0);
    described.expect_stdout("refusing the kubeconfig in secret");
    assert!(!marker.exists(), "the program never ran");

    // Trusted: printed as it is, and used, which runs the program.
    let printed = kkp(&["get", "kubeconfig", &name, "--allow-exec"]);
    printed.expect_code(0);
    printed.expect_stdout("command: /bin/sh");
    assert!(!marker.exists(), "printing runs nothing");
    let created = create(&name, &["--allow-exec"]);
    created.expect_code(0);
    created.expect_stdout(&format!("machinedeployment.cluster.k8s.io/{name}-worker unchanged"));
    assert!(marker.exists(), "the trusted kubeconfig was used, program and all");
}

/// An open CRD (any fields, a status subresource) for a kind of a provider's template, so its
/// objects can be applied where the provider itself is not installed.
fn open_crd(group: &str, version: &str, kind: &str) -> String {
    let plural = format!("{}s", kind.to_lowercase());
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {plural}.{group}\n\
         spec:\n  group: {group}\n  names: {{kind: {kind}, listKind: {kind}List, plural: {plural}, singular: {}}}\n\
         \x20 scope: Namespaced\n  versions:\n    - name: {version}\n      served: true\n      storage: true\n\
         \x20     subresources: {{status: {{}}}}\n      schema:\n        openAPIV3Schema:\n          type: object\n\
         \x20         x-kubernetes-preserve-unknown-fields: true\n",
        kind.to_lowercase()
    )
}

/// Creates a namespace on the seed.
async fn create_namespace(seed: kube::Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("a namespace");
    Api::<Namespace>::all(seed)
        .create(&PostParams::default(), &ns)
        .await
        .expect("the namespace");
}

/// Plays the kind provider's controller for the `KINDCluster`s of `namespace` until `stop` is set:
/// each is Creating for a while, then its kubeconfig (the user control plane's) is written to
/// `<spec.clusterName>-config` and it turns ready.
fn spawn_fake_kind(
    namespace: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    use kube::api::{ListParams, Patch, PatchParams};
    let env = env();
    let user_kubeconfig = env.planes.user.kubeconfig().to_owned();
    std::thread::spawn(move || {
        rt().block_on(async move {
            let seed = env.planes.seed.client().await.expect("a seed client");
            let gvk = kube::api::GroupVersionKind::gvk("infrastructure.cluster-k8s.io", "v1alpha1", "KINDCluster");
            let api: Api<DynamicObject> =
                Api::namespaced_with(seed.clone(), &namespace, &ApiResource::from_gvk_with_plural(&gvk, "kindclusters"));
            let secrets: Api<Secret> = Api::namespaced(seed, &namespace);
            let mut first_seen: std::collections::HashMap<String, Instant> = Default::default();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for cluster in api.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default() {
                    let name = cluster.metadata.name.clone().unwrap_or_default();
                    let cluster_name = cluster.data["spec"]["clusterName"].as_str().unwrap_or(&name).to_owned();
                    let age = first_seen.entry(name.clone()).or_insert_with(Instant::now).elapsed();
                    let status = if age < Duration::from_millis(2500) {
                        json!({"ready": false, "conditions": [
                            {"reason": "Creating", "message": "creating the kind cluster", "timestamp": "2026-01-01T00:00:00Z"}]})
                    } else {
                        let secret: Secret = serde_json::from_value(json!({
                            "metadata": {"name": format!("{cluster_name}-config")},
                            "stringData": {"config": user_kubeconfig},
                        }))
                        .expect("a secret");
                        let params = PatchParams::apply("fake-kind").force();
                        let _ = secrets
                            .patch(&format!("{cluster_name}-config"), &params, &Patch::Apply(&secret))
                            .await;
                        json!({"ready": true, "conditions": [
                            {"reason": "Created", "message": "the kind cluster runs", "timestamp": "2026-01-01T00:00:00Z"}]})
                    };
                    let patch = json!({"status": status});
                    if let Err(e) = api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                        eprintln!("fake kind provider: {name}: {e}");
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    })
}

/// The kind seed flow: the provider's own `KINDCluster` sample is created with `--wait`, the
/// provider (a stand-in here) writes `<clusterName>-config`, and the kubeconfig that
/// `get kubeconfig` finds reaches the cluster (`kubectl get nodes`).
#[test]
fn the_kind_seed_flow_creates_a_kindcluster_waits_for_its_config_and_reaches_the_cluster() {
    let env = env();
    let namespace = kkp_e2e::unique_name("kind-flow");
    rt().block_on(async {
        let seed = env.planes.seed.client().await.expect("a seed client");
        let crd = kkp_e2e::upstream::read("capi/kind/config/crd/bases/infrastructure.cluster-k8s.io_kindclusters.yaml")
            .expect("the KINDCluster CRD");
        kkp_e2e::install_crds(&seed, &crd)
            .await
            .expect("the KINDCluster CRD installs");
        create_namespace(seed, &namespace).await;
    });
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let controller = spawn_fake_kind(namespace.clone(), stop.clone());
    let sample = kkp_e2e::upstream::examples_dir()
        .expect("the upstream examples")
        .join("capi/kind/config/samples/infrastructure_v1alpha1_kindcluster.yaml");

    let ran = kkp(&[
        "create",
        "cluster",
        "test-cluster",
        "--from",
        sample.to_str().expect("a UTF-8 path"),
        "-n",
        &namespace,
        "--timeout",
        "2m",
    ]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    controller.join().expect("the stand-in controller ends");
    ran.expect_code(0)
        .expect_stdout("kindcluster.infrastructure.cluster-k8s.io/test-cluster created")
        .expect_stderr(&format!(
            "cluster {namespace}/test-cluster: Creating: creating the kind cluster"
        ))
        .expect_stderr(&format!(
            "KINDCluster {namespace}/test-cluster is ready. Get its kubeconfig with: kubectl kkp get kubeconfig \
             test-cluster -n {namespace} --merge --set-current"
        ));

    // The kubeconfig is the one the provider wrote (its clusterName is "test"), and it works.
    let out = env.home.path().join(format!("{namespace}.kubeconfig"));
    kkp(&[
        "get",
        "kubeconfig",
        "test-cluster",
        "-n",
        &namespace,
        "--output-file",
        out.to_str().expect("a UTF-8 path"),
    ])
    .expect_code(0);
    assert_eq!(
        std::fs::read_to_string(&out).expect("the kubeconfig"),
        env.planes.user.kubeconfig()
    );
    kubectl(&out, &["get", "nodes"]).expect_code(0);
}

/// The Kubernetes provider's seed flow: its release template, found through clusterctl's config
/// (`--infrastructure kubernetes`) in a local repository, is created and waited for until the
/// `<name>-kubeconfig` secret exists, as the seed's script loops; that kubeconfig reaches the
/// cluster. Cluster API's controllers are a stand-in; the provider's kinds get open CRDs.
#[test]
fn the_kubernetes_provider_seed_flow_creates_from_the_provider_s_template_and_waits_for_its_kubeconfig() {
    let env = env();
    let namespace = kkp_e2e::unique_name("kubernetes-flow");
    let name = kkp_e2e::unique_name("capi-k8s");
    rt().block_on(async {
        let seed = env.planes.seed.client().await.expect("a seed client");
        kkp_e2e::install_crds(&seed, CAPI_CLUSTER_CRD)
            .await
            .expect("the Cluster API CRD");
        for (group, kind) in [
            ("infrastructure.dippynark.co.uk", "KubernetesCluster"),
            ("infrastructure.dippynark.co.uk", "KubernetesMachineTemplate"),
            ("controlplane.cluster.x-k8s.io", "KubeadmControlPlane"),
            ("bootstrap.cluster.x-k8s.io", "KubeadmConfigTemplate"),
            ("cluster.x-k8s.io", "MachineDeployment"),
            ("cluster.x-k8s.io", "MachineHealthCheck"),
        ] {
            kkp_e2e::install_crds(&seed, &open_crd(group, "v1alpha3", kind))
                .await
                .unwrap_or_else(|e| panic!("the {kind} CRD: {e}"));
        }
        create_namespace(seed, &namespace).await;
    });
    // A local clusterctl repository holding the provider's release template, read in place.
    let dir = tempfile::tempdir().expect("a temp dir");
    let version_dir = dir.path().join("infrastructure-kubernetes/v0.3.0");
    std::fs::create_dir_all(&version_dir).expect("the repository");
    let template = kkp_e2e::upstream::examples_dir()
        .expect("the upstream examples")
        .join("capi/kubernetes/release/cluster-template.yaml");
    std::os::unix::fs::symlink(&template, version_dir.join("cluster-template.yaml")).expect("the template link");
    std::fs::write(version_dir.join("infrastructure-components.yaml"), "# components\n").expect("the components");
    let config = dir.path().join("clusterctl.yaml");
    std::fs::write(
        &config,
        format!(
            "providers:\n- name: kubernetes\n  type: InfrastructureProvider\n  url: file://{}/infrastructure-kubernetes/latest/infrastructure-components.yaml\n\
             KUBERNETES_CONTROL_PLANE_SERVICE_TYPE: NodePort\n",
            dir.path().display()
        ),
    )
    .expect("the clusterctl config");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let controller = spawn_fake_capi(
        namespace.clone(),
        vec![(name.clone(), CapiScript::BecomesAvailable)],
        stop.clone(),
    );
    let ran = kkp(&[
        "create",
        "cluster",
        &name,
        "--infrastructure",
        "kubernetes",
        "--config",
        config.to_str().expect("a UTF-8 path"),
        "-n",
        &namespace,
        "--kubernetes-version",
        "v1.35.7",
        "--control-plane-machine-count",
        "1",
        "--worker-machine-count",
        "2",
        "--timeout",
        "2m",
    ]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    controller.join().expect("the stand-in controller ends");
    ran.expect_code(0)
        .expect_stdout(&format!("cluster.cluster.x-k8s.io/{name} created"))
        .expect_stdout(&format!(
            "kubeadmcontrolplane.controlplane.cluster.x-k8s.io/{name} created"
        ))
        .expect_stdout("machinedeployment.cluster.x-k8s.io/")
        .expect_stderr(&format!("Cluster {namespace}/{name} is available."));

    // What the seed's script waits for exists, and its kubeconfig reaches the cluster.
    let out = env.home.path().join(format!("{name}.kubeconfig"));
    kkp(&[
        "get",
        "kubeconfig",
        &name,
        "-n",
        &namespace,
        "--output-file",
        out.to_str().expect("a UTF-8 path"),
    ])
    .expect_code(0);
    kubectl(&out, &["get", "nodes"]).expect_code(0);
}
