//! The one entry point: what would admission say about this object?
//!
//! [`mutate`] is what the mutating webhook does (defaulting, returned as a JSON patch), [`validate`]
//! what the validating webhook does (rules and policies on the object as it is), and [`admit`]
//! the whole chain the way the apiserver runs it: default first, then validate the result. The
//! plugin calls [`admit_all`] on the objects it is given together (the cross-object rules) before it sends
//! anything.
//!
//! An object with fields of the wrong JSON type gets every one of them named (see
//! [`crate::decode`]), and the rules still check the fields that are fine.

mod batch;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::decode::{Undecodable, decode};
use crate::defaulting::{self, Phase};
use crate::field::{self, FieldError, Path};
use crate::machine::MachineDeployment;
use crate::platform::{Datacenter, Datacenters};
use crate::policy::{self, Enforcement, PolicySet, Violation};
use crate::validation::{self, Findings};
use crate::versions::VersionCatalog;

pub use batch::{admit_all, lone_cluster_version};

/// The admission operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Operation> {
        match s {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }
}

/// Who is asking, for policy exemptions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub groups: Vec<String>,
}

/// One admission question.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub operation: Operation,
    /// The object as sent; absent on DELETE.
    pub object: Option<&'a Value>,
    /// The stored object on UPDATE and DELETE.
    pub old_object: Option<&'a Value>,
    pub user: Option<&'a UserInfo>,
}

impl<'a> Request<'a> {
    pub fn create(object: &'a Value) -> Self {
        Request {
            operation: Operation::Create,
            object: Some(object),
            old_object: None,
            user: None,
        }
    }
    pub fn update(object: &'a Value, old: &'a Value) -> Self {
        Request {
            operation: Operation::Update,
            object: Some(object),
            old_object: Some(old),
            user: None,
        }
    }
}

/// What the engine knows beyond the object.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The versions the platform offers (its `KubermaticConfiguration`, or the built-in catalog).
    pub versions: VersionCatalog,
    /// The datacenters of the platform's Seeds, when known. Rules that need a datacenter apply
    /// when it is known and are skipped with a warning when it is not.
    pub datacenters: Option<Arc<Datacenters>>,
    /// The `KubermaticConfiguration`'s `spec.exposeStrategy`: the default for new clusters unless
    /// their datacenter's Seed names its own; `NodePort` when neither does.
    pub expose_strategy: Option<String>,
    /// The control plane version of the cluster MachineDeployments belong to, when known: it
    /// enables the kubelet skew rule and the kubelet default.
    pub cluster_version: Option<semver::Version>,
    /// The admission policies in force.
    pub policies: PolicySet,
}

impl Context {
    /// The datacenter `name`, or `None` when no Seed names it or no Seed is known at all.
    pub fn datacenter(&self, name: &str) -> Option<&Datacenter> {
        self.datacenters.as_deref()?.get(name)
    }

    /// The expose strategy a new cluster in datacenter `dc` gets when it names none, as KKP
    /// chooses it: the datacenter's Seed, then the configuration, then `NodePort`.
    pub fn default_expose_strategy(&self, dc: &str) -> &str {
        self.datacenter(dc)
            .and_then(|d| d.seed_expose_strategy.as_deref())
            .or(self.expose_strategy.as_deref())
            .unwrap_or(crate::defaulting::DEFAULT_EXPOSE_STRATEGY)
    }
}

/// Which of our resources an object is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum ResourceKind {
    Cluster,
    MachineDeployment,
    /// Not ours: another group's object, or a kind this engine has no rules for.
    Other {
        #[serde(rename = "apiVersion")]
        api_version: String,
        #[serde(rename = "objectKind")]
        kind: String,
    },
}

impl ResourceKind {
    pub fn of(object: &Value) -> ResourceKind {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        match (api_version, kind) {
            ("kubermatic.k8c.io/v1", "Cluster") => ResourceKind::Cluster,
            ("cluster.k8s.io/v1alpha1", "MachineDeployment") => ResourceKind::MachineDeployment,
            _ => ResourceKind::Other {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
            },
        }
    }

