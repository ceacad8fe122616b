//! Checking a kubeconfig read from a cluster's Secret before it is printed, written or used.
//!
//! Whoever can write that Secret decides what the kubeconfig says, and a kubeconfig can do more
//! than name a server and credentials: `exec` and `auth-provider` run programs on the machine
//! that uses it, and `client-certificate`, `client-key`, `certificate-authority` and `tokenFile`
//! make it read local files. Such a kubeconfig is refused unless the user says they trust the
//! cluster (`--allow-exec`, `--allow-file-references`). Every YAML document of the text is
//! checked, since the client merges them all, and field names are matched without regard to
//! case, to stay on the safe side of any reader.

use serde::Deserialize as _;
use serde_yaml::Value;

use super::secret::SecretRef;

/// User fields that run a program on this machine.
const USER_PROGRAMS: [&str; 2] = ["exec", "auth-provider"];
/// User fields that name a local file.
const USER_FILES: [&str; 3] = ["client-certificate", "client-key", "tokenFile"];
/// Cluster fields that name a local file.
const CLUSTER_FILES: [&str; 1] = ["certificate-authority"];

/// What an entry of a kubeconfig would do on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Risk {
    /// `exec` or `auth-provider`: runs a program.
    RunsProgram,
    /// A path instead of inline data: reads a local file.
    ReadsFile,
}

/// One field that makes a kubeconfig unsafe to use as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The entry, as `user "admin"` or `cluster "prod"`.
    pub entry: String,
    /// Where the field is, as `users[0].user.exec`.
    pub field: String,
    /// What it holds, as `command "/bin/sh"` or `path "/etc/ssl/ca.pem"`.
    pub detail: String,
    pub risk: Risk,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} sets {} ({})", self.entry, self.field, self.detail)
    }
}

/// The command-line switches that accept what [`inspect`] finds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct AllowArgs {
    /// Use the cluster's kubeconfig even if it runs a program on this machine (exec or
    /// auth-provider). Only for clusters you trust.
    #[arg(long)]
    pub allow_exec: bool,
    /// Use the cluster's kubeconfig even if it reads local files (client-certificate, client-key,
    /// certificate-authority or tokenFile paths). Only for clusters you trust.
    #[arg(long)]
    pub allow_file_references: bool,
}

impl AllowArgs {
    fn allows(&self, risk: Risk) -> bool {
        match risk {
            Risk::RunsProgram => self.allow_exec,
            Risk::ReadsFile => self.allow_file_references,
        }
    }
}

/// Why a kubeconfig from a Secret was not used.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{}", refusal_message(secret, findings))]
    Unsafe { secret: SecretRef, findings: Vec<Finding> },
    #[error("the kubeconfig in {secret} is not YAML, so it cannot be checked or used: {detail}")]
    NotYaml { secret: SecretRef, detail: String },
}

/// Refuses the kubeconfig `text` read from `secret` if it does something `allow` does not accept.
pub fn check(text: &str, secret: &SecretRef, allow: AllowArgs) -> Result<(), Refused> {
    let findings: Vec<Finding> = inspect(text)
        .map_err(|detail| Refused::NotYaml {
            secret: secret.clone(),
            detail,
        })?
        .into_iter()
        .filter(|f| !allow.allows(f.risk))
        .collect();
    if findings.is_empty() {
        Ok(())
    } else {
        Err(Refused::Unsafe {
            secret: secret.clone(),
            findings,
        })
    }
}

