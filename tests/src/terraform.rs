//! KubeOne's real `output.tf` files run by a real Terraform (OpenTofu's `tofu`, built from its Go
//! module by `scripts/tools.sh`): the cloud resources they read are stood in for by locals, as no
//! cloud can be reached here, and Terraform computes `terraform output -json` from them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};

use crate::error::HarnessError;
use crate::upstream;

/// The Terraform binary: `KKP_TERRAFORM` (`make test` sets it to OpenTofu's `tofu`), else
/// `terraform` or `tofu` on PATH. `None` outside CI when there is none (the caller skips with a
/// message); in CI (`CI=true`) its absence is a failure.
pub fn binary() -> Option<PathBuf> {
    let found = std::env::var_os("KKP_TERRAFORM").map(PathBuf::from).or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .flat_map(|dir| [dir.join("terraform"), dir.join("tofu")])
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let why = "neither terraform nor tofu is installed (set KKP_TERRAFORM, run `scripts/tools.sh tofu`, or put one on PATH)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("skipped: {why}");
    }
    found
}

/// KubeOne's example `output.tf` of `provider` (`aws`, `hetzner`).
pub fn kubeone_example(provider: &str) -> Result<PathBuf, HarnessError> {
    Ok(upstream::examples_dir()?
        .join("kubeone/examples/terraform")
        .join(provider)
        .join("output.tf"))
}

/// The references of `output.tf` to cloud resources (`aws_instance.bastion.public_ip`,
/// `aws_instance.control_plane.*.private_ip`, `data.aws_vpc.selected.id`), each once, longest
/// first so that no reference is replaced inside a longer one.
pub fn resource_references(text: &str) -> Vec<String> {
    let mut refs: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '*'))
        .map(|t| t.trim_end_matches('.'))
        .filter(|t| {
            let bare = t.strip_prefix("data.").unwrap_or(t);
            (bare.starts_with("aws_") || bare.starts_with("hcloud_")) && bare.contains('.')
        })
        .map(str::to_owned)
        .collect();
    refs.sort();
    refs.dedup();
    refs.sort_by_key(|r| std::cmp::Reverse(r.len()));
    refs
}

/// Names used after `prefix` (`var.`, `local.`).
pub fn names_after(text: &str, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .match_indices(prefix)
        .filter(|(i, _)| *i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric())
        .map(|(i, _)| {
            text[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Runs `terraform apply` in `dir` on the real `output.tf` of `provider` with the given variables
/// and locals (every local it reads must be given; variables not given are null) and returns the
/// JSON of `terraform output -json`. A resource reference `x.y` becomes the string `x.y-0` (a
/// `x.*.y` list becomes three of them), so a test can tell where each value came from.
pub fn kubeone_output(terraform: &Path, dir: &Path, provider: &str, vars: Value, locals: Value) -> String {
    let example = kubeone_example(provider).unwrap_or_else(|e| panic!("{e}"));
    let original = std::fs::read_to_string(&example)
        .unwrap_or_else(|e| panic!("KubeOne's {} is not readable: {e}", example.display()));
    let mut text = original.clone();
    let mut locals = locals.as_object().cloned().unwrap_or_default();
    for (i, reference) in resource_references(&original).into_iter().enumerate() {
        let local = format!("stand_in_{i}");
        let value = if reference.contains(".*.") {
            json!([
                format!("{reference}-0"),
                format!("{reference}-1"),
                format!("{reference}-2")
            ])
        } else {
            Value::from(format!("{reference}-0"))
        };
        text = text.replace(&reference, &format!("local.{local}"));
        locals.insert(local, value);
    }
    let missing: Vec<String> = names_after(&text, "local.")
        .into_iter()
        .filter(|n| !locals.contains_key(n))
        .collect();
    assert!(missing.is_empty(), "the test gives no value to the locals {missing:?}");
    let vars = vars.as_object().cloned().unwrap_or_default();
    let variables: Map<String, Value> = names_after(&text, "var.")
        .into_iter()
        .map(|n| {
            let default = vars.get(&n).cloned().unwrap_or(Value::Null);
            (n, json!({ "default": default }))
        })
        .collect();
    std::fs::write(dir.join("output.tf"), text).expect("output.tf is written");
    std::fs::write(
        dir.join("stand_in.tf.json"),
        json!({"variable": variables, "locals": locals}).to_string(),
    )
    .expect("stand_in.tf.json is written");
    std::fs::write(dir.join("terraformrc"), "").expect("terraformrc is written");
    let run = |args: &[&str]| {
        let out = Command::new(terraform)
            .args(args)
            .current_dir(dir)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_CLI_CONFIG_FILE", dir.join("terraformrc"))
            .output()
            .expect("terraform runs");
        assert!(
            out.status.success(),
            "terraform {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("terraform prints UTF-8")
    };
    run(&["init", "-input=false", "-no-color"]);
    run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    run(&["output", "-json"])
}

/// The variables and locals that make Hetzner's `output.tf` give one worker pool of `replicas`
/// machines for `cluster`, its SSH key read from `key_file`.
pub fn hetzner_inputs(cluster: &str, replicas: u32, key_file: &Path) -> (Value, Value) {
    let vars = json!({
        "cluster_name": cluster,
        "datacenter": "fsn1",
        "initial_machinedeployment_replicas": replicas,
        "initial_machinedeployment_operating_system_profile": "",
        "worker_type": "cx22",
        "ssh_port": 22,
        "ssh_public_key_file": key_file.display().to_string(),
        "apiserver_alternative_names": []
    });
    let locals = json!({
        "cluster_autoscaler_min_replicas": 1,
        "cluster_autoscaler_max_replicas": 3,
        "image": "ubuntu-24.04",
        "kubeapi_endpoint": "10.0.0.2",
        "ssh_username": "root",
        "worker_os": "ubuntu"
    });
    (vars, locals)
}