    /// `Cluster.kubermatic.k8c.io`, as kubectl names resources in messages.
    pub fn qualified(&self) -> String {
        match self {
            ResourceKind::Cluster => "Cluster.kubermatic.k8c.io".into(),
            ResourceKind::MachineDeployment => "MachineDeployment.cluster.k8s.io".into(),
            ResourceKind::Other { api_version, kind } => {
                let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
                if group.is_empty() {
                    kind.clone()
                } else {
                    format!("{kind}.{group}")
                }
            }
        }
    }

    pub fn is_ours(&self) -> bool {
        !matches!(self, ResourceKind::Other { .. })
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceKind::Cluster => f.write_str("Cluster"),
            ResourceKind::MachineDeployment => f.write_str("MachineDeployment"),
            ResourceKind::Other { kind, .. } => f.write_str(kind),
        }
    }
}

/// How many errors a denial message lists, as the apiserver does; the rest are counted.
pub const MAX_REPORTED_ERRORS: usize = 100;
/// The longest denial message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// The longest object name a message repeats, in bytes.
const MAX_NAME_BYTES: usize = 256;
/// The deepest nesting of an object the engine looks at. The apiserver's JSON parser and ours stop
/// at about this depth anyway; the check keeps objects built in code to the same bound.
pub const MAX_NESTING: usize = 128;

/// The answer for one object.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    #[serde(flatten)]
    pub kind: ResourceKind,
    pub name: String,
    pub namespace: Option<String>,
    /// The object after defaulting, when defaulting ran.
    #[serde(skip)]
    pub object: Option<Value>,
    /// The JSON patch from the object as sent to the defaulted object.
    #[serde(skip)]
    pub patch: json_patch::Patch,
    pub errors: Vec<FieldError>,
    pub warnings: Vec<String>,
    pub violations: Vec<Violation>,
    /// The policies that selected the object (whether or not it broke them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched_policies: Vec<String>,
    /// Why the object was let through without checks (not ours, being deleted, a DELETE).
    pub skipped: Option<String>,
}

impl Verdict {
    fn new(kind: ResourceKind, object: Option<&Value>) -> Self {
        let meta = |k: &str| {
            object
                .and_then(|o| o.pointer(&format!("/metadata/{k}")))
                .and_then(Value::as_str)
        };
        Verdict::for_object(
            kind,
            meta("name").or(meta("generateName")).unwrap_or(""),
            meta("namespace"),
        )
    }

    /// An empty verdict on the object `name` (in `namespace`) of `kind`: no patch, no findings,
    /// not skipped. For callers that judge an object outside [`admit`] and fill in what they find.
    pub fn for_object(kind: ResourceKind, name: &str, namespace: Option<&str>) -> Self {
        Verdict {
            kind,
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            object: None,
            patch: json_patch::Patch(Vec::new()),
            errors: Vec::new(),
            warnings: Vec::new(),
            violations: Vec::new(),
            matched_policies: Vec::new(),
            skipped: None,
        }
    }

    fn skip(mut self, why: impl Into<String>) -> Self {
        self.skipped = Some(why.into());
        self
    }

    /// Policy violations that deny the object.
    pub fn denials(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.enforcement == Enforcement::Deny)
    }

    pub fn allowed(&self) -> bool {
        self.errors.is_empty() && self.denials().next().is_none()
    }

    /// The HTTP-style code of a denial: 400 for invalid objects, 403 for policy denials.
    pub fn code(&self) -> u16 {
        if self.allowed() {
            200
        } else if self.errors.is_empty() {
            403
        } else {
            400
        }
    }

    /// Every warning, with the Warn-enforced policy violations among them.
    pub fn all_warnings(&self) -> Vec<String> {
        let mut w = self.warnings.clone();
        w.extend(
            self.violations
                .iter()
                .filter(|v| v.enforcement == Enforcement::Warn)
                .map(|v| v.to_string()),
        );
        w
    }

    /// The denial message, in the style of the apiserver's own: every field error and every
    /// denying rule, so one attempt tells the user everything to fix.
    ///
    /// Like the apiserver's, the list is capped: the first [`MAX_REPORTED_ERRORS`] and
    /// `... and N more`, and the whole message at [`MAX_MESSAGE_BYTES`].
    pub fn message(&self) -> String {
        let total = self.errors.len() + self.denials().count();
        if total == 0 {
            return String::new();
        }
        let mut parts: Vec<String> = self
            .errors
            .iter()
            .map(ToString::to_string)
            .chain(self.denials().map(ToString::to_string))
            .take(MAX_REPORTED_ERRORS)
            .collect();
        if total > parts.len() {
            parts.push(format!("... and {} more", total - parts.len()));
        }
        let what = if self.errors.is_empty() {
            "is forbidden"
        } else {
            "is invalid"
        };
        let message = format!(
            "{} {:?} {what}: [{}]",
            self.kind.qualified(),
            field::truncated(&self.name, MAX_NAME_BYTES),
            parts.join(", ")
        );
        field::truncated(&message, MAX_MESSAGE_BYTES).into_owned()
    }
}

