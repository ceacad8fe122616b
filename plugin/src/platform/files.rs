//! The platform's configuration from files: `--kubermatic-configuration FILE` (exactly one
//! KubermaticConfiguration among the file's documents) and `--seed FILE` (every Seed in the
//! files). Other kinds in the files are ignored, so a whole dump of the `kubermatic` namespace
//! will do.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use kkp_crds::platform::{self, Configuration, Datacenters};
use serde_json::Value;

use crate::template::documents::{self, Place};

/// The flag that names a KubermaticConfiguration file, for messages.
pub const CONFIGURATION_FLAG: &str = "--kubermatic-configuration";
/// The flag that names a Seed file, for messages.
pub const SEED_FLAG: &str = "--seed";

/// The objects of `kind` in a file, with where each was. Fails when the file cannot be read or
/// is not YAML or JSON.
fn objects_of_kind(flag: &str, path: &Path, kind: &str) -> anyhow::Result<Vec<(Place, Value)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{flag} {}: cannot read the file", path.display()))?;
    let (docs, errors) = documents::parse_stream(&text);
    if let Some(e) = errors.first() {
        bail!("{flag} {}: {e}", path.display());
    }
    Ok(docs
        .into_iter()
        .filter(|d| d.value.get("kind").and_then(Value::as_str) == Some(kind))
        .map(|d| (d.place(), d.value))
        .collect())
}

/// Reads the one KubermaticConfiguration of a file.
pub fn read_configuration(path: &Path) -> anyhow::Result<Configuration> {
    let shown = path.display();
    let mut found = objects_of_kind(CONFIGURATION_FLAG, path, "KubermaticConfiguration")?;
    match found.len() {
        0 => bail!(
            "{CONFIGURATION_FLAG} {shown}: the file holds no KubermaticConfiguration (kubermatic.k8c.io/v1); give the \
             file of your KKP installation's configuration (kubectl -n kubermatic get kubermaticconfigurations -o yaml)"
        ),
        1 => {}
        n => {
            let places: Vec<String> = found.iter().map(|(p, _)| p.to_string()).collect();
            bail!(
                "{CONFIGURATION_FLAG} {shown}: the file holds {n} KubermaticConfigurations ({}); KKP uses exactly one, \
                 so give a file with one",
                places.join(", ")
            );
        }
    }
    let (place, object) = found.remove(0);
    platform::configuration(&object).map_err(|e| anyhow::anyhow!("{CONFIGURATION_FLAG} {shown}: {place}: {e}"))
}

/// Reads the datacenters of every Seed in the files. Each file must hold at least one Seed.
pub fn read_seeds(paths: &[PathBuf]) -> anyhow::Result<Datacenters> {
    let mut seeds = Vec::new();
    for path in paths {
        let shown = path.display();
        let found = objects_of_kind(SEED_FLAG, path, "Seed")?;
        if found.is_empty() {
            bail!(
                "{SEED_FLAG} {shown}: the file holds no Seed (kubermatic.k8c.io/v1); give a file of KKP Seeds \
                 (kubectl -n kubermatic get seeds -o yaml)"
            );
        }
        for (place, seed) in found {
            // Each Seed on its own first, so an error names the file it is in.
            platform::seed_datacenters(&seed).map_err(|e| anyhow::anyhow!("{SEED_FLAG} {shown}: {place}: {e}"))?;
            seeds.push(seed);
        }
    }
    Datacenters::from_seeds(seeds.iter()).map_err(|e| anyhow::anyhow!("{SEED_FLAG}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const CONFIG: &str = "\
apiVersion: kubermatic.k8c.io/v1
kind: KubermaticConfiguration
metadata: {name: kubermatic, namespace: kubermatic}
spec:
  versions:
    default: v1.36.4
    versions: [v1.35.8, v1.36.4]
";

    const SEED: &str = "\
apiVersion: kubermatic.k8c.io/v1
kind: Seed
metadata: {name: europe, namespace: kubermatic}
spec:
  datacenters:
    hetzner-fsn1: {spec: {hetzner: {datacenter: fsn1-dc14}}}
";

    #[test]
    fn the_one_configuration_among_other_kinds_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
        let path = write(&dir, "config.yaml", &format!("{other}---\n{CONFIG}---\n{SEED}"));
        let c = read_configuration(&path).unwrap();
        assert_eq!(c.name, "kubermatic");
        assert_eq!(c.versions.default, semver::Version::new(1, 36, 4));
        assert_eq!(c.versions.versions.len(), 2);
    }

    #[test]
    fn a_file_without_or_with_two_configurations_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let none = write(&dir, "seed.yaml", SEED);
        let err = read_configuration(&none).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "--kubermatic-configuration {}: the file holds no KubermaticConfiguration",
                none.display()
            )),
            "{err}"
        );
        let two = write(&dir, "two.yaml", &format!("{CONFIG}---\n{CONFIG}"));
        let err = read_configuration(&two).unwrap_err().to_string();
        assert!(
            err.contains(": the file holds 2 KubermaticConfigurations (document 1, document 2); KKP uses exactly one"),
            "{err}"
        );
    }

    #[test]
    fn missing_files_and_bad_fields_name_the_flag_the_file_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        let err = format!("{:#}", read_configuration(&missing).unwrap_err());
        assert!(
            err.starts_with(&format!(
                "--kubermatic-configuration {}: cannot read the file: ",
                missing.display()
            )),
            "{err}"
        );
        let bad = write(
            &dir,
            "bad.yaml",
            &CONFIG.replace("default: v1.36.4", "default: v1.37.0"),
        );
        let err = read_configuration(&bad).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "--kubermatic-configuration {}: document 1: KubermaticConfiguration \"kubermatic\": spec.versions.default: \
                 1.37.0 is not among spec.versions.versions",
                bad.display()
            )
        );
        let broken = write(&dir, "broken.yaml", "kind: [");
        let err = read_configuration(&broken).unwrap_err().to_string();
        assert!(err.contains("document 1: invalid YAML"), "{err}");
    }

    #[test]
    fn every_seed_of_every_file_counts() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(&dir, "a.yaml", &format!("{CONFIG}---\n{SEED}"));
        let b = write(
            &dir,
            "b.json",
            r#"{"apiVersion": "kubermatic.k8c.io/v1", "kind": "Seed", "metadata": {"name": "us"},
                "spec": {"datacenters": {"aws-us": {"spec": {"aws": {"region": "us-east-1"}}}}}}"#,
        );
        let dcs = read_seeds(&[a, b]).unwrap();
        assert_eq!(dcs.names().collect::<Vec<_>>(), ["aws-us", "hetzner-fsn1"]);
        assert_eq!(dcs.seeds(), ["europe", "us"]);
    }

    #[test]
    fn seed_files_without_seeds_or_with_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = write(&dir, "config.yaml", CONFIG);
        let err = read_seeds(std::slice::from_ref(&config)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("--seed {}: the file holds no Seed", config.display())),
            "{err}"
        );
        let bad = write(
            &dir,
            "bad.yaml",
            &SEED
                .replace("{spec: {hetzner", "{spec: [{hetzner")
                .replace("}}}", "}}]}"),
        );
        let err = read_seeds(std::slice::from_ref(&bad)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "--seed {}: document 1: Seed \"europe\": spec.datacenters[hetzner-fsn1].spec: must be an object",
                bad.display()
            )
        );
    }
}
