//! Where a template variable gets its value, highest first: a flag (`--set KEY=VALUE` or a named
//! flag such as `--project`), the environment, a Terraform output (`--terraform-output FILE`), a
//! config file (`--values FILE`, then the user's config file), clusterctl's config file (for
//! Cluster API templates), the template's own default, and last a default of the plugin's (the
//! engine's Kubernetes version, one worker).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::envsubst::{Lookup, Template};

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Flag,
    Env,
    /// A value of `terraform output -json` (`--terraform-output`).
    Terraform,
    Config,
    /// A variable of clusterctl's config file (`clusterctl.yaml`).
    Clusterctl,
    /// The template's default, or the plugin's.
    Default,
    /// No value, and the template needs one.
    Missing,
    /// No value, and none needed with the other values as they are (the variable is only used
    /// where another one's value makes it irrelevant, as in `${A:=${B}}` with `A` set).
    Unset,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::Terraform => "terraform",
            Source::Config => "config",
            Source::Clusterctl => "clusterctl",
            Source::Default => "default",
            Source::Missing => "missing",
            Source::Unset => "unset",
        })
    }
}

/// Reads one environment variable; tests pass a map instead of the process environment.
pub type EnvReader = Box<dyn Fn(&str) -> Option<String>>;

/// The layers of values, ready for a template to look names up.
pub struct Variables {
    flags: BTreeMap<String, String>,
    env: EnvReader,
    terraform: BTreeMap<String, String>,
    config: BTreeMap<String, String>,
    /// clusterctl's config file's variables, by upper-cased name (its keys are case-insensitive).
    clusterctl: BTreeMap<String, String>,
    fallbacks: BTreeMap<String, String>,
    /// Variables whose values must not be shown whatever their name (sensitive Terraform outputs).
    masked: BTreeSet<String>,
}

impl fmt::Debug for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variables")
            .field("flags", &self.flags.keys())
            .field("terraform", &self.terraform.keys())
            .field("config", &self.config.keys())
            .field("clusterctl", &self.clusterctl.keys())
            .field("fallbacks", &self.fallbacks)
            .finish_non_exhaustive()
    }
}

/// The process environment, as an [`EnvReader`].
pub fn process_env() -> EnvReader {
    Box::new(|name| std::env::var(name).ok())
}

impl Variables {
    /// `config` is the merged config files (later files already override earlier ones).
    pub fn new(
        flags: BTreeMap<String, String>,
        env: EnvReader,
        config: BTreeMap<String, String>,
        fallbacks: BTreeMap<String, String>,
    ) -> Self {
        Variables {
            flags,
            env,
            terraform: BTreeMap::new(),
            config,
            clusterctl: BTreeMap::new(),
            fallbacks,
            masked: BTreeSet::new(),
        }
    }

    /// Adds the variables of clusterctl's config file, below the plugin's config files; `values`
    /// are keyed by upper-cased name.
    pub fn with_clusterctl(mut self, values: BTreeMap<String, String>) -> Self {
        self.clusterctl = values;
        self
    }

    /// Adds the values of a Terraform output, between the environment and the config files;
    /// `sensitive` names those never to be shown.
    pub fn with_terraform(mut self, values: BTreeMap<String, String>, sensitive: BTreeSet<String>) -> Self {
        self.terraform = values;
        self.masked.extend(sensitive);
        self
    }

    /// Whether the value of `name` must be masked when shown.
    pub fn is_masked(&self, name: &str) -> bool {
        is_sensitive(name) || self.masked.contains(name)
    }

    /// The value the user set and where, if any.
    pub fn user_value(&self, name: &str) -> Option<(String, Source)> {
        if let Some(v) = self.flags.get(name) {
            return Some((v.clone(), Source::Flag));
        }
        if let Some(v) = (self.env)(name) {
            return Some((v, Source::Env));
        }
        if let Some(v) = self.terraform.get(name) {
            return Some((v.clone(), Source::Terraform));
        }
        if let Some(v) = self.config.get(name) {
            return Some((v.clone(), Source::Config));
        }
        self.clusterctl
            .get(&name.to_ascii_uppercase())
            .map(|v| (v.clone(), Source::Clusterctl))
    }

    pub fn fallback_value(&self, name: &str) -> Option<&str> {
        self.fallbacks.get(name).map(String::as_str)
    }
}

