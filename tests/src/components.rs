//! Command lines of etcd, kube-apiserver and kube-controller-manager. Pure functions of
//! ports and paths, so they can be checked without starting anything.

use std::path::Path;

/// The service CIDR; the first address is the `kubernetes` Service (see [`crate::pki::SERVICE_IP`]).
pub const SERVICE_CLUSTER_IP_RANGE: &str = "10.0.0.0/24";

/// The controllers kube-controller-manager runs: what namespace deletion, garbage
/// collection, service-account provisioning and the aggregated built-in ClusterRoles
/// (`view`, `edit`, `admin`) need, nothing that wants nodes.
pub const CONTROLLERS: &str =
    "namespace,garbagecollector,serviceaccount,serviceaccount-token,root-ca-cert-publisher,clusterrole-aggregation";

/// Ports of one etcd member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtcdPorts {
    pub client: u16,
    pub peer: u16,
}

/// `etcd` arguments for a throwaway single-member cluster on loopback.
pub fn etcd_args(ports: EtcdPorts, data_dir: &Path) -> Vec<String> {
    let client = format!("http://127.0.0.1:{}", ports.client);
    let peer = format!("http://127.0.0.1:{}", ports.peer);
    vec![
        "--name=default".into(),
        format!("--data-dir={}", data_dir.display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=default={peer}"),
        "--initial-cluster-state=new".into(),
        "--unsafe-no-fsync=true".into(),
        "--log-level=warn".into(),
    ]
}

/// Files kube-apiserver reads.
#[derive(Debug, Clone, Copy)]
pub struct ApiserverFiles<'a> {
    pub cert_dir: &'a Path,
    pub tls_cert: &'a Path,
    pub tls_key: &'a Path,
    pub client_ca: &'a Path,
    pub sa_public_key: &'a Path,
    pub sa_private_key: &'a Path,
}

/// `kube-apiserver` arguments (envtest's set plus an explicit advertise address, needed
/// on machines without a default route).
pub fn apiserver_args(etcd_client_port: u16, secure_port: u16, files: &ApiserverFiles<'_>) -> Vec<String> {
    vec![
        format!("--etcd-servers=http://127.0.0.1:{etcd_client_port}"),
        format!("--secure-port={secure_port}"),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--cert-dir={}", files.cert_dir.display()),
        format!("--tls-cert-file={}", files.tls_cert.display()),
        format!("--tls-private-key-file={}", files.tls_key.display()),
        format!("--client-ca-file={}", files.client_ca.display()),
        "--authorization-mode=RBAC".into(),
        format!("--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}"),
        format!("--service-account-issuer=https://127.0.0.1:{secure_port}"),
        format!("--service-account-key-file={}", files.sa_public_key.display()),
        format!("--service-account-signing-key-file={}", files.sa_private_key.display()),
        "--disable-admission-plugins=ServiceAccount".into(),
        "--allow-privileged=true".into(),
        "--profiling=false".into(),
    ]
}

/// `kube-controller-manager` arguments; it serves nothing itself (`--secure-port=0`).
pub fn controller_manager_args(kubeconfig: &Path, sa_private_key: &Path, root_ca: &Path) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", kubeconfig.display()),
        format!("--controllers={CONTROLLERS}"),
        "--leader-elect=false".into(),
        "--secure-port=0".into(),
        format!("--service-account-private-key-file={}", sa_private_key.display()),
        format!("--root-ca-file={}", root_ca.display()),
        "--use-service-account-credentials=false".into(),
        format!("--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}"),
        "--profiling=false".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
        let prefix = format!("--{name}=");
        args.iter().find_map(|a| a.strip_prefix(prefix.as_str()))
    }

    #[test]
    fn etcd_listens_only_on_loopback_ports() {
        let args = etcd_args(
            EtcdPorts {
                client: 2379,
                peer: 2380,
            },
            Path::new("data"),
        );
        assert_eq!(flag(&args, "listen-client-urls"), Some("http://127.0.0.1:2379"));
        assert_eq!(flag(&args, "listen-peer-urls"), Some("http://127.0.0.1:2380"));
        assert_eq!(flag(&args, "initial-cluster"), Some("default=http://127.0.0.1:2380"));
        assert_eq!(flag(&args, "unsafe-no-fsync"), Some("true"));
        assert_eq!(flag(&args, "data-dir"), Some("data"));
    }

    #[test]
    fn apiserver_uses_etcd_rbac_and_loopback() {
        let p = Path::new;
        let files = ApiserverFiles {
            cert_dir: p("c"),
            tls_cert: p("tls.crt"),
            tls_key: p("tls.key"),
            client_ca: p("client-ca.crt"),
            sa_public_key: p("sa.pub"),
            sa_private_key: p("sa.key"),
        };
        let args = apiserver_args(2379, 6443, &files);
        assert_eq!(flag(&args, "etcd-servers"), Some("http://127.0.0.1:2379"));
        assert_eq!(flag(&args, "secure-port"), Some("6443"));
        assert_eq!(flag(&args, "bind-address"), Some("127.0.0.1"));
        assert_eq!(flag(&args, "advertise-address"), Some("127.0.0.1"));
        assert_eq!(flag(&args, "authorization-mode"), Some("RBAC"));
        assert_eq!(flag(&args, "client-ca-file"), Some("client-ca.crt"));
        assert_eq!(flag(&args, "service-account-issuer"), Some("https://127.0.0.1:6443"));
        assert_eq!(flag(&args, "service-account-signing-key-file"), Some("sa.key"));
        assert_eq!(flag(&args, "disable-admission-plugins"), Some("ServiceAccount"));
        assert_eq!(flag(&args, "service-cluster-ip-range"), Some("10.0.0.0/24"));
    }

    #[test]
    fn controller_manager_runs_only_the_listed_controllers() {
        let args = controller_manager_args(Path::new("kc"), Path::new("sa.key"), Path::new("ca.crt"));
        assert_eq!(flag(&args, "controllers"), Some(CONTROLLERS));
        assert_eq!(flag(&args, "leader-elect"), Some("false"));
        assert_eq!(flag(&args, "secure-port"), Some("0"));
        assert_eq!(flag(&args, "root-ca-file"), Some("ca.crt"));
        assert_eq!(flag(&args, "service-account-private-key-file"), Some("sa.key"));
    }
}
