//! The user cluster's control plane version, read from the apiserver the webhook talks to when
//! `--cluster-version` is not given: a webhook that guards MachineDeployments runs in (or for) the
//! user cluster they belong to, so that apiserver's version is the cluster version KKP's kubelet
//! skew rule is checked against.

/// The version in a `/version` `gitVersion`: `v1.36.3`, `v1.35.2+k3s1`, `v1.36.0-rc.1`, `1.34.5`.
pub fn parse_git_version(git_version: &str) -> Option<semver::Version> {
    let text = git_version.trim();
    semver::Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
}

/// Asks the apiserver for its version.
pub async fn detect(client: &kube::Client) -> Result<semver::Version, String> {
    let info = client
        .apiserver_version()
        .await
        .map_err(|e| format!("reading the apiserver's /version: {e}"))?;
    parse_git_version(&info.git_version).ok_or_else(|| {
        format!(
            "the apiserver's gitVersion {:?} is not a semantic version",
            info.git_version
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_versions_of_real_distributions_parse() {
        assert_eq!(parse_git_version("v1.36.3"), Some(semver::Version::new(1, 36, 3)));
        assert_eq!(parse_git_version("1.34.5"), Some(semver::Version::new(1, 34, 5)));
        let k3s = parse_git_version("v1.35.2+k3s1").expect("k3s");
        assert_eq!((k3s.major, k3s.minor, k3s.patch), (1, 35, 2));
        let rc = parse_git_version("v1.36.0-rc.1").expect("a release candidate");
        assert_eq!((rc.minor, rc.pre.as_str()), (36, "rc.1"));
        assert_eq!(parse_git_version("v1.36"), None);
        assert_eq!(parse_git_version(""), None);
    }
}
