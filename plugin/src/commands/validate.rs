//! `kubectl kkp validate`: what admission would answer for local files. Every KKP Cluster and
//! machine-controller MachineDeployment is defaulted and then validated by the engine, as the
//! webhook chain does; objects of other kinds are reported as skipped.

use std::io::{self, Write};

use anyhow::{Context as _, bail};
use kkp_crds::admission::{self, Verdict};
use kkp_crds::crd_check::CrdSchemas;
use kkp_crds::policy::Enforcement;
use kkp_crds::versions;
use serde::Serialize;
use serde_json::Value;

use crate::cli::validate::{ReportFormat, ValidateArgs};
use crate::output;
use crate::platform::Platform;
use crate::printer::Printer;
use crate::settings::GlobalSettings;
use crate::template::documents::{self, Place};

/// An object to check and where it came from.
#[derive(Clone, Debug)]
pub struct Input {
    pub file: Option<String>,
    pub place: Option<Place>,
    pub value: Value,
}

impl Input {
    /// An object that came from a template rather than a file.
    pub fn generated(value: Value) -> Self {
        Input {
            file: None,
            place: None,
            value,
        }
    }
}

/// What the engine needs beyond the objects.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The versions and datacenters in force.
    pub platform: Platform,
    /// The control plane version for MachineDeployments; when absent, that of the one KKP
    /// Cluster among the inputs.
    pub cluster_version: Option<semver::Version>,
}

/// One object with the engine's verdict.
#[derive(Debug)]
pub struct Checked {
    pub input: Input,
    pub verdict: Verdict,
    /// Judged against its CRD (`--crd`) rather than by the engine's own rules.
    pub against_crd: bool,
}

impl Checked {
    pub fn is_ours(&self) -> bool {
        self.against_crd || (self.verdict.skipped.is_none() && self.verdict.kind.is_ours())
    }

    /// Admitted, or not ours to judge.
    pub fn allowed(&self) -> bool {
        !self.is_ours() || self.verdict.allowed()
    }

    pub fn kind(&self) -> String {
        let kind = self.verdict.kind.to_string();
        if kind.is_empty() { "object".to_owned() } else { kind }
    }

    pub fn name(&self) -> String {
        if self.verdict.name.is_empty() {
            "(unnamed)".to_owned()
        } else {
            self.verdict.name.clone()
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        if self.is_ours() {
            self.verdict.all_warnings()
        } else {
            Vec::new()
        }
    }

    pub fn error_count(&self) -> usize {
        self.messages().len()
    }

    /// Every field error and denying policy rule, one line each.
    pub fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = self.verdict.errors.iter().map(ToString::to_string).collect();
        out.extend(self.verdict.denials().map(ToString::to_string));
        out
    }

    /// The defaulted object when the engine defaulted it, else the object as given.
    pub fn into_object(self) -> Value {
        match self.verdict.object {
            Some(obj) if self.verdict.skipped.is_none() => obj,
            _ => self.input.value,
        }
    }

    fn api_version(&self) -> Option<&str> {
        self.input.value.get("apiVersion").and_then(Value::as_str)
    }
}

/// Runs admission (defaulting, then validation, as a CREATE) on every object, together: see
/// [`admission::admit_all`].
pub fn check(inputs: Vec<Input>, opts: &CheckOptions) -> Vec<Checked> {
    let mut ctx = opts.platform.context();
    ctx.cluster_version = opts.cluster_version.clone();
    let values: Vec<&Value> = inputs.iter().map(|i| &i.value).collect();
    let verdicts = admission::admit_all(&values, &ctx, None);
    inputs
        .into_iter()
        .zip(verdicts)
        .map(|(input, verdict)| Checked {
            input,
            verdict,
            against_crd: false,
        })
        .collect()
}

/// Judges the objects the engine has no rules for against their CRD's schema, where `crds`
/// has one for their kind.
pub fn check_against_crds(checked: &mut [Checked], crds: &CrdSchemas) {
    for c in checked.iter_mut().filter(|c| !c.is_ours()) {
        if let Some(errors) = crds.check(&c.input.value) {
            c.verdict.errors = errors;
            c.verdict.skipped = None;
            // The engine's note that it does not judge this kind no longer holds.
            c.verdict.warnings.clear();
            c.against_crd = true;
        }
    }
}

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

