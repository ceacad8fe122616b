//! `kubectl kkp generate machinedeployments`: KubeOne's `kubeone_workers` Terraform output as
//! machine-controller MachineDeployments, defaulted and checked by the engine, offline.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use kkp_crds::versions;

use super::generate::{admit, write_file};
use crate::output::{self, OutputFormat};
use crate::platform::{Platform, PlatformFiles};
use crate::terraform::{self, workers};

pub const ABOUT: &str = "\
Print machine-controller MachineDeployments (cluster.k8s.io/v1alpha1, namespace kube-system) for
the worker pools of KubeOne's Terraform output, without contacting any cluster.

The input is the JSON of `terraform output -json` of a Terraform configuration with KubeOne's
output.tf: each entry of its kubeone_workers output is a pool (name, replicas, providerSpec) and
becomes one MachineDeployment as KubeOne makes it: named for the pool, its machines labelled
workerset=POOL (plus the pool's labels), providerSpec.annotations on the MachineDeployment,
machineObjectAnnotations on the Machines, nodeAnnotations and taints on the Nodes, and the rest of
providerSpec (cloudProviderSpec, operatingSystem, operatingSystemSpec, sshPublicKeys, network) as
the machines' providerSpec with cloudProvider set. AWS machines get the tag
kubernetes.io/cluster/CLUSTER=shared, as KubeOne gives them.

The cloud provider is kubeone_hosts.control_plane.cloud_provider of the output, or --provider.
Every invalid field of every pool is reported at once; then, unless --skip-validation is given,
the MachineDeployments are defaulted and validated by the same engine as the admission webhook,
for the kubelet version --kubernetes-version (default: the platform configuration's default).

The output is applied to the user cluster, where machine-controller runs (kubectl apply with the
kubeconfig of `kubectl kkp get kubeconfig CLUSTER`).";

pub const AFTER_HELP: &str = "\
Examples:
  # The workers of a KubeOne Terraform configuration, for cluster demo
  terraform output -json > tf.json
  kubectl kkp generate machinedeployments --terraform-output tf.json --cluster demo

  # Straight from Terraform, with the kubelet version of the cluster
  terraform output -json | kubectl kkp generate machinedeployments --terraform-output - \\
      --cluster demo --kubernetes-version 1.35.7 > workers.yaml";

#[derive(Debug, Args)]
pub struct GenerateWorkersArgs {
    /// The JSON of `terraform output -json` with KubeOne's kubeone_workers output; `-` reads stdin.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub terraform_output: String,
    /// The cluster the workers join (its KKP cluster ID, or KubeOne's cluster name).
    #[arg(long, value_name = "NAME")]
    pub cluster: String,
    /// The cloud provider, machine-controller's or KKP's name [default:
    /// kubeone_hosts.control_plane.cloud_provider of the output].
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// The kubelet version of the machines [default: the platform configuration's default].
    #[arg(long, value_name = "VERSION")]
    pub kubernetes_version: Option<String>,
    /// Print the MachineDeployments as converted: no defaulting, no validation by the engine.
    #[arg(long)]
    pub skip_validation: bool,
    /// Output format [default: yaml].
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Write the objects to FILE (created with mode 0600) instead of stdout; `-` is stdout.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub write_to: Option<PathBuf>,
    #[command(flatten)]
    pub platform: PlatformFiles,
}

pub fn run(args: &GenerateWorkersArgs) -> anyhow::Result<()> {
    let platform = Platform::from_files(&args.platform)?;
    let version = match &args.kubernetes_version {
        Some(v) => match versions::parse(v) {
            Ok(parsed) => parsed,
            Err(e) => bail!(
                "--kubernetes-version {v:?} is not a Kubernetes version ({e}); use MAJOR.MINOR.PATCH, such as 1.35.7"
            ),
        },
        None => platform.default_version().clone(),
    };
    if args.cluster.trim().is_empty() {
        bail!("--cluster must name the cluster the workers join");
    }
    let tf = terraform::read(&args.terraform_output)?;
    let opts = workers::Options {
        cluster_name: args.cluster.clone(),
        provider: args.provider.clone(),
        kubelet_version: version.to_string(),
    };
    let objects = workers::machine_deployments(&tf, &opts)?;
    if objects.is_empty() {
        bail!("{} holds no worker pools: nothing to print", workers::WORKERS_OUTPUT);
    }
    let objects = if args.skip_validation {
        objects
    } else {
        admit(objects, &platform, Some(version))?
    };
    let format = args.output.unwrap_or_default();
    match args.write_to.as_deref() {
        None => output::print_objects(&objects, format),
        Some(p) if p == Path::new("-") => output::print_objects(&objects, format),
        Some(path) => write_file(path, &objects, format)?,
    }
    Ok(())
}
