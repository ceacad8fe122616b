//! `kubectl kkp version`: the plugin's version and what its engine offers.

use anyhow::Context as _;
use kkp_crds::providers::Provider;
use kkp_crds::versions::{BUILTIN_KKP_RELEASE, VersionCatalog};
use serde::Serialize;

use crate::cli::version::{VersionArgs, VersionFormat};
use crate::exit::{ExitStatus, Outcome};
use crate::output;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionInfo {
    plugin_version: &'static str,
    /// The git commit the binary was built from (`unknown` when built outside a git checkout).
    git_commit: &'static str,
    default_kubernetes_version: String,
    kubernetes_versions: Vec<String>,
    /// The KKP release whose version offer the built-in catalog equals.
    builtin_catalog_release: &'static str,
    providers: Vec<&'static str>,
}

fn info() -> VersionInfo {
    let catalog = VersionCatalog::default();
    VersionInfo {
        plugin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("KKP_GIT_COMMIT"),
        default_kubernetes_version: catalog.default.to_string(),
        kubernetes_versions: catalog.versions.iter().map(ToString::to_string).collect(),
        builtin_catalog_release: BUILTIN_KKP_RELEASE,
        providers: Provider::ALL.iter().map(|p| p.name()).collect(),
    }
}

fn text(info: &VersionInfo) -> String {
    let minors = VersionCatalog::default().minors().join(", ");
    format!(
        "kubectl-kkp {}\nGit commit: {}\nDefault Kubernetes version: {}\nKubernetes minors offered: {minors}\nBuilt-in version \
         catalog: {}\nProviders: {}\n",
        info.plugin_version,
        info.git_commit,
        info.default_kubernetes_version,
        info.builtin_catalog_release,
        info.providers.join(", ")
    )
}

pub async fn run(args: VersionArgs, _g: &GlobalSettings, printer: &Printer) -> Outcome {
    let info = info();
    let out = match args.output {
        VersionFormat::Text => text(&info),
        VersionFormat::Json => output::to_json(&serde_json::to_value(&info)?) + "\n",
        VersionFormat::Yaml => output::to_yaml(&serde_json::to_value(&info)?),
    };
    printer.report(&out).context("cannot write to stdout")?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_engine_default() {
        let info = info();
        assert_eq!(
            info.default_kubernetes_version,
            VersionCatalog::default().default.to_string()
        );
        assert!(info.kubernetes_versions.contains(&info.default_kubernetes_version));
        let t = text(&info);
        assert!(
            t.starts_with(&format!("kubectl-kkp {}\n", env!("CARGO_PKG_VERSION"))),
            "{t}"
        );
        assert!(t.contains("Providers: aws, azure, digitalocean, gcp, hetzner, kubevirt, openstack, vsphere\n"));
        assert!(
            t.contains(&format!("\nBuilt-in version catalog: {BUILTIN_KKP_RELEASE}\n")),
            "{t}"
        );
        assert_eq!(info.builtin_catalog_release, BUILTIN_KKP_RELEASE);
        assert!(!info.git_commit.is_empty());
        assert!(t.contains(&format!("\nGit commit: {}\n", info.git_commit)), "{t}");
    }
}
