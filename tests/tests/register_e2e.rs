//! End to end: `kubectl kkp register cluster` imports the harness's user control plane into the
//! seed control plane as KKP does (a kubeconfig Secret and an `ExternalCluster`, checked by the
//! seed's apiserver against KKP's real ExternalCluster CRD); a stand-in for KKP's external-cluster
//! controller (`kkp_e2e::fake_external`) really connects with the stored kubeconfig and reports
//! the phase and version it finds; `get clusters` and `describe cluster` show them; `get
//! kubeconfig` hands out the stored kubeconfig (checked like any other), which reaches the user
//! control plane; `unregister cluster` removes both objects. The same through the KKP REST API
//! (`--api`), against the harness's stand-in KKP API, which imports as KKP does: it decodes the
//! kubeconfig and lists the pods of the cluster it names.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kkp_e2e::kkp_api_stand_in::{Account, KkpApiStandIn, Options, Role};
use kkp_e2e::plugin_support::{self, Ran, SeedAndUser};
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, PostParams};
use serde_json::{Value, json};

const RUN_TIMEOUT: Duration = Duration::from_secs(120);
const NAME: &str = "imported-user";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

async fn prepare_seed(planes: &SeedAndUser) {
    let seed = planes.seed.client().await.expect("a seed client");
    let external = kkp_e2e::upstream::read("kkp-config/crds/kubermatic.k8c.io_externalclusters.yaml")
        .expect("KKP's ExternalCluster CRD");
    kkp_e2e::install_crds(&seed, &external)
        .await
        .expect("the ExternalCluster CRD installs");
    let clusters = kkp_e2e::shipped_crd("kubermatic.k8c.io_clusters.yaml").expect("the Cluster CRD");
    kkp_e2e::install_crds(&seed, &clusters)
        .await
        .expect("the Cluster CRD installs");
    let namespaces: Api<Namespace> = Api::all(seed);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "kubermatic"}})).unwrap();
    match namespaces.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => panic!("namespace kubermatic: {e}"),
    }
}

fn kkp(planes: &SeedAndUser, plugin_dir: &Path, home: &Path, args: &[&str]) -> Ran {
    let mut command = plugin_support::kubectl(planes.seed.bin_dir(), plugin_dir, planes.seed.kubeconfig_path(), home);
    command.arg("kkp").args(args).stdin(std::process::Stdio::null());
    plugin_support::run(command, RUN_TIMEOUT).expect("kubectl kkp runs")
}

async fn external_cluster(planes: &SeedAndUser, name: &str) -> Option<Value> {
    let seed = planes.seed.client().await.expect("a seed client");
    let api: Api<DynamicObject> = Api::all_with(seed, &kkp_e2e::fake_external::resource());
    api.get_opt(name)
        .await
        .expect("reading the ExternalCluster")
        .map(|o| serde_json::to_value(o).unwrap())
}

async fn kubeconfig_secret(planes: &SeedAndUser, name: &str) -> Option<Secret> {
    let seed = planes.seed.client().await.expect("a seed client");
    let secrets: Api<Secret> = Api::namespaced(seed, "kubermatic");
    secrets.get_opt(name).await.expect("reading the Secret")
}

/// `kubectl --kubeconfig FILE ARGS`, without the plugin; its cache goes under `home`.
fn plain_kubectl(planes: &SeedAndUser, home: &Path, kubeconfig: &Path, args: &[&str]) -> Ran {
    let mut command = std::process::Command::new(planes.seed.bin_dir().join("kubectl"));
    command
        .env_clear()
        .env("HOME", home)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::null());
    plugin_support::run(command, RUN_TIMEOUT).expect("kubectl runs")
}

/// A namespace that exists in the user control plane only, to tell the two apart.
async fn mark_user_cluster(planes: &SeedAndUser, name: &str) {
    let user = planes.user.client().await.expect("a user client");
    let namespaces: Api<Namespace> = Api::all(user);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    match namespaces.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => panic!("namespace {name}: {e}"),
    }
}

