//! `kubectl kkp validate`: what admission would answer for local files. Every KKP Cluster and
//! machine-controller MachineDeployment is defaulted and then validated by the engine, as the
//! webhook chain does; objects of other kinds are checked against their CRDs (`--crd`,
//! `--crds-from-cluster`) or reported as skipped.

use anyhow::{Context as _, bail};
use kkp_crds::crd_check::CrdSchemas;
use kkp_crds::versions;

use super::verdicts::admit::{self, CheckOptions, Checked, check_against_crds};
use super::verdicts::{self, render};
use crate::cli::validate::ValidateArgs;
use crate::exit::Outcome;
use crate::k8s::client::Connection;
use crate::platform::Platform;
use crate::printer::Printer;
use crate::settings::GlobalSettings;
use crate::template::documents;

/// The CRDs of `--crd` files and directories.
fn load_crds(paths: &[String]) -> anyhow::Result<CrdSchemas> {
    let mut docs = Vec::new();
    for file in super::files::expand(paths, true)? {
        let text = super::files::read_text(&file).with_context(|| format!("--crd {file}: cannot read"))?;
        let (found, errors) = documents::parse_stream(&text);
        if let Some(e) = errors.first() {
            bail!("--crd {file}: {e}");
        }
        docs.extend(found.into_iter().map(|d| d.value));
    }
    let crds = CrdSchemas::from_documents(&docs);
    if crds.is_empty() {
        bail!(
            "--crd {}: no CustomResourceDefinition with a schema found",
            paths.join(", ")
        );
    }
    Ok(crds)
}

pub async fn run(args: ValidateArgs, g: &GlobalSettings, printer: &Printer) -> Outcome {
    let opts = options(&args)?;
    let files = super::files::expand(&args.files, args.recursive)?;
    let mut inputs = Vec::new();
    let mut unreadable = Vec::new();
    for file in &files {
        let (found, failed) = super::files::read_objects(file);
        inputs.extend(found);
        unreadable.extend(failed);
    }
    if inputs.is_empty() && unreadable.is_empty() {
        bail!("no objects found in {}", files.join(", "));
    }
    let mut checked = admit::check(inputs, &opts);
    let mut crds = if args.crds.is_empty() {
        CrdSchemas::default()
    } else {
        load_crds(&args.crds)?
    };
    if args.crds_from_cluster {
        let conn = Connection::from_settings(&g.connection).await?;
        let others: Vec<serde_json::Value> = checked
            .iter()
            .filter(|c| !c.is_ours())
            .map(|c| c.input.value.clone())
            .collect();
        crds.add_missing(crate::k8s::crds::served_for(&conn, &others).await?);
    }
    if !crds.is_empty() {
        check_against_crds(&mut checked, &crds);
    }
    let report = render::in_format(
        args.output,
        || {
            let refs: Vec<&Checked> = checked.iter().collect();
            render::checked_text(&refs, &unreadable, files.len() > 1)
        },
        || render::checked_json(&checked, &unreadable),
    );
    verdicts::conclude(&report, render::checked_summary(&checked, unreadable.len()), printer)
}

fn options(args: &ValidateArgs) -> anyhow::Result<CheckOptions> {
    let mut opts = CheckOptions {
        platform: Platform::from_files(&args.platform)?,
        cluster_version: None,
    };
    if !args.kubernetes_versions.is_empty() {
        let mut list = Vec::new();
        for raw in args
            .kubernetes_versions
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            let v = versions::parse(raw).map_err(|e| {
                anyhow::anyhow!(
                    "--kubernetes-versions: {raw:?} is not a Kubernetes version ({e}); use MAJOR.MINOR.PATCH, such as 1.35.7"
                )
            })?;
            list.push(v);
        }
        opts.platform
            .offer_only(list)
            .ok_or_else(|| anyhow::anyhow!("--kubernetes-versions: give at least one version, such as 1.35.7"))?;
    }
    if let Some(raw) = &args.cluster_version {
        opts.cluster_version = Some(versions::parse(raw).map_err(|e| {
            anyhow::anyhow!(
                "--cluster-version {raw:?} is not a Kubernetes version ({e}); use MAJOR.MINOR.PATCH, such as 1.35.7"
            )
        })?);
    }
    Ok(opts)
}
