//! Admission policies in force: followed from the API with a reflector on `AdmissionPolicy`
//! (`policy.kubectl-kkp.io/v1alpha1`), compiled whenever one changes and swapped into the
//! [`AppState`]'s context, and reported on through each policy's status subresource.
//!
//! - The request path only reads the compiled set from the context: no API call is ever made
//!   while a review is answered.
//! - A policy that does not parse or compile is left out and reported in its status
//!   (`compiled: false`, `error`); the others stay in force and the server keeps serving.
//! - How many objects each policy selected (`matched`) and denied (`denied`) is counted in
//!   memory ([`crate::policy_counts`]) and added to the policy's status every few seconds, with a merge patch that carries
//!   the `resourceVersion` it was computed from, so that several replicas add up instead of
//!   overwriting each other.
//! - Policies can also come from files (`--policy-file`), for running without API access.
//!
//! [`crate::startup`] starts the watch beside the server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgAction, Args};
use futures::StreamExt;

use kkp_crds::policy::{AdmissionPolicy, PolicySet};
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::duration::parse_duration;
use crate::policy_counts::{Counts, PolicyCounters};
use crate::reports::ReportArgs;
use crate::state::AppState;

/// Where the policies come from, on the command line.
#[derive(Clone, Debug, Args)]
pub struct PolicyArgs {
    /// Follow the AdmissionPolicy resources of the cluster the webhook runs in (or of the
    /// kubeconfig in KUBECONFIG). Default: on when running in a cluster or when a kubeconfig is
    /// available; with false the webhook needs no API access at all.
    #[arg(long, env = "KKP_WEBHOOK_WATCH_POLICIES", value_name = "BOOL", action = ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub watch_policies: Option<bool>,

    /// YAML files with AdmissionPolicy objects to enforce as well (several documents per file;
    /// repeatable). They have no status to report to.
    #[arg(
        long = "policy-file",
        env = "KKP_WEBHOOK_POLICY_FILES",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub policy_files: Vec<PathBuf>,

    /// How often the matched/denied counts are added to the policies' status.
    #[arg(long, env = "KKP_WEBHOOK_POLICY_STATUS_INTERVAL", default_value = "10s", value_parser = parse_duration)]
    pub policy_status_interval: Duration,

    /// At startup, how long to wait for the first list of policies before serving without them.
    #[arg(long, env = "KKP_WEBHOOK_POLICY_SYNC_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub policy_sync_timeout: Duration,

    #[command(flatten)]
    pub reports: ReportArgs,
}

impl Default for PolicyArgs {
    fn default() -> Self {
        PolicyArgs {
            watch_policies: Some(false),
            policy_files: Vec::new(),
            policy_status_interval: Duration::from_secs(10),
            policy_sync_timeout: Duration::from_secs(10),
            reports: ReportArgs::default(),
        }
    }
}

/// Why the policies could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PolicySourceError {
    #[error("cannot read the policy file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the policy file {path} is not YAML: {source}")]
    Yaml { path: PathBuf, source: serde_yaml::Error },
    #[error("{path}, document {document}: not an AdmissionPolicy: {message}")]
    NotAPolicy {
        path: PathBuf,
        document: usize,
        message: String,
    },
    #[error("--watch-policies: no API access configured (neither in a cluster nor a usable kubeconfig): {0}")]
    NoApiAccess(String),
}

// ---- compiling ------------------------------------------------------------------------------

/// The AdmissionPolicy resource, for dynamic API calls.
pub fn policy_resource() -> ApiResource {
    ApiResource::erase::<AdmissionPolicy>(&())
}

/// Whether one watched policy is in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub generation: Option<i64>,
    /// `None` when it compiled, else why not.
    pub error: Option<String>,
}

/// The policies in force and, for each watched one, whether it compiled.
#[derive(Debug, Default)]
pub struct Compiled {
    pub set: PolicySet,
    pub outcomes: BTreeMap<String, Outcome>,
}

