//! Whole runs of the `kubectl-kkp` and `kubectl_complete-kkp` binaries, snapshotted with their
//! exit code, stdout and stderr. Every run gets a clean environment (no KUBECONFIG, no user
//! config file) and runs in a known folder, so the snapshots hold no machine-specific text.

mod stand_in_api;

use std::path::{Path, PathBuf};

const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQ1cZf3cpkBZ4/0rlFWzPm1YjFnKVzFAQVIGrLvGsc4 demo@example.com";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn upstream_examples() -> PathBuf {
    // `scripts/test.sh` finds the folder and exports it; a plain `cargo test` uses the checkout's sibling.
    std::env::var_os("KKP_UPSTREAM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/upstream-examples")))
}

/// A run of a binary in `dir` with only the environment given here.
struct Run {
    cmd: assert_cmd::Command,
}

impl Run {
    fn of(bin: &str, args: &[&str]) -> Self {
        let mut cmd = assert_cmd::Command::new(bin);
        cmd.args(args)
            .env_clear()
            .env("HOME", "/nonexistent-home")
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1")
            .current_dir(fixtures());
        Run { cmd }
    }

    fn kkp(args: &[&str]) -> Self {
        Run::of(env!("CARGO_BIN_EXE_kubectl-kkp"), args)
    }

    fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    fn dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    fn stdin(mut self, text: &str) -> Self {
        self.cmd.write_stdin(text.to_owned());
        self
    }

