//! `kubectl kkp install`: puts the CRDs and the admission webhook into the current cluster with
//! server-side apply. Without `--cert-manager` the serving certificate is generated here (a CA
//! and a certificate for the webhook Service, kept in the `kkp-webhook-tls` Secret and trusted
//! through the webhook configurations' caBundle); an installed certificate that is still good is
//! kept, so running `install` again changes nothing.

mod certs;
mod redact;
mod rotation;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kkp_manifests::Variant;
use kube::Api;
use serde_json::Value;

use self::certs::ServingCerts;
use crate::cli::install::InstallArgs;
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::apply::{Applied, Applier, ApplyOptions, DryRun, parse_documents, sort_for_apply};
use crate::k8s::client::Connection;
use crate::k8s::errors;
use crate::k8s::resources::{self, ResolveError, Resolver};
use crate::k8s::rollout::{self, Rollout};
use crate::k8s::wait::{self, Deadline, Poll};
use crate::output::OutputFormat;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// The name of the AdmissionPolicy CRD, which the webhook needs whatever --crds says.
const POLICY_CRD: &str = "admissionpolicies.policy.kubectl-kkp.io";

/// The CRDs to install: the engine's resource CRDs with `engine_crds`, the policy CRD with either.
fn crds_to_install(engine_crds: bool, webhook: bool) -> anyhow::Result<Vec<Value>> {
    Ok(crd_objects()?
        .into_iter()
        .filter(|crd| {
            let is_policy = resources::meta_str(crd, "name") == Some(POLICY_CRD);
            if is_policy { engine_crds || webhook } else { engine_crds }
        })
        .collect())
}

/// The PolicyReport and ClusterPolicyReport CRDs, as objects, when the webhook and its report CRDs
/// are installed.
fn report_crds_to_install(webhook: bool, report_crds: bool) -> anyhow::Result<Vec<Value>> {
    let mut objects = Vec::new();
    if webhook && report_crds {
        for (file, yaml) in kkp_manifests::POLICY_REPORT_CRDS {
            objects.extend(parse_documents(yaml, file)?);
        }
    }
    Ok(objects)
}

/// The report CRDs the cluster does not have yet. They are a shared API: where another policy engine
/// installed them, its copy stays as it is (as Helm leaves existing CRDs alone), said on stderr.
async fn missing_report_crds(conn: &Connection, crds: Vec<Value>, printer: &Printer) -> anyhow::Result<Vec<Value>> {
    let api: Api<CustomResourceDefinition> = Api::all(conn.client.clone());
    let mut missing = Vec::new();
    for crd in crds {
        let name = resources::meta_str(&crd, "name").unwrap_or_default().to_owned();
        let found = api
            .get_opt(&name)
            .await
            .map_err(|e| anyhow::anyhow!(errors::explain(&e, conn, &format!("reading CRD {name}"))))?;
        if found.is_some() {
            printer.message(format_args!(
                "customresourcedefinition.apiextensions.k8s.io/{name} is already installed; kept as it is"
            ));
        } else {
            missing.push(crd);
        }
    }
    Ok(missing)
}

/// The CRDs, as objects, exactly as the engine generates them.
pub fn crd_objects() -> anyhow::Result<Vec<Value>> {
    let mut objects = Vec::new();
    for (file, yaml) in kkp_crds::crdgen::all() {
        objects.extend(parse_documents(&yaml, file)?);
    }
    Ok(objects)
}

/// The webhook's objects for a variant; `certs` is required for generated certificates.
pub fn webhook_objects(
    variant: Variant,
    certs: Option<&ServingCerts>,
    image: Option<&str>,
) -> anyhow::Result<Vec<Value>> {
    let mut objects = Vec::new();
    for (file, yaml) in kkp_manifests::webhook_manifests(variant) {
        let mut text = yaml.to_owned();
        if let Some(image) = image {
            text = kkp_manifests::with_image(&text, image);
        }
        if let Some(certs) = certs {
            text = kkp_manifests::with_ca_bundle(&text, certs.ca_pem.as_bytes());
        }
        objects.extend(parse_documents(&text, file)?);
    }
    if let Some(certs) = certs {
        let secret = kkp_manifests::tls_secret(
            certs.cert_pem.as_bytes(),
            certs.key_pem.as_bytes(),
            certs.ca_pem.as_bytes(),
            certs.ca_key_pem.as_bytes(),
        );
        objects.extend(parse_documents(&secret, "the TLS Secret")?);
    }
    if variant == Variant::GeneratedCerts
        && let Some(left) = objects
            .iter()
            .find(|o| o.to_string().contains(kkp_manifests::CA_BUNDLE_PLACEHOLDER))
    {
        anyhow::bail!("{} still has the caBundle placeholder", resources::kubectl_name(left));
    }
    Ok(objects)
}

