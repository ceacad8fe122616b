//! End-to-end checks of the control-plane harness against a real etcd and kube-apiserver.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kkp_e2e::{ControlPlane, ControlPlaneOptions, install_crds, kubernetes_version, shared_control_plane, unique_name};
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

const GROUP: &str = "e2e.kkp.test";

/// A small CRD with a schema, so the apiserver validates what tests apply.
const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.kkp.test
spec:
  group: e2e.kkp.test
  scope: Namespaced
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size:
                  type: integer
                  minimum: 1
                color:
                  type: string
                  enum: [red, green, blue]
"#;

fn widget_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(GROUP, "v1alpha1", "Widget"), "widgets")
}

async fn create_namespace(client: &Client, prefix: &str) -> String {
    let name = unique_name(prefix);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    name
}

/// The HTTP status of a failed API call (panics on success or on a transport error).
fn api_status<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> u16 {
    match result {
        Err(kube::Error::Api(status)) => status.code,
        other => panic!("expected an API error status, got {other:?}"),
    }
}

/// Retries `f` until it returns `Some`, for at most `timeout`.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(started.elapsed() < timeout, "{what}: not within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn crd_is_established_and_a_custom_resource_round_trips() {
    let plane = shared_control_plane().await.expect("shared control plane");
    let client = plane.client().await.expect("admin client");

    let installed = install_crds(&client, WIDGET_CRD).await.expect("install CRD");
    assert_eq!(installed.len(), 1);
    assert!(kkp_e2e::crds::is_established(&installed[0]));

    let ns = create_namespace(&client, "crd").await;
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &widget_resource());
    let widget = json!({
        "apiVersion": "e2e.kkp.test/v1alpha1",
        "kind": "Widget",
        "metadata": {"name": "first", "labels": {"team": "kkp"}},
        "spec": {"size": 3, "color": "blue"}
    });
    let params = PatchParams::apply("kkp-e2e-test").force();
    widgets
        .patch("first", &params, &Patch::Apply(&widget))
        .await
        .expect("server-side apply");

    let read = widgets.get("first").await.expect("read back");
    assert_eq!(read.data["spec"]["size"], json!(3));
    assert_eq!(read.data["spec"]["color"], json!("blue"));
    assert_eq!(
        read.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str),
        Some("kkp")
    );
    assert_eq!(read.metadata.namespace.as_deref(), Some(ns.as_str()));
    let managers: Vec<_> = read
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.as_deref())
        .collect();
    assert!(managers.contains(&"kkp-e2e-test"), "{managers:?}");

    // The CRD's schema is enforced: an unknown colour is rejected as invalid (422).
    let bad = json!({
        "apiVersion": "e2e.kkp.test/v1alpha1",
        "kind": "Widget",
        "metadata": {"name": "bad"},
        "spec": {"size": 0, "color": "purple"}
    });
    assert_eq!(
        api_status(widgets.patch("bad", &params, &Patch::Apply(&bad)).await),
        422
    );
}

#[tokio::test]
async fn version_is_the_pinned_kubernetes_release() {
    let plane = shared_control_plane().await.expect("shared control plane");
    let client = plane.client().await.expect("admin client");
    let version = client.apiserver_version().await.expect("/version");
    assert_eq!(kubernetes_version(), "v1.36.3", "the Go module pins this release");
    assert_eq!(version.git_version, kubernetes_version());
    assert_eq!(version.major, "1");
    assert_eq!(version.minor, "36");
    eprintln!("shared control plane timings: {:?}", plane.timings());
}