/// An ExternalCluster whose Secret holds `kubeconfig`, written without the plugin (as anyone who
/// may write Secrets on the seed could).
async fn plant_external_cluster(planes: &SeedAndUser, name: &str, kubeconfig: &str) {
    let seed = planes.seed.client().await.expect("a seed client");
    let secret_name = format!("kubeconfig-external-cluster-{name}");
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": secret_name, "namespace": "kubermatic"},
        "stringData": {"kubeconfig": kubeconfig},
    }))
    .unwrap();
    let secrets: Api<Secret> = Api::namespaced(seed.clone(), "kubermatic");
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("the Secret");
    let clusters: Api<DynamicObject> = Api::all_with(seed, &kkp_e2e::fake_external::resource());
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kubermatic.k8c.io/v1", "kind": "ExternalCluster",
        "metadata": {"name": name},
        "spec": {"humanReadableName": name, "pause": false, "version": "1.36.3",
            "cloudSpec": {"providerName": "bringyourown", "bringyourown": {}},
            "kubeconfigReference": {"name": secret_name, "namespace": "kubermatic", "key": "kubeconfig"}},
    }))
    .unwrap();
    clusters
        .create(&PostParams::default(), &object)
        .await
        .expect("the ExternalCluster");
}

async fn remove_external_cluster(planes: &SeedAndUser, name: &str) {
    let seed = planes.seed.client().await.expect("a seed client");
    let clusters: Api<DynamicObject> = Api::all_with(seed.clone(), &kkp_e2e::fake_external::resource());
    let _ = clusters.delete(name, &DeleteParams::default()).await;
    let secrets: Api<Secret> = Api::namespaced(seed, "kubermatic");
    let _ = secrets
        .delete(&format!("kubeconfig-external-cluster-{name}"), &DeleteParams::default())
        .await;
}