/// Every field of the kubeconfig `text` that runs a program or reads a local file.
pub fn inspect(text: &str) -> Result<Vec<Finding>, String> {
    let mut findings = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let doc = Value::deserialize(document).map_err(|e| e.to_string())?;
        let prefix = if index == 0 {
            String::new()
        } else {
            format!("document {}: ", index + 1)
        };
        let lists = [
            ("users", "user", "user", &USER_PROGRAMS[..], Risk::RunsProgram),
            ("users", "user", "user", &USER_FILES[..], Risk::ReadsFile),
            ("clusters", "cluster", "cluster", &CLUSTER_FILES[..], Risk::ReadsFile),
        ];
        for (list, inner, kind, fields, risk) in lists {
            for (i, entry) in sequence(&doc, list).iter().enumerate() {
                let name = entry.get("name").and_then(Value::as_str).unwrap_or("<unnamed>");
                let Some(Value::Mapping(body)) = entry.get(inner) else {
                    continue;
                };
                for (key, value) in body {
                    let Some(key) = key.as_str() else { continue };
                    if !fields.iter().any(|f| f.eq_ignore_ascii_case(key)) || !is_set(value) {
                        continue;
                    }
                    findings.push(Finding {
                        entry: format!("{kind} {name:?}"),
                        field: format!("{prefix}{list}[{i}].{inner}.{key}"),
                        detail: detail(key, value),
                        risk,
                    });
                }
            }
        }
    }
    Ok(findings)
}

fn sequence<'a>(doc: &'a Value, list: &str) -> &'a [Value] {
    doc.get(list).and_then(Value::as_sequence).map_or(&[], Vec::as_slice)
}

/// Whether a field holds anything a client would act on.
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// A short description of the field's value, quoted so that no control character reaches the terminal.
fn detail(key: &str, value: &Value) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    if key.eq_ignore_ascii_case("exec") {
        match text(value.get("command")) {
            Some(command) => format!("runs the command {command:?}"),
            None => "runs a command".to_owned(),
        }
    } else if key.eq_ignore_ascii_case("auth-provider") {
        match text(value.get("name")) {
            Some(name) => format!("the auth provider {name:?}, which may run a command"),
            None => "an auth provider, which may run a command".to_owned(),
        }
    } else {
        match value.as_str() {
            Some(path) => format!("reads the local file {path:?}"),
            None => "names a local file".to_owned(),
        }
    }
}

