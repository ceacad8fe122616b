//! Policy reports: what the policies in force say about each stored Cluster and MachineDeployment,
//! written as `wgpolicyk8s.io/v1alpha2` ClusterPolicyReport (Clusters) and PolicyReport
//! (MachineDeployments, in their namespace) objects, one report per object named by its uid.
//!
//! - A background audit pages through the Clusters and MachineDeployments when the policies
//!   change and every `--policy-report-interval`, evaluates each off the async workers, writes the
//!   reports that changed (server-side apply) and deletes the reports of objects that are gone or
//!   no longer selected.
//! - Objects admitted through the webhook are audited again a moment after their review (see
//!   [`crate::report_queue`]), from the object as stored; the review itself never waits for it.
//! - A report holds at most [`MAX_RESULTS_PER_REPORT`](kkp_crds::policy::report::MAX_RESULTS_PER_REPORT)
//!   results; its summary counts them all.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use clap::{ArgAction, Args};
use kkp_crds::policy::PolicySet;
use kkp_crds::policy::report::{self, MANAGED_BY_LABEL, ObjectRef, REPORT_GROUP, REPORT_VERSION, ReportResult, SOURCE};
use kkp_crds::policy::sandbox::runtime;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::duration::parse_duration;
use crate::machine_labels::machine_deployment_resource;
use crate::report_queue::ObjectKey;
use crate::state::AppState;

/// How policy reports are written, on the command line.
#[derive(Clone, Debug, Args)]
pub struct ReportArgs {
    /// Write PolicyReport/ClusterPolicyReport objects (wgpolicyk8s.io/v1alpha2) about the stored
    /// Clusters and MachineDeployments. Needs the watch on policies and the report CRDs.
    #[arg(long, env = "KKP_WEBHOOK_POLICY_REPORTS", value_name = "BOOL", action = ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true")]
    pub policy_reports: bool,

    /// How often every Cluster and MachineDeployment is audited again (besides when the policies
    /// change).
    #[arg(long, env = "KKP_WEBHOOK_POLICY_REPORT_INTERVAL", default_value = "10m", value_parser = parse_duration)]
    pub policy_report_interval: Duration,

    /// Objects fetched per list request of the audit.
    #[arg(long, env = "KKP_WEBHOOK_POLICY_REPORT_PAGE_SIZE", default_value = "100",
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub policy_report_page_size: u32,
}

impl Default for ReportArgs {
    fn default() -> Self {
        ReportArgs {
            policy_reports: false,
            policy_report_interval: Duration::from_secs(600),
            policy_report_page_size: 100,
        }
    }
}

/// How the reporter behaves.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    pub interval: Duration,
    pub page_size: u32,
    /// How long after a change (policies, an admitted object) the audit starts, so that the
    /// object is stored and several changes are audited together.
    pub settle: Duration,
    /// When given, nothing is audited until it says true (the first list of watched policies is
    /// in force): an audit with no policies yet would delete every report.
    pub policies_synced: Option<watch::Receiver<bool>>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            interval: Duration::from_secs(600),
            page_size: 100,
            settle: Duration::from_secs(1),
            policies_synced: None,
        }
    }
}

impl From<&ReportArgs> for ReportOptions {
    fn from(args: &ReportArgs) -> Self {
        ReportOptions {
            interval: args.policy_report_interval,
            page_size: args.policy_report_page_size,
            ..ReportOptions::default()
        }
    }
}

fn report_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(REPORT_GROUP, REPORT_VERSION, kind), plural)
}

/// The namespaced `PolicyReport` resource.
pub fn policy_report_resource() -> ApiResource {
    report_resource("PolicyReport", "policyreports")
}

/// The cluster-scoped `ClusterPolicyReport` resource.
pub fn cluster_policy_report_resource() -> ApiResource {
    report_resource("ClusterPolicyReport", "clusterpolicyreports")
}

/// KKP's `Cluster` resource.
pub fn cluster_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "Cluster"), "clusters")
}

