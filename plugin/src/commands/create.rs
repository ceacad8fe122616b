//! `kubectl kkp create cluster`: generate the objects (the same flags as `generate cluster`),
//! default and check them locally with the admission engine, server-side apply the defaulted
//! Cluster to the management (seed) cluster, wait until KKP reports it Running and healthy, then
//! apply the MachineDeployments into the user cluster's `kube-system` through the cluster's own
//! kubeconfig.
//! A Cluster API template (`--from`) is applied to the management cluster as a whole, and the wait
//! is for its `cluster.x-k8s.io` Cluster to become available and its kubeconfig secret to appear.
//!
//! Re-running the same command converges: server-side apply is idempotent, a running cluster is
//! seen at once, and an interrupted run picks up where it stopped.

mod cluster_api;
mod cluster_id;
mod earlier;

use kkp_crds::request::ResourceKind;
use serde_json::Value;

use self::cluster_api::POLL_INTERVAL;
use super::generate;
use super::verdicts::gate::{self, Refusal};
use crate::cli::create::{CreateClusterArgs, CreateCommand, CreateWhat};
use crate::cli::generate::TemplateArgs;
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::apply::{Applied, Applier, ApplyError, ApplyOptions, DryRun, sort_for_apply};
use crate::k8s::client::Connection;
use crate::k8s::resources::ResolveError;
use crate::k8s::secret::{self, Convention, LookupError};
use crate::k8s::trust::{self, AllowArgs};
use crate::k8s::wait::{self, Deadline, Poll, Progress};
use crate::k8s::{capi, kkp};
use crate::output::OutputFormat;
use crate::platform::Platform;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

pub async fn run(cmd: CreateCommand, g: &GlobalSettings, printer: &Printer) -> Outcome {
    match cmd.what {
        CreateWhat::Cluster(args) => create_cluster(args, g, printer).await,
    }
}

/// The generated objects, by where they go.
#[derive(Debug, Default)]
struct Plan {
    /// The KKP Cluster, if the template makes one.
    cluster: Option<Value>,
    /// MachineDeployments, for the user cluster.
    machine_deployments: Vec<Value>,
    /// A Cluster API `Cluster`, if the template makes one (it is among `others`).
    capi_cluster: Option<Value>,
    /// Everything else, for the management cluster.
    others: Vec<Value>,
}

impl Plan {
    fn split(objects: Vec<Value>) -> anyhow::Result<Self> {
        let mut plan = Plan::default();
        for object in objects {
            match ResourceKind::of(&object) {
                ResourceKind::Cluster if plan.cluster.is_some() => {
                    anyhow::bail!("the template makes more than one KKP Cluster; create cluster handles one at a time")
                }
                ResourceKind::Cluster => plan.cluster = Some(object),
                ResourceKind::MachineDeployment => plan.machine_deployments.push(object),
                ResourceKind::Other { .. } if capi::is_cluster(&object) => {
                    if plan.capi_cluster.is_some() {
                        anyhow::bail!(
                            "the template makes more than one Cluster API Cluster; create cluster handles one at a time"
                        );
                    }
                    plan.capi_cluster = Some(object.clone());
                    plan.others.push(object);
                }
                ResourceKind::Other { .. } => plan.others.push(object),
            }
        }
        Ok(plan)
    }

    /// The objects for the management cluster, in apply order.
    fn for_management(&self) -> Vec<Value> {
        let mut objects: Vec<Value> = self.others.iter().cloned().chain(self.cluster.clone()).collect();
        sort_for_apply(&mut objects);
        objects
    }

    /// Every object, in apply order, the MachineDeployments last.
    fn all(&self) -> Vec<Value> {
        let mut all = self.for_management();
        all.extend(self.machine_deployments.iter().cloned());
        all
    }
}

/// The cluster ID and the template flags to render with.
fn resolve_name(args: &CreateClusterArgs) -> (String, TemplateArgs, bool) {
    let mut template = args.template.clone();
    match (&args.name, args.generate_name) {
        (Some(name), false) => (name.clone(), template, false),
        (given, _) => {
            let id = cluster_id::generate(&mut rand::rng());
            if let Some(human) = given {
                template.human_readable_name.get_or_insert_with(|| human.clone());
            }
            (id, template, true)
        }
    }
}

