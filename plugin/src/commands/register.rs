//! `kubectl kkp register cluster` and `unregister cluster`: import a running cluster into KKP as an
//! `ExternalCluster` with its kubeconfig in a Secret, and remove both again; through the seed's
//! Kubernetes API, or through the KKP REST API when it is selected (`--api`).

use std::time::Duration;

use anyhow::{Context as _, bail};

use serde_yaml::Value as Yaml;

use super::confirm;
use crate::cli::register::{
    RegisterClusterArgs, RegisterCommand, RegisterWhat, UnregisterClusterArgs, UnregisterCommand, UnregisterWhat,
};
use crate::exit::{ExitStatus, Outcome};
use crate::k8s::apply::{Applier, ApplyOptions};
use crate::k8s::client::Connection;
use crate::k8s::external::{self, Registration};
use crate::k8s::trust::{self, Risk};
use crate::kkp_api::client::{ApiError, KkpClient};
use crate::kkp_api::external::named;
use crate::kkp_api::models::ExternalClusterBody;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

const REACH_TIMEOUT: Duration = Duration::from_secs(20);

pub async fn run(cmd: RegisterCommand, g: &GlobalSettings, printer: &Printer) -> Outcome {
    let RegisterWhat::Cluster(args) = cmd.what;
    register(args, g, printer).await?;
    Ok(ExitStatus::Success)
}

pub async fn run_unregister(cmd: UnregisterCommand, g: &GlobalSettings, printer: &Printer) -> Outcome {
    let UnregisterWhat::Cluster(args) = cmd.what;
    unregister(args, g, printer).await?;
    Ok(ExitStatus::Success)
}

async fn register(args: RegisterClusterArgs, g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    let api = crate::commands::api::client(g)?;
    if api.is_some() && args.human_readable_name.is_some() {
        bail!(
            "--human-readable-name: through the KKP API the imported cluster's name is NAME (the API gives it an ID); \
             drop --human-readable-name and give the name as NAME"
        );
    }
    let file = args.kubeconfig_file.display().to_string();
    let text = std::fs::read_to_string(&args.kubeconfig_file)
        .with_context(|| format!("--kubeconfig-file {file}: cannot read the file"))?;
    let kubeconfig =
        minify(&text, args.cluster_context.as_deref()).map_err(|e| anyhow::anyhow!("--kubeconfig-file {file}: {e}"))?;
    refuse_unsafe(&kubeconfig, &file)?;

    let origin = format!("--kubeconfig-file {file}");
    let target = Connection::from_kubeconfig_text(&kubeconfig, &origin).await?;
    let info = match tokio::time::timeout(REACH_TIMEOUT, target.client.apiserver_version()).await {
        Ok(Ok(info)) => info,
        Ok(Err(e)) => bail!(
            "{origin} does not reach its cluster ({}): {e}; nothing was registered",
            target.server
        ),
        Err(_) => bail!(
            "{origin}: the cluster at {} did not answer within {}s; nothing was registered",
            target.server,
            REACH_TIMEOUT.as_secs()
        ),
    };
    let version = kube_version(&info.git_version);
    printer.message(format_args!(
        "The kubeconfig reaches {} (context {:?}): Kubernetes {}",
        target.server, target.context, info.git_version
    ));
    if let Some(client) = api {
        return register_via_api(&client, &args.name, &kubeconfig, printer).await;
    }

    let registration = Registration {
        id: args.name.clone(),
        human_readable_name: args.human_readable_name.clone().unwrap_or_else(|| args.name.clone()),
        project: g.api.project.clone(),
        kubeconfig,
        version,
    };
    let seed = Connection::from_settings(&g.connection).await?;
    let mut applier = Applier::new(&seed, ApplyOptions::default());
    for object in [registration.secret(), registration.external_cluster()] {
        match applier.apply(&object).await {
            Ok(applied) => printer.data(format_args!("{}", applied.summary())),
            Err(e) => {
                let hint = if e.to_string().contains("namespaces \"kubermatic\" not found") {
                    " (namespace kubermatic is missing: is the current context a KKP seed?)"
                } else {
                    ""
                };
                bail!("{e}{hint}");
            }
        }
    }
    printer.data(format_args!(
        "cluster {:?} registered; KKP's external-cluster controller reports its phase (kubectl kkp describe cluster {})",
        args.name, args.name
    ));
    Ok(())
}

