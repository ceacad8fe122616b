//! The demo behind `make demo`: two real control planes on loopback (a management "seed" and a
//! user cluster), the CRDs, the webhook registered with both, two admission policies, and the
//! plugin run through the real kubectl to create a cluster and reach it. A stand-in plays KKP's
//! seed controller (see [`crate::fake_kkp`]), since KKP itself cannot run here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kkp_webhook::policies::{PolicyWatch, WatchOptions};
use kkp_webhook::{Config, Server};

use crate::fake_kkp::{FakeKkp, FakeKkpHandle};
use crate::plugin_support::{self, Ran};
use crate::webhook_support::{ServingCert, register_webhooks, shipped_configurations};
use crate::{ControlPlane, ControlPlaneOptions, HarnessError, install_crds};

/// How long one plugin or kubectl run may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// A demo step that did not go as the demo expects.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Harness(#[from] HarnessError),
    #[error("{step}: {detail}")]
    Step { step: String, detail: String },
}

fn step_error(step: &str, detail: impl Into<String>) -> DemoError {
    DemoError::Step {
        step: step.to_owned(),
        detail: detail.into(),
    }
}

/// The running demo: everything stops when it is dropped.
pub struct Demo {
    // Dropped in this order: the stand-in controller first, the control planes last.
    _fake_kkp: FakeKkpHandle,
    _policies: PolicyWatch,
    _webhook: Server,
    pub seed: ControlPlane,
    pub user: ControlPlane,
    pub workdir: tempfile::TempDir,
    _cert: ServingCert,
}

impl Demo {
    /// The kubeconfig the demo wrote for the cluster it created.
    pub fn cluster_kubeconfig(&self) -> PathBuf {
        self.workdir.path().join("demo.kubeconfig")
    }
}

const POLICIES: &str = r#"apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: allowed-providers
spec:
  enforcement: Deny
  rules:
    providers: [hetzner, openstack, vsphere]
    maxReplicas: 10
---
apiVersion: policy.kubectl-kkp.io/v1alpha1
kind: AdmissionPolicy
metadata:
  name: team-label
spec:
  enforcement: Warn
  rules:
    requiredLabels: [team]
"#;

const MINIMAL_CLUSTER: &str = r#"apiVersion: kubermatic.k8c.io/v1
kind: Cluster
metadata:
  name: minimal
  labels: { project-id: demo-project, team: platform }
spec:
  humanReadableName: as little as a user writes
  version: 1.35.7
  cloud:
    dc: hetzner-fsn1
    hetzner:
      credentialsReference: { name: credential-hetzner-minimal, namespace: kubermatic }
"#;

const INVALID_CLUSTER: &str = r#"apiVersion: kubermatic.k8c.io/v1
kind: Cluster
metadata:
  name: broken
  labels: { project-id: demo-project, team: platform }
spec:
  humanReadableName: broken
  version: 1.29.0
  containerRuntime: docker
  exposeStrategy: Ingress
  cloud:
    dc: hetzner-fsn1
    hetzner: { token: hz-token }
  clusterNetwork:
    dnsDomain: example.local
    pods: { cidrBlocks: [10.0.0.0/33] }
"#;

const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl demo@kubectl-kkp";

/// Where the demo writes: a terminal, or a buffer in tests.
pub struct Narrator<W: Write> {
    out: W,
    began: Instant,
}

impl<W: Write> Narrator<W> {
    pub fn new(out: W) -> Self {
        Narrator {
            out,
            began: Instant::now(),
        }
    }