impl Lookup for Variables {
    fn value(&self, name: &str) -> Option<String> {
        self.user_value(name).map(|(v, _)| v)
    }
    fn fallback(&self, name: &str) -> Option<String> {
        self.fallbacks.get(name).cloned()
    }
}

/// Words that mark a variable holding a credential: a token, a password, a secret or a key, a
/// credentials file, a kubeconfig or a service account.
const CREDENTIAL_WORDS: [&str; 7] = [
    "TOKEN",
    "PASSWORD",
    "SECRET",
    "KEY",
    "CREDENTIAL",
    "KUBECONFIG",
    "SERVICE_ACCOUNT",
];

/// Whether a variable's value must not be shown: its name says it holds a credential (when in
/// doubt, it is masked). Names of things that are not secret themselves are shown: public keys
/// (`SSH_PUBLIC_KEYS`), and the name or namespace of a Secret object (`KKP_CREDENTIALS_SECRET`,
/// `AZURE_CLUSTER_IDENTITY_SECRET_NAME`, `KKP_CREDENTIALS_NAMESPACE`).
pub fn is_sensitive(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let names_an_object = upper.contains("PUBLIC_KEY")
        || upper.ends_with("_NAME")
        || upper.ends_with("_NAMESPACE")
        || upper.ends_with("_CREDENTIALS_SECRET");
    !names_an_object && CREDENTIAL_WORDS.iter().any(|w| upper.contains(w))
}

/// What `--list-variables` shows for one variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub name: String,
    /// The template needs a value from the user: no default of the template's or the plugin's.
    pub required: bool,
    pub source: Source,
    /// The value as it would be used, masked when sensitive; absent when missing.
    pub value: Option<String>,
    pub masked: bool,
}

pub const MASK: &str = "********";

/// Each variable of a template with its resolved value and where that comes from. A variable is
/// `missing` exactly when rendering would report it missing.
pub fn list(template: &Template, vars: &Variables) -> Vec<Listed> {
    let missing = template.expand(vars).err().map(|m| m.names).unwrap_or_default();
    template
        .variables()
        .into_iter()
        .map(|info| {
            let fallback = vars.fallback_value(&info.name);
            let required = info.required && fallback.is_none();
            let (source, value) = if let Some((v, source)) = vars.user_value(&info.name) {
                (source, Some(v))
            } else if missing.contains(&info.name) {
                (Source::Missing, None)
            } else if let Some(raw) = &info.default {
                let value = match template.expand_default(&info.name, vars) {
                    Some(Ok(v)) => v,
                    _ => raw.clone(),
                };
                (Source::Default, Some(value))
            } else if let Some(v) = fallback {
                (Source::Default, Some(v.to_owned()))
            } else {
                (Source::Unset, None)
            };
            let masked = vars.is_masked(&info.name) && value.as_deref().is_some_and(|v| !v.is_empty());
            let value = if masked { Some(MASK.to_owned()) } else { value };
            Listed {
                name: info.name,
                required,
                source,
                value,
                masked,
            }
        })
        .collect()
}