/// Imports the cluster through the KKP REST API. The API gives every import a new ID, even for a
/// name it has, so the name is looked up first: a cluster of that name gets the new kubeconfig
/// (PUT), and a re-run converges instead of importing the cluster twice.
async fn register_via_api(client: &KkpClient, name: &str, kubeconfig: &str, printer: &Printer) -> anyhow::Result<()> {
    let body = ExternalClusterBody::new(name, kubeconfig);
    let existing = client.list_external_clusters().await?;
    let same: Vec<_> = existing.iter().filter(|c| c.name == name).collect();
    match same.as_slice() {
        [] => {
            let created = client.create_external_cluster(&body).await?;
            printer.data(format_args!(
                "cluster {name:?} (ID {}) registered in KKP project {}; KKP reports its state (kubectl kkp get clusters)",
                created.id.as_deref().unwrap_or("<none>"),
                client.project()
            ));
        }
        [one] => {
            let id = one.id.clone().unwrap_or_default();
            client.update_external_cluster(&id, &body).await?;
            printer.data(format_args!(
                "cluster {name:?} (ID {id}) was registered already in KKP project {}; its kubeconfig was replaced",
                client.project()
            ));
        }
        many => bail!(
            "{} imported clusters in KKP project {} are named {name:?} (IDs {}); nothing was sent. Unregister the extra \
             ones by ID: kubectl kkp unregister cluster ID",
            many.len(),
            client.project(),
            ids(many)
        ),
    }
    Ok(())
}

