//! `generate cluster` and `create cluster --dry-run=client` with `--infrastructure`: the Kubernetes
//! provider's real templates, read in place, laid out as a local clusterctl repository in a
//! temporary folder (v0.2.0 holds the end-to-end test's template, v0.3.0 the release's two), found
//! through clusterctl's config file, its overrides folder and `--config`.

use std::path::{Path, PathBuf};

fn upstream_examples() -> PathBuf {
    // `scripts/test.sh` finds the folder and exports it; a plain `cargo test` uses the checkout's sibling.
    std::env::var_os("KKP_UPSTREAM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/upstream-examples")))
}

/// Links `target` at `link` (a copy where links are not available), so the template is read in place.
fn link(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    assert!(target.is_file(), "{} is missing", target.display());
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, link).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(target, link).unwrap();
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A home folder with clusterctl's config file and a local repository of the Kubernetes provider.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let capi = upstream_examples().join("capi/kubernetes");
        let repo = dir.path().join("repository/infrastructure-kubernetes");
        link(
            &capi.join("e2e/data/infrastructure-kubernetes/cluster-template/cluster-template.yaml"),
            &repo.join("v0.2.0/cluster-template.yaml"),
        );
        link(
            &capi.join("release/cluster-template.yaml"),
            &repo.join("v0.3.0/cluster-template.yaml"),
        );
        link(
            &capi.join("release/cluster-template-persistent-control-plane.yaml"),
            &repo.join("v0.3.0/cluster-template-persistent-control-plane.yaml"),
        );
        for v in ["v0.2.0", "v0.3.0"] {
            write(&repo.join(v).join("infrastructure-components.yaml"), "# components\n");
        }
        std::fs::create_dir_all(repo.join("not-a-version")).unwrap();
        let repo = Repo { dir };
        write(
            &repo.config_home().join("cluster-api/clusterctl.yaml"),
            &format!(
                "providers:\n\
                 - name: kubernetes\n  type: InfrastructureProvider\n  \
                 url: file://{}/repository/infrastructure-kubernetes/latest/infrastructure-components.yaml\n\
                 KUBERNETES_CONTROL_PLANE_SERVICE_TYPE: NodePort\n",
                repo.dir.path().display()
            ),
        );
        repo
    }

    fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_kubectl-kkp"));
        cmd.args(args)
            .env_clear()
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        Output::of(self.cmd(args))
    }

    fn run_env(&self, args: &[&str], key: &str, value: &str) -> Output {
        let mut cmd = self.cmd(args);
        cmd.env(key, value);
        Output::of(cmd)
    }
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    fn of(mut cmd: assert_cmd::Command) -> Self {
        let out = cmd.output().expect("the binary runs");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(self) -> String {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        self.stdout
    }

    fn fails(self) -> String {
        assert_eq!(self.code, 1, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self.stderr
    }
}

const GENERATE: [&str; 3] = ["generate", "cluster", "demo"];

fn generate<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    GENERATE.iter().chain(extra).copied().collect()
}

/// The row of `--list-variables` for a variable, split into its columns.
fn row(table: &str, name: &str) -> Vec<String> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{table}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn latest_release_template_with_the_config_file_s_variables() {
    let repo = Repo::new();
    let out = repo
        .run(&generate(&[
            "--infrastructure",
            "kubernetes",
            "--kubernetes-version",
            "v1.35.7",
            "--control-plane-machine-count",
            "3",
            "--worker-machine-count",
            "2",
            "--target-namespace",
            "clusters",
        ]))
        .ok();
    assert!(
        out.contains("apiVersion: infrastructure.dippynark.co.uk/v1alpha3"),
        "v0.3.0 is the latest:\n{out}"
    );
    assert!(out.contains("controlPlaneServiceType: NodePort"), "{out}");
    assert!(out.contains("  version: v1.35.7\n"), "{out}");
    assert!(
        out.contains("  replicas: 3\n") && out.contains("  replicas: 2\n"),
        "{out}"
    );
    assert!(out.contains("  name: demo\n"), "{out}");
    // As clusterctl: every object of the template goes into the target namespace.
    let namespaces: Vec<String> = serde_yaml::Deserializer::from_str(&out)
        .map(|doc| {
            let doc = <serde_yaml::Value as serde::Deserialize>::deserialize(doc).expect("YAML");
            doc["metadata"]["namespace"].as_str().unwrap_or("<none>").to_owned()
        })
        .collect();
    assert!(namespaces.len() > 3, "{out}");
    assert!(namespaces.iter().all(|n| n == "clusters"), "{namespaces:?}");
}