    /// Exit code, stdout and stderr in one text.
    fn output(mut self) -> Output {
        let out = self.cmd.output().expect("the binary runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn snapshot(self) -> String {
        self.output().to_string()
    }
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit_code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The arguments of `generate cluster demo` for a provider, with every required variable.
/// `generate cluster demo` with the built-in template of `provider`, every variable it needs set,
/// then `extra`.
fn generate(provider: &str, extra: &[&str]) -> Run {
    let mut args: Vec<String> = [
        "generate",
        "cluster",
        "demo",
        "--provider",
        provider,
        "--project",
        "p8kfs2x9jw",
        "--datacenter",
        &format!("{provider}-dc1"),
        "--ssh-public-key",
        SSH_KEY,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let required: &[&str] = match provider {
        "aws" => &[
            "AWS_REGION=eu-central-1",
            "AWS_VPC_ID=vpc-0a1b2c3d",
            "AWS_SECURITY_GROUP_ID=sg-0a1b2c3d",
        ],
        "azure" => &["AZURE_LOCATION=westeurope"],
        "digitalocean" => &["DO_REGION=fra1"],
        "gcp" => &["GCP_ZONE=europe-west3-a"],
        "hetzner" => &["HETZNER_LOCATION=fsn1"],
        "kubevirt" => &["KUBEVIRT_OS_IMAGE=docker://quay.io/kubermatic-virt-disks/ubuntu:24.04"],
        "openstack" => &["OPENSTACK_IMAGE=Ubuntu 24.04"],
        "vsphere" => &[
            "VSPHERE_TEMPLATE_VM=ubuntu-24.04",
            "VSPHERE_DATASTORE=datastore1",
            "VSPHERE_DATACENTER=dc1",
        ],
        _ => &[],
    };
    for r in required {
        args.push("--set".into());
        args.push(r.to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Run::kkp(&refs)
}

fn run_generate(provider: &str) -> String {
    generate(provider, &[]).snapshot()
}

mod help {
    use super::*;

    fn help(path: &[&str]) -> String {
        let mut args = path.to_vec();
        args.push("--help");
        Run::kkp(&args).snapshot()
    }

    /// Every command's help, one snapshot each: `help_root`, else `help_` and the command path.
    const COMMANDS: &[&[&str]] = &[
        &[],
        &["create"],
        &["create", "cluster"],
        &["get"],
        &["get", "clusters"],
        &["get", "kubeconfig"],
        &["get", "policies"],
        &["get", "policy-reports"],
        &["describe"],
        &["describe", "cluster"],
        &["delete"],
        &["delete", "cluster"],
        &["register"],
        &["register", "cluster"],
        &["unregister"],
        &["unregister", "cluster"],
        &["install"],
        &["policy"],
        &["policy", "test"],
        &["generate"],
        &["generate", "cluster"],
        &["generate", "machinedeployments"],
        &["validate"],
        &["version"],
        &["completion"],
    ];

    #[test]
    fn every_command() {
        for path in COMMANDS {
            let name = if path.is_empty() {
                "help_root".to_owned()
            } else {
                format!("help_{}", path.join("_"))
            };
            insta::assert_snapshot!(name, help(path));
        }
    }

    #[test]
    fn get_cluster_is_get_clusters() {
        assert_eq!(help(&["get", "cluster"]), help(&["get", "clusters"]));
    }

    /// The subcommands a help text lists under `Commands:`, without clap's `help`.
    fn subcommands(help: &str) -> Vec<String> {
        help.lines()
            .skip_while(|l| *l != "Commands:")
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            // A name is indented by two spaces; a description that wraps is indented further.
            .filter(|l| !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next())
            .map(|name| name.trim_end_matches(',').to_owned())
            .filter(|name| name != "help")
            .collect()
    }

    /// Walks the command tree as `--help` shows it: every command without subcommands shows examples.
    #[test]
    fn every_leaf_command_shows_examples() {
        let mut pending: Vec<Vec<String>> = vec![Vec::new()];
        let mut leaves = Vec::new();
        let mut lacking = Vec::new();
        while let Some(path) = pending.pop() {
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let out = Run::kkp(&[refs.as_slice(), &["--help"]].concat()).output();
            assert_eq!(out.code, 0, "{path:?}: {}", out.stderr);
            let subs = subcommands(&out.stdout);
            if subs.is_empty() {
                if !out.stdout.contains("\nExamples:\n") {
                    lacking.push(path.join(" "));
                }
                leaves.push(path.join(" "));
            }
            for sub in subs {
                let mut next = path.clone();
                next.push(sub);
                pending.push(next);
            }
        }
        assert!(leaves.contains(&"get kubeconfig".to_owned()), "{leaves:?}");
        assert!(leaves.len() >= 12, "{leaves:?}");
        assert!(lacking.is_empty(), "no Examples: in the help of {lacking:?}");
    }
}

mod generate {
    use super::*;

    /// One snapshot per provider with a schema, of its built-in template: `generate_<provider>`.
    #[test]
    fn every_provider() {
        for provider in kkp_crds::providers::Provider::ALL.map(|p| p.name()) {
            insta::assert_snapshot!(format!("generate_{provider}"), run_generate(provider));
        }
    }

    #[test]
    fn flavor_ha_as_names() {
        insta::assert_snapshot!(
            "generate_aws_ha_names",
            generate("aws", &["--flavor", "ha", "-o", "name"]).snapshot()
        );
    }

    #[test]
    fn json_output_is_a_list() {
        let out = generate("hetzner", &["-o", "json"]).output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"][0]["kind"], "Cluster");
        assert_eq!(
            list["items"][1]["spec"]["template"]["spec"]["versions"]["kubelet"],
            list["items"][0]["spec"]["version"]
        );
    }

    #[test]
    fn skip_validation_prints_the_template_as_written() {
        insta::assert_snapshot!(
            "generate_hetzner_skip_validation",
            generate("hetzner", &["--skip-validation"]).snapshot()
        );
    }

    #[test]
    fn env_and_values_file_fill_variables() {
        let out = Run::kkp(&[
            "generate",
            "cluster",
            "demo",
            "--provider",
            "hetzner",
            "--values",
            "values.yaml",
        ])
        .env("KKP_PROJECT_ID", "from-env")
        .output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stdout.contains("project-id: from-env\n"),
            "env beats --values:\n{}",
            out.stdout
        );
        assert!(out.stdout.contains("dc: hetzner-nbg1\n"), "{}", out.stdout);
        assert!(out.stdout.contains("serverType: cpx31\n"), "{}", out.stdout);
    }

    #[test]
    fn user_config_file_is_the_lowest_layer() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("kubectl-kkp");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.yaml"),
            "variables:\n  KKP_PROJECT_ID: from-config\n  KKP_DATACENTER: hetzner-hel1\n  HETZNER_LOCATION: hel1\n",
        )
        .unwrap();
        let config_home = home.path().to_str().unwrap();
        let out = Run::kkp(&[
            "generate",
            "cluster",
            "demo",
            "--provider",
            "hetzner",
            "--datacenter",
            "from-flag",
        ])
        .env("XDG_CONFIG_HOME", config_home)
        .output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("project-id: from-config\n"), "{}", out.stdout);
        assert!(
            out.stdout.contains("dc: from-flag\n"),
            "the flag beats the config file:\n{}",
            out.stdout
        );
        let listing = Run::kkp(&[
            "generate",
            "cluster",
            "demo",
            "--provider",
            "hetzner",
            "--list-variables",
        ])
        .env("XDG_CONFIG_HOME", config_home)
        .env("HETZNER_LOCATION", "from-env")
        .output();
        assert_eq!(
            row(&listing.stdout, "KKP_PROJECT_ID"),
            ["KKP_PROJECT_ID", "yes", "config", "from-config"]
        );
        assert_eq!(
            row(&listing.stdout, "HETZNER_LOCATION"),
            ["HETZNER_LOCATION", "yes", "env", "from-env"]
        );
    }

    #[test]
    fn write_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("demo.yaml");
        let out = generate("hetzner", &["--write-to", &target.display().to_string()]).output();
        assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
        let written = std::fs::read_to_string(&target).unwrap();
        assert!(written.starts_with("apiVersion: kubermatic.k8c.io/v1\n"), "{written}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn generated_objects_validate() {
        let generated = generate("gcp", &[]).output();
        assert_eq!(generated.code, 0, "{}", generated.stderr);
        let checked = Run::kkp(&["validate", "-f", "-"]).stdin(&generated.stdout).output();
        assert_eq!(checked.code, 0, "{}{}", checked.stdout, checked.stderr);
        assert_eq!(
            checked.stdout,
            "✓ Cluster demo: valid\n✓ MachineDeployment demo-worker: valid\n"
        );
    }
}

/// The cells of a `--list-variables` table row.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&name))
        .unwrap_or_default()
}

mod variables {
    use super::*;

    #[test]
    fn list_variables_table() {
        insta::assert_snapshot!(
            "list_variables_hetzner",
            Run::kkp(&[
                "generate",
                "cluster",
                "demo",
                "--provider",
                "hetzner",
                "--project",
                "p8kfs2x9jw",
                "--values",
                "values.yaml",
                "--list-variables",
            ])
            .env("HZ_TOKEN", "a-secret-token")
            .env("HETZNER_SERVER_TYPE", "cx32")
            .snapshot()
        );
    }

    #[test]
    fn list_variables_json() {
        insta::assert_snapshot!(
            "list_variables_aws_json",
            Run::kkp(&[
                "generate",
                "cluster",
                "demo",
                "--provider",
                "aws",
                "--list-variables",
                "-o",
                "json"
            ])
            .env("AWS_SECRET_ACCESS_KEY", "do-not-print-me")
            .snapshot()
        );
    }