fn ids(clusters: &[&crate::kkp_api::models::ExternalCluster]) -> String {
    clusters
        .iter()
        .map(|c| c.id.as_deref().unwrap_or("<none>"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `v1.36.3+k3s1` → `1.36.3`, as KKP writes versions.
fn kube_version(git_version: &str) -> String {
    let bare = git_version.trim_start_matches('v');
    let core = bare.split(['+', '-']).next().unwrap_or(bare);
    core.to_owned()
}

/// The kubeconfig with only `context` (else the current context), its cluster and its user.
fn minify(text: &str, context: Option<&str>) -> Result<String, String> {
    let doc: Yaml = serde_yaml::from_str(text).map_err(|e| format!("not a kubeconfig (YAML): {e}"))?;
    let current = doc
        .get("current-context")
        .and_then(Yaml::as_str)
        .filter(|s| !s.is_empty());
    let Some(wanted) = context.or(current) else {
        return Err("it has no current-context; pick one with --cluster-context".to_owned());
    };
    let find = |list: &str, name: &str| -> Option<Yaml> {
        doc.get(list)?
            .as_sequence()?
            .iter()
            .find(|e| e.get("name").and_then(Yaml::as_str) == Some(name))
            .cloned()
    };
    let contexts: Vec<&str> = doc
        .get("contexts")
        .and_then(Yaml::as_sequence)
        .map(|l| l.iter().filter_map(|c| c.get("name").and_then(Yaml::as_str)).collect())
        .unwrap_or_default();
    let ctx = find("contexts", wanted)
        .ok_or_else(|| format!("it has no context {wanted:?}; it has: {}", contexts.join(", ")))?;
    let cluster_name = ctx
        .get("context")
        .and_then(|c| c.get("cluster"))
        .and_then(Yaml::as_str)
        .ok_or_else(|| format!("context {wanted:?} names no cluster"))?;
    let cluster = find("clusters", cluster_name)
        .ok_or_else(|| format!("context {wanted:?} names cluster {cluster_name:?}, which is not in the file"))?;
    let user_name = ctx.get("context").and_then(|c| c.get("user")).and_then(Yaml::as_str);
    let mut out = serde_yaml::Mapping::new();
    out.insert("apiVersion".into(), "v1".into());
    out.insert("kind".into(), "Config".into());
    out.insert("clusters".into(), Yaml::Sequence(vec![cluster]));
    let users = match user_name {
        Some(u) => vec![
            find("users", u).ok_or_else(|| format!("context {wanted:?} names user {u:?}, which is not in the file"))?,
        ],
        None => Vec::new(),
    };
    out.insert("users".into(), Yaml::Sequence(users));
    out.insert("contexts".into(), Yaml::Sequence(vec![ctx]));
    out.insert("current-context".into(), wanted.into());
    serde_yaml::to_string(&Yaml::Mapping(out)).map_err(|e| e.to_string())
}

/// Refuses a kubeconfig that runs a program or reads a local file: KKP could not use it.
fn refuse_unsafe(kubeconfig: &str, file: &str) -> anyhow::Result<()> {
    let findings = trust::inspect(kubeconfig).map_err(|e| anyhow::anyhow!("--kubeconfig-file {file}: {e}"))?;
    if findings.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = findings.iter().map(|f| format!("  {f}")).collect();
    let runs = findings.iter().any(|f| f.risk == Risk::RunsProgram);
    let why = if runs {
        "KKP connects with the stored kubeconfig from inside the seed, where the program it runs does not exist"
    } else {
        "KKP connects with the stored kubeconfig from inside the seed, where the files it names do not exist"
    };
    bail!(
        "--kubeconfig-file {file} cannot be stored in KKP:\n{}\n{why}. Use a kubeconfig with everything inline: \
         `kubectl config view --minify --flatten` inlines certificate files; for a login program, use a \
         ServiceAccount token instead:\n  \
         kubectl create serviceaccount kkp-import -n kube-system\n  \
         kubectl create clusterrolebinding kkp-import --clusterrole cluster-admin --serviceaccount kube-system:kkp-import\n  \
         kubectl config set-credentials kkp-import --token \"$(kubectl create token kkp-import -n kube-system --duration 8760h)\"\n\
         and point the context at the user kkp-import (see kubectl kkp register cluster --help). Nothing was registered.",
        lines.join("\n")
    )
}

async fn unregister(args: UnregisterClusterArgs, g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    if let Some(client) = crate::commands::api::client(g)? {
        return unregister_via_api(&client, &args, printer).await;
    }
    let seed = Connection::from_settings(&g.connection).await?;
    let name = args.name.as_str();
    let Some(cluster) = external::get_opt(&seed, name).await? else {
        bail!(
            "imported cluster {name:?} not found on the management cluster ({}); list clusters with: kubectl kkp get clusters",
            seed.describe()
        );
    };
    confirm(&format!("{name:?}"), args.yes, printer)?;
    for deleted in external::delete(&seed, &cluster).await? {
        printer.data(format_args!("{deleted} deleted"));
    }
    Ok(())
}

/// Disconnects the imported cluster named (or with the ID) `args.name` through the KKP REST API.
async fn unregister_via_api(client: &KkpClient, args: &UnregisterClusterArgs, printer: &Printer) -> anyhow::Result<()> {
    let name = args.name.as_str();
    let clusters = client.list_external_clusters().await?;
    let cluster = match named(&clusters, name).as_slice() {
        [] => bail!(
            "no imported cluster named or with ID {name:?} in KKP project {}; see the project's clusters with: kubectl kkp get clusters",
            client.project()
        ),
        [one] => (*one).clone(),
        many => bail!(
            "{} imported clusters in KKP project {} are named {name:?}: name one by its ID: {}",
            many.len(),
            client.project(),
            ids(many)
        ),
    };
    let id = cluster.id.clone().unwrap_or_default();
    let shown = format!("{:?} (ID {id})", cluster.name);
    confirm(&shown, args.yes, printer)?;
    match client.disconnect_external_cluster(&id).await {
        Ok(()) => printer.data(format_args!(
            "cluster {shown} unregistered from KKP project {}; the cluster itself keeps running",
            client.project()
        )),
        Err(ApiError::NotFound { .. }) => printer.data(format_args!("cluster {shown} is already gone")),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Asks before unregistering `shown`, unless `yes`; refuses when there is no terminal to ask on.
fn confirm(shown: &str, yes: bool, printer: &Printer) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    let question = format_args!(
        "Unregister imported cluster {shown}? KKP forgets it and its stored kubeconfig; the cluster itself keeps \
         running. [y/N] "
    );
    if !confirm::ask(printer, question, "unregister", format_args!("cluster {shown}"))? {
        bail!("aborted; cluster {shown} is still registered");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "apiVersion: v1\nkind: Config\ncurrent-context: a\n\
        clusters:\n- name: ca\n  cluster: {server: 'https://a:6443', certificate-authority-data: QQ==}\n\
        - name: cb\n  cluster: {server: 'https://b:6443', certificate-authority: /etc/b.pem}\n\
        users:\n- name: ua\n  user: {token: abc}\n- name: ub\n  user: {exec: {command: aws, apiVersion: client.authentication.k8s.io/v1beta1}}\n\
        contexts:\n- name: a\n  context: {cluster: ca, user: ua}\n- name: b\n  context: {cluster: cb, user: ub}\n";

    #[test]
    fn only_the_chosen_context_is_kept() {
        let a = minify(TWO, None).unwrap();
        assert!(a.contains("https://a:6443") && a.contains("token: abc"), "{a}");
        assert!(!a.contains("https://b:6443") && !a.contains("aws"), "{a}");
        refuse_unsafe(&a, "k").unwrap();
        let b = minify(TWO, Some("b")).unwrap();
        let err = refuse_unsafe(&b, "k").unwrap_err().to_string();
        assert!(
            err.starts_with("--kubeconfig-file k cannot be stored in KKP:\n  user \"ub\" sets users[0].user.exec"),
            "{err}"
        );
        assert!(
            err.contains("cluster \"cb\" sets clusters[0].cluster.certificate-authority"),
            "{err}"
        );
        assert!(err.contains("kubectl create token kkp-import"), "{err}");
        assert_eq!(
            minify(TWO, Some("c")).unwrap_err(),
            "it has no context \"c\"; it has: a, b"
        );
    }

    #[test]
    fn versions_are_written_as_kkp_does() {
        assert_eq!(kube_version("v1.36.3"), "1.36.3");
        assert_eq!(kube_version("v1.31.2+k3s1"), "1.31.2");
        assert_eq!(kube_version("v1.30.0-eks-1"), "1.30.0");
    }
}
