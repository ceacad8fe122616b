//! The manifests that run `kkp-webhook` in a cluster, embedded so `kubectl kkp install` can apply
//! them without reading files, and the names they share with the server (paths, ports, Secret).
//!
//! Two variants differ only in where the serving certificate comes from: cert-manager (a CA
//! issuer and a Certificate, with the CA injected into the webhook configurations), or a
//! certificate the installer generates itself (it writes the `kkp-webhook-tls` Secret with
//! [`tls_secret`] and fills the caBundle placeholder with [`with_ca_bundle`]).

#![forbid(unsafe_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The path of the mutating (defaulting) endpoint, served on the TLS port.
pub const MUTATE_PATH: &str = "/mutate";
/// The path of the validating endpoint, served on the TLS port.
pub const VALIDATE_PATH: &str = "/validate";
/// The path that refuses AdmissionPolicies that do not compile or are over a CEL limit.
pub const VALIDATE_POLICY_PATH: &str = "/validate-policy";
/// The path that applies the replica rules to MachineDeployments' `scale` subresource.
pub const VALIDATE_SCALE_PATH: &str = "/validate-scale";
/// The path that lets only exemption admins label an object exempt (see [`EXEMPT_LABEL`]).
pub const VALIDATE_EXEMPTION_PATH: &str = "/validate-exemption";
/// Liveness, on the plain-HTTP health port.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Readiness, on the plain-HTTP health port.
pub const READYZ_PATH: &str = "/readyz";
/// Prometheus metrics, on the plain-HTTP health port.
pub const METRICS_PATH: &str = "/metrics";

/// The namespace everything namespaced is installed into.
pub const NAMESPACE: &str = "kkp-system";
/// The label that exempts a namespace, or an object, from every webhook: with the value `true`,
/// the webhook configurations' namespace and object selectors leave it out. The webhook's own
/// namespace carries it. Only exemption admins may put it on an object: the exemptions webhook
/// (`VALIDATE_EXEMPTION_PATH`) is sent exactly the requests that carry it.
pub const EXEMPT_LABEL: &str = "kkp-webhook.kubectl-kkp.io/exempt";
/// The name of the Service, Deployment, ServiceAccount and webhook configurations.
pub const NAME: &str = "kkp-webhook";
/// The Secret (type `kubernetes.io/tls`) the pods read their serving certificate from.
pub const TLS_SECRET_NAME: &str = "kkp-webhook-tls";
/// The port the pods serve TLS on.
pub const TLS_PORT: u16 = 8443;
/// The port the pods serve health checks and metrics on.
pub const HEALTH_PORT: u16 = 8080;
/// The DNS names the serving certificate must be valid for.
pub const SERVICE_DNS_NAMES: [&str; 2] = ["kkp-webhook.kkp-system.svc", "kkp-webhook.kkp-system.svc.cluster.local"];
/// The image the Deployment runs unless [`with_image`] changes it.
pub const DEFAULT_IMAGE: &str = "ghcr.io/kubectl-kkp/kkp-webhook:v0.1.0";
/// The caBundle value in `webhook-configurations.yaml` that [`with_ca_bundle`] replaces. It is
/// valid base64 (of `KKP_WEBHOOK_CA_BUNDLE_PLACEHOLDER`) so the file parses as typed objects.
pub const CA_BUNDLE_PLACEHOLDER: &str = "S0tQX1dFQkhPT0tfQ0FfQlVORExFX1BMQUNFSE9MREVS";