/// The stored object of an update, when it decodes; a stored object that does not is not the
/// user's to fix, so the update rules are skipped for it.
fn decodes<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

fn being_deleted(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// Steps that let an object through untouched, or `None` when it must be checked.
fn precheck<'a>(req: &Request<'a>) -> Result<(ResourceKind, &'a Value), Box<Verdict>> {
    let subject = req.object.or(req.old_object);
    let kind = subject.map(ResourceKind::of).unwrap_or(ResourceKind::Other {
        api_version: String::new(),
        kind: String::new(),
    });
    let verdict = Verdict::new(kind.clone(), subject);
    if matches!(req.operation, Operation::Delete | Operation::Connect) {
        return Err(Box::new(verdict.skip(format!(
            "{} requests are not checked",
            format!("{:?}", req.operation).to_uppercase()
        ))));
    }
    let Some(object) = req.object else {
        return Err(Box::new(verdict.skip("no object in the request")));
    };
    if !kind.is_ours() {
        let mut v = verdict.skip(format!(
            "{} is not a KKP Cluster or machine-controller MachineDeployment",
            kind.qualified()
        ));
        v.warnings.push(format!(
            "kkp: {} is not an object this webhook checks; allowed unchanged",
            kind.qualified()
        ));
        return Err(Box::new(v));
    }
    if being_deleted(object) {
        return Err(Box::new(verdict.skip("the object is being deleted")));
    }
    if let Some(at) = crate::decode::deeper_than(object, MAX_NESTING) {
        let mut v = verdict;
        v.errors.push(FieldError::forbidden(
            at,
            format!("nested deeper than {MAX_NESTING} levels"),
        ));
        return Err(Box::new(v));
    }
    Ok((kind, object))
}

/// Defaulting only, as the mutating webhook does: the defaulted object and its patch. Objects that
/// do not decode come back with every field of the wrong type and no patch.
pub fn mutate(req: &Request<'_>, ctx: &Context) -> Verdict {
    mutate_or_explain(req, ctx).0
}

/// [`mutate`], and for an object that does not decode, why not.
fn mutate_or_explain(req: &Request<'_>, ctx: &Context) -> (Verdict, Option<Box<Undecodable>>) {
    let (kind, object) = match precheck(req) {
        Ok(x) => x,
        Err(v) => return (*v, None),
    };
    let mut verdict = Verdict::new(kind.clone(), Some(object));
    let phase = if req.operation == Operation::Create {
        Phase::Create
    } else {
        Phase::Update
    };
    let defaulted = match kind {
        ResourceKind::Cluster => decode::<Cluster>(&kind, object).map(|mut c| {
            let old = req.old_object.and_then(decodes::<Cluster>);
            defaulting::default_cluster(&mut c, old.as_ref(), ctx, phase);
            serde_json::to_value(c)
        }),
        ResourceKind::MachineDeployment => decode::<MachineDeployment>(&kind, object).map(|mut md| {
            defaulting::default_machine_deployment(&mut md, ctx.cluster_version.as_ref());
            serde_json::to_value(md)
        }),
        ResourceKind::Other { .. } => {
            verdict.errors.push(FieldError::forbidden(
                Path::default(),
                "not an object this engine checks",
            ));
            return (verdict, None);
        }
    };
    match defaulted {
        Err(broken) => {
            verdict.errors = broken.errors.clone();
            return (verdict, Some(broken));
        }
        Ok(Err(e)) => verdict
            .errors
            .push(FieldError::invalid(Path::default(), Value::Null, e.to_string())),
        Ok(Ok(mut out)) => {
            let annotations = out.pointer("/metadata/annotations").cloned();
            keep_untyped_parts(object, &mut out);
            if kind == ResourceKind::Cluster {
                keep_added_annotations(annotations, &mut out);
            }
            verdict.patch = json_patch::diff(object, &out);
            verdict.object = Some(out);
        }
    }
    (verdict, None)
}