/// The audited kinds: (kind, resource).
fn audited() -> [(&'static str, ApiResource); 2] {
    [
        ("Cluster", cluster_resource()),
        ("MachineDeployment", machine_deployment_resource()),
    ]
}

/// A listed object as the engine reads it: with its `apiVersion` and `kind`, which list items may
/// leave out.
fn as_value(object: DynamicObject, resource: &ApiResource) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(resource.api_version.clone()));
        map.insert("kind".into(), Value::String(resource.kind.clone()));
    }
    value
}

/// The CEL evaluation threads the audit leaves to admission: it waits while more are alive, so
/// that slow rules in a background audit never make admission answer "not evaluated".
const AUDIT_CEL_THREADS: usize = runtime::MAX_EVALUATION_THREADS / 4;

/// How long the audit waits for CEL threads to finish before it leaves an object's report as it is.
const AUDIT_CEL_WAIT: Duration = Duration::from_secs(10);

/// Waits (blocking) until few enough CEL evaluations run; false when they do not within the wait.
fn cel_threads_free() -> bool {
    let started = std::time::Instant::now();
    while runtime::live_threads() >= AUDIT_CEL_THREADS {
        if started.elapsed() >= AUDIT_CEL_WAIT {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

/// Evaluates objects off the async workers, one at a time. An object evaluated while CEL
/// evaluation threads stay busy is left out (its report stays as it is until the next audit).
async fn evaluate(policies: PolicySet, objects: Vec<Value>) -> Vec<(ObjectRef, Vec<ReportResult>)> {
    let evaluated = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(objects.len());
        for o in &objects {
            if !cel_threads_free() {
                tracing::warn!(
                    name = o
                        .pointer("/metadata/name")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or(""),
                    "policy reports: CEL evaluations stay busy; this object's report waits for the next audit"
                );
                continue;
            }
            out.push((ObjectRef::of(o), report::results(&policies, o)));
        }
        out
    })
    .await;
    evaluated.unwrap_or_else(|e| {
        tracing::error!(error = %e, "evaluating objects for policy reports failed");
        Vec::new()
    })
}

/// A running reporter.
#[derive(Debug)]
pub struct Reporter {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    audits: watch::Receiver<u64>,
}

impl Reporter {
    /// Starts writing reports with `client` about what the policies of `state` say.
    pub fn spawn(client: Client, state: AppState, options: ReportOptions) -> Reporter {
        let (stop, stop_rx) = watch::channel(false);
        let (audits_tx, audits) = watch::channel(0);
        state.report_queue().set_enabled(true);
        let writer = Writer {
            client,
            written: HashMap::new(),
            page_size: options.page_size.max(1),
            served: true,
        };
        let task = tokio::spawn(run(writer, state, options, stop_rx, audits_tx));
        Reporter { stop, task, audits }
    }

    /// How many full audits have completed (for tests and logs).
    pub fn audits(&self) -> watch::Receiver<u64> {
        self.audits.clone()
    }

    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the policy report task failed");
        }
    }
}

async fn run(
    mut writer: Writer,
    state: AppState,
    options: ReportOptions,
    mut stop: watch::Receiver<bool>,
    audits: watch::Sender<u64>,
) {
    if let Some(mut synced) = options.policies_synced.clone() {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = synced.wait_for(|s| *s) => {}
        }
    }
    let mut policies = state.policies_installed();
    let period = options.interval.max(Duration::from_secs(1));
    // The first audit comes with the policies in force now, then every period.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now(), period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stopped = |stop: &watch::Receiver<bool>| *stop.borrow();
    loop {
        let full = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => true,
            changed = policies.changed() => {
                if changed.is_err() {
                    break;
                }
                true
            }
            _ = state.report_queue().notified() => false,
        };
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(options.settle) => {}
        }
        let policy_set = state.context().policies.clone();
        if full {
            policies.borrow_and_update();
            // The objects offered meanwhile are audited by this pass.
            state.report_queue().drain();
            let audited = writer.audit_all(&policy_set).await;
            state.metrics().observe_report_audit(audited.is_ok());
            match audited {
                Ok(written) => {
                    state.metrics().observe_reports_written(written);
                    tracing::info!(
                        policies = policy_set.len(),
                        written,
                        "policy reports: every Cluster and MachineDeployment audited"
                    );
                    audits.send_modify(|n| *n += 1);
                }
                Err(e) => tracing::warn!(error = %e, "policy reports: the audit failed; retrying later"),
            }
            tick.reset();
        } else {
            let keys = state.report_queue().drain();
            let written = writer.audit_some(&policy_set, keys).await;
            state.metrics().observe_reports_written(written);
        }
        if stopped(&stop) {
            break;
        }
    }
    state.report_queue().set_enabled(false);
}