/// Compiles the watched objects together with the policies from files, as the plugin compiles
/// policies ([`PolicySet::from_documents`]). An object that does not parse as an AdmissionPolicy
/// fails like one that does not compile.
pub fn compile_all(watched: &[Arc<DynamicObject>], from_files: &[AdmissionPolicy]) -> Compiled {
    let documents: Vec<Value> = from_files
        .iter()
        .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
        .chain(
            watched
                .iter()
                .map(|o| serde_json::to_value(o.as_ref()).unwrap_or(Value::Null)),
        )
        .collect();
    let (set, loaded) = PolicySet::from_documents(&documents);
    for l in loaded.iter().filter(|l| !l.in_force()) {
        let error = l.error.as_ref().map(ToString::to_string).unwrap_or_default();
        tracing::warn!(policy = %l.name, error = %error, "admission policy not enforced");
    }
    let outcomes = watched
        .iter()
        .zip(loaded.into_iter().skip(from_files.len()))
        .map(|(object, l)| {
            let outcome = Outcome {
                generation: object.metadata.generation,
                error: l.error.map(|e| e.to_string()),
            };
            (object.name_any(), outcome)
        })
        .collect();
    Compiled { set, outcomes }
}

/// The merge patch that makes a policy's status say `outcome`, or `None` when it already does.
pub fn compiled_status_patch(object: &DynamicObject, outcome: &Outcome) -> Option<Value> {
    let status = object.data.get("status");
    let field = |k: &str| status.and_then(|s| s.get(k));
    let compiled = outcome.error.is_none();
    let same = field("compiled").and_then(Value::as_bool) == Some(compiled)
        && field("error").and_then(Value::as_str) == outcome.error.as_deref()
        && field("observedGeneration").and_then(Value::as_i64) == outcome.generation;
    (!same).then(|| {
        json!({"status": {
            "compiled": compiled,
            "error": outcome.error,
            "observedGeneration": outcome.generation,
        }})
    })
}

/// The merge patch that adds `delta` to a policy's counts, conditional on the resource version the
/// counts were read at; `None` when there is nothing to add.
pub fn counts_patch(object: &DynamicObject, delta: Counts) -> Option<Value> {
    if delta == Counts::default() {
        return None;
    }
    let status = object.data.get("status");
    let current = |k: &str| status.and_then(|s| s.get(k)).and_then(Value::as_i64).unwrap_or(0);
    let add = |n: i64, d: u64| n.saturating_add(i64::try_from(d).unwrap_or(i64::MAX));
    Some(json!({
        "metadata": {"resourceVersion": object.metadata.resource_version},
        "status": {
            "matched": add(current("matched"), delta.matched),
            "denied": add(current("denied"), delta.denied),
        }
    }))
}

/// Every AdmissionPolicy in the YAML files (several documents each).
pub fn load_policy_files(paths: &[PathBuf]) -> Result<Vec<AdmissionPolicy>, PolicySourceError> {
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|source| PolicySourceError::Read {
            path: path.clone(),
            source,
        })?;
        out.extend(parse_policies(path, &text)?);
    }
    Ok(out)
}

fn parse_policies(path: &Path, text: &str) -> Result<Vec<AdmissionPolicy>, PolicySourceError> {
    use serde::Deserialize as _;
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(doc).map_err(|source| PolicySourceError::Yaml {
            path: path.to_path_buf(),
            source,
        })?;
        if value.is_null() {
            continue;
        }
        let not_a_policy = |message: String| PolicySourceError::NotAPolicy {
            path: path.to_path_buf(),
            document: i + 1,
            message,
        };
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != "AdmissionPolicy" {
            return Err(not_a_policy(format!("kind is {kind:?}")));
        }
        out.push(serde_json::from_value(value).map_err(|e| not_a_policy(e.to_string()))?);
    }
    Ok(out)
}

// ---- following the API ------------------------------------------------------------------------

/// A running policy source: a reflector on AdmissionPolicy and the status writer.
#[derive(Debug)]
pub struct PolicyWatch {
    synced: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    store: Store<DynamicObject>,
}

/// How the policy source behaves.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// How often the counts are written to the policies' status.
    pub status_interval: Duration,
    /// Policies from files, enforced alongside the watched ones.
    pub from_files: Vec<AdmissionPolicy>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            status_interval: Duration::from_secs(10),
            from_files: Vec::new(),
        }
    }
}