    #[test]
    fn missing_variables_are_reported_together() {
        insta::assert_snapshot!(
            "missing_variables",
            Run::kkp(&["generate", "cluster", "demo", "--provider", "aws"]).snapshot()
        );
    }

    #[test]
    fn bad_provider() {
        insta::assert_snapshot!(
            "bad_provider",
            Run::kkp(&["generate", "cluster", "demo", "--provider", "foo"]).snapshot()
        );
    }

    #[test]
    fn bad_flavor() {
        insta::assert_snapshot!(
            "bad_flavor",
            Run::kkp(&[
                "generate",
                "cluster",
                "demo",
                "--provider",
                "kubevirt",
                "--flavor",
                "ha"
            ])
            .snapshot()
        );
    }

    #[test]
    fn provider_is_required_without_from() {
        let out = Run::kkp(&["generate", "cluster", "demo"]).output();
        assert_eq!(out.code, 1);
        assert!(out.stderr.contains("--provider <NAME>"), "{}", out.stderr);
    }

    #[test]
    fn values_that_fail_validation_are_reported_per_field() {
        insta::assert_snapshot!(
            "generate_invalid_values",
            generate(
                "hetzner",
                &["--kubernetes-version", "1.30.2", "--set", "WORKER_OS=windows"]
            )
            .snapshot()
        );
    }

    #[test]
    fn template_syntax_errors_name_the_place() {
        insta::assert_snapshot!(
            "template_syntax_error",
            Run::kkp(&["generate", "cluster", "demo", "--from", "-"])
                .stdin("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${CLUSTER_NAME\n")
                .snapshot()
        );
    }
}

mod from_template {
    use super::*;

    const CAPI_TEMPLATE: &str = "capi/kubernetes/release/cluster-template.yaml";

    #[test]
    fn cluster_api_template_with_variables_set() {
        insta::assert_snapshot!(
            "from_capi_template",
            Run::kkp(&[
                "generate",
                "cluster",
                "demo",
                "--from",
                CAPI_TEMPLATE,
                "--kubernetes-version",
                "v1.35.7",
                "--set",
                "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE=LoadBalancer",
                "--set",
                "CONTROL_PLANE_MACHINE_COUNT=3",
                "--worker-machine-count",
                "2",
            ])
            .dir(&upstream_examples())
            .snapshot()
        );
    }

    #[test]
    fn machine_count_flags_and_the_default_version_with_a_v() {
        let out = Run::kkp(&[
            "generate",
            "cluster",
            "demo",
            "--from",
            CAPI_TEMPLATE,
            "--set",
            "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE=NodePort",
            "--control-plane-machine-count",
            "3",
            "--worker-machine-count",
            "2",
        ])
        .dir(&upstream_examples())
        .output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let default = kkp_crds::versions::VersionCatalog::default().default.to_string();
        assert!(out.stdout.contains("  replicas: 3\n"), "{}", out.stdout);
        assert!(out.stdout.contains("  replicas: 2\n"), "{}", out.stdout);
        assert!(
            out.stdout.contains(&format!("  version: v{default}\n")),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains(&format!("version: {default}\n")), "{}", out.stdout);

        let defaulted = Run::kkp(&[
            "generate",
            "cluster",
            "demo",
            "--from",
            CAPI_TEMPLATE,
            "--set",
            "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE=NodePort",
        ])
        .dir(&upstream_examples())
        .output();
        assert_eq!(defaulted.code, 0, "{}", defaulted.stderr);
        // As clusterctl: one control plane machine, no workers unless asked for.
        assert_eq!(
            (
                defaulted.stdout.matches("  replicas: 1\n").count(),
                defaulted.stdout.matches("  replicas: 0\n").count()
            ),
            (1, 1),
            "{}",
            defaulted.stdout
        );
    }

    #[test]
    fn namespace_flag_fills_namespace() {
        let out = Run::kkp(&["generate", "cluster", "demo", "-n", "clusters", "--from", "-"])
            .stdin("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${CLUSTER_NAME}\n  namespace: ${NAMESPACE}\n")
            .output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stdout,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  namespace: clusters\n"
        );
    }

    #[test]
    fn cluster_api_template_variables() {
        insta::assert_snapshot!(
            "from_capi_template_list_variables",
            Run::kkp(&[
                "generate",
                "cluster",
                "demo",
                "--from",
                CAPI_TEMPLATE,
                "--list-variables"
            ])
            .dir(&upstream_examples())
            .snapshot()
        );
    }

    #[test]
    fn cluster_api_template_missing_variables() {
        insta::assert_snapshot!(
            "from_capi_template_missing",
            Run::kkp(&["generate", "cluster", "demo", "--from", CAPI_TEMPLATE])
                .dir(&upstream_examples())
                .snapshot()
        );
    }
}

mod validate {
    use super::*;

    #[test]
    fn valid_objects() {
        insta::assert_snapshot!(
            "validate_valid",
            Run::kkp(&["validate", "-f", "cluster-valid.yaml"]).snapshot()
        );
    }

    #[test]
    fn invalid_objects() {
        insta::assert_snapshot!(
            "validate_invalid",
            Run::kkp(&["validate", "-f", "cluster-invalid.yaml"]).snapshot()
        );
    }

    #[test]
    fn invalid_objects_json() {
        insta::assert_snapshot!(
            "validate_invalid_json",
            Run::kkp(&["validate", "-f", "cluster-invalid.yaml", "-o", "json"]).snapshot()
        );
    }