/// Writes reports and remembers what it wrote.
struct Writer {
    client: Client,
    /// uid → hash of the report last written for that object.
    written: HashMap<String, u64>,
    page_size: u32,
    /// Whether the cluster serves the report CRDs, as the last full audit found.
    served: bool,
}

fn hash_of(report: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    report.to_string().hash(&mut h);
    h.finish()
}

impl Writer {
    fn reports_api(&self, subject: &ObjectRef) -> Api<DynamicObject> {
        match &subject.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &policy_report_resource()),
            None => Api::all_with(self.client.clone(), &cluster_policy_report_resource()),
        }
    }

    /// Writes the report about one object if it changed; deletes the one it had when no policy
    /// selects it any more. Returns whether it wrote.
    async fn write(&mut self, subject: &ObjectRef, results: Vec<ReportResult>) -> bool {
        let Some(uid) = report::report_name(subject).map(str::to_owned) else {
            return false;
        };
        if results.is_empty() {
            if self.written.remove(&uid).is_some() {
                self.delete(subject, &uid).await;
            }
            return false;
        }
        let Some(body) = report::report(subject, results) else {
            return false;
        };
        let hash = hash_of(&body);
        if self.written.get(&uid) == Some(&hash) {
            return false;
        }
        let params = PatchParams::apply(SOURCE).force();
        match self
            .reports_api(subject)
            .patch(&uid, &params, &Patch::Apply(&body))
            .await
        {
            Ok(_) => {
                tracing::debug!(kind = %subject.kind, name = %subject.name, "policy report written");
                self.written.insert(uid, hash);
                true
            }
            Err(e) => {
                tracing::warn!(kind = %subject.kind, name = %subject.name, error = %e, "cannot write the policy report");
                false
            }
        }
    }

    async fn delete(&self, subject: &ObjectRef, name: &str) {
        match self.reports_api(subject).delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => tracing::warn!(report = %name, error = %e, "cannot delete the policy report"),
        }
    }

    /// Audits every Cluster and MachineDeployment, page by page, then deletes the reports about
    /// objects that are gone or that no policy selects. Returns how many reports were written.
    async fn audit_all(&mut self, policies: &PolicySet) -> Result<usize, kube::Error> {
        // Without the report CRDs nothing can be written: say so once, not once per object.
        let probe: Api<DynamicObject> = Api::all_with(self.client.clone(), &cluster_policy_report_resource());
        match probe.list(&ListParams::default().limit(1)).await {
            Err(kube::Error::Api(status)) if status.code == 404 => {
                if self.served {
                    tracing::warn!(
                        "policy reports: the cluster does not serve clusterpolicyreports.wgpolicyk8s.io; install the \
                         PolicyReport CRDs (manifests/crds) to get reports"
                    );
                }
                self.served = false;
                self.written.clear();
                return Ok(0);
            }
            Err(e) => return Err(e),
            Ok(_) => self.served = true,
        }
        let mut keep: HashSet<String> = HashSet::new();
        let mut written = 0;
        for (_, resource) in audited() {
            let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
            let mut params = ListParams::default().limit(self.page_size);
            loop {
                let page = api.list(&params).await?;
                let objects: Vec<Value> = page.items.into_iter().map(|o| as_value(o, &resource)).collect();
                for (subject, results) in evaluate(policies.clone(), objects).await {
                    if let (Some(uid), false) = (report::report_name(&subject), results.is_empty()) {
                        keep.insert(uid.to_owned());
                    }
                    written += usize::from(self.write(&subject, results).await);
                }
                match page.metadata.continue_ {
                    Some(token) if !token.is_empty() => params = params.continue_token(&token),
                    _ => break,
                }
            }
        }
        self.remove_stale(&keep).await?;
        Ok(written)
    }

    /// Deletes the webhook's reports whose object is not in `keep`.
    async fn remove_stale(&mut self, keep: &HashSet<String>) -> Result<(), kube::Error> {
        let selector = format!("{MANAGED_BY_LABEL}={SOURCE}");
        for resource in [cluster_policy_report_resource(), policy_report_resource()] {
            let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
            let mut params = ListParams::default().labels(&selector).limit(self.page_size);
            let mut stale = Vec::new();
            loop {
                let page = api.list(&params).await?;
                stale.extend(
                    page.items
                        .into_iter()
                        .filter(|r| !keep.contains(&r.name_any()))
                        .map(|r| (r.namespace(), r.name_any())),
                );
                match page.metadata.continue_ {
                    Some(token) if !token.is_empty() => params = params.continue_token(&token),
                    _ => break,
                }
            }
            for (namespace, name) in stale {
                self.written.remove(&name);
                let subject = ObjectRef {
                    namespace,
                    ..ObjectRef::default()
                };
                self.delete(&subject, &name).await;
                tracing::debug!(report = %name, "policy report of an object gone or no longer selected deleted");
            }
        }
        Ok(())
    }

    /// Audits the objects admitted lately, as stored now.
    /// Returns how many reports were written.
    async fn audit_some(&mut self, policies: &PolicySet, keys: BTreeSet<ObjectKey>) -> usize {
        let mut written = 0;
        if !self.served {
            return written;
        }
        for key in keys {
            let Some((_, resource)) = audited().into_iter().find(|(kind, _)| *kind == key.kind) else {
                continue;
            };
            let api: Api<DynamicObject> = if key.namespace.is_empty() {
                Api::all_with(self.client.clone(), &resource)
            } else {
                Api::namespaced_with(self.client.clone(), &key.namespace, &resource)
            };
            let params = ListParams::default().fields(&format!("metadata.name={}", key.name));
            let objects = match api.list(&params).await {
                Ok(list) => list.items,
                Err(e) => {
                    tracing::warn!(kind = key.kind, name = %key.name, error = %e, "cannot list the object to report on");
                    continue;
                }
            };
            let objects: Vec<Value> = objects.into_iter().map(|o| as_value(o, &resource)).collect();
            for (subject, results) in evaluate(policies.clone(), objects).await {
                written += usize::from(self.write(&subject, results).await);
            }
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_objects_get_their_kind_back() {
        let mut object = DynamicObject::new("workers", &machine_deployment_resource());
        object.types = None;
        let value = as_value(object, &machine_deployment_resource());
        assert_eq!(value["apiVersion"], "cluster.k8s.io/v1alpha1");
        assert_eq!(value["kind"], "MachineDeployment");
    }

    #[test]
    fn report_resources_are_the_wg_policy_api() {
        let r = policy_report_resource();
        assert_eq!(
            (r.api_version.as_str(), r.kind.as_str(), r.plural.as_str()),
            ("wgpolicyk8s.io/v1alpha2", "PolicyReport", "policyreports")
        );
        let c = cluster_policy_report_resource();
        assert_eq!(c.plural, "clusterpolicyreports");
    }

    #[test]
    fn flags_parse_with_defaults() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            reports: ReportArgs,
        }
        let cli = <Cli as clap::Parser>::try_parse_from(["x"]).expect("defaults");
        assert!(cli.reports.policy_reports);
        assert_eq!(cli.reports.policy_report_interval, Duration::from_secs(600));
        let cli =
            <Cli as clap::Parser>::try_parse_from(["x", "--policy-reports=false", "--policy-report-page-size", "7"])
                .expect("flags");
        assert!(!cli.reports.policy_reports);
        assert_eq!(ReportOptions::from(&cli.reports).page_size, 7);
        assert!(<Cli as clap::Parser>::try_parse_from(["x", "--policy-report-page-size", "0"]).is_err());
    }
}