#[tokio::test]
async fn a_minted_user_is_forbidden_until_a_role_is_bound() {
    let plane = shared_control_plane().await.expect("shared control plane");
    let admin = plane.client().await.expect("admin client");
    let ns = create_namespace(&admin, "rbac").await;
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "settings"}, "data": {"k": "v"}})).expect("cm");
    Api::<ConfigMap>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &cm)
        .await
        .expect("create configmap");

    let user_name = unique_name("alice");
    let user = plane.mint_user(&user_name, &["kkp-e2e:testers"]).expect("mint user");
    assert!(user.kubeconfig_path.is_file());
    let as_user = user.client().await.expect("user client");
    let user_cms: Api<ConfigMap> = Api::namespaced(as_user.clone(), &ns);

    assert_eq!(api_status(user_cms.get("settings").await), 403);
    assert_eq!(api_status(user_cms.list(&Default::default()).await), 403);

    let role: Role = Role {
        metadata: kube::api::ObjectMeta {
            name: Some("configmap-reader".into()),
            ..Default::default()
        },
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["configmaps".into()]),
            verbs: vec!["get".into(), "list".into()],
            ..Default::default()
        }]),
    };
    Api::<Role>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &role)
        .await
        .expect("create role");
    let binding = RoleBinding {
        metadata: kube::api::ObjectMeta {
            name: Some("alice-reads".into()),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: "configmap-reader".into(),
        },
        subjects: Some(vec![Subject {
            kind: "User".into(),
            name: user_name.clone(),
            api_group: Some("rbac.authorization.k8s.io".into()),
            ..Default::default()
        }]),
    };
    Api::<RoleBinding>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &binding)
        .await
        .expect("create role binding");

    let read = eventually(
        "the user can read after the binding",
        Duration::from_secs(15),
        || async { user_cms.get("settings").await.ok() },
    )
    .await;
    assert_eq!(
        read.data.as_ref().and_then(|d| d.get("k")).map(String::as_str),
        Some("v")
    );
    // Only what the role grants: secrets and writes stay forbidden.
    assert_eq!(
        api_status(
            Api::<k8s_openapi::api::core::v1::Secret>::namespaced(as_user.clone(), &ns)
                .list(&Default::default())
                .await
        ),
        403
    );
    assert_eq!(
        api_status(user_cms.delete("settings", &DeleteParams::default()).await),
        403
    );
}

#[tokio::test]
async fn groups_in_a_minted_certificate_are_honoured_by_rbac() {
    let plane = shared_control_plane().await.expect("shared control plane");
    let admin = plane.client().await.expect("admin client");
    let ns = create_namespace(&admin, "groups").await;
    let group = unique_name("readers");
    // The second group is the one written as a custom-typed O attribute.
    let user = plane
        .mint_user(&unique_name("bob"), &["kkp-e2e:other", &group])
        .expect("mint");
    let as_user = user.client().await.expect("user client");
    let cms: Api<ConfigMap> = Api::namespaced(as_user, &ns);
    assert_eq!(api_status(cms.list(&Default::default()).await), 403);

    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": "configmap-lister"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}]
    }))
    .expect("role");
    Api::<Role>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &role)
        .await
        .expect("create role");
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "group-lists"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-lister"},
        "subjects": [{"kind": "Group", "name": group, "apiGroup": "rbac.authorization.k8s.io"}]
    }))
    .expect("binding");
    Api::<RoleBinding>::namespaced(admin, &ns)
        .create(&PostParams::default(), &binding)
        .await
        .expect("bind the group");
    let listed = eventually("the group binding takes effect", Duration::from_secs(15), || async {
        cms.list(&Default::default()).await.ok()
    })
    .await;
    assert!(
        listed
            .items
            .iter()
            .all(|c| c.metadata.namespace.as_deref() == Some(ns.as_str()))
    );
}

#[tokio::test]
async fn kubectl_from_the_bin_dir_talks_to_the_control_plane() {
    let plane = shared_control_plane().await.expect("shared control plane");
    let output = plane
        .kubectl()
        .args(["get", "namespace", "default", "-o", "name"])
        .output()
        .expect("run kubectl");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "namespace/default");

    let output = plane
        .kubectl()
        .args(["version", "-o", "json"])
        .output()
        .expect("run kubectl");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let version: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(version["serverVersion"]["gitVersion"], json!(kubernetes_version()));
    assert_eq!(version["clientVersion"]["gitVersion"], json!(kubernetes_version()));
}