/// The certificate installed in the cluster, if the Secret holds all three parts.
async fn installed_certs(conn: &Connection) -> anyhow::Result<Option<ServingCerts>> {
    let api: Api<Secret> = Api::namespaced(conn.client.clone(), kkp_manifests::NAMESPACE);
    let secret = api
        .get_opt(kkp_manifests::TLS_SECRET_NAME)
        .await
        .map_err(|e| anyhow::anyhow!(errors::explain(&e, conn, "reading the webhook's certificate Secret")))?;
    let Some(data) = secret.and_then(|s| s.data) else {
        return Ok(None);
    };
    let text = |k: &str| data.get(k).and_then(|b| String::from_utf8(b.0.clone()).ok());
    Ok(
        match (text(kkp_manifests::CA_CERT_KEY), text("tls.crt"), text("tls.key")) {
            (Some(ca_pem), Some(cert_pem), Some(key_pem)) => Some(ServingCerts {
                ca_pem,
                // Older installs did not keep it; such a certificate is replaced.
                ca_key_pem: text(kkp_manifests::CA_KEY_KEY).unwrap_or_default(),
                cert_pem,
                key_pem,
            }),
            _ => None,
        },
    )
}

/// The certificate to install: the installed one while it is good, else a new one.
fn choose_certs(installed: Option<&ServingCerts>, renew: bool, printer: &Printer) -> anyhow::Result<ServingCerts> {
    if !renew && let Some(installed) = installed {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match certs::why_not_reusable(installed, now) {
            None => return Ok(installed.clone()),
            Some(why) => printer.message(format_args!("Replacing the webhook's serving certificate: {why}.")),
        }
    }
    Ok(certs::generate()?)
}

/// How long to let every apiserver pick up a changed caBundle before relying on it.
const CA_BUNDLE_SETTLE: Duration = Duration::from_secs(5);

/// Steps 1 to 4 of a CA rotation (see [`rotation`]); the install's normal apply is step 5.
struct Rotation<'a, 'c> {
    conn: &'c Connection,
    applier: &'a mut Applier<'c>,
    image: Option<&'a str>,
    deadline: Deadline,
}

impl Rotation<'_, '_> {
    /// Brings the cluster to where trusting only `target`'s CA cannot fail a request, printing
    /// each step on stderr and the objects changed on the way like the apply does.
    async fn prepare(
        &mut self,
        installed: Option<&ServingCerts>,
        target: &ServingCerts,
        format: Option<OutputFormat>,
        printer: &Printer,
    ) -> anyhow::Result<()> {
        let trusted = rotation::trusted_now(self.conn).await?;
        let Some(plan) = rotation::plan(trusted.as_deref(), installed, target) else {
            return Ok(());
        };
        printer.message(format_args!(
            "Rotating the webhook's CA; both CAs stay trusted until the webhook serves the new certificate."
        ));
        let bundle = match &plan.overlap {
            Some(overlap) => {
                printer.message(format_args!(
                    "Step 1/5: the webhook configurations trust the old and the new CA."
                ));
                let with_both = ServingCerts {
                    ca_pem: overlap.clone(),
                    ..target.clone()
                };
                for object in webhook_objects(Variant::GeneratedCerts, Some(&with_both), self.image)?
                    .iter()
                    .filter(|o| o["kind"].as_str().is_some_and(|k| k.ends_with("WebhookConfiguration")))
                {
                    report(&self.applier.apply(object).await?, format, printer);
                }
                overlap.clone()
            }
            None => {
                printer.message(format_args!(
                    "Step 1/5: the webhook configurations already trust the new CA."
                ));
                trusted.unwrap_or_default()
            }
        };
        printer.message(format_args!("Step 2/5: waiting until the apiserver trusts both CAs."));
        rotation::wait_trusted(self.conn, &bundle, CA_BUNDLE_SETTLE, self.deadline, printer).await?;
        let written = std::time::Instant::now();
        if plan.write_secret {
            printer.message(format_args!(
                "Step 3/5: the new serving certificate and CA in secret {}/{}.",
                kkp_manifests::NAMESPACE,
                kkp_manifests::TLS_SECRET_NAME
            ));
            let objects = webhook_objects(Variant::GeneratedCerts, Some(target), self.image)?;
            for object in objects
                .iter()
                .filter(|o| o["kind"] == "Namespace" || o["kind"] == "Secret")
            {
                let done = self.applier.apply(object).await?;
                if object["kind"] == "Secret" {
                    report(&done, format, printer);
                }
            }
        } else {
            printer.message(format_args!(
                "Step 3/5: secret {}/{} already holds the new certificate.",
                kkp_manifests::NAMESPACE,
                kkp_manifests::TLS_SECRET_NAME
            ));
        }
        printer.message(format_args!(
            "Step 4/5: waiting until the webhook pods serve the new certificate."
        ));
        let not_after = certs::not_after(&target.cert_pem)
            .ok_or_else(|| anyhow::anyhow!("the new serving certificate does not parse"))?;
        rotation::wait_served(self.conn, not_after, written, self.deadline, printer)
            .await
            .map_err(|e| {
                e.context(
                    "both the old and the new CA are still trusted, so nothing fails; run install again to finish                      the rotation",
                )
            })?;
        printer.message(format_args!(
            "Step 5/5: the webhook configurations trust the new CA only."
        ));
        Ok(())
    }
}