/// `create cluster NAME` through the KKP REST API: NAME is the human-readable name (KKP makes
/// the ID); the same local generation and checks, then create-or-patch by name.
async fn create_through_api(
    client: &crate::kkp_api::client::KkpClient,
    args: CreateClusterArgs,
    g: &GlobalSettings,
    printer: &Printer,
) -> Outcome {
    if let Some(flag) = generate::cluster_api_flag(&args.template) {
        anyhow::bail!(
            "{flag}: Cluster API templates are applied to a management cluster, not through the KKP API (--api)"
        );
    }
    let name = args.name.clone().ok_or_else(|| {
        anyhow::anyhow!("NAME is required with --api: the cluster's human-readable name (KKP makes the cluster ID)")
    })?;
    let mut template = args.template.clone();
    template.namespace = g.connection.namespace.clone();
    template.project = Some(client.project().to_owned());
    template.human_readable_name.get_or_insert_with(|| name.clone());
    let platform = Platform::from_files(&args.platform)?;
    let objects = generate::render(&name, &template, &platform)?;
    let objects = match gate::check_generated(objects, &platform, None, Refusal::CREATE, printer) {
        Ok(objects) => objects,
        Err(status) => return Ok(status),
    };
    super::api::create::create_from_objects(
        client,
        objects,
        args.credential.as_deref(),
        args.dry_run != DryRun::None,
        args.wait,
        args.timeout,
        printer,
    )
    .await?;
    Ok(ExitStatus::Success)
}

async fn create_cluster(mut args: CreateClusterArgs, g: &GlobalSettings, printer: &Printer) -> Outcome {
    args.template.project = g.api.project.clone();
    if let Some(client) = super::api::client(g)? {
        return create_through_api(&client, args, g, printer).await;
    }
    // --target-namespace is -n for the objects the template leaves without a namespace too.
    let g = &generate::with_target_namespace(g, &args.template)?;
    let (mut id, mut template, mut generated) = resolve_name(&args);
    // -n/--namespace fills ${NAMESPACE}, as it does for generate.
    template.namespace = g.connection.namespace.clone();
    // Everything but --dry-run=client talks to the management cluster, so the objects are
    // checked against the configuration found there.
    let (connection, platform) = if args.dry_run == DryRun::Client {
        (None, Platform::from_files(&args.platform)?)
    } else {
        let seed = Connection::from_settings(&g.connection).await?;
        let platform = Platform::for_cluster(&args.platform, &seed, &args.kubermatic_namespace, printer).await?;
        (Some(seed), platform)
    };
    if let Some(seed) = connection.as_ref().filter(|_| generated)
        && let Some(earlier) = earlier::find(seed, &template).await?
    {
        printer.message(format_args!(
            "Continuing with cluster {earlier:?}: it has the same project and human-readable name ({:?}).",
            template.human_readable_name.as_deref().unwrap_or_default()
        ));
        id = earlier;
        generated = false;
    }
    let objects = generate::render(&id, &template, &platform)?;
    let plan = match gate::check_generated(objects, &platform, None, Refusal::CREATE, printer) {
        Ok(objects) => Plan::split(objects)?,
        Err(status) => return Ok(status),
    };
    if generated {
        printer.message(format_args!(
            "Generated cluster ID {id:?}; to re-run or resume this command, pass it as NAME."
        ));
    }

    if args.dry_run == DryRun::Client {
        printer.objects(&plan.all(), args.output.unwrap_or_default());
        printer.message(format_args!("(dry run: nothing was sent)"));
        return Ok(ExitStatus::Success);
    }

    let seed = match connection {
        Some(seed) => seed,
        None => Connection::from_settings(&g.connection).await?,
    };
    let status = gate::check_against_served_crds(&seed, &plan.all(), &platform, Refusal::CREATE, printer).await?;
    if status != ExitStatus::Success {
        return Ok(status);
    }
    let status = gate::check_before_apply(&seed, &plan.all(), &platform, printer).await?;
    if status != ExitStatus::Success {
        return Ok(status);
    }
    let options = ApplyOptions {
        dry_run: args.dry_run == DryRun::Server,
        force_conflicts: args.force_conflicts,
    };
    let mut applied = Vec::new();
    {
        let mut applier = Applier::new(&seed, options);
        for object in plan.for_management() {
            let done = applier
                .apply(&object)
                .await
                .map_err(|e| explain_apply(e, &seed, "management"))?;
            report(&done, args.output, printer);
            applied.push(done);
        }
    }

    if args.dry_run == DryRun::Server {
        if !plan.machine_deployments.is_empty() {
            printer.message(format_args!(
                "{} MachineDeployment(s) not checked by the server: they go into the user cluster, which exists only \
                 once the cluster runs (they passed the local check).",
                plan.machine_deployments.len()
            ));
        }
        finish_output(&applied, args.output, printer);
        return Ok(ExitStatus::Success);
    }

    if plan.cluster.is_none() {
        if !plan.machine_deployments.is_empty() {
            anyhow::bail!(
                "the template makes MachineDeployments but no KKP Cluster, so there is no user cluster to put them into"
            );
        }
        finish_output(&applied, args.output, printer);
        let objects: Vec<Value> = applied.iter().map(|a| a.object.clone()).collect();
        if let Some(cluster) = cluster_api::waited_for(&objects) {
            cluster_api::wait(&seed, cluster, &args, printer).await?;
        }
        return Ok(ExitStatus::Success);
    }

    if !args.wait {
        finish_output(&applied, args.output, printer);
        if !plan.machine_deployments.is_empty() {
            printer.message(format_args!(
                "Not waiting (--wait=false): the {} MachineDeployment(s) were not applied yet. Once the cluster runs, \
                 run the same command again (with NAME {id}) to apply them.",
                plan.machine_deployments.len()
            ));
        }
        return Ok(ExitStatus::Success);
    }

    let deadline = Deadline::new(args.timeout);
    let mut progress = printer.progress(format!("cluster {id:?}"));
    let waited = tokio::select! {
        result = wait_and_apply_workers(&seed, &id, &plan.machine_deployments, (options, args.allow), deadline, &mut progress) => result,
        _ = tokio::signal::ctrl_c() => {
            progress.finish();
            Err(anyhow::anyhow!(
                "interrupted; the cluster {id:?} was applied. Run the same command again (with NAME {id}) to continue"
            ))
        }
    };
    let workers = waited?;
    for done in &workers {
        report(done, args.output, printer);
    }
    applied.extend(workers);
    finish_output(&applied, args.output, printer);
    printer.message(format_args!(
        "Cluster {id:?} is running. Get its kubeconfig with: kubectl kkp get kubeconfig {id} --merge --set-current"
    ));
    Ok(ExitStatus::Success)
}