/// Keeps everything outside `spec` (and a MachineDeployment's namespace) exactly as sent, so the
/// patch only says what defaulting changed.
fn keep_untyped_parts(original: &Value, out: &mut Value) {
    let (Some(orig), Some(new)) = (original.as_object(), out.as_object_mut()) else {
        return;
    };
    let namespace = new.get("metadata").and_then(|m| m.get("namespace")).cloned();
    for (k, v) in orig {
        if k != "spec" {
            new.insert(k.clone(), v.clone());
        }
    }
    new.retain(|k, _| k == "spec" || orig.contains_key(k));
    if let (Some(ns), Some(meta)) = (namespace, new.get_mut("metadata").and_then(Value::as_object_mut)) {
        meta.entry("namespace").or_insert(ns);
    }
}

/// Cluster defaulting may add annotations (KKP marks clusters that move to the external cloud
/// controller manager); they survive [`keep_untyped_parts`].
fn keep_added_annotations(annotations: Option<Value>, out: &mut Value) {
    let Some(Value::Object(added)) = annotations else {
        return;
    };
    let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let target = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if target.is_null() {
        *target = Value::Object(Default::default());
    }
    if let Some(target) = target.as_object_mut() {
        for (k, v) in added {
            target.entry(k).or_insert(v);
        }
    }
}

/// Validation and policies on the object as it is, as the validating webhook does.
pub fn validate(req: &Request<'_>, ctx: &Context) -> Verdict {
    let (kind, object) = match precheck(req) {
        Ok(x) => x,
        Err(v) => return *v,
    };
    let mut verdict = Verdict::new(kind.clone(), Some(object));
    let creating = req.operation == Operation::Create;
    let old = req.old_object.filter(|_| req.operation == Operation::Update);
    let findings = match rule_findings(&kind, object, old, ctx, creating) {
        Ok(findings) => findings,
        Err(broken) => {
            let mut findings = Findings {
                errors: broken.errors.clone(),
                warnings: vec![],
            };
            // The rules still speak about the fields that are fine.
            if let Some(stripped) = &broken.stripped
                && let Ok(rest) = rule_findings(&kind, stripped, old, ctx, creating)
            {
                findings
                    .errors
                    .extend(rest.errors.into_iter().filter(|e| broken.keeps(e)));
                findings.warnings = rest.warnings;
            }
            findings
        }
    };
    verdict.errors = dedup(findings.errors);
    verdict.warnings = findings.warnings;
    let evaluation = policy::evaluate_request(&ctx.policies, &kind, object, old, req.user);
    verdict.violations = evaluation.violations;
    verdict.matched_policies = evaluation.matched;
    verdict
}

/// The validation rules on an object, or why it does not decode.
fn rule_findings(
    kind: &ResourceKind,
    object: &Value,
    old: Option<&Value>,
    ctx: &Context,
    creating: bool,
) -> Result<Findings, Box<Undecodable>> {
    Ok(match kind {
        ResourceKind::Cluster => {
            let cluster = decode::<Cluster>(kind, object)?;
            let mut f = validation::validate_cluster(&cluster, ctx, creating);
            if let Some(old) = old.and_then(decodes::<Cluster>) {
                f.extend(validation::validate_cluster_update(&old, &cluster, ctx));
            }
            f
        }
        ResourceKind::MachineDeployment => {
            let md = decode::<MachineDeployment>(kind, object)?;
            let old = old.and_then(decodes::<MachineDeployment>);
            validation::validate_machine_deployment(&md, old.as_ref(), ctx.cluster_version.as_ref())
        }
        ResourceKind::Other { .. } => Findings::default(),
    })
}

fn dedup(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert(e.to_string()));
    errors
}

