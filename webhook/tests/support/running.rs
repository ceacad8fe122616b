//! The real server bound on loopback with a serving certificate of its own test CA, and clients
//! that trust it.

use std::sync::Arc;

use kkp_webhook::{Config, Server};

use super::{Client, Pki, client_config, write_files};

/// A running server, its CA, and the directory of its certificate files.
pub struct Running {
    pub server: Server,
    pub pki: Pki,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Binds the server with a certificate named `serving_cn` of a new CA named `ca_name`; `tune`
    /// changes the loopback configuration first.
    pub async fn start(ca_name: &str, serving_cn: &str, tune: impl FnOnce(&mut Config)) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::new(ca_name);
        let (cert, key) = pki.serving(serving_cn);
        let (cert_path, key_path) = write_files(dir.path(), &cert, &key);
        let mut config = Config::for_loopback(cert_path, key_path);
        tune(&mut config);
        let server = Server::bind(config).await.expect("the server starts");
        Running { server, pki, _dir: dir }
    }

    /// A TLS client configuration trusting the server's CA, offering the ALPN protocols `alpn`.
    pub fn trust(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        client_config(&[&self.pki.ca_pem()], alpn)
    }

    /// A new HTTP/1.1 keep-alive connection to the server.
    pub async fn client(&self) -> Client {
        Client::connect(self.server.tls_addr(), &self.pki.ca_pem()).await
    }
}
