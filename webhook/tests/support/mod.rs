//! Shared by the webhook's tests and its load benchmark: minimal objects, AdmissionReviews, a test
//! PKI, and a small TLS client (HTTP/1.1 keep-alive or HTTP/2) that talks to the real server.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tower::ServiceExt;

pub mod hostile;
pub mod process;
pub mod running;

// ---- objects and reviews -------------------------------------------------------------------

/// A minimal valid KKP Cluster.
pub fn cluster() -> Value {
    json!({
        "apiVersion": "kubermatic.k8c.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "abcd123456", "labels": {"project-id": "p1"}},
        "spec": {
            "humanReadableName": "demo",
            "version": "1.35.7",
            "cloud": {"dc": "hetzner-fsn1", "hetzner": {"token": "x"}}
        }
    })
}

/// An object as the validating webhook sees it: after the mutating webhook defaulted it.
pub fn defaulted(object: &Value) -> Value {
    let ctx = kkp_crds::context::Context::default();
    kkp_crds::admission::mutate(&kkp_crds::request::Request::create(object), &ctx)
        .object
        .expect("the fixture defaults cleanly")
}

/// [`cluster`] after defaulting.
pub fn defaulted_cluster() -> Value {
    defaulted(&cluster())
}

/// A minimal machine-controller MachineDeployment on Hetzner.
pub fn machine_deployment() -> Value {
    json!({
        "apiVersion": "cluster.k8s.io/v1alpha1",
        "kind": "MachineDeployment",
        "metadata": {"name": "workers", "namespace": "kube-system"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"pool": "workers"}},
            "template": {
                "metadata": {"labels": {"pool": "workers"}},
                "spec": {
                    "providerSpec": {"value": {
                        "cloudProvider": "hetzner",
                        "cloudProviderSpec": {"token": "x", "serverType": "cx22", "location": "fsn1"},
                        "operatingSystem": "ubuntu",
                        "operatingSystemSpec": {}
                    }},
                    "versions": {"kubelet": "1.35.7"}
                }
            }
        }
    })
}

/// An AdmissionReview request for `object` (and `old_object` on UPDATE/DELETE).
pub fn review(uid: &str, operation: &str, object: Option<&Value>, old_object: Option<&Value>) -> Value {
    let subject = object.or(old_object).cloned().unwrap_or(Value::Null);
    let api_version = subject["apiVersion"].as_str().unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = subject["kind"].as_str().unwrap_or("");
    let resource = match kind {
        "Cluster" => "clusters",
        "MachineDeployment" => "machinedeployments",
        _ => "things",
    };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": subject["metadata"]["name"],
            "namespace": subject["metadata"].get("namespace").cloned().unwrap_or(Value::Null),
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object.cloned().unwrap_or(Value::Null),
            "oldObject": old_object.cloned().unwrap_or(Value::Null),
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

pub fn create(uid: &str, object: &Value) -> Value {
    review(uid, "CREATE", Some(object), None)
}

pub fn update(uid: &str, object: &Value, old: &Value) -> Value {
    review(uid, "UPDATE", Some(object), Some(old))
}

// ---- in-process router ---------------------------------------------------------------------

/// Sends a body to a router with the given content type; returns status and body bytes.
pub async fn call(app: axum::Router, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let mut req = Request::post(path);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let resp = app.oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, bytes.to_vec())
}

/// Sends a review to a router and returns the status and the JSON answer.
pub async fn call_json(app: axum::Router, path: &str, review: &Value) -> (StatusCode, Value) {
    let (status, body) = call(app, path, Some("application/json"), review.to_string().into_bytes()).await;
    let json =
        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, json)
}

pub async fn get(app: axum::Router, path: &str) -> (StatusCode, String) {
    let resp = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

// ---- PKI ---------------------------------------------------------------------------------

/// A CA that issues serving certificates for `localhost` and 127.0.0.1.
pub struct Pki {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Pki { issuer }
    }

    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A serving certificate (PEM) and its key (PEM), with `cn` as common name.
    pub fn serving(&self, cn: &str) -> (String, String) {
        let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// Writes a certificate and key into `dir` the way a Kubernetes Secret volume lays them out:
/// `tls.crt -> ..data/tls.crt`, `..data -> ..<version>`. Returns the two paths to configure.
pub fn write_secret_volume(dir: &Path, version: &str, cert_pem: &str, key_pem: &str) -> (PathBuf, PathBuf) {
    let versioned = dir.join(format!("..{version}"));
    std::fs::create_dir_all(&versioned).unwrap();
    std::fs::write(versioned.join("tls.crt"), cert_pem).unwrap();
    std::fs::write(versioned.join("tls.key"), key_pem).unwrap();
    // Swap ..data atomically: make a new symlink, then rename it over the old one.
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
    for file in ["tls.crt", "tls.key"] {
        let link = dir.join(file);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{file}"), &link).unwrap();
        }
    }
    (dir.join("tls.crt"), dir.join("tls.key"))
}

/// Writes plain certificate and key files.
pub fn write_files(dir: &Path, cert_pem: &str, key_pem: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert, cert_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    (cert, key)
}

// ---- TLS client ----------------------------------------------------------------------------

/// A rustls client trusting the given CA certificates (PEM), offering the given ALPN protocols.
pub fn client_config(ca_pems: &[&str], alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for pem in ca_pems {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Full handshakes only: a resumed session shows the certificate of the session it resumes,
    // which would hide a certificate swap.
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// Opens a TLS connection to the server as `localhost`.
pub async fn tls_connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// The common name of the certificate the server presented on a connection.
pub fn peer_common_name(stream: &TlsStream<TcpStream>) -> String {
    let (_, conn) = stream.get_ref();
    let der = conn.peer_certificates().expect("a peer certificate")[0].clone();
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).expect("an X.509 certificate");
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// One HTTP connection to the webhook.
pub enum Client {
    Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    Http2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Client {
    /// HTTP/1.1 with keep-alive over an open TLS stream.
    pub async fn http1(stream: TlsStream<TcpStream>) -> hyper::Result<Client> {
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Client::Http1(sender))
    }

    /// HTTP/2 over an open TLS stream (negotiated with ALPN `h2`).
    pub async fn http2(stream: TlsStream<TcpStream>) -> hyper::Result<Client> {
        let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Client::Http2(sender))
    }

    /// Connects with HTTP/1.1 to a server trusting `ca_pem`.
    pub async fn connect(addr: SocketAddr, ca_pem: &str) -> Client {
        let stream = tls_connect(addr, client_config(&[ca_pem], &[b"http/1.1"]))
            .await
            .unwrap();
        Client::http1(stream).await.unwrap()
    }

    /// POSTs a body; returns the status and the response body.
    pub async fn post(&mut self, path: &str, body: Bytes) -> Result<(StatusCode, Bytes), hyper::Error> {
        let req = Request::post(path)
            .header(header::HOST, "localhost")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))
            .unwrap();
        let resp = match self {
            Client::Http1(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
            Client::Http2(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
        };
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// POSTs a review and parses the answer.
    pub async fn review(&mut self, path: &str, review: &Value) -> Result<(StatusCode, Value), hyper::Error> {
        let (status, body) = self.post(path, Bytes::from(review.to_string())).await?;
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }
}

/// A plain-HTTP GET against the health port.
pub async fn http_get(addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    let req = Request::get(path)
        .header(header::HOST, "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
