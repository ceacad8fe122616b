//! `kubectl kkp get kubeconfig NAME`: prints a cluster's kubeconfig, writes it to a file, or
//! merges it into the user's kubeconfig (see `k8s::merge` for how names that exist are treated).

use anyhow::Context as _;

use crate::cli::get::GetKubeconfigArgs;
use crate::k8s::client::Connection;
use crate::k8s::config::KubeconfigFiles;
use crate::k8s::merge::{self, MergeReport};
use crate::k8s::secret::{self};
use crate::k8s::trust::{self};
use crate::printer::Printer;
use crate::settings::GlobalSettings;

pub async fn run(args: GetKubeconfigArgs, g: &GlobalSettings, printer: &Printer) -> anyhow::Result<()> {
    if let Some(client) = crate::commands::api::client(g)? {
        let (text, id) = crate::commands::api::clusters::kubeconfig(&client, &args.name, args.allow).await?;
        return deliver(&args, g, &text, &format!("the KKP API, cluster ID {id}"), printer);
    }
    let conn = Connection::from_settings(&g.connection).await?;
    let found = secret::find(&conn, &args.name, &conn.namespace, args.convention).await?;
    tracing::info!(convention = %found.convention, secret = %found.secret, "found the kubeconfig");
    trust::check(&found.text, &found.secret, args.allow)?;
    deliver(&args, g, &found.text, &found.secret.to_string(), printer)
}

/// Writes, merges or prints a cluster's kubeconfig, as the flags say.
fn deliver(
    args: &GetKubeconfigArgs,
    g: &GlobalSettings,
    text: &str,
    source: &str,
    printer: &Printer,
) -> anyhow::Result<()> {
    if let Some(path) = &args.output_file {
        merge::write_private(path, text.as_bytes())?;
        printer.message(format_args!(
            "Wrote the kubeconfig of cluster {:?} (from {source}) to {}.",
            args.name,
            path.display()
        ));
        return Ok(());
    }
    if args.merge {
        let files = KubeconfigFiles::from_flag(g.connection.kubeconfig.as_deref())?;
        let target = files.write_target().to_path_buf();
        let reserved = merge::Names::in_files(files.others())?;
        let report = merge::merge_into_file(&target, text, &args.name, args.set_current, &reserved)?;
        printer.message_text(format_args!(
            "{}",
            merge_message(&args.name, &target.display().to_string(), &report)
        ));
        return Ok(());
    }
    let ended = if text.ends_with('\n') { "" } else { "\n" };
    printer
        .report(&format!("{text}{ended}"))
        .context("cannot write to stdout")
}

/// What `--merge` tells the user: where, under which context, what was renamed, what next.
pub fn merge_message(cluster: &str, file: &str, report: &MergeReport) -> String {
    let mut text = format!(
        "Merged the kubeconfig of cluster {cluster:?} into {file} as context {:?}.\n",
        report.context
    );
    for (kind, from, to) in &report.renamed {
        text.push_str(&format!(
            "  {kind} {from:?} is taken (another server, or another kubeconfig file), so it was added as {to:?}\n"
        ));
    }
    if !report.replaced.is_empty() {
        text.push_str(&format!("  refreshed: {}\n", report.replaced.join(", ")));
    }
    if report.current_context_set {
        text.push_str(&format!("Current context is now {:?}.\n", report.context));
    } else {
        text.push_str(&format!(
            "Switch to it with: kubectl config use-context {}\n",
            report.context
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_message_says_where_what_and_what_next() {
        let report = MergeReport {
            context: "admin-abc".into(),
            renamed: vec![("context".into(), "admin".into(), "admin-abc".into())],
            ..MergeReport::default()
        };
        let text = merge_message("abc", "/home/u/.kube/config", &report);
        assert!(
            text.starts_with(
                "Merged the kubeconfig of cluster \"abc\" into /home/u/.kube/config as context \"admin-abc\".\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("context \"admin\" is taken (another server, or another kubeconfig file), so it was added as \"admin-abc\""),
            "{text}"
        );
        assert!(
            text.ends_with("Switch to it with: kubectl config use-context admin-abc\n"),
            "{text}"
        );
        let current = MergeReport {
            current_context_set: true,
            ..report
        };
        assert!(merge_message("abc", "f", &current).ends_with("Current context is now \"admin-abc\".\n"));
    }
}