    #[test]
    fn foreign_cluster_kind_is_skipped() {
        insta::assert_snapshot!(
            "validate_foreign",
            Run::kkp(&["validate", "-f", "lookalike-kind-config-cluster.yaml"])
                .dir(&upstream_examples())
                .snapshot()
        );
    }

    #[test]
    fn upstream_machine_deployment_with_placeholders() {
        insta::assert_snapshot!(
            "validate_upstream_md_hetzner",
            Run::kkp(&["validate", "-f", "md-hetzner.yaml", "--cluster-version", "1.34.2"])
                .dir(&upstream_examples())
                .snapshot()
        );
    }

    #[test]
    fn several_files_json_lists_and_broken_yaml() {
        insta::assert_snapshot!(
            "validate_several_files",
            Run::kkp(&[
                "validate",
                "-f",
                "cluster-valid.yaml",
                "machinedeployment.json",
                "broken.yaml"
            ])
            .snapshot()
        );
    }

    #[test]
    fn stdin_and_version_overrides() {
        let text = std::fs::read_to_string(fixtures().join("cluster-valid.yaml")).unwrap();
        insta::assert_snapshot!(
            "validate_stdin_versions",
            Run::kkp(&["validate", "-f", "-", "--kubernetes-versions", "1.34.3,1.35.2"])
                .stdin(&text)
                .snapshot()
        );
    }

    #[test]
    fn missing_file() {
        let out = Run::kkp(&["validate", "-f", "no-such-file.yaml"]).output();
        assert_eq!(out.code, 1);
        assert!(
            out.stdout.starts_with("✗ no-such-file.yaml: cannot read: "),
            "{}",
            out.stdout
        );
        assert_eq!(out.stderr, "error: 1 input could not be read\n");
    }
}

mod warnings {
    use super::*;

    /// The valid fixture cluster with a deprecated field set, which admission warns about.
    fn deprecated_cluster() -> String {
        let text = std::fs::read_to_string(fixtures().join("cluster-valid.yaml")).unwrap();
        let cluster = text.split("\n---\n").next().unwrap().to_owned();
        cluster.replace("spec:\n", "spec:\n  enableOperatingSystemManager: true\n")
    }

    const WARNING: &str = "spec.enableOperatingSystemManager: deprecated and has no effect";
    /// The fixture's Hetzner cluster has no network of its own and no Seed is given, so the rules
    /// that need its datacenter are skipped, with a warning.
    const DATACENTER: &str = "kkp: datacenter \"hetzner-fsn1\" is not known here; rules that depend on it were skipped";

    #[test]
    fn generate_spells_warnings_as_kubectl_does() {
        let out = Run::kkp(&["generate", "cluster", "demo", "--from", "-"])
            .stdin(&deprecated_cluster())
            .output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!("Warning: Cluster k7x2mvq9tn: {WARNING}\nWarning: Cluster k7x2mvq9tn: {DATACENTER}\n")
        );
    }

    #[test]
    fn validate_reports_warnings_under_the_object() {
        let out = Run::kkp(&["validate", "-f", "-"]).stdin(&deprecated_cluster()).output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stdout,
            format!("✓ Cluster k7x2mvq9tn: valid\n  Warning: {WARNING}\n  Warning: {DATACENTER}\n")
        );
    }
}

mod exit_codes {
    use super::*;

    #[test]
    fn usage_errors_exit_1_with_clap_s_message_on_stderr() {
        let out = Run::kkp(&["get", "clusters", "--no-such-flag"]).output();
        assert_eq!((out.code, out.stdout.as_str()), (1, ""));
        assert!(
            out.stderr
                .starts_with("error: unexpected argument '--no-such-flag' found\n"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("\nUsage: kubectl kkp get clusters "),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("For more information, try '--help'."),
            "{}",
            out.stderr
        );

        let bad_value = Run::kkp(&["create", "cluster", "demo", "--provider", "aws", "--timeout", "soon"]).output();
        assert_eq!(bad_value.code, 1, "{}", bad_value.stderr);
        assert!(
            bad_value.stderr.contains("--timeout <DURATION>"),
            "{}",
            bad_value.stderr
        );
    }

    #[test]
    fn a_missing_subcommand_is_a_usage_error() {
        let out = Run::kkp(&["get"]).output();
        assert_eq!((out.code, out.stdout.as_str()), (1, ""));
        assert!(out.stderr.contains("Usage: kubectl kkp get"), "{}", out.stderr);
    }

    #[test]
    fn help_and_version_exit_0_on_stdout() {
        let help = Run::kkp(&["--help"]).output();
        assert_eq!((help.code, help.stderr.as_str()), (0, ""));
        assert!(help.stdout.contains("Usage: kubectl kkp"), "{}", help.stdout);
        let short = Run::kkp(&["get", "-h"]).output();
        assert_eq!((short.code, short.stderr.as_str()), (0, ""));
        let version = Run::kkp(&["--version"]).output();
        assert_eq!(
            (version.code, version.stdout, version.stderr),
            (0, format!("kubectl kkp {}\n", env!("CARGO_PKG_VERSION")), String::new())
        );
    }
}

/// `create cluster` against an API server without KKP: a tiny server that answers every request
/// with 404, as a cluster answers for resources it does not serve.
mod create_without_kkp {
    use super::*;

    /// Serves 404 on a local port until the test ends; returns a kubeconfig for it.
    fn not_found_server(dir: &Path) -> PathBuf {
        stand_in_api::serve(&dir.join("kubeconfig"), "fake", |_| {
            let body = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}"#;
            ("404 Not Found", body.to_owned())
        })
    }