const NAMESPACE_YAML: &str = include_str!("../webhook/namespace.yaml");
const RBAC_YAML: &str = include_str!("../webhook/rbac.yaml");
const SERVICE_YAML: &str = include_str!("../webhook/service.yaml");
const DEPLOYMENT_YAML: &str = include_str!("../webhook/deployment.yaml");
const PDB_YAML: &str = include_str!("../webhook/pdb.yaml");
const NETWORK_POLICY_YAML: &str = include_str!("../webhook/networkpolicy.yaml");
/// The PolicyReport and ClusterPolicyReport CRDs (`wgpolicyk8s.io/v1alpha2`) the webhook writes its
/// policy reports as, `(file name, YAML)`: for clusters where no policy engine has installed them.
pub const POLICY_REPORT_CRDS: [(&str, &str); 2] = [
    (
        "wgpolicyk8s.io_policyreports.yaml",
        include_str!("../crds/wgpolicyk8s.io_policyreports.yaml"),
    ),
    (
        "wgpolicyk8s.io_clusterpolicyreports.yaml",
        include_str!("../crds/wgpolicyk8s.io_clusterpolicyreports.yaml"),
    ),
];
const WEBHOOKS_YAML: &str = include_str!("../webhook/webhook-configurations.yaml");
const WEBHOOKS_CERT_MANAGER_YAML: &str = include_str!("../webhook/webhook-configurations-cert-manager.yaml");

/// Where the serving certificate comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// cert-manager issues it and injects the CA into the webhook configurations.
    CertManager,
    /// The installer generates it, creates the Secret and fills in the caBundle.
    GeneratedCerts,
}

/// The manifests of a variant as `(file name, YAML)`, in the order to apply them. Files may hold
/// several documents separated by `---`.
pub fn webhook_manifests(variant: Variant) -> Vec<(&'static str, &'static str)> {
    let webhooks = match variant {
        Variant::CertManager => ("webhook-configurations-cert-manager.yaml", WEBHOOKS_CERT_MANAGER_YAML),
        Variant::GeneratedCerts => ("webhook-configurations.yaml", WEBHOOKS_YAML),
    };
    vec![
        ("namespace.yaml", NAMESPACE_YAML),
        ("rbac.yaml", RBAC_YAML),
        ("service.yaml", SERVICE_YAML),
        ("deployment.yaml", DEPLOYMENT_YAML),
        ("pdb.yaml", PDB_YAML),
        ("networkpolicy.yaml", NETWORK_POLICY_YAML),
        webhooks,
    ]
}

/// The manifest with the caBundle placeholder replaced by the base64 of `ca_pem`.
pub fn with_ca_bundle(yaml: &str, ca_pem: &[u8]) -> String {
    yaml.replace(CA_BUNDLE_PLACEHOLDER, &STANDARD.encode(ca_pem))
}

/// The manifest with the Deployment's image replaced.
pub fn with_image(yaml: &str, image: &str) -> String {
    yaml.replace(DEFAULT_IMAGE, image)
}

/// The key of the CA's certificate in the `kkp-webhook-tls` Secret (and its file in the pods).
pub const CA_CERT_KEY: &str = "ca.crt";
/// The key of the CA's private key in the `kkp-webhook-tls` Secret: with it the webhook renews its
/// own serving certificate (`--ca-key-file`).
pub const CA_KEY_KEY: &str = "ca.key";

/// The `kkp-webhook-tls` Secret holding a generated serving certificate (PEM chain) and key, and
/// the CA's certificate and key the webhook renews it from.
pub fn tls_secret(cert_pem: &[u8], key_pem: &[u8], ca_pem: &[u8], ca_key_pem: &[u8]) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {TLS_SECRET_NAME}\n  namespace: {NAMESPACE}\n  labels:\n    \
         app.kubernetes.io/name: {NAME}\n    app.kubernetes.io/part-of: kubectl-kkp\ntype: kubernetes.io/tls\ndata:\n  \
         tls.crt: {}\n  tls.key: {}\n  {CA_CERT_KEY}: {}\n  {CA_KEY_KEY}: {}\n",
        STANDARD.encode(cert_pem),
        STANDARD.encode(key_pem),
        STANDARD.encode(ca_pem),
        STANDARD.encode(ca_key_pem)
    )
}