pub async fn run(args: InstallArgs, g: &GlobalSettings, printer: &Printer) -> Outcome {
    install(args, g, printer).await?;
    Ok(ExitStatus::Success)
}

async fn install(args: InstallArgs, g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    if !args.crds && !args.webhook {
        anyhow::bail!("nothing to install: --crds=false and --webhook=false; leave one of them on");
    }
    let variant = if args.cert_manager {
        Variant::CertManager
    } else {
        Variant::GeneratedCerts
    };
    let mut crds = crds_to_install(args.crds, args.webhook)?;
    let report_crds = report_crds_to_install(args.webhook, args.policy_report_crds)?;

    if args.dry_run == DryRun::Client {
        crds.extend(report_crds);
        let certs = match (args.webhook, variant) {
            (true, Variant::GeneratedCerts) => Some(certs::generate()?),
            _ => None,
        };
        let mut objects = crds;
        if args.webhook {
            objects.extend(webhook_objects(variant, certs.as_ref(), args.image.as_deref())?);
        }
        sort_for_apply(&mut objects);
        print_objects(objects, args.output.unwrap_or_default(), args.show_secrets, printer);
        printer.message(format_args!("(dry run: nothing was sent)"));
        return Ok(());
    }

    let deadline = Deadline::new(args.timeout);
    let conn = Connection::from_settings(&g.connection).await?;
    let options = ApplyOptions {
        dry_run: args.dry_run == DryRun::Server,
        force_conflicts: args.force_conflicts,
    };
    if args.webhook && variant == Variant::CertManager {
        require_cert_manager(&conn).await?;
    }
    crds.extend(missing_report_crds(&conn, report_crds, printer).await?);
    let mut applied = Vec::new();
    let mut applier = Applier::new(&conn, options);

    for crd in &crds {
        let done = applier.apply(crd).await?;
        report(&done, args.output, printer);
        applied.push(done);
    }
    if !crds.is_empty() && !options.dry_run {
        wait_established(&conn, &crds, deadline, printer).await?;
    }

    if args.webhook {
        let (installed, certs) = match variant {
            Variant::GeneratedCerts => {
                let installed = installed_certs(&conn).await?;
                let chosen = choose_certs(installed.as_ref(), args.renew_certificate, printer)?;
                (installed, Some(chosen))
            }
            Variant::CertManager => (None, None),
        };
        let mut objects = webhook_objects(variant, certs.as_ref(), args.image.as_deref())?;
        sort_for_apply(&mut objects);
        if let Some(target) = &certs
            && !options.dry_run
        {
            let mut rotation = Rotation {
                conn: &conn,
                applier: &mut applier,
                image: args.image.as_deref(),
                deadline,
            };
            rotation
                .prepare(installed.as_ref(), target, args.output, printer)
                .await?;
        }
        let namespace_missing = options.dry_run && !namespace_exists(&conn).await?;
        let mut skipped = 0;
        for object in &objects {
            if namespace_missing && resources::meta_str(object, "namespace") == Some(kkp_manifests::NAMESPACE) {
                skipped += 1;
                continue;
            }
            let done = applier.apply(object).await?;
            report(&done, args.output, printer);
            applied.push(done);
        }
        if skipped > 0 {
            printer.message(format_args!(
                "{skipped} object(s) in namespace {} not checked: the namespace does not exist yet, so the server \
                 cannot dry-run objects in it.",
                kkp_manifests::NAMESPACE
            ));
        }
    }

    if let Some(format) = args.output {
        let objects: Vec<Value> = applied.iter().map(|a| a.object.clone()).collect();
        print_objects(objects, format, args.show_secrets, printer);
    }
    if options.dry_run || !args.webhook {
        return Ok(());
    }
    if args.wait {
        let available = wait_rolled_out(&conn, deadline, printer).await?;
        printer.message(format_args!(
            "Installed the webhook into {} ({}); deployment {}/{} has rolled out ({available} replicas available).",
            conn.describe(),
            conn.server,
            kkp_manifests::NAMESPACE,
            kkp_manifests::NAME
        ));
    } else {
        printer.message(format_args!(
            "Installed the webhook into {} ({}). It admits objects once its pods run; to wait for them, run \
             install again with --wait, or: kubectl -n {} rollout status deployment/{}",
            conn.describe(),
            conn.server,
            kkp_manifests::NAMESPACE,
            kkp_manifests::NAME
        ));
    }
    Ok(())
}