fn refusal_message(secret: &SecretRef, findings: &[Finding]) -> String {
    let listed: Vec<String> = findings.iter().map(Finding::to_string).collect();
    let mut text = format!("refusing the kubeconfig in {secret}: {}.", listed.join("; "));
    let runs = findings.iter().any(|f| f.risk == Risk::RunsProgram);
    let reads = findings.iter().any(|f| f.risk == Risk::ReadsFile);
    if runs {
        text.push_str(" A kubeconfig from a cluster could run any program on this machine.");
    }
    if reads {
        text.push_str(" A kubeconfig from a cluster could read any file on this machine that you may read.");
    }
    let flags: Vec<&str> = [(runs, "--allow-exec"), (reads, "--allow-file-references")]
        .into_iter()
        .filter_map(|(wanted, flag)| wanted.then_some(flag))
        .collect();
    text.push_str(&format!(
        " Nothing was written or used. If you trust the cluster, run the command again with {}.",
        flags.join(" ")
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const INLINE: &str = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: 'https://c:6443', certificate-authority-data: AAA}
users:
- name: admin
  user: {client-certificate-data: AAA, client-key-data: BBB, token: t}
contexts:
- name: c
  context: {cluster: c, user: admin}
current-context: c
";

    fn secret() -> SecretRef {
        SecretRef {
            namespace: "cluster-abc".into(),
            name: "admin-kubeconfig".into(),
            key: "kubeconfig".into(),
        }
    }

    #[test]
    fn inline_credentials_are_fine() {
        assert_eq!(inspect(INLINE).expect("YAML"), []);
        check(INLINE, &secret(), AllowArgs::default()).expect("accepted");
        assert_eq!(inspect("").expect("empty"), []);
    }

    #[test]
    fn exec_and_auth_provider_are_found_with_entry_field_and_command() {
        let text = INLINE.replace(
            "user: {client-certificate-data: AAA, client-key-data: BBB, token: t}",
            "user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, 'id']}}\n\
             - name: gcp\n  user: {auth-provider: {name: gcp, config: {cmd-path: /usr/bin/gcloud}}}",
        );
        let found = inspect(&text).expect("YAML");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].entry, "user \"admin\"");
        assert_eq!(found[0].field, "users[0].user.exec");
        assert_eq!(found[0].detail, "runs the command \"/bin/sh\"");
        assert_eq!(found[0].risk, Risk::RunsProgram);
        assert_eq!(found[1].entry, "user \"gcp\"");
        assert_eq!(found[1].field, "users[1].user.auth-provider");
        assert_eq!(found[1].risk, Risk::RunsProgram);
    }

    #[test]
    fn file_references_are_found_in_users_and_clusters() {
        let text = INLINE
            .replace(
                "certificate-authority-data: AAA",
                "certificate-authority: /etc/ssl/ca.pem",
            )
            .replace(
                "client-certificate-data: AAA, client-key-data: BBB, token: t",
                "client-certificate: /home/u/.ssh/id, client-key: k.pem, tokenFile: /var/run/token",
            );
        let found = inspect(&text).expect("YAML");
        let fields: Vec<&str> = found.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "users[0].user.client-certificate",
                "users[0].user.client-key",
                "users[0].user.tokenFile",
                "clusters[0].cluster.certificate-authority"
            ]
        );
        assert!(found.iter().all(|f| f.risk == Risk::ReadsFile));
        assert_eq!(found[3].entry, "cluster \"c\"");
        assert_eq!(found[3].detail, "reads the local file \"/etc/ssl/ca.pem\"");
    }

    #[test]
    fn empty_fields_do_nothing_and_odd_spellings_and_later_documents_are_still_found() {
        let empty = INLINE.replace("token: t", "exec: null, tokenFile: ''");
        assert_eq!(inspect(&empty).expect("YAML"), []);
        let shouting = INLINE.replace("token: t", "EXEC: {command: sh}");
        assert_eq!(inspect(&shouting).expect("YAML")[0].field, "users[0].user.EXEC");
        let two = format!("{INLINE}---\nusers:\n- name: late\n  user: {{exec: {{command: sh}}}}\n");
        let found = inspect(&two).expect("YAML");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "document 2: users[0].user.exec");
    }

    #[test]
    fn the_refusal_names_the_secret_the_entry_the_field_why_and_the_flag() {
        let text = INLINE.replace("token: t", "exec: {command: \"/bin/sh\\u001b[2J\"}");
        let err = check(&text, &secret(), AllowArgs::default()).expect_err("refused");
        let message = err.to_string();
        assert!(
            message.starts_with(
                "refusing the kubeconfig in secret cluster-abc/admin-kubeconfig (key \"kubeconfig\"): \
                 user \"admin\" sets users[0].user.exec (runs the command \"/bin/sh\\u{1b}[2J\")."
            ),
            "{message}"
        );
        assert!(message.contains("could run any program on this machine"), "{message}");
        assert!(!message.contains("read any file"), "{message}");
        assert!(
            message.ends_with("If you trust the cluster, run the command again with --allow-exec."),
            "{message}"
        );
        assert!(!message.contains('\u{1b}'), "control characters are escaped: {message}");
        let allowed = AllowArgs {
            allow_exec: true,
            ..AllowArgs::default()
        };
        check(&text, &secret(), allowed).expect("allowed");
    }

    #[test]
    fn each_flag_allows_only_its_own_kind() {
        let text = INLINE
            .replace("token: t", "exec: {command: sh}")
            .replace("certificate-authority-data: AAA", "certificate-authority: ca.pem");
        let exec_only = AllowArgs {
            allow_exec: true,
            ..AllowArgs::default()
        };
        let Err(Refused::Unsafe { findings, .. }) = check(&text, &secret(), exec_only) else {
            panic!("the file reference is still refused");
        };
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].risk, Risk::ReadsFile);
        let message = check(&text, &secret(), AllowArgs::default())
            .expect_err("refused")
            .to_string();
        assert!(
            message.ends_with("with --allow-exec --allow-file-references."),
            "{message}"
        );
        let both = AllowArgs {
            allow_exec: true,
            allow_file_references: true,
        };
        check(&text, &secret(), both).expect("both allowed");
    }

    #[test]
    fn text_that_is_not_yaml_is_refused() {
        let err = check("a: [", &secret(), AllowArgs::default()).expect_err("refused");
        assert!(matches!(err, Refused::NotYaml { .. }), "{err}");
        assert!(err.to_string().contains("is not YAML"), "{err}");
    }
}