    #[test]
    fn the_builtin_catalog_is_used_and_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = not_found_server(dir.path());
        let out = Run::kkp(&[
            "create",
            "cluster",
            "demo",
            "--provider",
            "hetzner",
            "--project",
            "p8kfs2x9jw",
            "--datacenter",
            "hetzner-fsn1",
            "--set",
            "HETZNER_LOCATION=fsn1",
            "--dry-run=server",
            "--kubeconfig",
            &kubeconfig.display().to_string(),
        ])
        .output();
        let warning = format!(
            "Warning: no KubermaticConfiguration readable in namespace kubermatic (the cluster does not serve \
             kubermaticconfigurations.kubermatic.k8c.io); checking against the built-in catalog of {}\n",
            kkp_crds::versions::BUILTIN_KKP_RELEASE
        );
        assert!(out.stderr.starts_with(&warning), "{}", out.stderr);
        assert_eq!(out.stderr.matches("Warning: no ").count(), 1, "{}", out.stderr);
        // Nothing can be applied to a server that serves nothing.
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

/// The platform's own configuration from files: `--kubermatic-configuration` and `--seed`.
mod platform {
    use super::*;

    const CLUSTER: &str = "platform/cluster-hetzner-1.35.8.yaml";

    fn fixture(name: &str) -> String {
        fixtures().join(name).display().to_string()
    }

    /// KKP's own example configuration, read where the upstream examples are.
    fn real_configuration() -> PathBuf {
        upstream_examples().join("kkp-config/kubermaticconfiguration.ce.yaml")
    }

    #[test]
    fn a_cluster_on_1_35_8_validates_with_kkp_s_real_configuration() {
        assert!(
            real_configuration().is_file(),
            "{} is missing",
            real_configuration().display()
        );
        let out = Run::kkp(&[
            "validate",
            "-f",
            &fixture(CLUSTER),
            "--kubermatic-configuration",
            "kkp-config/kubermaticconfiguration.ce.yaml",
        ])
        .dir(&upstream_examples())
        .output();
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.starts_with("✓ Cluster k7x2mvq9tn: valid\n"),
            "{}",
            out.stdout
        );
    }

    #[test]
    fn a_configuration_offering_only_1_36_4_refuses_1_35_8() {
        let out = Run::kkp(&[
            "validate",
            "-f",
            CLUSTER,
            "--kubermatic-configuration",
            "platform/kubermatic-1.36-only.yaml",
        ])
        .output();
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        assert!(out.stdout.starts_with("✗ Cluster k7x2mvq9tn: "), "{}", out.stdout);
        assert!(out.stdout.contains("\n  - spec.version: "), "{}", out.stdout);
        assert!(out.stdout.contains("1.35.8"), "{}", out.stdout);
        assert_eq!(out.stderr, "error: 1 of 1 object is invalid\n");
    }

    #[test]
    fn kubernetes_versions_win_over_the_configuration_s_list() {
        let out = Run::kkp(&[
            "validate",
            "-f",
            CLUSTER,
            "--kubermatic-configuration",
            "platform/kubermatic-1.36-only.yaml",
            "--kubernetes-versions",
            "1.35.8,1.36.4",
        ])
        .output();
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    }

    #[test]
    fn a_hetzner_cluster_in_a_seed_s_datacenter_without_a_network_validates() {
        let out = Run::kkp(&["validate", "-f", CLUSTER, "--seed", "platform/seed-hetzner.yaml"]).output();
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.starts_with("✓ Cluster k7x2mvq9tn: valid\n"),
            "{}",
            out.stdout
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }

    #[test]
    fn missing_and_wrong_files_are_errors_naming_the_flag_and_the_file() {
        let out = Run::kkp(&[
            "validate",
            "-f",
            CLUSTER,
            "--kubermatic-configuration",
            "no-such-file.yaml",
        ])
        .output();
        assert_eq!((out.code, out.stdout.as_str()), (1, ""));
        assert!(
            out.stderr
                .starts_with("error: --kubermatic-configuration no-such-file.yaml: cannot read the file: "),
            "{}",
            out.stderr
        );
        let out = Run::kkp(&["validate", "-f", CLUSTER, "--seed", "no-such-seed.yaml"]).output();
        assert_eq!(out.code, 1);
        assert!(
            out.stderr
                .starts_with("error: --seed no-such-seed.yaml: cannot read the file: "),
            "{}",
            out.stderr
        );
        let out = Run::kkp(&[
            "validate",
            "-f",
            CLUSTER,
            "--kubermatic-configuration",
            "platform/seed-hetzner.yaml",
        ])
        .output();
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.starts_with(
                "error: --kubermatic-configuration platform/seed-hetzner.yaml: the file holds no KubermaticConfiguration"
            ),
            "{}",
            out.stderr
        );
        let out = Run::kkp(&[
            "policy",
            "test",
            "-f",
            CLUSTER,
            "--kubermatic-configuration",
            "no-such-file.yaml",
        ])
        .output();
        assert_eq!(out.code, 1);
        assert!(
            out.stderr
                .starts_with("error: --kubermatic-configuration no-such-file.yaml: cannot read the file: "),
            "{}",
            out.stderr
        );
    }

    #[test]
    fn generate_and_create_take_the_configuration_s_default_version() {
        let config = fixture("platform/kubermatic-1.36-only.yaml");
        let out = generate("hetzner", &["--kubermatic-configuration", &config]).output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("\n  version: 1.36.4\n"), "{}", out.stdout);
        assert!(out.stdout.contains("kubelet: 1.36.4\n"), "{}", out.stdout);

        let out = Run::kkp(&[
            "create",
            "cluster",
            "demo",
            "--provider",
            "hetzner",
            "--project",
            "p8kfs2x9jw",
            "--datacenter",
            "hetzner-fsn1",
            "--set",
            "HETZNER_LOCATION=fsn1",
            "--ssh-public-key",
            SSH_KEY,
            "--dry-run=client",
            "--kubermatic-configuration",
            "platform/kubermatic-1.36-only.yaml",
            "--seed",
            "platform/seed-hetzner.yaml",
        ])
        .output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("\n  version: 1.36.4\n"), "{}", out.stdout);
        assert!(out.stderr.ends_with("(dry run: nothing was sent)\n"), "{}", out.stderr);
    }
}

