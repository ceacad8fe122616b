//! `kubectl kkp validate --crd`: objects of other kinds checked against their CRD, with the kind
//! provider's real `KINDCluster` CRD and its valid and invalid samples.

use std::path::PathBuf;
use std::process::Command;

fn kind_provider() -> PathBuf {
    std::env::var_os("KKP_UPSTREAM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/upstream-examples")))
        .join("capi/kind/config")
}

fn validate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-kkp"))
        .arg("validate")
        .args(args)
        .env_clear()
        .env("HOME", "/nonexistent-home")
        .current_dir(kind_provider())
        .output()
        .expect("the plugin runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kind_clusters_are_checked_against_their_crd() {
    let (code, stdout, stderr) = validate(&["-f", "samples", "--crd", "crd/bases"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    let mut expected = vec![
        "  - spec.clusterName: Invalid value: Too long: may not be more than 64 bytes",
        "  - spec.clusterName: Required value",
        "  - spec.kubernetesVersion: Unsupported value: \"1.13\": supported values: \"1.22\", \"1.21\", \"1.20\", \
             \"1.19\", \"1.18\", \"1.17\", \"1.16\", \"1.15\", \"1.14\"",
        "✓ samples/infrastructure_v1alpha1_kindcluster.yaml: KINDCluster test-cluster: valid",
        "✗ samples/invalid-test-1.yaml: KINDCluster non-named-cluster: 1 error",
        "✗ samples/invalid-test-2.yaml: KINDCluster too-long-name: 1 error",
        "✗ samples/invalid-test-3.yaml: KINDCluster invalid-versioned-cluster: 1 error",
        "✓ samples/test1.yaml: KINDCluster test-cluster-1: valid",
        "✓ samples/test2.yaml: KINDCluster test-cluster-2: valid",
    ];
    expected.sort_unstable();
    assert_eq!(lines, expected, "{stdout}");
    assert!(stderr.contains("3 of 6 objects are invalid"), "{stderr}");

    // Without the CRD they are skipped, as before.
    let (code, stdout, _) = validate(&["-f", "samples/test1.yaml"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("skipped"), "{stdout}");

    let (code, _, stderr) = validate(&["-f", "samples/test1.yaml", "--crd", "samples"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--crd samples: no CustomResourceDefinition with a schema found"),
        "{stderr}"
    );
}
