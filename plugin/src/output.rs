//! Printing objects the way kubectl does: `-o yaml` (documents separated by `---`), `-o json` (one
//! object, or a `List` of several) and `-o name` (`cluster.kubermatic.k8c.io/NAME`). Objects are
//! data, so they go to stdout; messages go to stderr elsewhere.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Context as _;

use serde_json::{Value, json};

/// How commands print objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// YAML documents separated by `---`, ready for `kubectl apply -f -`.
    #[default]
    Yaml,
    /// JSON: the object itself, or a `v1` `List` of several.
    Json,
    /// One `kind.group/name` per line.
    Name,
}

/// Prints objects on stdout. A closed pipe (`| head`) ends the output quietly; any other write
/// error is reported on stderr.
pub fn print_objects(objs: &[Value], format: OutputFormat) {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if let Err(e) = write_objects(&mut out, objs, format).and_then(|()| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write to stdout: {e}");
    }
}

/// Writes objects in a format.
pub fn write_objects(w: &mut dyn Write, objs: &[Value], format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Yaml => {
            for (i, obj) in objs.iter().enumerate() {
                if i > 0 {
                    w.write_all(b"---\n")?;
                }
                w.write_all(to_yaml(obj).as_bytes())?;
            }
            Ok(())
        }
        OutputFormat::Json => {
            let doc = match objs {
                [one] => one.clone(),
                many => json!({ "apiVersion": "v1", "kind": "List", "items": many }),
            };
            writeln!(w, "{}", to_json(&doc))
        }
        OutputFormat::Name => {
            for obj in objs {
                writeln!(w, "{}", resource_name(obj))?;
            }
            Ok(())
        }
    }
}

/// Writes objects to a file created with mode 0600 (`--write-to`), replacing what it held.
pub fn write_file(path: &Path, objects: &[Value], format: OutputFormat) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("--write-to {}: cannot open the file", path.display()))?;
    write_objects(&mut file, objects, format)
        .and_then(|()| file.flush())
        .with_context(|| format!("--write-to {}: cannot write the file", path.display()))
}

/// A value as YAML text ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    // Serialising a JSON value to YAML cannot fail: every key is a string.
    serde_yaml::to_string(value).unwrap_or_else(|e| format!("# cannot print as YAML: {e}\n"))
}

/// A value as indented JSON, without the trailing newline.
pub fn to_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

/// kubectl's `-o name`: `kind.group/name` in lower case, `kind/name` for the core group.
pub fn resource_name(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("").to_lowercase();
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let name = obj
        .pointer("/metadata/name")
        .or_else(|| obj.pointer("/metadata/generateName"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match api_version.rsplit_once('/') {
        Some((group, _)) if !group.is_empty() => format!("{kind}.{group}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Value {
        json!({"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": {"name": "demo"}})
    }

    fn md() -> Value {
        json!({"apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
               "metadata": {"name": "demo-worker", "namespace": "kube-system"}})
    }

    fn written(objs: &[Value], format: OutputFormat) -> String {
        let mut buf = Vec::new();
        write_objects(&mut buf, objs, format).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn names_follow_kubectl() {
        assert_eq!(resource_name(&cluster()), "cluster.kubermatic.k8c.io/demo");
        assert_eq!(resource_name(&md()), "machinedeployment.cluster.k8s.io/demo-worker");
        assert_eq!(
            resource_name(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})),
            "configmap/x"
        );
        assert_eq!(
            written(&[cluster(), md()], OutputFormat::Name),
            "cluster.kubermatic.k8c.io/demo\nmachinedeployment.cluster.k8s.io/demo-worker\n"
        );
    }

    #[test]
    fn yaml_separates_documents() {
        let text = written(&[cluster(), md()], OutputFormat::Yaml);
        assert!(text.starts_with("apiVersion: kubermatic.k8c.io/v1\n"), "{text}");
        assert_eq!(text.matches("\n---\n").count(), 1, "{text}");
        let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect();
        assert_eq!(docs, [cluster(), md()]);
    }

    #[test]
    fn json_is_one_object_or_a_list() {
        let one: Value = serde_json::from_str(&written(&[cluster()], OutputFormat::Json)).unwrap();
        assert_eq!(one, cluster());
        let many: Value = serde_json::from_str(&written(&[cluster(), md()], OutputFormat::Json)).unwrap();
        assert_eq!(many["kind"], "List");
        assert_eq!(many["items"][1], md());
    }
}