/// The whole admission chain: default, then validate the defaulted object.
pub fn admit(req: &Request<'_>, ctx: &Context) -> Verdict {
    let (mutated, broken) = mutate_or_explain(req, ctx);
    let Some(defaulted) = mutated.object.as_ref() else {
        return match broken {
            Some(broken) => admit_undecodable(req, ctx, mutated, &broken),
            None => mutated,
        };
    };
    let next = Request {
        object: Some(defaulted),
        ..*req
    };
    let mut verdict = validate(&next, ctx);
    verdict.object = mutated.object.clone();
    verdict.patch = mutated.patch;
    verdict.warnings.splice(0..0, mutated.warnings);
    verdict
}

/// The chain for an object that does not decode: its type errors, what the chain says about the
/// rest of it (the object without the offending fields, defaulted and validated), and the policies
/// on the object as sent. No defaulted object and no patch.
fn admit_undecodable(req: &Request<'_>, ctx: &Context, mut verdict: Verdict, broken: &Undecodable) -> Verdict {
    if let Some(stripped) = &broken.stripped {
        let rest = admit(
            &Request {
                object: Some(stripped),
                ..*req
            },
            ctx,
        );
        verdict
            .errors
            .extend(rest.errors.into_iter().filter(|e| broken.keeps(e)));
        verdict.errors = dedup(std::mem::take(&mut verdict.errors));
        verdict.warnings.extend(rest.warnings);
    }
    if let Some(object) = req.object {
        let old = req.old_object.filter(|_| req.operation == Operation::Update);
        let evaluation = policy::evaluate_request(&ctx.policies, &verdict.kind, object, old, req.user);
        verdict.violations = evaluation.violations;
        verdict.matched_policies = evaluation.matched;
    }
    verdict
}

#[cfg(test)]
mod capping_tests {
    use serde_json::{Map, json};

    use super::*;

    /// A Cluster whose `spec.features` holds `n` entries of the wrong type.
    fn wrong_typed_features(n: usize) -> Value {
        let features: Map<String, Value> = (0..n).map(|i| (format!("feature{i}"), json!("yes"))).collect();
        json!({
            "apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
            "metadata": { "name": "abcd123456" },
            "spec": { "humanReadableName": "demo", "version": "1.35.7",
                      "cloud": { "dc": "hetzner-fsn1", "hetzner": { "token": "x" } },
                      "features": features }
        })
    }

    #[test]
    fn denial_messages_list_the_first_errors_and_count_the_rest() {
        let object = wrong_typed_features(1_000);
        let verdict = validate(&Request::create(&object), &Context::default());
        assert!(
            verdict.errors.len() >= 1_000,
            "every error is kept: {}",
            verdict.errors.len()
        );
        let message = verdict.message();
        assert!(message.len() <= MAX_MESSAGE_BYTES, "{}", message.len());
        let listed = message.matches("must be of type boolean").count();
        assert_eq!(listed, MAX_REPORTED_ERRORS, "{message}");
        let more = verdict.errors.len() - MAX_REPORTED_ERRORS;
        assert!(message.ends_with(&format!(", ... and {more} more]")), "{message}");
    }

    #[test]
    fn a_short_list_is_not_cut() {
        let object = wrong_typed_features(3);
        let message = validate(&Request::create(&object), &Context::default()).message();
        assert_eq!(message.matches("must be of type boolean").count(), 3, "{message}");
        assert!(!message.contains("more]"), "{message}");
    }

    #[test]
    fn objects_nested_too_deep_are_refused_before_anything_walks_them() {
        let mut object = wrong_typed_features(0);
        let mut deep = json!(1);
        for _ in 0..MAX_NESTING {
            deep = json!({ "x": deep });
        }
        object["spec"]["cloud"]["hetzner"]["extra"] = deep;
        for verdict in [
            validate(&Request::create(&object), &Context::default()),
            mutate(&Request::create(&object), &Context::default()),
            admit(&Request::create(&object), &Context::default()),
        ] {
            assert!(!verdict.allowed());
            assert_eq!(verdict.errors.len(), 1, "{:?}", verdict.errors);
            assert!(verdict.errors[0].to_string().contains("nested deeper than 128 levels"));
            assert!(
                verdict.errors[0]
                    .field
                    .as_str()
                    .starts_with("spec.cloud.hetzner.extra.x.x")
            );
        }
    }
}