#[test]
fn a_running_cluster_is_registered_reported_and_unregistered() {
    let planes = plugin_support::seed_and_user().expect("the control planes start");
    let plugin_dir = plugin_support::plugin_dir().expect("the plugin is built");
    let home = tempfile::tempdir().unwrap();
    let rt = rt();
    rt.block_on(prepare_seed(planes));
    let _controller = kkp_e2e::fake_external::spawn(&planes.seed);

    let dir = tempfile::tempdir().unwrap();
    let user_kubeconfig = dir.path().join("user.kubeconfig");
    std::fs::write(&user_kubeconfig, planes.user.kubeconfig()).unwrap();
    let user_kubeconfig = user_kubeconfig.display().to_string();
    let version = kkp_e2e::kubernetes_version().trim_start_matches('v').to_owned();

    // A kubeconfig that logs in through a program is refused before anything is sent.
    let mut exec: serde_yaml::Value = serde_yaml::from_str(planes.user.kubeconfig()).unwrap();
    exec["users"][0]["user"] = serde_yaml::from_str(
        "exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token]}",
    )
    .unwrap();
    let exec_file = dir.path().join("exec.kubeconfig");
    std::fs::write(&exec_file, serde_yaml::to_string(&exec).unwrap()).unwrap();
    let refused = kkp(
        planes,
        plugin_dir,
        home.path(),
        &[
            "register",
            "cluster",
            "refused",
            "--kubeconfig-file",
            &exec_file.display().to_string(),
        ],
    );
    refused
        .expect_code(1)
        .expect_stderr("cannot be stored in KKP")
        .expect_stderr("users[0].user.exec")
        .expect_stderr("kubectl create token kkp-import");
    assert!(rt.block_on(external_cluster(planes, "refused")).is_none());

    let registered = kkp(
        planes,
        plugin_dir,
        home.path(),
        &[
            "register",
            "cluster",
            NAME,
            "--kubeconfig-file",
            &user_kubeconfig,
            "--project",
            "xw2k9fgh4t",
        ],
    );
    registered
        .expect_code(0)
        .expect_stderr(&format!("Kubernetes v{version}"))
        .expect_stdout("secret/kubeconfig-external-cluster-imported-user created")
        .expect_stdout(&format!("externalcluster.kubermatic.k8c.io/{NAME} created"));

    // The seed's apiserver kept every field: the objects fit KKP's real CRD.
    let object = rt
        .block_on(external_cluster(planes, NAME))
        .expect("the ExternalCluster exists");
    assert_eq!(
        object["spec"]["cloudSpec"],
        json!({"providerName": "bringyourown", "bringyourown": {}})
    );
    assert_eq!(
        object["spec"]["kubeconfigReference"],
        json!({"name": "kubeconfig-external-cluster-imported-user", "namespace": "kubermatic", "key": "kubeconfig"})
    );
    assert_eq!(object["metadata"]["labels"]["project-id"], "xw2k9fgh4t");
    let secret = rt
        .block_on(kubeconfig_secret(planes, "kubeconfig-external-cluster-imported-user"))
        .expect("the kubeconfig Secret exists");
    assert!(secret.data.unwrap().contains_key("kubeconfig"));

    // The stand-in controller connects with the stored kubeconfig and reports what it finds.
    let deadline = Instant::now() + Duration::from_secs(30);
    let described = loop {
        let described = kkp(planes, plugin_dir, home.path(), &["describe", "cluster", NAME]);
        if described.stdout.contains("Phase:      Running") || Instant::now() > deadline {
            break described;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    described
        .expect_code(0)
        .expect_stdout("Phase:      Running")
        .expect_stdout(&format!("Version:    {version}"))
        .expect_stdout("Type:       external (imported, provider bringyourown)")
        .expect_stdout("Kubeconfig: Secret kubermatic/kubeconfig-external-cluster-imported-user");

    let listed = kkp(planes, plugin_dir, home.path(), &["get", "clusters"]);
    listed.expect_code(0);
    let header: Vec<&str> = listed
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(header.last(), Some(&"TYPE"), "{}", listed.both());
    let row: Vec<&str> = listed
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{NAME} ")))
        .expect("a row for the imported cluster")
        .split_whitespace()
        .collect();
    assert_eq!(
        [row[0], row[1], row[2], row[3], row[4], row[5], row[7]],
        [
            NAME,
            NAME,
            "bringyourown",
            "<none>",
            version.as_str(),
            "Running",
            "external"
        ],
        "{}",
        listed.both()
    );

    // get kubeconfig hands out the stored kubeconfig; it reaches the user control plane, not the seed.
    let marker = "only-in-the-imported-cluster";
    rt.block_on(mark_user_cluster(planes, marker));
    let fetched = dir.path().join("fetched.kubeconfig");
    kkp(
        planes,
        plugin_dir,
        home.path(),
        &[
            "get",
            "kubeconfig",
            NAME,
            "--output-file",
            &fetched.display().to_string(),
        ],
    )
    .expect_code(0)
    .expect_stderr("secret kubermatic/kubeconfig-external-cluster-imported-user");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&fetched).unwrap().permissions().mode() & 0o777, 0o600);
    plain_kubectl(planes, home.path(), &fetched, &["get", "--raw", "/version"])
        .expect_code(0)
        .expect_stdout(&format!("\"gitVersion\": \"v{version}"));
    plain_kubectl(
        planes,
        home.path(),
        &fetched,
        &["get", "namespace", marker, "-o", "name"],
    )
    .expect_code(0)
    .expect_stdout(&format!("namespace/{marker}"));
    plain_kubectl(
        planes,
        home.path(),
        planes.seed.kubeconfig_path(),
        &["get", "namespace", marker],
    )
    .expect_code(1)
    .expect_stderr("not found");
    // Printed to stdout: the same kubeconfig.
    let printed = kkp(planes, plugin_dir, home.path(), &["get", "kubeconfig", NAME]);
    printed.expect_code(0);
    assert_eq!(
        printed.stdout.trim_end(),
        std::fs::read_to_string(&fetched).unwrap().trim_end()
    );
    // --merge --set-current into a copy of the seed kubeconfig: the current context is the user's.
    let merged = dir.path().join("merged.kubeconfig");
    std::fs::write(&merged, planes.seed.kubeconfig()).unwrap();
    let mut command = plugin_support::kubectl(planes.seed.bin_dir(), plugin_dir, &merged, home.path());
    command.args(["kkp", "get", "kubeconfig", NAME, "--merge", "--set-current"]);
    plugin_support::run(command, RUN_TIMEOUT)
        .expect("kubectl kkp runs")
        .expect_code(0)
        .expect_stderr("Merged the kubeconfig of cluster \"imported-user\"")
        .expect_stderr("Current context is now");
    plain_kubectl(
        planes,
        home.path(),
        &merged,
        &["get", "namespace", marker, "-o", "name"],
    )
    .expect_code(0)
    .expect_stdout(&format!("namespace/{marker}"));
    // --convention external looks at imported clusters only.
    kkp(
        planes,
        plugin_dir,
        home.path(),
        &["get", "kubeconfig", "nope", "--convention", "external"],
    )
    .expect_code(1)
    .expect_stderr("looked for: imported cluster (ExternalCluster) \"nope\"");

    // A stored kubeconfig that runs a program is refused, as any cluster's is, unless allowed.
    rt.block_on(plant_external_cluster(
        planes,
        "tampered",
        &serde_yaml::to_string(&exec).unwrap(),
    ));
    let refused = kkp(planes, plugin_dir, home.path(), &["get", "kubeconfig", "tampered"]);
    refused
        .expect_code(1)
        .expect_stderr("refusing the kubeconfig in secret kubermatic/kubeconfig-external-cluster-tampered")
        .expect_stderr("users[0].user.exec")
        .expect_stderr("--allow-exec");
    assert!(refused.stdout.is_empty(), "{}", refused.both());
    kkp(
        planes,
        plugin_dir,
        home.path(),
        &["get", "kubeconfig", "tampered", "--allow-exec"],
    )
    .expect_code(0)
    .expect_stdout("get-token");
    rt.block_on(remove_external_cluster(planes, "tampered"));

    // Unregistering asks first; without a terminal it needs --yes.
    kkp(planes, plugin_dir, home.path(), &["unregister", "cluster", NAME])
        .expect_code(1)
        .expect_stderr("pass --yes");
    assert!(rt.block_on(external_cluster(planes, NAME)).is_some());
    kkp(
        planes,
        plugin_dir,
        home.path(),
        &["unregister", "cluster", NAME, "--yes"],
    )
    .expect_code(0)
    .expect_stdout(&format!("externalcluster.kubermatic.k8c.io/{NAME} deleted"))
    .expect_stdout("secret/kubeconfig-external-cluster-imported-user (namespace kubermatic) deleted");
    assert!(rt.block_on(external_cluster(planes, NAME)).is_none());
    assert!(
        rt.block_on(kubeconfig_secret(planes, "kubeconfig-external-cluster-imported-user"))
            .is_none()
    );
    kkp(
        planes,
        plugin_dir,
        home.path(),
        &["unregister", "cluster", NAME, "--yes"],
    )
    .expect_code(1)
    .expect_stderr("not found");
}

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.register-e2e-token.c2lnbmF0dXJl";
const PROJECT: &str = "xw2k9fgh4t";