/// Prints objects with their private keys replaced by a placeholder unless `show_secrets`, and
/// says so on stderr.
fn print_objects(mut objects: Vec<Value>, format: OutputFormat, show_secrets: bool, printer: &Printer) {
    let redacted = if show_secrets {
        Vec::new()
    } else {
        redact::private_keys(&mut objects)
    };
    printer.objects(&objects, format);
    if !redacted.is_empty() {
        printer.message(format_args!(
            "Private keys are shown as {:?} ({}); pass --show-secrets to print them.",
            redact::PLACEHOLDER,
            redacted.join(", ")
        ));
    }
}

fn report(done: &Applied, format: Option<OutputFormat>, printer: &Printer) {
    if format.is_none() {
        printer.data(format_args!("{}", done.summary()));
    }
}

async fn namespace_exists(conn: &Connection) -> anyhow::Result<bool> {
    let api: Api<Namespace> = Api::all(conn.client.clone());
    api.get_opt(kkp_manifests::NAMESPACE)
        .await
        .map(|n| n.is_some())
        .map_err(|e| anyhow::anyhow!(errors::explain(&e, conn, "reading the webhook's namespace")))
}

async fn require_cert_manager(conn: &Connection) -> anyhow::Result<()> {
    let gvk = kube::api::GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate");
    match Resolver::new(conn.client.clone()).resolve(&gvk).await {
        Ok(_) => Ok(()),
        Err(ResolveError::NotServed(_)) => anyhow::bail!(
            "--cert-manager: {} ({}) does not serve certificates.cert-manager.io/v1; install cert-manager first, or \
             leave out --cert-manager to use a generated certificate",
            conn.describe(),
            conn.server
        ),
        Err(e) => Err(e.into()),
    }
}

/// Waits until the webhook's Deployment has rolled out; returns how many replicas are available.
async fn wait_rolled_out(conn: &Connection, deadline: Deadline, printer: &Printer) -> anyhow::Result<i32> {
    let api: Api<Deployment> = Api::namespaced(conn.client.clone(), kkp_manifests::NAMESPACE);
    let name = kkp_manifests::NAME;
    let mut progress = printer.progress(format!("deployment {}/{name}", kkp_manifests::NAMESPACE));
    let what = format!("deployment {}/{name} to roll out", kkp_manifests::NAMESPACE);
    wait::poll(&mut progress, deadline, Duration::from_secs(1), &what, || async {
        let deployment = api
            .get(name)
            .await
            .map_err(|e| anyhow::anyhow!(errors::explain(&e, conn, &format!("reading deployment {name}"))))?;
        match rollout::state(&deployment) {
            Rollout::Done => Ok(Poll::Ready(
                deployment.status.and_then(|s| s.available_replicas).unwrap_or(0),
            )),
            Rollout::Pending(state) => Ok(Poll::Pending(state)),
            Rollout::Failed(why) => Err(anyhow::anyhow!(
                "deployment {}/{name} did not roll out: {why}; see kubectl -n {} describe deployment {name}",
                kkp_manifests::NAMESPACE,
                kkp_manifests::NAMESPACE
            )),
        }
    })
    .await
}