#[tokio::test]
async fn controller_manager_finalizes_namespaces_and_collects_garbage() {
    let plane = shared_control_plane().await.expect("shared control plane");
    assert!(plane.has_controller_manager());
    let client = plane.client().await.expect("admin client");
    let ns = create_namespace(&client, "kcm").await;

    // Service accounts and the root CA bundle appear in a new namespace.
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    eventually("default ServiceAccount", Duration::from_secs(30), || async {
        sas.get("default").await.ok()
    })
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    eventually("kube-root-ca.crt", Duration::from_secs(30), || async {
        cms.get("kube-root-ca.crt").await.ok()
    })
    .await;

    // Garbage collection: a dependent goes away with its owner.
    let owner = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).expect("cm"),
        )
        .await
        .expect("owner");
    let uid = owner.metadata.uid.expect("uid");
    let dependent: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "dependent", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}
        ]}
    }))
    .expect("dependent");
    cms.create(&PostParams::default(), &dependent).await.expect("dependent");
    cms.delete("owner", &DeleteParams::default())
        .await
        .expect("delete owner");
    eventually("the dependent is collected", Duration::from_secs(60), || async {
        matches!(cms.get("dependent").await, Err(kube::Error::Api(s)) if s.code == 404).then_some(())
    })
    .await;

    // The built-in aggregated ClusterRoles get their rules.
    let cluster_roles: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(client.clone());
    eventually(
        "the view ClusterRole is aggregated",
        Duration::from_secs(30),
        || async {
            let view = cluster_roles.get("view").await.ok()?;
            view.rules.filter(|r| !r.is_empty())
        },
    )
    .await;

    // Namespace deletion finishes instead of hanging in Terminating.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("delete namespace");
    eventually("the namespace is gone", Duration::from_secs(60), || async {
        matches!(namespaces.get(&ns).await, Err(kube::Error::Api(s)) if s.code == 404).then_some(())
    })
    .await;
}

#[tokio::test]
async fn two_control_planes_run_at_once_and_are_independent() {
    let (seed, user) = tokio::join!(
        ControlPlane::start_with(ControlPlaneOptions::named("seed")),
        ControlPlane::start_with(ControlPlaneOptions::named("user")),
    );
    let seed = seed.expect("seed control plane");
    let user = user.expect("user control plane");
    eprintln!("seed timings: {:?}; user timings: {:?}", seed.timings(), user.timings());
    assert_ne!(seed.apiserver_port(), user.apiserver_port());
    assert_ne!(seed.etcd_url(), user.etcd_url());
    assert_ne!(seed.dir(), user.dir());
    assert!(seed.kubeconfig().contains("current-context: seed"));
    assert!(user.kubeconfig().contains("current-context: user"));

    let seed_client = seed.client().await.expect("seed client");
    let user_client = user.client().await.expect("user client");
    let name = unique_name("only-in-seed");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": name}})).expect("cm");
    Api::<ConfigMap>::namespaced(seed_client.clone(), "default")
        .create(&PostParams::default(), &cm)
        .await
        .expect("create in seed");
    assert!(
        Api::<ConfigMap>::namespaced(seed_client.clone(), "default")
            .get(&name)
            .await
            .is_ok()
    );
    assert_eq!(
        api_status(
            Api::<ConfigMap>::namespaced(user_client.clone(), "default")
                .get(&name)
                .await
        ),
        404
    );

    // Separate PKIs: seed's admin certificate means nothing to the user cluster (401).
    let spec = kkp_e2e::kubeconfig::KubeconfigSpec {
        cluster: "crossed",
        context: "crossed",
        user: "seed-admin",
        server: &user.server_url(),
        ca_pem: user.ca_pem(),
        cert_pem: &seed.admin().cert.cert_pem,
        key_pem: &seed.admin().cert.key_pem,
        namespace: None,
    };
    let yaml = kkp_e2e::kubeconfig::render(&spec).expect("render");
    let crossed = kkp_e2e::client_from_kubeconfig(&yaml, "crossed").await.expect("client");
    assert_eq!(api_status(crossed.apiserver_version().await.map(|_| ())), 401);

    // Stopping one leaves the other running; its processes and temp dir are gone.
    let seed_dir = seed.dir().to_path_buf();
    let seed_pids = seed.pids();
    assert_eq!(seed_pids.len(), 2, "etcd and kube-apiserver");
    drop(seed_client);
    let stopping = Instant::now();
    drop(seed);
    eprintln!("stopping the seed control plane took {:?}", stopping.elapsed());
    for pid in seed_pids {
        // SAFETY: signal 0 only checks whether the pid exists.
        let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
        assert!(!alive, "pid {pid} survived the drop");
    }
    assert!(!seed_dir.exists(), "{} was not removed", seed_dir.display());
    assert!(user.is_running());
    Api::<ConfigMap>::namespaced(user_client, "default")
        .list(&Default::default())
        .await
        .expect("user control plane still serves");
}

