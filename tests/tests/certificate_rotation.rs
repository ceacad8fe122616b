//! End to end: the `kkp-webhook` binary changes its serving certificate while a real apiserver
//! keeps calling it, and not one admission fails. The certificate files are laid out as a Secret
//! volume (`..data` symlink swapped atomically, as the kubelet does) holding the serving
//! certificate and key and the CA's certificate and key (`--ca-cert-file`, `--ca-key-file`).
//!
//! 1. Self-renewal: the Secret gets a certificate of the same CA with a sixth of its lifetime
//!    left; the webhook issues itself a new one from the CA and serves it. The caBundle stays.
//! 2. CA rotation in the overlap order `kubectl kkp install` follows: the caBundle trusts the old
//!    and the new CA, the Secret gets a certificate of the new CA, the webhook serves it, and the
//!    caBundle trusts the new CA only. Each caBundle change makes the apiserver open new
//!    connections, so it checks the certificate served at that moment against it.
//!
//! A client sends a dry-run MachineDeployment every 50 ms throughout, through the apiserver and
//! the webhook (failurePolicy Fail: a call that fails is a failed request).

use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use kkp_e2e::crds::{ADMISSION_POLICIES, MACHINE_DEPLOYMENTS};
use kkp_e2e::webhook_process::WebhookProcess;
use kkp_e2e::webhook_support::{self, wait_until};
use kkp_e2e::{ControlPlane, ControlPlaneOptions, install_shipped_crds, unique_name};
use kkp_e2e::{apis, examples, plugin_support};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use time::OffsetDateTime;

const WAIT: Duration = Duration::from_secs(60);
/// How long to give the single apiserver to pick up a changed caBundle.
const SETTLE: Duration = Duration::from_secs(2);
const EXPIRY: &str = "kkp_webhook_serving_certificate_expiry_timestamp_seconds";

/// A test CA: its PEM, key, and what it needs to sign.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(365);
        let key = KeyPair::generate().expect("a CA key");
        let pem = params.self_signed(&key).expect("a CA").pem();
        Ca { params, key, pem }
    }

    /// A serving certificate for 127.0.0.1 and localhost, valid from `from` to `to` seconds
    /// around now: (certificate PEM, key PEM, notAfter).
    fn serving(&self, cn: &str, from: i64, to: i64) -> (String, String, i64) {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = now + time::Duration::seconds(from);
        params.not_after = now + time::Duration::seconds(to);
        let key = KeyPair::generate().expect("a key");
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .expect("a serving certificate");
        (cert.pem(), key.serialize_pem(), params.not_after.unix_timestamp())
    }

    /// The Secret's files: the serving certificate and key and this CA with its key.
    fn secret(&self, cert: &str, key: &str) -> Vec<(&'static str, String)> {
        vec![
            ("tls.crt", cert.to_owned()),
            ("tls.key", key.to_owned()),
            ("ca.crt", self.pem.clone()),
            ("ca.key", self.key.serialize_pem()),
        ]
    }
}

/// Writes `files` into `dir` as a Secret volume does: into `..<version>/`, then `..data` is
/// swapped to it atomically, and each file is a symlink through `..data`.
fn write_secret_volume(dir: &Path, version: &str, files: &[(&str, String)]) {
    let versioned = dir.join(format!("..{version}"));
    std::fs::create_dir_all(&versioned).expect("the version dir");
    for (name, text) in files {
        std::fs::write(versioned.join(name), text).expect("a file");
    }
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).expect("the new ..data");
    std::fs::rename(&tmp, dir.join("..data")).expect("..data swapped");
    for (name, _) in files {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{name}"), &link).expect("a file link");
        }
    }
}

/// The certificate the webhook serves on `port`, checked against `ca_pem` alone.
fn served_certificate(port: u16, ca_pem: &str) -> Result<Vec<u8>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(der.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    conn.peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .ok_or_else(|| "no certificate served".to_owned())
}

