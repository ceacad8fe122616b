//! `kubectl kkp generate`: print a cluster's objects from a template without contacting any
//! cluster. The flags that pick and fill the template ([`TemplateArgs`]) are shared with
//! `kubectl kkp create cluster`, which calls [`render`] the same way.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use kkp_crds::providers::Provider;
use kkp_crds::versions;
use semver::Version;
use serde_json::Value;

use super::verdicts::gate::{self, Refusal};
use crate::cli::generate::{
    FLAG_VARIABLES, GenerateClusterArgs, GenerateCommand, GenerateWhat, TemplateArgs, provider_names,
};
use crate::exit::{ExitStatus, Outcome};
use crate::output::{self, OutputFormat};
use crate::platform::Platform;
use crate::printer::Printer;
use crate::settings::GlobalSettings;
use crate::template::variables::{self, EnvReader, Variables};
use crate::template::{self, Prepared, RenderError, TemplateSource, builtin, clusterctl, config};
use crate::terraform;

// Parsed once per run: the size of the arguments does not matter, and boxing one variant only
// moves the difference up into the command enum.

/// The template's objects with every variable substituted, before any defaulting. Fails with
/// every missing variable in one sorted message. KUBERNETES_VERSION falls back to the platform's
/// default version.
pub fn render(name: &str, args: &TemplateArgs, platform: &Platform) -> anyhow::Result<Vec<Value>> {
    let prepared = prepare(name, args, variables::process_env(), platform.default_version())?;
    let objects = prepared.render().map_err(explain)?;
    into_target_namespace(objects, args)
}

/// A Cluster API template's objects in the namespace `--target-namespace` or `-n` names, as
/// clusterctl puts them; other templates' objects as they are.
fn into_target_namespace(mut objects: Vec<Value>, args: &TemplateArgs) -> anyhow::Result<Vec<Value>> {
    if cluster_api_flag(args).is_some()
        && let Some(ns) = target_namespace(args)?
    {
        clusterctl::namespace::stamp(&mut objects, &ns);
    }
    Ok(objects)
}

fn explain(err: RenderError) -> anyhow::Error {
    match err {
        RenderError::Missing(missing) => {
            let names: Vec<&str> = missing.names.iter().map(String::as_str).collect();
            let mut msg = format!(
                "missing variables: {}; set them with --set KEY=VALUE, the environment, or --values FILE",
                names.join(", ")
            );
            let flags: Vec<String> = FLAG_VARIABLES
                .iter()
                .filter(|(var, _)| names.contains(var))
                .map(|(var, flag)| format!("{flag} for {var}"))
                .collect();
            if !flags.is_empty() {
                msg.push_str(&format!(" (or the flags {})", flags.join(", ")));
            }
            for (name, text) in &missing.messages {
                msg.push_str(&format!("\n  {name}: {text}"));
            }
            anyhow::Error::msg(msg)
        }
        RenderError::Template(e) => e.into(),
    }
}

/// Reads the template the flags pick, with its variables' values; `default_version` is
/// KUBERNETES_VERSION's fallback.
pub fn prepare(name: &str, args: &TemplateArgs, env: EnvReader, default_version: &Version) -> anyhow::Result<Prepared> {
    // clusterctl's config file serves Cluster API templates only: the built-in ones are KKP's.
    let clusterctl = match cluster_api_flag(args) {
        Some(_) => Some(clusterctl::config::load(args.clusterctl_config.as_deref(), &*env)?),
        None => None,
    };
    let source = match (&args.infrastructure, &clusterctl) {
        (Some(spec), Some(config)) => {
            let found = clusterctl::find_template(config, spec, args.flavor.as_deref(), &*env)?;
            tracing::info!("using the {}", found.describe());
            TemplateSource::Repository(found)
        }
        _ => template_source(args)?,
    };
    let mut vars = variables_from(name, args, env, default_version)?;
    if let Some(config) = clusterctl {
        vars = vars.with_clusterctl(config.variables);
    }
    Ok(template::prepare(&source, vars)?)
}