mod version {
    use super::*;

    /// The commit changes with every commit; the snapshot shows a stand-in.
    const COMMIT: &str = env!("KKP_GIT_COMMIT");

    #[test]
    fn text() {
        let out = Run::kkp(&["version"]).snapshot();
        assert!(out.contains(&format!("\nGit commit: {COMMIT}\n")), "{out}");
        insta::assert_snapshot!("version", out.replace(COMMIT, "[commit]"));
    }

    #[test]
    fn json() {
        let out = Run::kkp(&["version", "-o", "json"]).output();
        assert_eq!(out.code, 0);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["pluginVersion"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            v["defaultKubernetesVersion"],
            kkp_crds::versions::VersionCatalog::default().default.to_string()
        );
        assert_eq!(v["builtinCatalogRelease"], kkp_crds::versions::BUILTIN_KKP_RELEASE);
        let commit = v["gitCommit"].as_str().unwrap_or_default();
        assert!(!commit.is_empty(), "{}", out.stdout);
        assert_eq!(commit, COMMIT);
    }

    #[test]
    fn yaml() {
        let out = Run::kkp(&["version", "-o", "yaml"]).output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stdout.contains(&format!("\ngitCommit: {COMMIT}\n")),
            "{}",
            out.stdout
        );
    }
}

mod completion {
    use super::*;

    fn complete(words: &[&str]) -> String {
        Run::of(env!("CARGO_BIN_EXE_kubectl_complete-kkp"), words).snapshot()
    }

    #[test]
    fn scripts_for_each_shell() {
        for (shell, marker) in [
            ("bash", "kubectl__kkp__subcmd__generate__subcmd__cluster)"),
            ("zsh", "#compdef kubectl-kkp"),
            ("fish", "complete -c kubectl-kkp"),
        ] {
            let out = Run::kkp(&["completion", shell]).output();
            assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
            assert!(out.stdout.contains(marker), "{shell}: no {marker:?}");
        }
    }

    #[test]
    fn kubectl_plugin_completion() {
        insta::assert_snapshot!("complete_top", complete(&[""]));
        insta::assert_snapshot!(
            "complete_provider",
            complete(&["generate", "cluster", "demo", "--provider", ""])
        );
        insta::assert_snapshot!("complete_output", complete(&["generate", "cluster", "demo", "-o", ""]));
        insta::assert_snapshot!("complete_flags", complete(&["validate", "--"]));
        insta::assert_snapshot!("complete_file", complete(&["validate", "-f", "clu"]));
    }

    #[test]
    fn global_flags_before_the_command_are_words_too() {
        let out = Run::kkp(&["__complete", "--", "-n", "kube-system", "gen"]).output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stdout,
            "generate\tPrint cluster and worker objects without contacting any cluster\n:4\n"
        );
    }
}

/// `install --dry-run=client` prints no private key unless asked.
mod install_secrets {
    use base64::Engine as _;

    use super::*;

    const PLACEHOLDER: &str = "<redacted: private key, use --show-secrets to print>";

    /// The TLS Secret's `data` of a JSON dry run.
    fn tls_data(extra: &[&str]) -> (serde_json::Value, String) {
        let mut args = vec!["install", "--dry-run=client", "-o", "json"];
        args.extend_from_slice(extra);
        let out = Run::kkp(&args).output();
        assert_eq!(out.code, 0, "{}", out.stderr);
        let list: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON on stdout");
        let secret = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|o| o["kind"] == "Secret")
            .expect("the TLS Secret")
            .clone();
        (secret["data"].clone(), out.stderr)
    }

    fn decoded(value: &serde_json::Value) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("text"))
            .expect("base64");
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn the_private_key_is_a_placeholder_by_default() {
        let (data, stderr) = tls_data(&[]);
        assert_eq!(data["tls.key"], PLACEHOLDER);
        assert!(decoded(&data["tls.crt"]).starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(decoded(&data["ca.crt"]).starts_with("-----BEGIN CERTIFICATE-----"));
        if let Some(ca_key) = data.get("ca.key") {
            assert_eq!(ca_key, PLACEHOLDER, "the CA's key is private too");
        }
        assert!(
            stderr.contains(&format!(
                "Private keys are shown as {PLACEHOLDER:?} (kkp-system/kkp-webhook-tls (tls.key"
            )),
            "{stderr}"
        );
        assert!(stderr.contains("); pass --show-secrets to print them.\n"), "{stderr}");
        let yaml = Run::kkp(&["install", "--dry-run=client"]).output();
        assert_eq!(yaml.code, 0, "{}", yaml.stderr);
        assert!(
            yaml.stdout.contains(&format!("tls.key: '{PLACEHOLDER}'")),
            "{}",
            yaml.stdout
        );
        let key_start = base64::engine::general_purpose::STANDARD.encode("-----BEGIN PRIVATE KEY-----");
        assert!(!yaml.stdout.contains(&key_start[..32]), "no private key anywhere");
        assert!(!yaml.stdout.contains("PRIVATE KEY-----"), "no private key anywhere");
    }

    #[test]
    fn show_secrets_prints_the_key() {
        let (data, stderr) = tls_data(&["--show-secrets"]);
        assert!(decoded(&data["tls.key"]).contains("PRIVATE KEY-----"), "{data}");
        assert!(!stderr.contains("--show-secrets"), "{stderr}");
        let yaml = Run::kkp(&["install", "--dry-run=client", "--show-secrets"]).output();
        let key_start = base64::engine::general_purpose::STANDARD.encode("-----BEGIN PRIVATE KEY-----");
        assert!(yaml.stdout.contains(&key_start[..32]), "the key is printed");
    }
}