/// A certificate's subject alternative names and common name.
fn names(der: &[u8]) -> Vec<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("an X.509 certificate");
    let mut names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| san.value.general_names.iter().map(|n| n.to_string()).collect())
        .unwrap_or_default();
    names.extend(
        cert.subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok().map(str::to_owned)),
    );
    names
}

fn not_after(der: &[u8]) -> i64 {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("an X.509 certificate");
    cert.validity().not_after.timestamp()
}

/// A metric's value on the webhook's health port.
fn metric(webhook: &WebhookProcess, name: &str) -> Option<f64> {
    let metrics = kkp_e2e::probe::get_plain(webhook.health_port, "/metrics", Duration::from_secs(2)).ok()?;
    metrics
        .body
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn wait_for_expiry(webhook: &WebhookProcess, what: &str, accept: impl Fn(i64) -> bool) -> i64 {
    wait_until(what, WAIT, || async {
        match metric(webhook, EXPIRY) {
            Some(v) if accept(v as i64) => Ok(v as i64),
            other => Err(format!("{EXPIRY} is {other:?}")),
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", webhook.log()))
}

/// Dry-run admissions every 50 ms until stopped, counted per phase.
struct Load {
    stop: Arc<AtomicBool>,
    phase: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<(Vec<usize>, Vec<String>)>,
}

const PHASES: usize = 5;

impl Load {
    fn start(client: kube::Client) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let phase = Arc::new(AtomicUsize::new(0));
        let (stop2, phase2) = (Arc::clone(&stop), Arc::clone(&phase));
        let task = tokio::spawn(async move {
            let api = apis::machine_deployments(&client, "kube-system");
            let dry = apis::dry_run();
            let mut ok = vec![0usize; PHASES];
            let mut failed = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                let at = phase2.load(Ordering::Relaxed).min(PHASES - 1);
                let md = examples::machine_deployment(&unique_name("load"), "kube-system", "1.35.7");
                match api.create(&dry, &examples::object(&md)).await {
                    Ok(_) => ok[at] += 1,
                    Err(e) => failed.push(format!("phase {at}: {e}")),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (ok, failed)
        });
        Load { stop, phase, task }
    }

    fn next_phase(&self) {
        self.phase.fetch_add(1, Ordering::Relaxed);
    }

    async fn finish(self) -> (Vec<usize>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the load task")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_is_renewed_and_the_ca_rotated_without_a_failed_admission() {
    let binary = plugin_support::webhook_binary().expect("kkp-webhook builds");
    let plane = ControlPlane::start_with(ControlPlaneOptions::named("cert-rotation"))
        .await
        .expect("a control plane");
    let client = plane.client().await.expect("an admin client");
    install_shipped_crds(&client, &[MACHINE_DEPLOYMENTS, ADMISSION_POLICIES])
        .await
        .expect("the CRDs");

    // The Secret as install writes it: a serving certificate of CA 1 and CA 1 with its key.
    let volume = tempfile::tempdir().expect("a temp dir");
    let dir = volume.path();
    let ca1 = Ca::new("rotation-ca-1");
    let (cert, key, first_expiry) = ca1.serving("serving-1", -3600, 86_400);
    write_secret_volume(dir, "1", &ca1.secret(&cert, &key));
    let file = |name: &str| dir.join(name).display().to_string();
    let args = [
        format!("--ca-cert-file={}", file("ca.crt")),
        format!("--ca-key-file={}", file("ca.key")),
        "--cert-reload-interval=200ms".to_owned(),
        "--cluster-version=1.36.3".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut webhook = WebhookProcess::spawn_with_files(
        &binary,
        &dir.join("tls.crt"),
        &dir.join("tls.key"),
        plane.kubeconfig_path(),
        &args,
    )
    .expect("kkp-webhook starts");
    webhook.wait_ready(WAIT, |_| true).await.expect("kkp-webhook is ready");

    // The metric says when the served certificate expires.
    assert_eq!(
        wait_for_expiry(&webhook, "the first certificate's expiry", |v| v != 0).await,
        first_expiry
    );

    let configurations = webhook_support::shipped_configurations().expect("the shipped webhook configurations");
    let base_url = format!("https://127.0.0.1:{}", webhook.tls_port);
    let trust = |bundle: String| {
        let client = client.clone();
        let base_url = base_url.clone();
        async move {
            webhook_support::register_webhooks(&client, configurations, &base_url, &bundle)
                .await
                .expect("the webhook configurations");
            // Let the apiserver pick the caBundle up.
            tokio::time::sleep(SETTLE).await;
        }
    };
    trust(ca1.pem.clone()).await;
    webhook_support::wait_until_called(&client, WAIT)
        .await
        .expect("the apiserver calls the webhook");

    let load = Load::start(client.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;

    // 1. Self-renewal: a certificate of CA 1 with 10 s of its 60 s left is due at once.
    load.next_phase();
    let (short, short_key, short_expiry) = ca1.serving("serving-short", -50, 10);
    write_secret_volume(dir, "2", &ca1.secret(&short, &short_key));
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let renewed_expiry = wait_for_expiry(&webhook, "the renewed certificate", |v| v > now + 80 * 86_400).await;
    assert!(renewed_expiry > short_expiry);
    let renewed = served_certificate(webhook.tls_port, &ca1.pem).expect("the renewed certificate, trusted by CA 1");
    assert_eq!(
        not_after(&renewed),
        renewed_expiry,
        "the metric is the served certificate's"
    );
    let (_, short_der) = x509_parser::pem::parse_x509_pem(short.as_bytes()).expect("PEM");
    assert_eq!(names(&renewed), names(&short_der.contents), "the same names");
    assert_eq!(names(&renewed).len(), 3, "two names and the common name");
    assert_eq!(
        metric(&webhook, "kkp_webhook_certificate_renewals_total{result=\"renewed\"}"),
        Some(1.0)
    );
    assert!(
        webhook.find_log("serving certificate renewed").is_some(),
        "{}",
        webhook.log()
    );
    // A new caBundle value makes the apiserver connect anew and check the renewed certificate.
    load.next_phase();
    let ca2 = Ca::new("rotation-ca-2");
    trust(format!("{}{}", ca1.pem, ca2.pem)).await;

    // 2. CA rotation: both CAs are trusted now; the Secret gets CA 2's certificate.
    load.next_phase();
    let (cert2, key2, expiry2) = ca2.serving("serving-2", -60, 86_400);
    write_secret_volume(dir, "3", &ca2.secret(&cert2, &key2));
    wait_for_expiry(&webhook, "the certificate of CA 2", |v| v == expiry2).await;
    served_certificate(webhook.tls_port, &ca2.pem).expect("a certificate trusted by CA 2 alone");
    assert!(
        served_certificate(webhook.tls_port, &ca1.pem).is_err(),
        "CA 1 no longer vouches for what is served"
    );
    // Only the new CA: the apiserver checks the served certificate against CA 2 alone.
    load.next_phase();
    trust(ca2.pem.clone()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (ok, failed) = load.finish().await;
    assert!(failed.is_empty(), "failed admissions: {failed:#?}\n{}", webhook.log());
    assert!(
        ok.iter().all(|n| *n > 0),
        "admissions in every phase (start, renewal, both CAs, CA 2 served, CA 2 only): {ok:?}"
    );
    // And the webhook really answered them.
    let answered = kkp_e2e::probe::get_plain(webhook.health_port, "/metrics", Duration::from_secs(2))
        .expect("metrics")
        .body;
    assert!(
        answered
            .lines()
            .any(|l| l.starts_with("kkp_webhook_admission_requests_total{kind=\"MachineDeployment\"")),
        "{answered}"
    );

    let status = webhook.terminate(WAIT).await.expect("kkp-webhook stops");
    assert!(status.success(), "{status}:\n{}", webhook.log());
}