#[tokio::test]
async fn a_taken_port_makes_the_start_retry_on_new_ports() {
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let taken_port = taken.local_addr().expect("addr").port();
    let [etcd_client, etcd_peer, apiserver] = kkp_e2e::ports::free_ports().expect("ports");

    // With a single attempt the collision is reported, with the child's own words.
    let options = ControlPlaneOptions {
        start_attempts: 1,
        first_attempt_ports: Some([taken_port, etcd_peer, apiserver]),
        ..ControlPlaneOptions::named("taken-etcd")
    };
    let err = ControlPlane::start_with(options).await.expect_err("etcd cannot bind");
    assert!(
        matches!(err, kkp_e2e::HarnessError::PortsExhausted { attempts: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("address already in use"), "{err}");

    // With more attempts the second one succeeds on new ports.
    let options = ControlPlaneOptions {
        start_attempts: 3,
        first_attempt_ports: Some([etcd_client, etcd_peer, taken_port]),
        ..ControlPlaneOptions::named("taken-apiserver")
    };
    let plane = ControlPlane::start_with(options).await.expect("start after a retry");
    assert_eq!(plane.timings().attempts, 2);
    assert_ne!(plane.apiserver_port(), taken_port);
    let client = plane.client().await.expect("client");
    client.apiserver_version().await.expect("serves");
    drop(taken);
}

#[tokio::test]
async fn kubectl_plugins_see_the_admin_kubeconfig() {
    let plane = shared_control_plane().await.expect("shared control plane");
    let plugins = tempfile::tempdir().expect("tempdir");
    let plugin = plugins.path().join("kubectl-e2e_probe");
    std::fs::write(&plugin, "#!/bin/sh\necho \"kubeconfig=$KUBECONFIG args=$*\"\n").expect("write plugin");
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");

    let mut kubectl = plane.kubectl();
    let path = kubectl
        .get_envs()
        .find_map(|(k, v)| (k == "PATH").then(|| v.map(|v| v.to_os_string())))
        .flatten()
        .expect("kubectl() sets PATH");
    let first = std::env::split_paths(&path).next().expect("a PATH entry");
    assert_eq!(first, plane.bin_dir());
    let path = std::env::join_paths(std::iter::once(plugins.path().to_path_buf()).chain(std::env::split_paths(&path)))
        .expect("join PATH");
    let output = kubectl
        .env("PATH", path)
        .args(["e2e-probe", "x"])
        .output()
        .expect("run plugin");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("kubeconfig={} args=x", plane.kubeconfig_path().display())
    );
}

#[test]
fn a_panicking_test_still_stops_its_control_plane() {
    let (tx, rx) = std::sync::mpsc::channel();
    let test = std::thread::spawn(move || {
        let plane = ControlPlane::start_blocking(ControlPlaneOptions::named("panics")).expect("start");
        tx.send((plane.pids(), plane.dir().to_path_buf())).expect("send");
        panic!("a failing test (expected by a_panicking_test_still_stops_its_control_plane)");
    });
    assert!(test.join().is_err(), "the thread panicked");
    let (pids, dir) = rx.recv().expect("the plane had started");
    assert_eq!(pids.len(), 2);
    for pid in pids {
        // SAFETY: signal 0 only checks whether the pid exists.
        let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
        assert!(!alive, "pid {pid} survived the panic");
    }
    assert!(!dir.exists(), "{} was not removed", dir.display());
}