impl PolicyWatch {
    /// Starts following the AdmissionPolicy resources with `client`, installing each new set into
    /// `state`. API errors (unreachable, CRD missing, forbidden) are logged and retried with
    /// back-off; they never stop the server.
    pub fn spawn(client: Client, state: AppState, options: WatchOptions) -> PolicyWatch {
        let (synced_tx, synced) = watch::channel(false);
        let (stop, stop_rx) = watch::channel(false);
        let writer = reflector::store::Writer::new(policy_resource());
        let store = writer.as_reader();
        let task = tokio::spawn(run(client, state, options, writer, store.clone(), synced_tx, stop_rx));
        PolicyWatch {
            synced,
            stop,
            task,
            store,
        }
    }

    /// Waits until the first complete list of policies is in force; false after `timeout`.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let mut synced = self.synced.clone();
        tokio::time::timeout(timeout, synced.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Says true once the first complete list of policies is in force.
    pub fn synced(&self) -> watch::Receiver<bool> {
        self.synced.clone()
    }

    /// The policies as last seen from the API.
    pub fn store(&self) -> &Store<DynamicObject> {
        &self.store
    }

    /// Writes the counts one last time and stops.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the policy watch task failed");
        }
    }
}

/// Name → (uid, generation) of each watched policy: what a recompile depends on. Status writes
/// do not change it.
type Fingerprint = BTreeMap<String, (Option<String>, Option<i64>)>;

/// What the watch loop keeps between events.
struct Source {
    api: Api<DynamicObject>,
    state: AppState,
    store: Store<DynamicObject>,
    from_files: Vec<AdmissionPolicy>,
    /// Of the set last compiled.
    fingerprint: Option<Fingerprint>,
    outcomes: BTreeMap<String, Outcome>,
}

impl Source {
    fn recompile_if_changed(&mut self) -> bool {
        let objects = self.store.state();
        let fingerprint: Fingerprint = objects
            .iter()
            .map(|o| (o.name_any(), (o.metadata.uid.clone(), o.metadata.generation)))
            .collect();
        if self.fingerprint.as_ref() == Some(&fingerprint) {
            return false;
        }
        let compiled = compile_all(&objects, &self.from_files);
        let failed = compiled.outcomes.values().filter(|o| o.error.is_some()).count();
        tracing::info!(
            policies = compiled.set.len(),
            failed,
            "admission policies compiled and in force"
        );
        self.state.set_policies(compiled.set);
        self.outcomes = compiled.outcomes;
        self.fingerprint = Some(fingerprint);
        true
    }

    /// Makes every policy's status say whether it compiled, where it does not already.
    async fn write_compiled_status(&self) {
        for (name, outcome) in &self.outcomes {
            let Some(object) = self.store.find(|o| &o.name_any() == name) else {
                continue;
            };
            let Some(body) = compiled_status_patch(&object, outcome) else {
                continue;
            };
            match self
                .api
                .patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
                .await
            {
                Ok(_) => tracing::debug!(policy = %name, compiled = outcome.error.is_none(), "policy status written"),
                Err(e) => tracing::warn!(policy = %name, error = %e, "cannot write the policy's status"),
            }
        }
    }

    /// Adds the counts since the last write to each policy's status.
    async fn write_counts(&self, counters: &PolicyCounters) {
        for (name, delta) in counters.take() {
            // Policies from files, or deleted ones, have no status to count in.
            let Some(object) = self.store.find(|o| o.name_any() == name) else {
                continue;
            };
            let Some(body) = counts_patch(&object, delta) else {
                continue;
            };
            match self
                .api
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(&body))
                .await
            {
                Ok(_) => {
                    tracing::debug!(policy = %name, matched = delta.matched, denied = delta.denied, "policy counts written")
                }
                Err(e) => {
                    // A conflict means the status changed since it was read: add again next time.
                    tracing::debug!(policy = %name, error = %e, "policy counts not written; retrying later");
                    counters.give_back(&name, delta);
                }
            }
        }
    }
}

