//! The Kubernetes and etcd releases the control-plane binaries are built from, read from
//! the Go module that pins them.

const GO_MOD: &str = include_str!("../control-plane/go.mod");

/// The Kubernetes release the binaries are built from (pinned in the Go module).
pub fn kubernetes_version() -> &'static str {
    module_version(GO_MOD, "k8s.io/kubernetes").unwrap_or("unknown")
}

/// The etcd release the binaries are built from.
pub fn etcd_version() -> &'static str {
    module_version(GO_MOD, "go.etcd.io/etcd/server/v3").unwrap_or("unknown")
}

/// The version a go.mod requires of `module` (the first `module vX…` line).
pub(crate) fn module_version<'a>(go_mod: &'a str, module: &str) -> Option<&'a str> {
    go_mod.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let first = words.next()?;
        let first = if first == "require" { words.next()? } else { first };
        let version = words.next()?;
        (first == module && version.starts_with('v')).then_some(version)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_go_module() {
        let go_mod = "module x\n\ngo 1.26\n\nrequire (\n\tgo.etcd.io/etcd/server/v3 v3.6.8\n\tk8s.io/kubernetes v1.36.3\n)\n\nreplace k8s.io/kubernetes => k8s.io/kubernetes v1.36.3\n";
        assert_eq!(module_version(go_mod, "k8s.io/kubernetes"), Some("v1.36.3"));
        assert_eq!(module_version(go_mod, "go.etcd.io/etcd/server/v3"), Some("v3.6.8"));
        assert_eq!(
            module_version("require k8s.io/kubernetes v1.2.3", "k8s.io/kubernetes"),
            Some("v1.2.3")
        );
        assert_eq!(module_version(go_mod, "k8s.io/api"), None);
        assert!(kubernetes_version().starts_with("v1."), "{}", kubernetes_version());
        assert!(etcd_version().starts_with("v3."), "{}", etcd_version());
    }
}