/// The flag that picks a Cluster API template (`--from`, `--infrastructure`), if one does: such
/// a template gets clusterctl's config file and a Kubernetes version with a leading `v`.
pub fn cluster_api_flag(args: &TemplateArgs) -> Option<&'static str> {
    if args.infrastructure.is_some() {
        Some("--infrastructure")
    } else if args.from.is_some() {
        Some("--from")
    } else {
        None
    }
}

fn template_source(args: &TemplateArgs) -> anyhow::Result<TemplateSource> {
    if let Some(from) = &args.from {
        if from == "-" {
            return Ok(TemplateSource::Stdin);
        }
        if from.starts_with("http://") || from.starts_with("https://") {
            bail!(
                "--from {from:?}: templates are read from local files only (nothing is fetched over the network); \
                 download it first, or pipe it in with --from -"
            );
        }
        return Ok(TemplateSource::File(PathBuf::from(from)));
    }
    let Some(name) = args.provider.as_deref() else {
        bail!(
            "--provider is required unless --from or --infrastructure gives a template; use one of: {}",
            provider_names().join(", ")
        );
    };
    let Some(provider) = Provider::from_name(name) else {
        bail!(
            "--provider {name:?} is not supported; use one of: {}",
            provider_names().join(", ")
        );
    };
    let flavor = args.flavor.as_deref().unwrap_or("default");
    match builtin::find(provider, flavor) {
        Some(b) => Ok(TemplateSource::Builtin(b)),
        None => bail!(
            "--flavor {flavor:?} is not available for {provider}; use one of: {}",
            builtin::flavors_of(provider).join(", ")
        ),
    }
}

/// The values of the variables: named flags and --set, the environment, config files, and the
/// plugin's own defaults (`default_version` for KUBERNETES_VERSION).
fn variables_from(
    name: &str,
    args: &TemplateArgs,
    env: EnvReader,
    default_version: &Version,
) -> anyhow::Result<Variables> {
    let mut flags = BTreeMap::new();
    for pair in &args.set {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--set {pair:?}: expected KEY=VALUE");
        };
        let key = key.trim();
        if !template::envsubst::is_valid_name(key) {
            bail!(
                "--set {pair:?}: {key:?} is not a valid variable name; names start with a letter or '_' and contain only \
                 letters, digits and '_'"
            );
        }
        flags.insert(key.to_owned(), value.to_owned());
    }
    flags.insert("CLUSTER_NAME".to_owned(), name.to_owned());
    if args.control_plane_machine_count == Some(0) {
        bail!("--control-plane-machine-count 0: a cluster needs at least one control plane machine");
    }
    let named = [
        ("KKP_PROJECT_ID", args.project.clone()),
        ("KKP_DATACENTER", args.datacenter.clone()),
        ("KKP_HUMAN_READABLE_NAME", args.human_readable_name.clone()),
        ("WORKER_MACHINE_COUNT", args.worker_machine_count.map(|c| c.to_string())),
        (
            "CONTROL_PLANE_MACHINE_COUNT",
            args.control_plane_machine_count.map(|c| c.to_string()),
        ),
        ("NAMESPACE", target_namespace(args)?),
    ];
    for (var, value) in named {
        if let Some(v) = value {
            flags.insert(var.to_owned(), v);
        }
    }
    if let Some(version) = &args.kubernetes_version {
        if let Err(e) = versions::parse(version) {
            bail!(
                "--kubernetes-version {version:?} is not a Kubernetes version ({e}); use MAJOR.MINOR.PATCH, such as 1.35.7"
            );
        }
        flags.insert("KUBERNETES_VERSION".to_owned(), version.clone());
    }
    let keys = ssh_keys(args)?;
    if !keys.is_empty() {
        flags.insert("SSH_PUBLIC_KEYS".to_owned(), Value::from(keys).to_string());
    }

    let mut config_values = BTreeMap::new();
    if let Some(path) = config::default_config_path(&env) {
        config_values.extend(config::load_user_config(&path)?);
    }
    for path in &args.values {
        config_values.extend(config::load_values(path).with_context(|| format!("--values {}", path.display()))?);
    }

    // Cluster API wants its versions with a leading `v` (v1.35.7); KKP's Cluster takes them bare.
    // clusterctl leaves a Cluster API template's workers at 0 unless told otherwise.
    let default_version = default_version.to_string();
    let (default_version, default_workers) = if cluster_api_flag(args).is_some() {
        (format!("v{default_version}"), "0")
    } else {
        (default_version, "1")
    };
    let fallbacks = BTreeMap::from([
        ("KUBERNETES_VERSION".to_owned(), default_version),
        ("WORKER_MACHINE_COUNT".to_owned(), default_workers.to_owned()),
        ("CONTROL_PLANE_MACHINE_COUNT".to_owned(), "1".to_owned()),
        ("SSH_PUBLIC_KEYS".to_owned(), "[]".to_owned()),
    ]);
    let vars = Variables::new(flags, env, config_values, fallbacks);
    let Some(path) = &args.terraform_output else {
        return Ok(vars);
    };
    if path == "-" && args.from.as_deref() == Some("-") {
        bail!("--terraform-output - and --from - cannot both read stdin; give one of them a file");
    }
    let output = terraform::read(path)?;
    let tf = output.variables(if path == "-" { "stdin" } else { path })?;
    Ok(vars.with_terraform(tf.values, tf.sensitive))
}