/// The report for people: a line per object, then its errors and warnings indented.
pub fn write_text_report(w: &mut dyn Write, checked: &[&Checked], show_file: bool) -> io::Result<()> {
    for c in checked {
        let prefix = match (&c.input.file, show_file) {
            (Some(file), true) => format!("{file}: "),
            _ => String::new(),
        };
        let subject = format!("{prefix}{} {}", c.kind(), c.name());
        if !c.is_ours() {
            let why = c.verdict.skipped.clone().unwrap_or_else(|| "not checked".to_owned());
            writeln!(w, "○ {subject}: skipped: {why}")?;
            continue;
        }
        let messages = c.messages();
        match messages.len() {
            0 => writeln!(w, "✓ {subject}: valid")?,
            1 => writeln!(w, "✗ {subject}: 1 error")?,
            n => writeln!(w, "✗ {subject}: {n} errors")?,
        }
        for m in &messages {
            writeln!(w, "  - {m}")?;
        }
        for warning in c.warnings() {
            writeln!(w, "  Warning: {warning}")?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    allowed: bool,
    skipped: Option<String>,
    errors: Vec<JsonError>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct JsonError {
    field: String,
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

impl JsonResult {
    fn of(c: &Checked) -> Self {
        let mut errors: Vec<JsonError> = c
            .verdict
            .errors
            .iter()
            .map(|e| JsonError {
                field: e.field.to_string(),
                kind: serde_json::to_value(&e.error_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                message: e.to_string(),
            })
            .collect();
        errors.extend(
            c.verdict
                .violations
                .iter()
                .filter(|v| v.enforcement == Enforcement::Deny)
                .map(|v| JsonError {
                    field: String::new(),
                    kind: "policy".to_owned(),
                    message: v.to_string(),
                }),
        );
        JsonResult {
            file: c.input.file.clone(),
            document: c.input.place.map(|p| p.number),
            item: c.input.place.and_then(|p| p.item.map(|i| i + 1)),
            api_version: c.api_version().map(str::to_owned),
            kind: Some(c.kind()),
            name: Some(c.verdict.name.clone()).filter(|n| !n.is_empty()),
            namespace: c.verdict.namespace.clone(),
            allowed: c.allowed(),
            skipped: if c.is_ours() { None } else { c.verdict.skipped.clone() },
            errors: if c.is_ours() { errors } else { Vec::new() },
            warnings: c.warnings(),
        }
    }

    fn unreadable(file: &str, place: Option<Place>, message: String) -> Self {
        JsonResult {
            file: Some(file.to_owned()),
            document: place.map(|p| p.number),
            item: place.and_then(|p| p.item.map(|i| i + 1)),
            api_version: None,
            kind: None,
            name: None,
            namespace: None,
            allowed: false,
            skipped: None,
            errors: vec![JsonError {
                field: String::new(),
                kind: "parse".to_owned(),
                message,
            }],
            warnings: Vec::new(),
        }
    }
}

/// A file that could not be read or parsed, in whole or in part.
struct Unreadable {
    file: String,
    place: Option<Place>,
    message: String,
}

pub async fn run(args: ValidateArgs, _g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    let opts = options(&args)?;
    let files = super::files::expand(&args.files, args.recursive)?;
    let mut inputs = Vec::new();
    let mut unreadable = Vec::new();
    for file in &files {
        read_objects(file, &mut inputs, &mut unreadable);
    }
    if inputs.is_empty() && unreadable.is_empty() {
        bail!("no objects found in {}", files.join(", "));
    }
    let mut checked = check(inputs, &opts);
    if !args.crds.is_empty() {
        check_against_crds(&mut checked, &load_crds(&args.crds)?);
    }
    let mut out = printer.stdout();
    let written = match args.output {
        ReportFormat::Text => {
            let refs: Vec<&Checked> = checked.iter().collect();
            write_text_report(&mut out, &refs, files.len() > 1).and_then(|()| {
                for u in &unreadable {
                    let place = u.place.map(|p| format!("{p}: ")).unwrap_or_default();
                    writeln!(out, "✗ {}: {place}{}", u.file, u.message)?;
                }
                Ok(())
            })
        }
        ReportFormat::Json => {
            let mut results: Vec<JsonResult> = checked.iter().map(JsonResult::of).collect();
            results.extend(
                unreadable
                    .iter()
                    .map(|u| JsonResult::unreadable(&u.file, u.place, u.message.clone())),
            );
            let value = serde_json::to_value(&results)?;
            writeln!(out, "{}", output::to_json(&value))
        }
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e).context("cannot write to stdout"),
        _ => {}
    }
    let invalid = checked.iter().filter(|c| !c.allowed()).count();
    let total = checked.len();
    match (invalid, unreadable.len()) {
        (0, 0) => Ok(()),
        (0, n) => bail!("{n} {} could not be read", if n == 1 { "input" } else { "inputs" }),
        (i, 0) => bail!(
            "{i} of {total} {} invalid",
            if total == 1 { "object is" } else { "objects are" }
        ),
        (i, n) => bail!(
            "{i} of {total} {} invalid and {n} {} could not be read",
            if total == 1 { "object is" } else { "objects are" },
            if n == 1 { "input" } else { "inputs" }
        ),
    }
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

fn read_objects(file: &str, inputs: &mut Vec<Input>, unreadable: &mut Vec<Unreadable>) {
    let text = match super::files::read_text(file) {
        Ok(t) => t,
        Err(e) => {
            unreadable.push(Unreadable {
                file: file.to_owned(),
                place: None,
                message: format!("cannot read: {e}"),
            });
            return;
        }
    };
    let shown = super::files::shown(file);
    let (docs, errors) = documents::parse_stream(&text);
    for doc in docs {
        inputs.push(Input {
            file: Some(shown.clone()),
            place: Some(doc.place()),
            value: doc.value,
        });
    }
    for e in errors {
        unreadable.push(Unreadable {
            file: shown.clone(),
            place: None,
            message: e.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn md(kubelet: &str) -> Value {
        json!({
            "apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
            "metadata": {"name": "w", "namespace": "kube-system"},
            "spec": {
                "selector": {"matchLabels": {"m": "w"}},
                "template": {"metadata": {"labels": {"m": "w"}}, "spec": {
                    "providerSpec": {"value": {"cloudProvider": "hetzner",
                        "cloudProviderSpec": {"serverType": "cx22", "location": "fsn1"},
                        "operatingSystem": "ubuntu", "operatingSystemSpec": {}}},
                    "versions": {"kubelet": kubelet}}}
            }
        })
    }

    #[test]
    fn foreign_kinds_are_skipped_not_errors() {
        let kind = json!({"apiVersion": "kind.x-k8s.io/v1alpha4", "kind": "Cluster", "nodes": []});
        let checked = check(vec![Input::generated(kind)], &CheckOptions::default());
        assert!(!checked[0].is_ours());
        assert!(checked[0].allowed());
        let mut text = Vec::new();
        write_text_report(&mut text, &[&checked[0]], false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("○ Cluster (unnamed): skipped: "), "{text}");
    }

    #[test]
    fn kubelet_skew_uses_the_lone_cluster_version() {
        let cluster = json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster",
                             "metadata": {"name": "c"}, "spec": {"version": "1.35.2"}});
        let inputs = vec![Input::generated(cluster), Input::generated(md("1.32.1"))];
        let values: Vec<&Value> = inputs.iter().map(|i| &i.value).collect();
        assert_eq!(
            admission::lone_cluster_version(&values),
            Some(semver::Version::new(1, 35, 2))
        );
        let checked = check(inputs, &CheckOptions::default());
        let messages = checked[1].messages();
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("spec.template.spec.versions.kubelet: Invalid value")),
            "{messages:?}"
        );
    }

    #[test]
    fn reports_count_errors_per_object() {
        let checked = check(vec![Input::generated(md(""))], &CheckOptions::default());
        assert!(!checked[0].allowed());
        let mut text = Vec::new();
        write_text_report(&mut text, &[&checked[0]], false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("✗ MachineDeployment w: "), "{text}");
        assert!(
            text.contains("\n  - spec.template.spec.versions.kubelet: Required value"),
            "{text}"
        );
    }
}