/// `get kubeconfig` against a stand-in API server whose Cluster API secrets hold the kubeconfig
/// the secret's name asks for: `exec-*` one that runs a program, `files-*` one that reads local
/// files, any other an inline one for a cluster of that name.
mod kubeconfig_from_a_secret {
    use base64::Engine as _;

    use super::*;

    fn kubeconfig_for(name: &str) -> String {
        let user = if name.starts_with("exec-") {
            "{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'touch pwned'], \
             interactiveMode: Never}}"
        } else if name.starts_with("files-") {
            "{client-certificate: /etc/hostname, client-key: /etc/hostname}"
        } else {
            "{token: inline-token}"
        };
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {name}\n\
             clusters: [{{name: {name}, cluster: {{server: 'https://{name}.example:6443'}}}}]\n\
             contexts: [{{name: {name}, context: {{cluster: {name}, user: {name}}}}}]\n\
             users: [{{name: {name}, user: {user}}}]\n"
        )
    }

    /// The Secret `<cluster>-kubeconfig` a request's path names, holding [`kubeconfig_for`] it.
    fn secret(path: &str) -> stand_in_api::Answer {
        let secret = path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .split('?')
            .next()
            .unwrap_or_default();
        let cluster = secret.strip_suffix("-kubeconfig").unwrap_or(secret);
        let value = base64::engine::general_purpose::STANDARD.encode(kubeconfig_for(cluster));
        let body = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": secret, "namespace": "default"}, "data": {"value": value}});
        ("200 OK", body.to_string())
    }

    /// Serves until the test ends; returns a kubeconfig for it in `dir`.
    fn secret_server(dir: &Path) -> PathBuf {
        stand_in_api::serve(&dir.join("config"), "seed", secret)
    }

    fn get(dir: &Path, kubeconfig: &Path, name: &str, extra: &[&str]) -> Output {
        let path = kubeconfig.display().to_string();
        let mut args = vec![
            "--kubeconfig",
            &path,
            "get",
            "kubeconfig",
            name,
            "--convention",
            "cluster-api",
        ];
        args.extend_from_slice(extra);
        Run::kkp(&args).dir(dir).output()
    }

    #[test]
    fn an_exec_kubeconfig_is_refused_until_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = secret_server(dir.path());
        let before = std::fs::read_to_string(&kubeconfig).unwrap();
        let out_file = dir.path().join("exec.kubeconfig");
        let out_path = out_file.display().to_string();
        for extra in [
            &[][..],
            &["--merge"],
            &["--output-file", &out_path],
            &["--allow-file-references"],
        ] {
            let out = get(dir.path(), &kubeconfig, "exec-demo", extra);
            assert_eq!(out.code, 1, "{extra:?}: {}", out.stderr);
            assert!(out.stdout.is_empty(), "{extra:?}: {}", out.stdout);
            assert!(
                out.stderr.starts_with(
                    "error: refusing the kubeconfig in secret default/exec-demo-kubeconfig (key \"value\"): \
                     user \"exec-demo\" sets users[0].user.exec (runs the command \"/bin/sh\")."
                ),
                "{extra:?}: {}",
                out.stderr
            );
            assert!(
                out.stderr.contains("could run any program on this machine"),
                "{}",
                out.stderr
            );
            assert!(
                out.stderr
                    .ends_with("If you trust the cluster, run the command again with --allow-exec.\n"),
                "{}",
                out.stderr
            );
        }
        assert!(!out_file.exists(), "nothing was written");
        assert_eq!(
            std::fs::read_to_string(&kubeconfig).unwrap(),
            before,
            "nothing was merged"
        );
        assert!(!dir.path().join("pwned").exists(), "nothing ran");

        let allowed = get(dir.path(), &kubeconfig, "exec-demo", &["--allow-exec"]);
        assert_eq!(allowed.code, 0, "{}", allowed.stderr);
        assert_eq!(allowed.stdout, kubeconfig_for("exec-demo"));
        let merged = get(dir.path(), &kubeconfig, "exec-demo", &["--allow-exec", "--merge"]);
        assert_eq!(merged.code, 0, "{}", merged.stderr);
        assert!(std::fs::read_to_string(&kubeconfig).unwrap().contains("touch pwned"));
        assert!(!dir.path().join("pwned").exists(), "merging runs nothing either");
    }

    #[test]
    fn a_kubeconfig_reading_local_files_is_refused_until_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = secret_server(dir.path());
        let refused = get(dir.path(), &kubeconfig, "files-demo", &["--allow-exec"]);
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        for field in ["users[0].user.client-certificate", "users[0].user.client-key"] {
            assert!(
                refused.stderr.contains(&format!(
                    "user \"files-demo\" sets {field} (reads the local file \"/etc/hostname\")"
                )),
                "{}",
                refused.stderr
            );
        }
        assert!(
            refused.stderr.contains("could read any file on this machine"),
            "{}",
            refused.stderr
        );
        assert!(
            refused
                .stderr
                .ends_with("run the command again with --allow-file-references.\n"),
            "{}",
            refused.stderr
        );
        let allowed = get(dir.path(), &kubeconfig, "files-demo", &["--allow-file-references"]);
        assert_eq!(allowed.code, 0, "{}", allowed.stderr);
        assert_eq!(allowed.stdout, kubeconfig_for("files-demo"));
    }

    #[test]
    fn concurrent_merges_into_one_file_keep_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = secret_server(dir.path());
        let names: Vec<String> = (0..6).map(|i| format!("demo{i}")).collect();
        let runs: Vec<_> = names
            .iter()
            .map(|name| {
                let (dir, kubeconfig, name) = (dir.path().to_owned(), kubeconfig.clone(), name.clone());
                std::thread::spawn(move || get(&dir, &kubeconfig, &name, &["--merge"]))
            })
            .collect();
        for run in runs {
            let out = run.join().expect("the run finished");
            assert_eq!(out.code, 0, "{}", out.stderr);
        }
        let merged: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap();
        for list in ["clusters", "users", "contexts"] {
            let got: Vec<&str> = merged[list]
                .as_sequence()
                .expect("a list")
                .iter()
                .filter_map(|e| e["name"].as_str())
                .collect();
            for want in names.iter().map(String::as_str).chain(["seed"]) {
                assert!(got.contains(&want), "{list}: {want} missing from {got:?}");
            }
        }
        assert!(!dir.path().join("config.lock").exists(), "the lock is released");
    }
}