#[test]
fn a_running_cluster_is_registered_through_the_kkp_api() {
    let planes = plugin_support::seed_and_user().expect("the control planes start");
    let plugin_dir = plugin_support::plugin_dir().expect("the plugin is built");
    let rt = rt();
    let stand_in = KkpApiStandIn::start(Options {
        accounts: vec![Account {
            token: TOKEN.into(),
            email: "ci@example.com".into(),
            project: PROJECT.into(),
            role: Role::Editor,
        }],
        datacenters: Vec::new(),
        healthy_after: Duration::from_millis(500),
        deleting_for: Duration::from_secs(1),
        kubeconfig: String::new(),
        accessible_addons: Vec::new(),
    })
    .expect("the stand-in KKP API starts");
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let (ca, token) = (dir.path().join("ca.pem"), dir.path().join("token"));
    std::fs::write(&ca, stand_in.ca_pem()).unwrap();
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let flags = stand_in.plugin_flags(&token, &ca, PROJECT);
    let mut outputs = Vec::new();
    let mut api = |args: &[&str]| -> Ran {
        // No kubeconfig for a seed: everything goes through the KKP API.
        let mut command = plugin_support::kubectl(planes.seed.bin_dir(), plugin_dir, &dir.path().join("none"), &home);
        command.arg("kkp").args(args).args(&flags);
        let ran = plugin_support::run(command, RUN_TIMEOUT).expect("kubectl kkp runs");
        outputs.push(ran.both());
        ran
    };
    let user_kubeconfig = dir.path().join("user.kubeconfig");
    std::fs::write(&user_kubeconfig, planes.user.kubeconfig()).unwrap();
    let user_kubeconfig = user_kubeconfig.display().to_string();
    let version = kkp_e2e::kubernetes_version().trim_start_matches('v').to_owned();
    let name = "imported-by-api";

    // A kubeconfig that logs in through a program is refused before anything is sent.
    let mut exec: serde_yaml::Value = serde_yaml::from_str(planes.user.kubeconfig()).unwrap();
    exec["users"][0]["user"] = serde_yaml::from_str(
        "exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: gke-gcloud-auth-plugin}",
    )
    .unwrap();
    let exec_file = dir.path().join("exec.kubeconfig");
    std::fs::write(&exec_file, serde_yaml::to_string(&exec).unwrap()).unwrap();
    api(&[
        "register",
        "cluster",
        name,
        "--kubeconfig-file",
        exec_file.to_str().unwrap(),
    ])
    .expect_code(1)
    .expect_stderr("cannot be stored in KKP")
    .expect_stderr("users[0].user.exec");
    api(&[
        "register",
        "cluster",
        name,
        "--kubeconfig-file",
        &user_kubeconfig,
        "--human-readable-name",
        "Other",
    ])
    .expect_code(1)
    .expect_stderr("--human-readable-name");
    assert!(stand_in.requests().is_empty(), "a refused register sends nothing");

    // Registered: one POST with the kubeconfig, base64; the stand-in listed the cluster's pods with it.
    api(&[
        "register",
        "cluster",
        name,
        "--kubeconfig-file",
        &user_kubeconfig,
        "-vvv",
    ])
    .expect_code(0)
    .expect_stderr(&format!("Kubernetes v{version}"))
    .expect_stdout(&format!("cluster \"{name}\" (ID "))
    .expect_stdout(&format!("registered in KKP project {PROJECT}"));
    let imported = stand_in.imported(PROJECT);
    assert_eq!(imported.len(), 1, "{imported:?}");
    let (id, stored_name, stored) = imported[0].clone();
    assert_eq!(stored_name, name);
    let user_server = serde_yaml::from_str::<serde_yaml::Value>(planes.user.kubeconfig()).unwrap()["clusters"][0]
        ["cluster"]["server"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(stored.contains(&user_server), "{stored}");

    // A re-run converges: the API would import the cluster a second time under a new ID, so the
    // plugin finds it by name and replaces its kubeconfig.
    api(&["register", "cluster", name, "--kubeconfig-file", &user_kubeconfig])
        .expect_code(0)
        .expect_stdout(&format!("cluster \"{name}\" (ID {id}) was registered already"))
        .expect_stdout("its kubeconfig was replaced");
    assert_eq!(stand_in.imported(PROJECT).len(), 1);
    let requests = stand_in.requests();
    let posts = requests.iter().filter(|r| r.method == "POST").count();
    let puts: Vec<_> = requests.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!((posts, puts.len()), (1, 1), "{requests:?}");
    assert!(
        puts[0].path.ends_with(&format!("/kubernetes/clusters/{id}")),
        "{}",
        puts[0].path
    );

    // get clusters lists it with TYPE external; get kubeconfig hands out what was stored.
    std::thread::sleep(Duration::from_millis(600));
    let listed = api(&["get", "clusters"]);
    listed.expect_code(0);
    assert!(
        listed
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .trim_end()
            .ends_with("TYPE"),
        "{}",
        listed.both()
    );
    let row: Vec<&str> = listed
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .expect("a row for the imported cluster")
        .split_whitespace()
        .collect();
    assert_eq!(
        [row[0], row[1], row[2], row[4], row[6], row[8]],
        [
            name,
            id.as_str(),
            "bringYourOwn",
            version.as_str(),
            "Running",
            "external"
        ],
        "{}",
        listed.both()
    );
    // describe cluster shows the state and version the stand-in found when it connected.
    api(&["describe", "cluster", name])
        .expect_code(0)
        .expect_stdout(&format!("ID:          {id}"))
        .expect_stdout("Type:        external (imported into KKP)")
        .expect_stdout(&format!("Version:     {version}"))
        .expect_stdout("State:       Running");
    let marker = "only-in-the-imported-cluster";
    rt.block_on(mark_user_cluster(planes, marker));
    let fetched = dir.path().join("fetched.kubeconfig");
    api(&["get", "kubeconfig", name, "--output-file", fetched.to_str().unwrap()]).expect_code(0);
    plain_kubectl(planes, &home, &fetched, &["get", "namespace", marker, "-o", "name"])
        .expect_code(0)
        .expect_stdout(&format!("namespace/{marker}"));

    // Unregistering asks first; --yes disconnects it (Action: disconnect, never delete).
    api(&["unregister", "cluster", name])
        .expect_code(1)
        .expect_stderr("pass --yes");
    assert_eq!(stand_in.imported(PROJECT).len(), 1);
    api(&["unregister", "cluster", name, "--yes"])
        .expect_code(0)
        .expect_stdout(&format!(
            "cluster \"{name}\" (ID {id}) unregistered from KKP project {PROJECT}"
        ));
    assert!(stand_in.imported(PROJECT).is_empty());
    let delete = stand_in
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .expect("a DELETE");
    assert!(
        delete
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("Action") && v == "disconnect"),
        "{delete:?}"
    );
    api(&["unregister", "cluster", name, "--yes"])
        .expect_code(1)
        .expect_stderr(&format!(
            "no imported cluster named or with ID \"{name}\" in KKP project {PROJECT}"
        ));

    // A kubeconfig that reaches nothing is refused before anything is sent.
    let mut dead: serde_yaml::Value = serde_yaml::from_str(planes.user.kubeconfig()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    dead["clusters"][0]["cluster"]["server"] = format!("https://127.0.0.1:{port}").into();
    let dead_file = dir.path().join("dead.kubeconfig");
    std::fs::write(&dead_file, serde_yaml::to_string(&dead).unwrap()).unwrap();
    let before = stand_in.requests().len();
    api(&[
        "register",
        "cluster",
        "dead",
        "--kubeconfig-file",
        dead_file.to_str().unwrap(),
    ])
    .expect_code(1)
    .expect_stderr("does not reach its cluster")
    .expect_stderr("nothing was registered");
    assert_eq!(stand_in.requests().len(), before, "nothing was sent");

    for output in &outputs {
        assert!(!output.contains(TOKEN), "the token was printed:\n{output}");
    }
    assert_eq!(
        stand_in.violations(),
        Vec::<String>::new(),
        "requests or answers off the specification"
    );
}