/// Waits for the cluster, its kubeconfig and the user cluster's MachineDeployment API, then
/// applies the MachineDeployments (`apply -f` without the KKP API sends workers this way too).
pub(crate) async fn wait_and_apply_workers<W: std::io::Write>(
    seed: &Connection,
    id: &str,
    machine_deployments: &[Value],
    (options, allow): (ApplyOptions, AllowArgs),
    deadline: Deadline,
    progress: &mut Progress<W>,
) -> anyhow::Result<Vec<Applied>> {
    let what = format!("cluster {id:?} to be Running and healthy");
    wait::poll(progress, deadline, POLL_INTERVAL, &what, || async {
        match kkp::get_cluster_opt(seed, id).await? {
            None => Err(anyhow::anyhow!(
                "cluster {id:?} disappeared from the management cluster ({}) while waiting for it",
                seed.describe()
            )),
            Some(c) if c.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) => Err(anyhow::anyhow!(
                "cluster {id:?} is being deleted; it will not become Running"
            )),
            Some(c) if kkp::is_running_and_healthy(&c) => Ok(Poll::Ready(())),
            Some(c) => Ok(Poll::Pending(kkp::state_line(&c))),
        }
    })
    .await?;
    progress.note(&format!("cluster {id:?}: Running and healthy"));
    if machine_deployments.is_empty() {
        return Ok(Vec::new());
    }

    progress.relabel(format!("cluster {id:?} kubeconfig"));
    let what = format!("the kubeconfig secret of cluster {id:?}");
    let found = wait::poll(progress, deadline, POLL_INTERVAL, &what, || async {
        match secret::find(seed, id, &seed.namespace, Some(Convention::Kkp)).await {
            Ok(found) => Ok(Poll::Ready(found)),
            Err(LookupError::NotReady { secret, .. }) => Ok(Poll::Pending(format!("waiting for {secret}"))),
            Err(e) => Err(e.into()),
        }
    })
    .await?;

    trust::check(&found.text, &found.secret, allow)?;
    let user = Connection::from_kubeconfig_text(&found.text, &found.secret.to_string()).await?;
    progress.relabel(format!("cluster {id:?} machine deployments"));
    let what = format!("the user cluster of {id:?} to accept its MachineDeployments");
    let mut applied = Vec::new();
    for md in machine_deployments {
        let done = wait::poll(progress, deadline, POLL_INTERVAL, &what, || async {
            match applier_apply(&mut Applier::new(&user, options), md).await {
                Ok(done) => Ok(Poll::Ready(done)),
                Err(Retry::Later(state)) => Ok(Poll::Pending(state)),
                Err(Retry::Never(e)) => Err(explain_apply(e, &user, "user")),
            }
        })
        .await?;
        applied.push(done);
    }
    Ok(applied)
}

