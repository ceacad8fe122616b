//! Minimal blocking HTTP/1.1 GETs for readiness checks: plain HTTP for etcd's `/health`,
//! HTTPS with the admin client certificate for the apiserver. Blocking and std-only so the
//! harness does not depend on which tokio runtime (if any) the caller runs on.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::error::HarnessError;

/// Status code and body of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// A rustls client configuration that trusts `ca_der` and presents `cert_der`/`key_der` (PKCS#8).
pub fn client_tls_config(ca_der: &[u8], cert_der: &[u8], key_der: &[u8]) -> Result<Arc<ClientConfig>, HarnessError> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der.to_vec()))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec()));
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(vec![CertificateDer::from(cert_der.to_vec())], key)?;
    Ok(Arc::new(config))
}

fn connect(port: u16, timeout: Duration) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

fn request(port: u16, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nConnection: close\r\n\r\n")
}

/// `GET http://127.0.0.1:<port><path>`.
pub fn get_plain(port: u16, path: &str, timeout: Duration) -> std::io::Result<HttpResponse> {
    let mut stream = connect(port, timeout)?;
    stream.write_all(request(port, path).as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// `GET https://127.0.0.1:<port><path>` with `config` (server name 127.0.0.1).
pub fn get_tls(config: &Arc<ClientConfig>, port: u16, path: &str, timeout: Duration) -> std::io::Result<HttpResponse> {
    let stream = connect(port, timeout)?;
    let name = ServerName::IpAddress(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST).into());
    let connection = ClientConnection::new(config.clone(), name).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(connection, stream);
    tls.write_all(request(port, path).as_bytes())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // A peer that closes without close_notify still sent a whole response.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    parse_response(&raw)
}

/// Status line and body of a raw `Connection: close` HTTP/1.x response (chunked bodies are
/// returned as they came: probes only look for substrings).
pub(crate) fn parse_response(raw: &[u8]) -> std::io::Result<HttpResponse> {
    let text = String::from_utf8_lossy(raw);
    let invalid = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not an HTTP response: {text:.200}"),
        )
    };
    let status_line = text.lines().next().ok_or_else(invalid)?;
    let mut parts = status_line.split_whitespace();
    let version = parts.next().ok_or_else(invalid)?;
    if !version.starts_with("HTTP/") {
        return Err(invalid());
    }
    let status = parts.next().and_then(|s| s.parse().ok()).ok_or_else(invalid)?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok(HttpResponse { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn parses_status_and_body() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nok").expect("parse");
        assert_eq!(
            r,
            HttpResponse {
                status: 200,
                body: "ok".into()
            }
        );
        let r = parse_response(b"HTTP/1.1 500 Internal Server Error\r\n\r\n[-]etcd failed").expect("parse");
        assert_eq!(r.status, 500);
        assert!(parse_response(b"").is_err());
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n").is_err());
    }

    #[test]
    fn plain_get_talks_to_a_local_server() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 1024];
            let n = conn.read(&mut buf).expect("read");
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"health\":\"true\"}")
                .expect("write");
            req
        });
        let r = get_plain(port, "/health", Duration::from_secs(5)).expect("get");
        let req = server.join().expect("server thread");
        assert!(req.starts_with("GET /health HTTP/1.1\r\n"), "{req}");
        assert_eq!(r.status, 200);
        assert!(r.body.contains("\"health\":\"true\""));
    }

    #[test]
    fn nothing_listening_is_an_error() {
        let port = crate::ports::free_port().expect("port");
        assert!(get_plain(port, "/health", Duration::from_secs(1)).is_err());
    }
}
