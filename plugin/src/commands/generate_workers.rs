//! `kubectl kkp generate machinedeployments`: KubeOne's `kubeone_workers` Terraform output as
//! machine-controller MachineDeployments, defaulted and checked by the engine, offline.

use anyhow::bail;
use kkp_crds::versions;

use super::verdicts::gate::{self, Refusal};
use crate::cli::generate::GenerateWorkersArgs;
use crate::exit::{ExitStatus, Outcome};
use crate::platform::Platform;
use crate::printer::Printer;
use crate::terraform::{self, workers};

pub fn run(args: &GenerateWorkersArgs, printer: &Printer) -> Outcome {
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
        match gate::check_generated(objects, &platform, Some(version), Refusal::GENERATE, printer) {
            Ok(objects) => objects,
            Err(status) => return Ok(status),
        }
    };
    printer.objects_to(&objects, args.output.unwrap_or_default(), args.write_to.as_deref())?;
    Ok(ExitStatus::Success)
}