/// The global settings with `--target-namespace` as `-n/--namespace`, for `create cluster`: the
/// objects a template leaves without a namespace go where NAMESPACE says.
pub fn with_target_namespace(g: &GlobalSettings, args: &TemplateArgs) -> anyhow::Result<GlobalSettings> {
    let mut args = args.clone();
    args.namespace = g.connection.namespace.clone();
    let mut g = g.clone();
    if let Some(ns) = target_namespace(&args)? {
        g.connection.namespace = Some(ns);
    }
    Ok(g)
}

/// NAMESPACE from `--target-namespace` or `-n/--namespace`, which must agree when both are given.
fn target_namespace(args: &TemplateArgs) -> anyhow::Result<Option<String>> {
    match (&args.target_namespace, &args.namespace) {
        (Some(target), Some(ns)) if target != ns => bail!(
            "--target-namespace {target:?} and -n/--namespace {ns:?} disagree; give one of them, or the same name"
        ),
        (Some(target), _) => {
            let valid = target.len() <= 63
                && target
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && target.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && target.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
            if !valid {
                bail!(
                    "--target-namespace {target:?} is not a namespace name: use at most 63 lower-case letters, digits \
                     and '-', starting and ending with a letter or digit"
                );
            }
            Ok(Some(target.clone()))
        }
        (None, ns) => Ok(ns.clone()),
    }
}

fn ssh_keys(args: &TemplateArgs) -> anyhow::Result<Vec<String>> {
    let mut keys: Vec<String> = args.ssh_public_keys.iter().map(|k| k.trim().to_owned()).collect();
    for path in &args.ssh_public_key_files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--ssh-public-key-file {}: cannot read the file", path.display()))?;
        let before = keys.len();
        keys.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
        if keys.len() == before {
            bail!("--ssh-public-key-file {}: the file holds no keys", path.display());
        }
    }
    Ok(keys)
}

pub async fn run(cmd: GenerateCommand, g: &GlobalSettings, printer: &Printer) -> Outcome {
    match cmd.what {
        GenerateWhat::Cluster(mut args) => {
            args.template.namespace = g.connection.namespace.clone();
            args.template.project = g.api.project.clone();
            generate_cluster(&args, printer)
        }
        GenerateWhat::MachineDeployments(args) => super::generate_workers::run(&args, printer),
    }
}

fn generate_cluster(args: &GenerateClusterArgs, printer: &Printer) -> Outcome {
    let platform = Platform::from_files(&args.platform)?;
    let prepared = prepare(
        &args.name,
        &args.template,
        variables::process_env(),
        platform.default_version(),
    )?;
    if args.list_variables {
        list_variables(&prepared, args.output, printer)?;
        return Ok(ExitStatus::Success);
    }
    let objects = into_target_namespace(prepared.render().map_err(explain)?, &args.template)?;
    let objects = if args.skip_validation {
        objects
    } else {
        match gate::check_generated(objects, &platform, None, Refusal::GENERATE, printer) {
            Ok(objects) => objects,
            Err(status) => return Ok(status),
        }
    };
    printer.objects_to(&objects, args.output.unwrap_or_default(), args.write_to.as_deref())?;
    Ok(ExitStatus::Success)
}