mod policy_test {
    use super::*;

    const FEW_WORKERS: &str = "apiVersion: policy.kubectl-kkp.io/v1alpha1\nkind: AdmissionPolicy\nmetadata:\n  \
                               name: few-workers\nspec:\n  rules:\n    maxWorkers: 4\n";

    /// The fixture's Cluster, and its MachineDeployment as `name` with 3 replicas.
    fn cluster_and_worker(name: &str) -> (String, String) {
        let text = std::fs::read_to_string(fixtures().join("cluster-valid.yaml")).unwrap();
        let (cluster, md) = text.split_once("\n---\n").unwrap();
        let md = md
            .replace("name: k7x2mvq9tn-worker", &format!("name: {name}"))
            .replace("replicas: 2", "replicas: 3");
        (cluster.to_owned(), md)
    }

    /// `policy test` on the files in `dir`, as JSON: the exit code and each object's
    /// `(name, allowed, violation messages)`.
    fn policy_test(dir: &Path, files: &[&str]) -> (i32, Vec<(String, bool, Vec<String>)>) {
        let mut args = vec!["policy", "test", "-o", "json"];
        for f in files {
            args.extend(["-f", f]);
        }
        let out = Run::kkp(&args).dir(dir).output();
        let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("a JSON report");
        let results = report["results"].as_array().expect("results").iter();
        let results = results
            .map(|r| {
                let messages = r["violations"].as_array().into_iter().flatten();
                (
                    r["name"].as_str().unwrap_or_default().to_owned(),
                    r["allowed"] == true,
                    messages
                        .map(|v| v["message"].as_str().unwrap_or_default().to_owned())
                        .collect(),
                )
            })
            .collect();
        (out.code, results)
    }

    #[test]
    fn max_workers_totals_over_the_objects_given_together() {
        let dir = tempfile::tempdir().unwrap();
        let (cluster, a) = cluster_and_worker("workers-a");
        let (_, b) = cluster_and_worker("workers-b");
        std::fs::write(dir.path().join("policy.yaml"), FEW_WORKERS).unwrap();
        std::fs::write(
            dir.path().join("objects.yaml"),
            format!("{cluster}\n---\n{a}\n---\n{b}"),
        )
        .unwrap();
        std::fs::write(dir.path().join("a.yaml"), &a).unwrap();
        std::fs::write(dir.path().join("b.yaml"), &b).unwrap();

        let total = "6 workers across 2 MachineDeployments exceed the maximum of 4 per cluster".to_owned();
        let (code, together) = policy_test(dir.path(), &["policy.yaml", "objects.yaml"]);
        assert_eq!(code, 1);
        assert_eq!(
            together,
            [
                ("k7x2mvq9tn".to_owned(), true, vec![]),
                ("workers-a".to_owned(), false, vec![total.clone()]),
                ("workers-b".to_owned(), false, vec![total]),
            ]
        );
        // The same objects in several files are the same set.
        let (code, split) = policy_test(dir.path(), &["policy.yaml", "a.yaml", "b.yaml"]);
        assert_eq!(code, 1);
        assert!(split.iter().all(|(_, allowed, _)| !allowed), "{split:?}");
        // Each MachineDeployment alone is what the webhook sees: within the limit.
        for alone in ["a.yaml", "b.yaml"] {
            let (code, results) = policy_test(dir.path(), &["policy.yaml", alone]);
            assert_eq!(code, 0, "{results:?}");
            assert!(results[0].1 && results[0].2.is_empty(), "{results:?}");
        }
        // validate judges the same set with the same engine (it takes no policies): valid.
        let validated = Run::kkp(&["validate", "-f", "objects.yaml"]).dir(dir.path()).output();
        assert_eq!(validated.code, 0, "{validated}");
    }
}