    fn heading(&mut self, text: &str) {
        let _ = writeln!(self.out, "\n==> {text}  [{:.0?}]", self.began.elapsed());
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    fn command(&mut self, shown: &str, ran: &Ran) {
        let _ = writeln!(self.out, "$ {shown}");
        for text in [&ran.stdout, &ran.stderr] {
            for line in text.lines() {
                let _ = writeln!(self.out, "    {line}");
            }
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

struct Shell<'a> {
    seed: &'a ControlPlane,
    plugin_dir: &'a Path,
    home: &'a Path,
}

impl Shell<'_> {
    /// `kubectl ARGS` against `kubeconfig` with the plugin on PATH; `input` becomes the file `-` names.
    fn kubectl(&self, kubeconfig: &Path, args: &[&str], input: Option<&str>) -> Result<Ran, DemoError> {
        let mut command = plugin_support::kubectl(self.seed.bin_dir(), self.plugin_dir, kubeconfig, self.home);
        let file = self.home.join("input.yaml");
        if let Some(text) = input {
            std::fs::write(&file, text).map_err(|e| step_error("writing an input file", e.to_string()))?;
        }
        for a in args {
            if *a == "-" && input.is_some() {
                command.arg(&file);
            } else {
                command.arg(a);
            }
        }
        Ok(plugin_support::run(command, RUN_TIMEOUT)?)
    }
}

fn expect(step: &str, ran: &Ran, success: bool) -> Result<(), DemoError> {
    if (ran.code == Some(0)) == success {
        Ok(())
    } else {
        Err(step_error(
            step,
            format!(
                "expected {}, got:\n{}",
                if success { "success" } else { "a refusal" },
                ran.both()
            ),
        ))
    }
}

/// Starts everything and walks through the demo, narrating to `n`. The returned [`Demo`] keeps
/// the control planes and the webhook running until it is dropped.
pub async fn run<W: Write>(n: &mut Narrator<W>) -> Result<Demo, DemoError> {
    n.heading("Starting a management (seed) and a user control plane: real kube-apiserver and etcd");
    let plugin_dir = plugin_support::plugin_dir()?;
    let (seed, user) = tokio::try_join!(
        ControlPlane::start_with(ControlPlaneOptions::named("seed")),
        ControlPlane::start_with(ControlPlaneOptions::named("user")),
    )?;
    n.line(&format!("seed  {}   user  {}", seed.server_url(), user.server_url()));

    n.heading("Installing the CRDs: Cluster and AdmissionPolicy on the seed, MachineDeployment in the user cluster");
    let seed_client = seed.client().await?;
    let user_client = user.client().await?;
    for (file, yaml) in kkp_crds::crdgen::all() {
        let client = if file.starts_with("cluster.k8s.io") {
            &user_client
        } else {
            &seed_client
        };
        install_crds(client, &yaml).await?;
        n.line(&format!("installed crds/{file}"));
    }

    n.heading("Starting kkp-webhook on 127.0.0.1 and registering it with both apiservers");
    let cert = ServingCert::generate("kkp-webhook")?;
    let server = Server::bind(Config::for_loopback(&cert.cert_path, &cert.key_path))
        .await
        .map_err(|e| step_error("starting the webhook", e.to_string()))?;
    let policies = PolicyWatch::spawn(seed_client.clone(), server.state().clone(), WatchOptions::default());
    let base_url = format!("https://127.0.0.1:{}", server.tls_addr().port());
    let configurations = shipped_configurations()?;
    for client in [&seed_client, &user_client] {
        register_webhooks(client, configurations, &base_url, &cert.ca_pem).await?;
    }
    n.line(&format!(
        "serving {base_url}/mutate and {base_url}/validate; metrics on http://{}/metrics",
        server.health_addr()
    ));

    let workdir = tempfile::Builder::new()
        .prefix("kkp-demo-")
        .tempdir()
        .map_err(|e| step_error("a work dir", e.to_string()))?;
    let shell = Shell {
        seed: &seed,
        plugin_dir,
        home: workdir.path(),
    };
    let seed_kc = seed.kubeconfig_path();

    n.heading("Cluster admins write policies: only some providers (Deny), a team label (Warn)");
    let ran = shell.kubectl(seed_kc, &["apply", "--server-side", "-f", "-"], Some(POLICIES))?;
    n.command("kubectl apply --server-side -f policies.yaml", &ran);
    expect("creating the policies", &ran, true)?;
    if !policies.wait_synced(Duration::from_secs(30)).await {
        return Err(step_error(
            "loading the policies",
            "the webhook did not list the policies in 30s",
        ));
    }
    let fake_kkp = FakeKkp::new(&user, "").spawn(&seed);

    n.heading("The webhook defaults what users leave out (server-side dry run of a minimal Cluster)");
    let ran = wait_for_webhook(&shell, seed_kc).await?;
    n.command("kubectl create --dry-run=server -o yaml -f minimal-cluster.yaml", &ran);

    n.heading("An invalid Cluster is denied, with every field error at once");
    let ran = shell.kubectl(seed_kc, &["apply", "--server-side", "-f", "-"], Some(INVALID_CLUSTER))?;
    n.command("kubectl apply --server-side -f broken-cluster.yaml", &ran);
    expect("the invalid cluster", &ran, false)?;

    let flags = |provider: &'static str| -> Vec<&'static str> {
        let mut f = vec![
            "--provider",
            provider,
            "--project",
            "demo-project",
            "--ssh-public-key",
            SSH_KEY,
        ];
        match provider {
            "hetzner" => f.extend(["--datacenter", "hetzner-fsn1", "--set", "HETZNER_LOCATION=fsn1"]),
            _ => f.extend([
                "--datacenter",
                "aws-eu-central-1a",
                "--set",
                "AWS_REGION=eu-central-1",
                "--set",
                "AWS_VPC_ID=vpc-0123456789",
                "--set",
                "AWS_SECURITY_GROUP_ID=sg-0123456789",
            ]),
        }
        f
    };

    n.heading("The plugin checks the seed's policies before it sends anything");
    let mut args = vec!["kkp", "create", "cluster", "aws-demo"];
    args.extend(flags("aws"));
    let ran = shell.kubectl(seed_kc, &args, None)?;
    n.command("kubectl kkp create cluster aws-demo --provider aws ...", &ran);
    expect("a cluster on a provider the policy forbids", &ran, false)?;

    n.heading("The webhook enforces the same policy, whoever sends the objects");
    let mut args = vec!["kkp", "generate", "cluster", "aws-demo"];
    args.extend(flags("aws"));
    let generated = shell.kubectl(seed_kc, &args, None)?;
    expect("generating an aws cluster", &generated, true)?;
    let cluster_only = generated.stdout.split("\n---").next().unwrap_or_default().to_owned();
    let ran = shell.kubectl(seed_kc, &["apply", "--server-side", "-f", "-"], Some(&cluster_only))?;
    n.command(
        "kubectl kkp generate cluster aws-demo --provider aws ... > aws.yaml; kubectl apply --server-side -f aws.yaml",
        &ran,
    );
    expect("applying a cluster on a provider the policy forbids", &ran, false)?;

    n.heading("Generating a cluster offline: defaulted and validated by the same engine as the webhook");
    let mut args = vec!["kkp", "generate", "cluster", "demo"];
    args.extend(flags("hetzner"));
    let ran = shell.kubectl(seed_kc, &args, None)?;
    n.command(
        "kubectl kkp generate cluster demo --provider hetzner --datacenter hetzner-fsn1 ...",
        &ran,
    );
    expect("generating the cluster", &ran, true)?;

    n.heading("Creating it: server-side apply, waiting for KKP to report it Running, then the workers");
    let mut args = vec!["kkp", "create", "cluster", "demo", "--timeout", "3m"];
    args.extend(flags("hetzner"));
    let ran = shell.kubectl(seed_kc, &args, None)?;
    n.command("kubectl kkp create cluster demo --provider hetzner ... --wait", &ran);
    expect("creating the cluster", &ran, true)?;

    let ran = shell.kubectl(seed_kc, &["kkp", "get", "clusters"], None)?;
    n.command("kubectl kkp get clusters", &ran);
    let ran = shell.kubectl(seed_kc, &["kkp", "describe", "cluster", "demo"], None)?;
    n.command("kubectl kkp describe cluster demo", &ran);

    n.heading("Fetching its kubeconfig and using it");
    let demo_kc = workdir.path().join("demo.kubeconfig");
    let demo_kc_text = demo_kc.to_string_lossy().into_owned();
    let ran = shell.kubectl(
        seed_kc,
        &["kkp", "get", "kubeconfig", "demo", "--output-file", &demo_kc_text],
        None,
    )?;
    n.command("kubectl kkp get kubeconfig demo --output-file demo.kubeconfig", &ran);
    expect("fetching the kubeconfig", &ran, true)?;
    let ran = shell.kubectl(&demo_kc, &["get", "machinedeployments", "-n", "kube-system"], None)?;
    n.command(
        "kubectl --kubeconfig demo.kubeconfig get machinedeployments -n kube-system",
        &ran,
    );
    expect("reading the workers in the new cluster", &ran, true)?;
    if !ran.stdout.contains("demo-worker") {
        return Err(step_error("reading the workers in the new cluster", ran.both()));
    }

    Ok(Demo {
        _fake_kkp: fake_kkp,
        _policies: policies,
        _webhook: server,
        seed,
        user,
        workdir,
        _cert: cert,
    })
}

/// Retries a server-side dry run of the minimal Cluster until the webhook has defaulted it: the
/// apiserver picks up new webhook configurations a moment after they are created.
async fn wait_for_webhook(shell: &Shell<'_>, kubeconfig: &Path) -> Result<Ran, DemoError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ran = shell.kubectl(
            kubeconfig,
            &["create", "--dry-run=server", "-o", "yaml", "-f", "-"],
            Some(MINIMAL_CLUSTER),
        )?;
        if ran.code == Some(0) && ran.stdout.contains("clusterNetwork") {
            return Ok(ran);
        }
        if Instant::now() > deadline {
            return Err(step_error("waiting for the webhook", ran.both()));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