async fn run(
    client: Client,
    state: AppState,
    options: WatchOptions,
    writer: reflector::store::Writer<DynamicObject>,
    store: Store<DynamicObject>,
    synced: watch::Sender<bool>,
    mut stop: watch::Receiver<bool>,
) {
    let resource = policy_resource();
    let api: Api<DynamicObject> = Api::all_with(client, &resource);
    let events = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .reflect(writer);
    let mut events = std::pin::pin!(events);
    let mut source = Source {
        api,
        state: state.clone(),
        store,
        from_files: options.from_files,
        fingerprint: None,
        outcomes: BTreeMap::new(),
    };
    let mut tick = tokio::time::interval(options.status_interval.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
            _ = tick.tick() => {
                let ready = *synced.borrow();
                if ready {
                    source.write_counts(state.policy_counters()).await;
                    source.write_compiled_status().await;
                }
            }
            event = events.next() => match event {
                None => {
                    tracing::warn!("the admission policy watch ended");
                    break;
                }
                Some(Ok(watcher::Event::InitDone | watcher::Event::Apply(_) | watcher::Event::Delete(_))) => {
                    if source.recompile_if_changed() {
                        source.write_compiled_status().await;
                    }
                    synced.send_replace(true);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => tracing::warn!(error = %e, "watching admission policies failed; retrying"),
            }
        }
    }
    let ready = *synced.borrow();
    if ready {
        source.write_counts(state.policy_counters()).await;
    }
}

#[cfg(test)]
mod tests {
    use kkp_crds::context::Context;
    use kkp_crds::policy;

    use super::*;
    use crate::answer::{self, Endpoint};
    use crate::policy_counts::observe;
    use crate::review::{self, ParsedRequest};
    use kube::api::ObjectMeta;

    fn policy_object(name: &str, generation: i64, spec: Value, status: Option<Value>) -> Arc<DynamicObject> {
        let mut object = DynamicObject::new(name, &policy_resource());
        object.metadata = ObjectMeta {
            name: Some(name.into()),
            generation: Some(generation),
            uid: Some(format!("uid-{name}")),
            resource_version: Some("42".into()),
            ..ObjectMeta::default()
        };
        object.data = json!({"spec": spec});
        if let Some(s) = status {
            object.data["status"] = s;
        }
        Arc::new(object)
    }

