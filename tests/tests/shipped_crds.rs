//! The CRD manifests shipped in `crds/` install as they are on a real apiserver, and the objects
//! users write are accepted by their schemas (no webhook involved here).

use std::path::PathBuf;
use std::time::Duration;

use kkp_e2e::{shared_control_plane, unique_name, wait_for_crd};

fn crds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crds")
}

fn run(mut cmd: std::process::Command, stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("kubectl starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("kubectl finishes");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn shipped_crds_install_and_accept_minimal_objects() {
    let plane = shared_control_plane().await.expect("control plane");
    let mut apply = plane.kubectl();
    apply
        .args(["apply", "--server-side", "--field-manager=kkp-e2e", "-f"])
        .arg(crds_dir());
    let (ok, out) = run(apply, None);
    assert!(ok, "kubectl apply -f crds/ failed:\n{out}");

    let client = plane.client().await.expect("client");
    for crd in [
        "clusters.kubermatic.k8c.io",
        "machinedeployments.cluster.k8s.io",
        "machinesets.cluster.k8s.io",
        "machines.cluster.k8s.io",
        "admissionpolicies.policy.kubectl-kkp.io",
    ] {
        tokio::time::timeout(Duration::from_secs(60), wait_for_crd(&client, crd))
            .await
            .unwrap_or_else(|_| panic!("{crd} not established in time"))
            .unwrap_or_else(|e| panic!("{crd}: {e}"));
    }

    let name = unique_name("c");
    let cluster = format!(
        r#"{{"apiVersion":"kubermatic.k8c.io/v1","kind":"Cluster","metadata":{{"name":"{name}","labels":{{"project-id":"p1"}}}},
            "spec":{{"humanReadableName":"demo","version":"1.35.7","cloud":{{"dc":"hetzner-fsn1","hetzner":{{"token":"t"}}}},
                     "componentsOverride":{{"apiserver":{{"nodePortRange":"30000-32767"}}}}, "someFutureField":{{"a":1}}}}}}"#
    );
    let mut create = plane.kubectl();
    create.args(["create", "-o", "json", "-f", "-"]);
    let (ok, out) = run(create, Some(&cluster));
    assert!(ok, "a minimal Cluster is refused by the CRD schema:\n{out}");
    assert!(out.contains("someFutureField"), "unknown fields are pruned:\n{out}");
    assert!(out.contains("nodePortRange"), "free-form fields are pruned:\n{out}");

    let md = format!(
        r#"{{"apiVersion":"cluster.k8s.io/v1alpha1","kind":"MachineDeployment","metadata":{{"name":"{name}","namespace":"default"}},
            "spec":{{"selector":{{"matchLabels":{{"m":"x"}}}},"template":{{"metadata":{{"labels":{{"m":"x"}}}},
                     "spec":{{"providerSpec":{{"value":{{"cloudProvider":"hetzner","cloudProviderSpec":{{"serverType":"cx22"}},"operatingSystem":"ubuntu"}}}},
                              "versions":{{"kubelet":"1.35.7"}}}}}}}}}}"#
    );
    let mut create = plane.kubectl();
    create.args(["create", "-o", "json", "-f", "-"]);
    let (ok, out) = run(create, Some(&md));
    assert!(ok, "a minimal MachineDeployment is refused by the CRD schema:\n{out}");
    assert!(
        out.contains("\"serverType\": \"cx22\""),
        "cloudProviderSpec is pruned:\n{out}"
    );

    let policy = format!(
        r#"{{"apiVersion":"policy.kubectl-kkp.io/v1alpha1","kind":"AdmissionPolicy","metadata":{{"name":"{name}"}},
            "spec":{{"enforcement":"Warn","rules":{{"providers":["aws"],"cel":[{{"name":"r","expression":"true"}}]}}}}}}"#
    );
    let mut create = plane.kubectl();
    create.args(["create", "-o", "json", "-f", "-"]);
    let (ok, out) = run(create, Some(&policy));
    assert!(ok, "a policy is refused by the CRD schema:\n{out}");
}