/// Whether a failed apply into the user cluster is worth retrying.
enum Retry {
    Later(String),
    Never(ApplyError),
}

async fn applier_apply(applier: &mut Applier<'_>, md: &Value) -> Result<Applied, Retry> {
    match applier.apply(md).await {
        Ok(done) => Ok(done),
        Err(ApplyError::Resolve {
            source: ResolveError::NotServed(_),
            ..
        }) => Err(Retry::Later(
            "the user cluster does not serve machinedeployments.cluster.k8s.io yet".to_owned(),
        )),
        Err(ApplyError::Resolve {
            source: ResolveError::Request { source, .. },
            ..
        }) => Err(Retry::Later(format!("the user cluster is not reachable yet: {source}"))),
        Err(ApplyError::Request(message)) => Err(Retry::Later(message)),
        Err(e) => Err(Retry::Never(e)),
    }
}

fn explain_apply(err: ApplyError, conn: &Connection, which: &str) -> anyhow::Error {
    match err {
        ApplyError::Rejected { .. } | ApplyError::Conflict { .. } => {
            anyhow::anyhow!("{err} (on the {which} cluster, {})", conn.describe())
        }
        other => other.into(),
    }
}

/// One line per applied object, as kubectl prints them, unless -o prints the objects.
fn report(done: &Applied, format: Option<OutputFormat>, printer: &Printer) {
    if format.is_none() {
        printer.data(format_args!("{}", done.summary()));
    }
}

fn finish_output(applied: &[Applied], format: Option<OutputFormat>, printer: &Printer) {
    if let Some(format) = format {
        let objects: Vec<Value> = applied.iter().map(|a| a.object.clone()).collect();
        printer.objects(&objects, format);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use serde_json::json;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: CreateClusterArgs,
    }

    fn parse(args: &[&str]) -> CreateClusterArgs {
        let mut argv = vec!["create"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("parses").args
    }

    #[test]
    fn flags_default_to_waiting_fifteen_minutes_and_sending() {
        let args = parse(&["demo", "--provider", "hetzner"]);
        assert!(args.wait);
        assert_eq!(args.timeout, Duration::from_secs(900));
        assert_eq!(args.dry_run, DryRun::None);
        let args = parse(&[
            "demo",
            "--provider",
            "hetzner",
            "--wait=false",
            "--dry-run",
            "--timeout",
            "30s",
        ]);
        assert!(!args.wait);
        assert_eq!(args.dry_run, DryRun::Client);
        assert_eq!(args.timeout, Duration::from_secs(30));
        assert_eq!(
            parse(&["--dry-run=server", "--provider", "aws"]).dry_run,
            DryRun::Server
        );
    }

    #[test]
    fn a_name_is_kept_unless_an_id_is_asked_for() {
        let (id, template, generated) = resolve_name(&parse(&["demo", "--provider", "hetzner"]));
        assert_eq!(id, "demo");
        assert!(!generated);
        assert_eq!(template.human_readable_name, None);

        let (id, template, generated) = resolve_name(&parse(&["demo", "--generate-name", "--provider", "hetzner"]));
        assert!(generated && cluster_id::looks_generated(&id), "{id}");
        assert_eq!(template.human_readable_name.as_deref(), Some("demo"));

        let (id, _, generated) = resolve_name(&parse(&["--provider", "hetzner"]));
        assert!(generated && cluster_id::looks_generated(&id), "{id}");

        let explicit = parse(&[
            "demo",
            "--generate-name",
            "--human-readable-name",
            "Demo",
            "--provider",
            "aws",
        ]);
        assert_eq!(resolve_name(&explicit).1.human_readable_name.as_deref(), Some("Demo"));
    }

    #[test]
    fn the_plan_sends_the_cluster_to_the_seed_and_workers_to_the_user_cluster() {
        let cluster = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": {"name": "a"}});
        let md =
            json!({"apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment", "metadata": {"name": "w"}});
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
        let plan = Plan::split(vec![md.clone(), cluster.clone(), secret.clone()]).expect("split");
        assert_eq!(plan.for_management(), vec![secret, cluster.clone()]);
        assert_eq!(plan.machine_deployments, vec![md]);
        assert_eq!(plan.all().len(), 3);
        assert!(Plan::split(vec![cluster.clone(), cluster]).is_err());
    }
}
