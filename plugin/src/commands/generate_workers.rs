//! `kubectl kkp generate machinedeployments`: KubeOne's `kubeone_workers` Terraform output as
//! machine-controller MachineDeployments, defaulted and checked by the engine, offline.

use std::path::Path;

use anyhow::bail;
use kkp_crds::versions;

use super::verdicts;
use crate::cli::generate::GenerateWorkersArgs;
use crate::output::{self};
use crate::platform::Platform;
use crate::terraform::{self, workers};

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
        verdicts::admit_generated(objects, &platform, Some(version))?
    };
    let format = args.output.unwrap_or_default();
    match args.write_to.as_deref() {
        None => output::print_objects(&objects, format),
        Some(p) if p == Path::new("-") => output::print_objects(&objects, format),
        Some(path) => output::write_file(path, &objects, format)?,
    }
    Ok(())
}