/// `--list-variables` as a table: name, whether required, source and value.
pub fn table(listed: &[Listed]) -> String {
    let rows: Vec<[String; 4]> = listed
        .iter()
        .map(|l| {
            let value = match (&l.value, l.source) {
                (_, Source::Missing | Source::Unset) => String::new(),
                (Some(v), _) if v.is_empty() => "\"\"".to_owned(),
                (Some(v), _) => v.replace('\n', "\\n"),
                (None, _) => String::new(),
            };
            [
                l.name.clone(),
                if l.required { "yes" } else { "no" }.to_owned(),
                l.source.to_string(),
                value,
            ]
        })
        .collect();
    let header = ["NAME", "REQUIRED", "SOURCE", "VALUE"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}   "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn env_of(pairs: &[(&str, &str)]) -> EnvReader {
        let m = map(pairs);
        Box::new(move |name| m.get(name).cloned())
    }

    #[test]
    fn flag_beats_env_beats_config() {
        let vars = Variables::new(
            map(&[("A", "flag")]),
            env_of(&[("A", "env"), ("B", "env")]),
            map(&[("A", "config"), ("B", "config"), ("C", "config")]),
            map(&[("D", "fallback")]),
        );
        assert_eq!(vars.user_value("A"), Some(("flag".into(), Source::Flag)));
        assert_eq!(vars.user_value("B"), Some(("env".into(), Source::Env)));
        assert_eq!(vars.user_value("C"), Some(("config".into(), Source::Config)));
        assert_eq!(vars.user_value("D"), None);
        let t = Template::parse("${A} ${B} ${C} ${D} ${C:=tpl} ${E:=tpl}").unwrap();
        assert_eq!(t.expand(&vars).unwrap(), "flag env config fallback config tpl");
    }

    #[test]
    fn terraform_output_sits_between_env_and_config() {
        let vars = Variables::new(
            map(&[("A", "flag")]),
            env_of(&[("B", "env")]),
            map(&[("A", "config"), ("B", "config"), ("C", "config"), ("D", "config")]),
            map(&[]),
        )
        .with_terraform(
            map(&[
                ("A", "tf"),
                ("B", "tf"),
                ("C", "tf"),
                ("TF_TOKEN_OUT", "x"),
                ("ENDPOINT", "lb"),
            ]),
            BTreeSet::from(["ENDPOINT".to_owned()]),
        );
        assert_eq!(vars.user_value("A"), Some(("flag".into(), Source::Flag)));
        assert_eq!(vars.user_value("B"), Some(("env".into(), Source::Env)));
        assert_eq!(vars.user_value("C"), Some(("tf".into(), Source::Terraform)));
        assert_eq!(vars.user_value("D"), Some(("config".into(), Source::Config)));
        let listed = list(&Template::parse("${C} ${ENDPOINT}").unwrap(), &vars);
        assert_eq!(
            (listed[0].source, listed[0].value.as_deref()),
            (Source::Terraform, Some("tf"))
        );
        assert_eq!(listed[1].value.as_deref(), Some(MASK), "a sensitive output is masked");
        assert!(
            table(&listed).contains("\nC          yes        terraform   tf\n"),
            "{}",
            table(&listed)
        );
    }

    #[test]
    fn clusterctl_config_sits_below_the_plugin_s_config_files() {
        let vars = Variables::new(
            map(&[("A", "flag")]),
            env_of(&[("B", "env")]),
            map(&[("C", "config")]),
            map(&[("E", "fallback")]),
        )
        .with_clusterctl(map(&[("A", "cc"), ("B", "cc"), ("C", "cc"), ("D", "cc"), ("E", "cc")]));
        assert_eq!(vars.user_value("A"), Some(("flag".into(), Source::Flag)));
        assert_eq!(vars.user_value("B"), Some(("env".into(), Source::Env)));
        assert_eq!(vars.user_value("C"), Some(("config".into(), Source::Config)));
        assert_eq!(vars.user_value("D"), Some(("cc".into(), Source::Clusterctl)));
        assert_eq!(
            vars.user_value("d"),
            Some(("cc".into(), Source::Clusterctl)),
            "keys are case-insensitive"
        );
        let t = Template::parse("${D:=tpl} ${E}").unwrap();
        assert_eq!(
            t.expand(&vars).unwrap(),
            "cc cc",
            "it beats template defaults and the plugin's"
        );
        let listed = list(&t, &vars);
        assert_eq!(listed[0].source, Source::Clusterctl);
        assert!(table(&listed).contains("clusterctl"), "{}", table(&listed));
    }

    #[test]
    fn template_default_beats_fallback() {
        let vars = Variables::new(map(&[]), env_of(&[]), map(&[]), map(&[("V", "fallback")]));
        assert_eq!(
            Template::parse("${V:=template}").unwrap().expand(&vars).unwrap(),
            "template"
        );
        assert_eq!(Template::parse("${V}").unwrap().expand(&vars).unwrap(), "fallback");
    }

    #[test]
    fn listing_shows_sources_masks_secrets_and_requirement() {
        let t = Template::parse(
            "${CLUSTER_NAME} ${HCLOUD_TOKEN} ${API_KEY:=} ${VNET:=${CLUSTER_NAME}-vnet} ${MISSING} ${VERSION} \
             ${NET:+[${NET}]} ${A:=${B}} ${C:=${D}}",
        )
        .unwrap();
        let vars = Variables::new(
            map(&[("CLUSTER_NAME", "demo"), ("A", "a")]),
            env_of(&[("HCLOUD_TOKEN", "s3cr3t")]),
            map(&[]),
            map(&[("VERSION", "1.35.7")]),
        );
        let listed = list(&t, &vars);
        let row = |name: &str| listed.iter().find(|l| l.name == name).unwrap().clone();
        assert_eq!(row("CLUSTER_NAME").source, Source::Flag);
        assert_eq!(row("HCLOUD_TOKEN").value.as_deref(), Some(MASK));
        assert!(row("HCLOUD_TOKEN").masked && row("HCLOUD_TOKEN").required);
        assert_eq!(row("API_KEY").value.as_deref(), Some(""));
        assert!(!row("API_KEY").masked && !row("API_KEY").required);
        assert_eq!(
            (row("VNET").source, row("VNET").value),
            (Source::Default, Some("demo-vnet".into()))
        );
        assert_eq!((row("MISSING").source, row("MISSING").value), (Source::Missing, None));
        assert!(row("MISSING").required);
        assert!(!row("VERSION").required);
        assert_eq!(row("VERSION").source, Source::Default);
        assert_eq!((row("NET").source, row("NET").required), (Source::Unset, false));
        assert_eq!(row("B").source, Source::Unset);
        assert_eq!((row("D").source, row("D").required), (Source::Missing, false));
        let text = table(&listed);
        assert!(
            text.starts_with("NAME           REQUIRED   SOURCE    VALUE\n"),
            "{text}"
        );
        assert!(text.contains("\nMISSING        yes        missing\n"), "{text}");
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn credentials_are_sensitive() {
        for name in [
            "HCLOUD_TOKEN",
            "HZ_TOKEN",
            "DO_TOKEN",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AZURE_CLIENT_SECRET",
            "VSPHERE_PASSWORD",
            "OS_PASSWORD",
            "OS_APPLICATION_CREDENTIAL_SECRET",
            "AWS_B64ENCODED_CREDENTIALS",
            "GOOGLE_SERVICE_ACCOUNT",
            "KUBEVIRT_KUBECONFIG",
            "EXOSCALE_API_KEY",
            "ssh_private_key",
            "SCW_SECRET_KEY",
            "PROXMOX_SECRET",
            "OVH_APPLICATION_SECRET",
            "CLOUDSTACK_B64ENCODED_SECRET",
        ] {
            assert!(is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn names_of_secrets_and_public_keys_are_not_sensitive() {
        for name in [
            "CLUSTER_NAME",
            "SSH_PUBLIC_KEYS",
            "SSH_PUBLIC_KEY",
            "KKP_CREDENTIALS_SECRET",
            "KKP_CREDENTIALS_NAMESPACE",
            "AZURE_CLUSTER_IDENTITY_SECRET_NAME",
            "AZURE_CLUSTER_IDENTITY_SECRET_NAMESPACE",
            "AWS_SSH_KEY_NAME",
            "OS_USERNAME",
            "KUBERNETES_VERSION",
        ] {
            assert!(!is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn listing_shows_public_keys_and_secret_names_but_masks_credentials() {
        let t = Template::parse("${SSH_PUBLIC_KEYS} ${KKP_CREDENTIALS_SECRET} ${AZURE_CLIENT_SECRET}").unwrap();
        let vars = Variables::new(
            map(&[("SSH_PUBLIC_KEYS", "[\"ssh-ed25519 AAAA a@b\"]")]),
            env_of(&[("AZURE_CLIENT_SECRET", "s3cr3t")]),
            map(&[("KKP_CREDENTIALS_SECRET", "credential-azure-demo")]),
            map(&[]),
        );
        let listed = list(&t, &vars);
        let value = |name: &str| listed.iter().find(|l| l.name == name).and_then(|l| l.value.clone());
        assert_eq!(value("SSH_PUBLIC_KEYS").as_deref(), Some("[\"ssh-ed25519 AAAA a@b\"]"));
        assert_eq!(
            value("KKP_CREDENTIALS_SECRET").as_deref(),
            Some("credential-azure-demo")
        );
        assert_eq!(value("AZURE_CLIENT_SECRET").as_deref(), Some(MASK));
    }
}