#[test]
fn pinned_version_and_flavor() {
    let repo = Repo::new();
    let old = repo
        .run(&generate(&["-i", "kubernetes:v0.2.0", "--list-variables"]))
        .ok();
    assert!(!old.contains("ETCD_STORAGE_CLASS_NAME"), "{old}");
    let old = repo.run(&generate(&["-i", "kubernetes:v0.2.0"])).ok();
    assert!(
        old.contains("infrastructure.lukeaddison.co.uk/v1alpha3"),
        "v0.2.0 is the e2e template:\n{old}"
    );

    let table = repo
        .run(&generate(&[
            "--infrastructure",
            "kubernetes:v0.3.0",
            "--flavor",
            "persistent-control-plane",
            "--list-variables",
        ]))
        .ok();
    assert_eq!(
        row(&table, "ETCD_STORAGE_CLASS_NAME"),
        ["ETCD_STORAGE_CLASS_NAME", "yes", "missing"]
    );
}

#[test]
fn list_variables_names_each_source() {
    let repo = Repo::new();
    let args = generate(&[
        "--infrastructure",
        "kubernetes",
        "--worker-machine-count",
        "2",
        "--list-variables",
    ]);
    let table = repo.run(&args).ok();
    assert_eq!(
        row(&table, "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE"),
        ["KUBERNETES_CONTROL_PLANE_SERVICE_TYPE", "yes", "clusterctl", "NodePort"]
    );
    assert_eq!(
        row(&table, "WORKER_MACHINE_COUNT"),
        ["WORKER_MACHINE_COUNT", "no", "flag", "2"]
    );
    assert_eq!(row(&table, "CLUSTER_NAME"), ["CLUSTER_NAME", "yes", "flag", "demo"]);
    assert_eq!(row(&table, "CONTROL_PLANE_MACHINE_COUNT")[2], "default");
    assert!(row(&table, "KUBERNETES_VERSION")[3].starts_with('v'), "{table}");

    // The environment beats the config file, and a flag beats both.
    let table = repo
        .run_env(&args, "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE", "LoadBalancer")
        .ok();
    assert_eq!(
        row(&table, "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE")[2..],
        ["env", "LoadBalancer"]
    );
    let table = repo.run_env(&args, "WORKER_MACHINE_COUNT", "7").ok();
    assert_eq!(row(&table, "WORKER_MACHINE_COUNT")[2..], ["flag", "2"]);
    let mut with_set = args.clone();
    with_set.extend(["--set", "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE=ClusterIP"]);
    let table = repo.run(&with_set).ok();
    assert_eq!(
        row(&table, "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE")[2..],
        ["flag", "ClusterIP"]
    );
}