    fn hetzner_cluster() -> Value {
        json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": {"name": "abcd123456", "labels": {"project-id": "p1"}},
            "spec": {"humanReadableName": "demo", "version": "1.35.7",
                     "cloud": {"dc": "hetzner-fsn1", "hetzner": {"token": "x"}}}
        })
    }

    fn parsed(object: &Value, user: &str, groups: &[&str]) -> ParsedRequest {
        let body = json!({"apiVersion": review::API_VERSION, "kind": review::KIND, "request": {
            "uid": "u1", "operation": "CREATE", "name": "abcd123456", "object": object,
            "userInfo": {"username": user, "groups": groups}}});
        review::parse(body.to_string().as_bytes()).expect("a review")
    }

    #[test]
    fn watched_policies_compile_and_broken_ones_are_reported_not_enforced() {
        let good = policy_object("only-aws", 1, json!({"rules": {"providers": ["aws"]}}), None);
        let bad = policy_object("bad-version", 2, json!({"rules": {"kubernetesVersions": "soon"}}), None);
        let unparsable = policy_object("wrong-type", 3, json!({"rules": {"providers": "aws"}}), None);
        let from_file: AdmissionPolicy = serde_json::from_value(json!({
            "apiVersion": "policy.kubectl-kkp.io/v1alpha1", "kind": "AdmissionPolicy",
            "metadata": {"name": "from-file"}, "spec": {"rules": {"maxReplicas": 3}}
        }))
        .expect("a policy");
        let compiled = compile_all(&[good, bad, unparsable], &[from_file]);
        let names: Vec<&str> = compiled.set.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["from-file", "only-aws"]);
        assert_eq!(
            compiled.outcomes["only-aws"],
            Outcome {
                generation: Some(1),
                error: None
            }
        );
        let version_error = compiled.outcomes["bad-version"].error.clone().expect("an error");
        assert!(
            version_error.starts_with("rules.kubernetesVersions: \"soon\" is not a semver constraint"),
            "{version_error}"
        );
        let parse_error = compiled.outcomes["wrong-type"].error.clone().expect("an error");
        assert!(parse_error.starts_with("the policy does not parse: "), "{parse_error}");
        assert!(
            !compiled.outcomes.contains_key("from-file"),
            "file policies have no status"
        );
    }

    #[tokio::test]
    async fn hostile_cel_policies_are_reported_and_the_webhook_keeps_serving() {
        use axum::body::Body;
        use tower::ServiceExt;

        let cel = |name: &str, expression: String| {
            policy_object(
                name,
                1,
                json!({"rules": {"cel": [{"name": "r", "expression": expression}]}}),
                None,
            )
        };
        let ten = format!("[{}]", ["0"; 10].join(","));
        let mut maps = "0".to_owned();
        for level in 0..7 {
            maps = format!("{ten}.map(v{level}, {maps})");
        }
        let watched = [
            cel("deep", format!("{}true{}", "[".repeat(5000), "]".repeat(5000))),
            cel("chain", format!("{} > 0", vec!["1"; 2400].join("+"))),
            cel("steps", format!("size({maps}) > 0")),
            cel("crash", format!("{}true", "true ? true : ".repeat(240))),
            cel("range", "lists.range(object.spec.replicas).size() > 0".into()),
            policy_object("only-aws", 1, json!({"rules": {"providers": ["aws"]}}), None),
        ];
        let compiled = compile_all(&watched, &[]);
        let error = |name: &str| compiled.outcomes[name].error.clone().unwrap_or_default();
        assert!(error("deep").contains("the limit is 5000"), "{}", error("deep"));
        assert!(
            error("chain").contains("operators; the limit is 500"),
            "{}",
            error("chain")
        );
        assert!(error("steps").contains("over the cost budget"), "{}", error("steps"));
        assert!(error("crash").contains("crashed the CEL parser"), "{}", error("crash"));
        assert!(
            error("range").contains("lists.range needs a literal bound"),
            "{}",
            error("range")
        );
        let names: Vec<&str> = compiled.set.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["only-aws"]);

        let state = AppState::new(Context::default(), Default::default());
        state.set_policies(compiled.set);
        let body = json!({"apiVersion": review::API_VERSION, "kind": review::KIND, "request": {
            "uid": "u1", "operation": "CREATE", "name": "abcd123456", "object": hetzner_cluster(),
            "kind": {"group": "kubermatic.k8c.io", "version": "v1", "kind": "Cluster"},
            "userInfo": {"username": "bob", "groups": []}}});
        let request = axum::http::Request::post(kkp_manifests::VALIDATE_PATH)
            .header(axum::http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a request");
        let response = crate::routes::router(state).oneshot(request).await.expect("served");
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a body");
        let answer: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(answer["response"]["allowed"], false, "{answer}");
    }

    #[test]
    fn the_compiled_status_is_written_only_when_it_differs() {
        let outcome = Outcome {
            generation: Some(2),
            error: None,
        };
        let fresh = policy_object("p", 2, json!({}), None);
        assert_eq!(
            compiled_status_patch(&fresh, &outcome),
            Some(json!({"status": {"compiled": true, "error": null, "observedGeneration": 2}}))
        );
        let current = policy_object(
            "p",
            2,
            json!({}),
            Some(json!({"compiled": true, "observedGeneration": 2, "matched": 4})),
        );
        assert_eq!(compiled_status_patch(&current, &outcome), None);
        let failing = Outcome {
            generation: Some(3),
            error: Some("rules.cel[0] (x): the expression does not compile".into()),
        };
        assert_eq!(
            compiled_status_patch(&current, &failing),
            Some(json!({"status": {"compiled": false,
                "error": "rules.cel[0] (x): the expression does not compile", "observedGeneration": 3}}))
        );
    }

    #[test]
    fn counts_are_added_to_the_status_at_the_version_they_were_read() {
        let object = policy_object("p", 1, json!({}), Some(json!({"matched": 10, "denied": 2})));
        assert_eq!(
            counts_patch(&object, Counts { matched: 3, denied: 1 }),
            Some(json!({"metadata": {"resourceVersion": "42"}, "status": {"matched": 13, "denied": 3}}))
        );
        assert_eq!(counts_patch(&object, Counts::default()), None);
        let bare = policy_object("p", 1, json!({}), None);
        assert_eq!(
            counts_patch(&bare, Counts { matched: 1, denied: 0 }).expect("a patch")["status"],
            json!({"matched": 1, "denied": 0})
        );
    }

    #[test]
    fn validating_reviews_count_matches_and_denials_per_policy() {
        let policies = [
            policy_object("only-aws", 1, json!({"rules": {"providers": ["aws"]}}), None),
            policy_object(
                "warn-labels",
                1,
                json!({"enforcement": "Warn", "rules": {"requiredLabels": ["team"]}}),
                None,
            ),
            policy_object(
                "other-project",
                1,
                json!({"selector": {"matchLabels": {"project-id": "p2"}}, "rules": {"providers": ["aws"]}}),
                None,
            ),
            policy_object(
                "admins-exempt",
                1,
                json!({"exemptions": {"groups": ["admins"]}, "rules": {"providers": ["aws"]}}),
                None,
            ),
        ];
        let ctx = Context {
            policies: compile_all(&policies, &[]).set,
            ..Context::default()
        };
        let counters = PolicyCounters::default();
        let object = hetzner_cluster();
        let request = parsed(&object, "bob", &["devs"]);
        let a = answer::answer(Endpoint::Validate, &request, &ctx);
        assert!(!a.response.allowed);
        observe(&counters, Endpoint::Validate, false, &a);
        // The same review as a dry run is answered alike but not counted.
        observe(&counters, Endpoint::Validate, true, &a);
        let admin = parsed(&object, "carol", &["admins"]);
        let b = answer::answer(Endpoint::Validate, &admin, &ctx);
        observe(&counters, Endpoint::Validate, false, &b);
        // The mutating webhook's reviews are not counted: the same object passes both.
        let m = answer::answer(Endpoint::Mutate, &request, &ctx);
        observe(&counters, Endpoint::Mutate, false, &m);

        let counts = counters.snapshot();
        assert_eq!(counts["only-aws"], Counts { matched: 2, denied: 2 });
        assert_eq!(counts["warn-labels"], Counts { matched: 2, denied: 0 });
        assert_eq!(counts["admins-exempt"], Counts { matched: 1, denied: 1 });
        assert!(!counts.contains_key("other-project"));
    }

    #[test]
    fn policy_files_hold_several_documents_and_nothing_else() {
        let text = "apiVersion: policy.kubectl-kkp.io/v1alpha1\nkind: AdmissionPolicy\nmetadata: {name: a}\nspec: {rules: {maxReplicas: 2}}\n---\n---\napiVersion: policy.kubectl-kkp.io/v1alpha1\nkind: AdmissionPolicy\nmetadata: {name: b}\nspec: {enforcement: Warn}\n";
        let parsed = parse_policies(Path::new("p.yaml"), text).expect("two policies");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].spec.enforcement, Some(policy::Enforcement::Warn));
        let wrong = parse_policies(Path::new("p.yaml"), "apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "p.yaml, document 1: not an AdmissionPolicy: kind is \"ConfigMap\""
        );
        assert!(load_policy_files(&[PathBuf::from("/nonexistent/policies.yaml")]).is_err());
    }

    #[test]
    fn flags_parse_with_defaults() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            policies: PolicyArgs,
        }
        let cli = <Cli as clap::Parser>::try_parse_from(["x"]).expect("defaults");
        assert_eq!(cli.policies.watch_policies, None);
        assert_eq!(cli.policies.policy_status_interval, Duration::from_secs(10));
        let cli = <Cli as clap::Parser>::try_parse_from(["x", "--watch-policies=false", "--policy-file", "a.yaml"])
            .expect("flags");
        assert_eq!(cli.policies.watch_policies, Some(false));
        assert_eq!(cli.policies.policy_files, [PathBuf::from("a.yaml")]);
        let cli = <Cli as clap::Parser>::try_parse_from(["x", "--watch-policies"]).expect("bare flag");
        assert_eq!(cli.policies.watch_policies, Some(true));
    }
}