/// Waits until every CRD is Established and its names accepted.
async fn wait_established(
    conn: &Connection,
    crds: &[Value],
    deadline: Deadline,
    printer: &Printer,
) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(conn.client.clone());
    let names: Vec<String> = crds
        .iter()
        .filter_map(|c| resources::meta_str(c, "name"))
        .map(str::to_owned)
        .collect();
    let mut progress = printer.progress("CRDs");
    let what = format!("CRDs {} to be established", names.join(", "));
    wait::poll(&mut progress, deadline, Duration::from_millis(250), &what, || async {
        let mut pending = Vec::new();
        for name in &names {
            let crd = api
                .get(name)
                .await
                .map_err(|e| anyhow::anyhow!(errors::explain(&e, conn, &format!("reading CRD {name}"))))?;
            let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
            let ok = |t: &str| conditions.iter().any(|c| c.type_ == t && c.status == "True");
            if !(ok("Established") && ok("NamesAccepted")) {
                pending.push(name.clone());
            }
        }
        Ok(if pending.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending(format!("not yet established: {}", pending.join(", ")))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_crd_comes_with_the_webhook() {
        let names = |engine_crds, webhook| -> Vec<String> {
            crds_to_install(engine_crds, webhook)
                .expect("CRDs parse")
                .iter()
                .filter_map(|c| resources::meta_str(c, "name").map(str::to_owned))
                .collect()
        };
        assert_eq!(names(false, true), [POLICY_CRD]);
        assert_eq!(names(true, false).len(), crd_objects().expect("CRDs").len());
        assert!(names(true, true).contains(&POLICY_CRD.to_owned()));
        assert!(names(false, false).is_empty());
    }

    #[test]
    fn every_crd_of_the_engine_is_installed() {
        let crds = crd_objects().expect("CRDs parse");
        let names: Vec<&str> = crds.iter().filter_map(|c| resources::meta_str(c, "name")).collect();
        assert!(names.contains(&"clusters.kubermatic.k8c.io"), "{names:?}");
        assert!(names.contains(&"machinedeployments.cluster.k8s.io"), "{names:?}");
        assert!(crds.iter().all(|c| c["kind"] == "CustomResourceDefinition"));
        let md = crds
            .iter()
            .find(|c| resources::meta_str(c, "name") == Some("machinedeployments.cluster.k8s.io"));
        let md = md.expect("the MachineDeployment CRD");
        assert!(
            md["metadata"]["annotations"]["api-approved.kubernetes.io"].is_string(),
            "{md}"
        );
        let cluster = crds
            .iter()
            .find(|c| resources::meta_str(c, "name") == Some("clusters.kubermatic.k8c.io"));
        assert!(
            cluster.expect("the Cluster CRD")["metadata"]["annotations"]
                .get("api-approved.kubernetes.io")
                .is_none()
        );
    }

    #[test]
    fn generated_certificates_fill_the_ca_bundle_and_the_secret() {
        let certs = certs::generate().expect("certs");
        let objects = webhook_objects(
            Variant::GeneratedCerts,
            Some(&certs),
            Some("example.org/kkp-webhook:dev"),
        )
        .expect("objects");
        let text = serde_json::to_string(&objects).expect("json");
        assert!(!text.contains(kkp_manifests::CA_BUNDLE_PLACEHOLDER));
        assert!(text.contains("example.org/kkp-webhook:dev"));
        let secret = objects.iter().find(|o| o["kind"] == "Secret").expect("the TLS Secret");
        assert_eq!(
            resources::meta_str(secret, "name"),
            Some(kkp_manifests::TLS_SECRET_NAME)
        );
        use base64::Engine as _;
        let ca = base64::engine::general_purpose::STANDARD.encode(certs.ca_pem.as_bytes());
        let bundles: Vec<&Value> = objects
            .iter()
            .filter(|o| o["kind"].as_str().is_some_and(|k| k.ends_with("WebhookConfiguration")))
            .flat_map(|o| o["webhooks"].as_array().into_iter().flatten())
            .map(|w| &w["clientConfig"]["caBundle"])
            .collect();
        assert!(!bundles.is_empty());
        assert!(bundles.iter().all(|b| b.as_str() == Some(ca.as_str())), "{bundles:?}");
    }

    #[test]
    fn cert_manager_objects_need_no_generated_certificate() {
        let objects = webhook_objects(Variant::CertManager, None, None).expect("objects");
        assert!(objects.iter().any(|o| o["kind"] == "Certificate"));
        assert!(!objects.iter().any(|o| o["kind"] == "Secret"));
    }
}