#[test]
fn overrides_folder_takes_precedence() {
    let repo = Repo::new();
    write(
        &repo
            .config_home()
            .join("cluster-api/overrides/infrastructure-kubernetes/v0.3.0/cluster-template.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${CLUSTER_NAME}-override\n",
    );
    let out = repo.run(&generate(&["--infrastructure", "kubernetes"])).ok();
    assert_eq!(
        out,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-override\n"
    );
    let pinned = repo.run(&generate(&["--infrastructure", "kubernetes:v0.2.0"])).ok();
    assert!(
        pinned.contains("kind: KubernetesCluster"),
        "the override is for v0.3.0 only:\n{pinned}"
    );

    // overridesFolder of the config file moves it.
    let elsewhere = repo.dir.path().join("my-overrides");
    write(
        &elsewhere.join("infrastructure-kubernetes/v0.3.0/cluster-template.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n",
    );
    let config = repo.config_home().join("cluster-api/clusterctl.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    write(&config, &format!("{text}overridesFolder: {}\n", elsewhere.display()));
    let out = repo.run(&generate(&["--infrastructure", "kubernetes"])).ok();
    assert!(out.contains("name: elsewhere"), "{out}");
}

#[test]
fn config_flag_names_another_file() {
    let repo = Repo::new();
    let other = repo.dir.path().join("other.yaml");
    write(
        &other,
        &format!(
            "providers:\n- name: kubernetes\n  type: InfrastructureProvider\n  \
             url: file://{}/repository/infrastructure-kubernetes/v0.2.0/infrastructure-components.yaml\n\
             KUBERNETES_CONTROL_PLANE_SERVICE_TYPE: LoadBalancer\n",
            repo.dir.path().display()
        ),
    );
    let out = repo
        .run(&generate(&["--infrastructure", "kubernetes", "--config", "other.yaml"]))
        .ok();
    assert!(
        out.contains("infrastructure.lukeaddison.co.uk"),
        "the URL pins v0.2.0:\n{out}"
    );
    assert!(out.contains("controlPlaneServiceType: LoadBalancer"), "{out}");
}

#[test]
fn create_dry_run_uses_the_same_template() {
    let repo = Repo::new();
    let out = repo
        .run(&[
            "create",
            "cluster",
            "demo",
            "--infrastructure",
            "kubernetes",
            "--dry-run=client",
            "-n",
            "clusters",
        ])
        .ok();
    assert!(out.contains("kind: KubeadmControlPlane"), "{out}");
    assert!(out.contains("controlPlaneServiceType: NodePort"), "{out}");
}

#[test]
fn remote_repositories_are_refused_with_what_to_do() {
    let repo = Repo::new();
    let err = repo.run(&generate(&["--infrastructure", "aws"])).fails();
    assert!(
        err.contains("--infrastructure aws: the provider's repository is https://github.com/kubernetes-sigs/cluster-api-provider-aws/releases/latest/infrastructure-components.yaml, which is remote"),
        "{err}"
    );
    assert!(err.contains("{basepath}/infrastructure-aws/{version}/"), "{err}");
    assert!(err.contains("url: file:///"), "{err}");
}

#[test]
fn bad_input_names_the_flag_or_field() {
    let repo = Repo::new();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--infrastructure", "nosuch"],
            "--infrastructure nosuch: no infrastructure provider is named \"nosuch\"",
        ),
        (
            vec!["--infrastructure", "kubernetes:v9.9.9"],
            "--infrastructure kubernetes:v9.9.9: there is no version folder",
        ),
        (
            vec!["--infrastructure", "kubernetes", "--flavor", "huge"],
            "--flavor huge: infrastructure-kubernetes v0.3.0 has no cluster-template-huge.yaml",
        ),
        (
            vec!["--infrastructure", "kubernetes:"],
            "--infrastructure \"kubernetes:\" has an empty version",
        ),
        (
            vec!["--infrastructure", "kubernetes", "--config", "absent.yaml"],
            "--config absent.yaml: cannot read the file",
        ),
        (
            vec!["--infrastructure", "kubernetes", "--target-namespace", "x", "-n", "y"],
            "disagree",
        ),
    ];
    for (args, says) in cases {
        let err = repo.run(&generate(&args)).fails();
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err = repo
        .run(&generate(&["--infrastructure", "kubernetes", "--flavor", "huge"]))
        .fails();
    assert!(
        err.contains("its flavors are: (default, no --flavor), persistent-control-plane"),
        "{err}"
    );

    let config = repo.config_home().join("cluster-api/clusterctl.yaml");
    write(
        &config,
        "providers:\n- name: kubernetes\n  type: Infra\n  url: file:///x/infrastructure-kubernetes/v1.0.0/c.yaml\n",
    );
    let err = repo.run(&generate(&["--infrastructure", "kubernetes"])).fails();
    assert!(
        err.contains("providers[0].type \"Infra\" is not a provider type"),
        "{err}"
    );
    assert!(
        err.contains(&config.display().to_string()),
        "the message names the file: {err}"
    );
    write(&config, "providers: [\n");
    let err = repo.run(&generate(&["--infrastructure", "kubernetes"])).fails();
    assert!(err.contains("is not valid YAML"), "{err}");

    let clash = repo
        .run(&generate(&["--infrastructure", "kubernetes", "--provider", "aws"]))
        .fails_or_usage();
    assert!(
        clash.contains("--infrastructure") && clash.contains("--provider"),
        "{clash}"
    );
}

#[test]
fn from_templates_get_the_config_file_s_variables_and_built_in_ones_do_not() {
    let repo = Repo::new();
    let template = upstream_examples().join("capi/kubernetes/release/cluster-template.yaml");
    let table = repo
        .run(&generate(&["--from", template.to_str().unwrap(), "--list-variables"]))
        .ok();
    assert_eq!(
        row(&table, "KUBERNETES_CONTROL_PLANE_SERVICE_TYPE")[2..],
        ["clusterctl", "NodePort"]
    );

    let config = repo.config_home().join("cluster-api/clusterctl.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    write(&config, &format!("{text}HETZNER_LOCATION: fsn1\n"));
    let table = repo.run(&generate(&["--provider", "hetzner", "--list-variables"])).ok();
    assert_eq!(row(&table, "HETZNER_LOCATION")[2], "missing", "{table}");
    let err = repo
        .run(&generate(&["--provider", "hetzner", "--config", "x.yaml"]))
        .fails_or_usage();
    assert!(err.contains("--config") && err.contains("--provider"), "{err}");
}

impl Output {
    /// A refused command line: clap's usage error.
    fn fails_or_usage(self) -> String {
        assert_ne!(self.code, 0, "{}", self.stdout);
        self.stderr
    }
}