fn list_variables(prepared: &Prepared, format: Option<OutputFormat>, printer: &Printer) -> anyhow::Result<()> {
    let listed = prepared.list();
    let text = match format {
        None => variables::table(&listed),
        Some(OutputFormat::Json) => output::to_json(&serde_json::to_value(&listed)?) + "\n",
        Some(OutputFormat::Yaml) => output::to_yaml(&serde_json::to_value(&listed)?),
        Some(OutputFormat::Name) => listed.iter().map(|l| format!("{}\n", l.name)).collect(),
    };
    printer.report(&text).context("cannot write to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::verdicts::admit::{self, CheckOptions, Input};

    fn env_of(pairs: &[(&str, &str)]) -> EnvReader {
        let m: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Box::new(move |name| m.get(name).cloned())
    }

    fn builtin_default() -> Version {
        kkp_crds::versions::VersionCatalog::default().default
    }

    fn args(provider: &str) -> TemplateArgs {
        TemplateArgs {
            provider: Some(provider.to_owned()),
            ..TemplateArgs::default()
        }
    }

    #[test]
    fn bad_provider_and_flavor_say_what_exists() {
        let err = prepare("demo", &args("foo"), env_of(&[]), &builtin_default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--provider \"foo\" is not supported; use one of: aws, azure, digitalocean, gcp, hetzner, kubevirt, openstack, vsphere"
        );
        let mut a = args("vsphere");
        a.flavor = Some("ha".into());
        let err = prepare("demo", &a, env_of(&[]), &builtin_default())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "--flavor \"ha\" is not available for vsphere; use one of: default");
    }

    #[test]
    fn named_flags_beat_set_and_env() {
        let mut a = args("hetzner");
        a.project = Some("from-flag".into());
        a.set = vec!["KKP_PROJECT_ID=from-set".into(), "OTHER=x=y".into()];
        let vars = variables_from(
            "demo",
            &a,
            env_of(&[("KKP_PROJECT_ID", "from-env")]),
            &builtin_default(),
        )
        .unwrap();
        assert_eq!(vars.user_value("KKP_PROJECT_ID").unwrap().0, "from-flag");
        assert_eq!(vars.user_value("OTHER").unwrap().0, "x=y");
        assert_eq!(vars.user_value("CLUSTER_NAME").unwrap().0, "demo");
    }

    #[test]
    fn flag_values_are_checked() {
        let mut a = args("hetzner");
        a.set = vec!["NOEQUALS".into()];
        assert_eq!(
            variables_from("d", &a, env_of(&[]), &builtin_default())
                .unwrap_err()
                .to_string(),
            "--set \"NOEQUALS\": expected KEY=VALUE"
        );
        a.set = vec!["bad-name=1".into()];
        assert!(
            variables_from("d", &a, env_of(&[]), &builtin_default())
                .unwrap_err()
                .to_string()
                .contains("not a valid variable name")
        );
        let mut a = args("hetzner");
        a.kubernetes_version = Some("1.35.x".into());
        let err = variables_from("d", &a, env_of(&[]), &builtin_default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--kubernetes-version \"1.35.x\" is not a Kubernetes version"),
            "{err}"
        );
        let mut a = args("hetzner");
        a.from = Some("https://example.com/t.yaml".into());
        a.provider = None;
        assert!(
            template_source(&a)
                .unwrap_err()
                .to_string()
                .contains("local files only")
        );
    }

    #[test]
    fn missing_variables_are_sorted_with_flag_hints() {
        let prepared = prepare("demo", &args("hetzner"), env_of(&[]), &builtin_default()).unwrap();
        let err = explain(prepared.render().unwrap_err()).to_string();
        assert!(
            err.starts_with(
                "missing variables: HETZNER_LOCATION, KKP_DATACENTER, KKP_PROJECT_ID; set them with --set KEY=VALUE, \
                 the environment, or --values FILE (or the flags --project for KKP_PROJECT_ID, --datacenter for \
                 KKP_DATACENTER)"
            ),
            "{err}"
        );
    }

    #[test]
    fn cluster_api_templates_get_a_v_version_one_control_plane_machine_and_no_workers() {
        let from = TemplateArgs {
            from: Some("cluster-template.yaml".into()),
            ..TemplateArgs::default()
        };
        let vars = variables_from("demo", &from, env_of(&[]), &builtin_default()).unwrap();
        let default = builtin_default().to_string();
        assert_eq!(
            vars.fallback_value("KUBERNETES_VERSION"),
            Some(format!("v{default}").as_str())
        );
        assert_eq!(vars.fallback_value("CONTROL_PLANE_MACHINE_COUNT"), Some("1"));
        assert_eq!(vars.fallback_value("WORKER_MACHINE_COUNT"), Some("0"), "as clusterctl");
        let builtin = variables_from("demo", &args("hetzner"), env_of(&[]), &builtin_default()).unwrap();
        assert_eq!(builtin.fallback_value("KUBERNETES_VERSION"), Some(default.as_str()));
        assert_eq!(builtin.fallback_value("WORKER_MACHINE_COUNT"), Some("1"));

        let mut counted = from.clone();
        counted.control_plane_machine_count = Some(3);
        counted.kubernetes_version = Some("1.34.2".into());
        let vars = variables_from(
            "demo",
            &counted,
            env_of(&[("CONTROL_PLANE_MACHINE_COUNT", "5")]),
            &builtin_default(),
        )
        .unwrap();
        assert_eq!(vars.user_value("CONTROL_PLANE_MACHINE_COUNT").unwrap().0, "3");
        assert_eq!(
            vars.user_value("KUBERNETES_VERSION").unwrap().0,
            "1.34.2",
            "a version given by flag is used as given"
        );
    }

    #[test]
    fn infrastructure_templates_are_cluster_api_templates() {
        let infra = TemplateArgs {
            infrastructure: Some("kubernetes".into()),
            ..TemplateArgs::default()
        };
        assert_eq!(cluster_api_flag(&infra), Some("--infrastructure"));
        assert_eq!(cluster_api_flag(&args("hetzner")), None);
        let vars = variables_from("demo", &infra, env_of(&[]), &builtin_default()).unwrap();
        assert_eq!(
            vars.fallback_value("KUBERNETES_VERSION"),
            Some(format!("v{}", builtin_default()).as_str())
        );
    }

    #[test]
    fn target_namespace_fills_namespace_and_agrees_with_n() {
        let mut a = args("hetzner");
        a.target_namespace = Some("clusters".into());
        let vars = variables_from("d", &a, env_of(&[("NAMESPACE", "env")]), &builtin_default()).unwrap();
        assert_eq!(
            vars.user_value("NAMESPACE"),
            Some(("clusters".into(), variables::Source::Flag))
        );
        a.namespace = Some("clusters".into());
        assert!(variables_from("d", &a, env_of(&[]), &builtin_default()).is_ok());
        a.namespace = Some("other".into());
        let err = variables_from("d", &a, env_of(&[]), &builtin_default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--target-namespace \"clusters\" and -n/--namespace \"other\" disagree"),
            "{err}"
        );
        let mut a = args("hetzner");
        a.target_namespace = Some("Not_A_Namespace".into());
        let err = variables_from("d", &a, env_of(&[]), &builtin_default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--target-namespace \"Not_A_Namespace\" is not a namespace name"),
            "{err}"
        );
        let mut a = args("hetzner");
        a.control_plane_machine_count = Some(0);
        let err = variables_from("d", &a, env_of(&[]), &builtin_default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--control-plane-machine-count 0"), "{err}");
    }

    #[test]
    fn create_applies_into_the_target_namespace() {
        let mut g = GlobalSettings::default();
        let mut a = args("hetzner");
        assert_eq!(with_target_namespace(&g, &a).unwrap().connection.namespace, None);
        a.target_namespace = Some("clusters".into());
        assert_eq!(
            with_target_namespace(&g, &a).unwrap().connection.namespace.as_deref(),
            Some("clusters")
        );
        g.connection.namespace = Some("other".into());
        assert!(with_target_namespace(&g, &a).is_err());
    }

    #[test]
    fn the_platform_s_default_version_is_the_fallback() {
        let platform_default = Version::new(1, 36, 4);
        let vars = variables_from("demo", &args("hetzner"), env_of(&[]), &platform_default).unwrap();
        assert_eq!(vars.fallback_value("KUBERNETES_VERSION"), Some("1.36.4"));
        let from = TemplateArgs {
            from: Some("cluster-template.yaml".into()),
            ..TemplateArgs::default()
        };
        let vars = variables_from("demo", &from, env_of(&[]), &platform_default).unwrap();
        assert_eq!(vars.fallback_value("KUBERNETES_VERSION"), Some("v1.36.4"));
    }

    #[test]
    fn ssh_keys_become_a_list() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys.pub");
        std::fs::write(&file, "# comment\nssh-ed25519 AAAAC3 a@b\n\nssh-rsa AAAAB3 c@d\n").unwrap();
        let mut a = args("hetzner");
        a.ssh_public_keys = vec!["ssh-ed25519 AAAAX e@f".into()];
        a.ssh_public_key_files = vec![file];
        let vars = variables_from("d", &a, env_of(&[]), &builtin_default()).unwrap();
        let list: Vec<String> = serde_json::from_str(&vars.user_value("SSH_PUBLIC_KEYS").unwrap().0).unwrap();
        assert_eq!(
            list,
            ["ssh-ed25519 AAAAX e@f", "ssh-ed25519 AAAAC3 a@b", "ssh-rsa AAAAB3 c@d"]
        );
    }

    /// Every built-in template, given its required variables, yields objects the engine admits
    /// without an error after defaulting.
    #[test]
    fn every_builtin_template_validates_clean() {
        for b in builtin::BUILTINS {
            let mut a = args(b.provider.name());
            a.flavor = Some(b.flavor.to_owned());
            a.project = Some("p8kfs2x9jw".into());
            a.datacenter = Some(format!("{}-dc", b.provider.name()));
            a.ssh_public_keys = vec![
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQ1cZf3cpkBZ4/0rlFWzPm1YjFnKVzFAQVIGrLvGsc4 demo@example.com"
                    .into(),
            ];
            let prepared = prepare("demo", &a, env_of(&[]), &builtin_default()).unwrap();
            let required: Vec<String> = prepared
                .list()
                .into_iter()
                .filter(|l| l.source == variables::Source::Missing)
                .map(|l| l.name)
                .collect();
            a.set = required.iter().map(|n| format!("{n}={}", sample_value(n))).collect();
            let prepared = prepare("demo", &a, env_of(&[]), &builtin_default()).unwrap();
            let objects = prepared.render().unwrap_or_else(|e| panic!("{}: {e}", b.label()));
            assert!(objects.len() >= 2, "{}", b.label());
            let checked = admit::check(
                objects.into_iter().map(Input::generated).collect(),
                &CheckOptions::default(),
            );
            for c in &checked {
                assert!(c.is_ours(), "{}: {} is not checked", b.label(), c.kind());
                assert!(
                    c.allowed(),
                    "{}: {} {}: {:?}",
                    b.label(),
                    c.kind(),
                    c.name(),
                    c.messages()
                );
            }
        }
    }

    fn sample_value(name: &str) -> &'static str {
        match name {
            "AWS_VPC_ID" => "vpc-0a1b2c3d",
            "AWS_SECURITY_GROUP_ID" => "sg-0a1b2c3d",
            "AWS_REGION" => "eu-central-1",
            "AZURE_LOCATION" => "westeurope",
            "GCP_ZONE" => "europe-west3-a",
            "GCP_REGION" => "europe-west3",
            "GCP_NETWORK" => "global/networks/kubernetes",
            "GCP_SUBNETWORK" => "projects/demo-project/regions/europe-west3/subnetworks/kubernetes",
            "DO_REGION" => "fra1",
            "HETZNER_LOCATION" => "fsn1",
            "OPENSTACK_IMAGE" => "Ubuntu 24.04",
            "VSPHERE_TEMPLATE_VM" => "ubuntu-24.04",
            "VSPHERE_DATASTORE" => "datastore1",
            "VSPHERE_DATACENTER" => "dc1",
            "KUBEVIRT_OS_IMAGE" => "docker://quay.io/kubermatic-virt-disks/ubuntu:24.04",
            _ => "sample",
        }
    }
}
