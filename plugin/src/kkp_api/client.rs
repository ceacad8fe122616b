//! The HTTP client for the KKP REST API: bearer-token requests over rustls, and the API's answers
//! turned into errors a user can act on. The token is sent only in the `Authorization` header and
//! never appears in logs, traces or errors.

use std::sync::Arc;

use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::models::ErrorResponse;
use super::settings::{ApiSettings, Token, Trust};

/// What went wrong talking to the API, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "the KKP API at {base} refused the token (401 Unauthorized): it is invalid, expired or revoked; create a new service-account token in the KKP dashboard{}",
        detail(message)
    )]
    Unauthorized { base: String, message: String },
    #[error(
        "the token may not {action} in KKP project {project} (403 Forbidden): the service account needs the {permission} role in that project{}",
        detail(message)
    )]
    Forbidden {
        project: String,
        action: String,
        permission: &'static str,
        message: String,
    },
    #[error("{what} was not found in KKP project {project}{}", detail(message))]
    NotFound {
        what: String,
        project: String,
        message: String,
    },
    #[error("the KKP API answered {status} to {method} {url}: {message}")]
    Status {
        status: u16,
        method: String,
        url: String,
        message: String,
    },
    #[error("cannot reach the KKP API at {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("the KKP API's answer to {method} {url} is not what its specification describes: {reason}")]
    Decode {
        method: String,
        url: String,
        reason: String,
    },
    #[error("TLS setup for the KKP API: {0}")]
    Tls(String),
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" (the API said: {message})")
    }
}

impl ApiError {
    /// The HTTP status the API answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A raw answer: status, content type and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Bytes,
}

/// A request's extra headers (the delete options are headers).
pub type Headers<'a> = &'a [(&'static str, &'a str)];

/// A client bound to one API, token and project.
#[derive(Clone)]
pub struct KkpClient {
    settings: ApiSettings,
    http: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for KkpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KkpClient").field("settings", &self.settings).finish()
    }
}

impl KkpClient {
    pub fn new(settings: ApiSettings) -> Result<Self, ApiError> {
        if settings.trust == Trust::Insecure {
            tracing::warn!(
                "--insecure-skip-tls-verify: the KKP API's certificate is not checked; anyone on the way can read the token"
            );
        }
        let tls = tls_config(&settings.trust)?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Ok(KkpClient { settings, http })
    }

    pub fn project(&self) -> &str {
        &self.settings.project
    }

    pub fn base(&self) -> &str {
        &self.settings.base
    }

    /// `/api/v2/projects/{project}` + `rest`.
    pub fn project_path(&self, rest: &str) -> String {
        format!("/api/v2/projects/{}{rest}", self.settings.project)
    }

    /// Sends a request and returns the raw answer, whatever its status.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        accept: &str,
        headers: Headers<'_>,
    ) -> Result<Answer, ApiError> {
        let url = format!("{}{path}", self.settings.base);
        let mut request = Request::builder()
            .method(method.clone())
            .uri(&url)
            .header(header::ACCEPT, accept)
            .header(header::USER_AGENT, concat!("kubectl-kkp/", env!("CARGO_PKG_VERSION")));
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ApiError::Transport {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.settings.token.expose()))
            .map_err(|_| ApiError::Tls("the token holds characters an HTTP header cannot carry".into()))?;
        auth.set_sensitive(true);
        request.headers_mut().insert(header::AUTHORIZATION, auth);
        tracing::debug!(%method, %url, "KKP API request");
        let response = self.http.request(request).await.map_err(|e| ApiError::Transport {
            url: url.clone(),
            reason: scrub(&transport_reason(&e), &self.settings.token),
        })?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| ApiError::Transport {
                url: url.clone(),
                reason: format!("the answer broke off: {e}"),
            })?
            .to_bytes();
        tracing::debug!(%method, %url, status = status.as_u16(), "KKP API answer");
        Ok(Answer {
            status,
            content_type,
            body,
        })
    }

    /// `GET path`, its JSON answer decoded; `what` names it in errors.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, ApiError> {
        self.json::<(), T>(Method::GET, path, None, what, &[]).await
    }

    /// Sends JSON (or nothing) and decodes a JSON answer; an error status becomes an [`ApiError`].
    pub async fn json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        what: &str,
        headers: Headers<'_>,
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.settings.base);
        let body = body.map(serde_json::to_vec).transpose().map_err(|e| ApiError::Decode {
            method: method.to_string(),
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let answer = self
            .send(method.clone(), path, body, "application/json", headers)
            .await?;
        let answer = self.check(&method, path, what, answer)?;
        serde_json::from_slice(&answer.body).map_err(|e| ApiError::Decode {
            method: method.to_string(),
            url,
            reason: e.to_string(),
        })
    }

    /// Turns an error status into an [`ApiError`]; a success passes through.
    pub fn check(&self, method: &Method, path: &str, what: &str, answer: Answer) -> Result<Answer, ApiError> {
        if answer.status.is_success() {
            return Ok(answer);
        }
        let message = scrub(&error_message(&answer), &self.settings.token);
        let url = format!("{}{path}", self.settings.base);
        Err(match answer.status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized {
                base: self.settings.base.clone(),
                message,
            },
            StatusCode::FORBIDDEN => ApiError::Forbidden {
                project: self.settings.project.clone(),
                action: action(method, what),
                permission: if *method == Method::GET {
                    "viewer"
                } else {
                    "editor (or owner)"
                },
                message,
            },
            StatusCode::NOT_FOUND => ApiError::NotFound {
                what: what.to_owned(),
                project: self.settings.project.clone(),
                message,
            },
            status => ApiError::Status {
                status: status.as_u16(),
                method: method.to_string(),
                url,
                message,
            },
        })
    }
}

fn action(method: &Method, what: &str) -> String {
    let verb = match *method {
        Method::GET => "read",
        Method::POST => "create",
        Method::PATCH | Method::PUT => "change",
        Method::DELETE => "delete",
        _ => "use",
    };
    format!("{verb} {what}")
}

/// The message of an error answer: `errorResponse.error.message` (and details) when the body is
/// that JSON, the text of an HTML page's title or body, else the raw text, else the status.
pub fn error_message(answer: &Answer) -> String {
    if let Ok(e) = serde_json::from_slice::<ErrorResponse>(&answer.body) {
        let mut message = e.error.message;
        if !e.error.details.is_empty() {
            message = format!("{message}: {}", e.error.details.join("; "));
        }
        return message;
    }
    let text = String::from_utf8_lossy(&answer.body);
    let text = if answer.content_type.starts_with("text/html") || text.trim_start().starts_with('<') {
        strip_tags(&text)
    } else {
        text.trim().to_owned()
    };
    if text.is_empty() {
        answer.status.canonical_reason().unwrap_or("no message").to_owned()
    } else {
        text.chars().take(500).collect()
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` with every occurrence of the token replaced.
pub fn scrub(text: &str, token: &Token) -> String {
    if token.expose().len() < 4 {
        return text.to_owned();
    }
    text.replace(token.expose(), "<redacted>")
}

/// The innermost cause of a transport error (connection refused, certificate unknown, ...).
fn transport_reason(e: &hyper_util::client::legacy::Error) -> String {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    if reason.contains("UnknownIssuer") || reason.contains("invalid peer certificate") {
        format!(
            "{reason}: the server's certificate is not trusted; give its CA with --certificate-authority FILE (or, insecurely, --insecure-skip-tls-verify)"
        )
    } else {
        reason
    }
}

fn tls_config(trust: &Trust) -> Result<rustls::ClientConfig, ApiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Tls(e.to_string()))?;
    let config = match trust {
        Trust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth(),
        Trust::Verify { extra_ca } => {
            let mut roots = rustls::RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
            if let Some(path) = extra_ca {
                let shown = path.display().to_string();
                let pem =
                    std::fs::read(path).map_err(|e| ApiError::Tls(format!("--certificate-authority {shown}: {e}")))?;
                let mut added = 0;
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| ApiError::Tls(format!("--certificate-authority {shown}: {e}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| ApiError::Tls(format!("--certificate-authority {shown}: {e}")))?;
                    added += 1;
                }
                if added == 0 {
                    return Err(ApiError::Tls(format!(
                        "--certificate-authority {shown}: no PEM certificate in the file"
                    )));
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(config)
}

/// The verifier of `--insecure-skip-tls-verify`: accepts any certificate, still checks that the
/// handshake is signed by it.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: &str, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: content_type.into(),
            body: Bytes::from(body.to_owned()),
        }
    }

    fn client(token: &str) -> KkpClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        KkpClient::new(ApiSettings {
            base: "https://kkp.example.com".into(),
            token: Token::new(token),
            project: "xw2k9fgh4t".into(),
            trust: Trust::Verify { extra_ca: None },
        })
        .unwrap()
    }

    #[test]
    fn errors_say_what_to_do() {
        let c = client("tok-abcdef");
        let get = Method::GET;
        let e = c
            .check(
                &get,
                "/x",
                "clusters",
                answer(
                    401,
                    "application/json",
                    r#"{"error":{"code":401,"message":"access denied, invalid token"}}"#,
                ),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid, expired or revoked") && e.contains("access denied, invalid token"),
            "{e}"
        );
        let e = c
            .check(&Method::POST, "/x", "clusters", answer(403, "application/json", ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("xw2k9fgh4t") && e.contains("create clusters") && e.contains("editor"),
            "{e}"
        );
        let e = c
            .check(
                &get,
                "/x",
                "cluster \"demo\"",
                answer(
                    404,
                    "application/json",
                    r#"{"error":{"code":404,"message":"cluster-provider \"demo\" not found"}}"#,
                ),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cluster \"demo\" was not found in KKP project xw2k9fgh4t"),
            "{e}"
        );
        let e = c
            .check(
                &Method::POST,
                "/api/v2/x",
                "clusters",
                answer(
                    400,
                    "application/json",
                    r#"{"error":{"code":400,"message":"unsupported version","details":["1.20.11"]}}"#,
                ),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("answered 400 to POST https://kkp.example.com/api/v2/x: unsupported version: 1.20.11"),
            "{e}"
        );
        let e = c
            .check(
                &get,
                "/k",
                "kubeconfig",
                answer(
                    403,
                    "text/html",
                    "<html><body><h1>403</h1><p>Admin Kubeconfig feature is disabled</p></body></html>",
                ),
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Admin Kubeconfig feature is disabled") && !e.contains("<p>"),
            "{e}"
        );
        let e = c
            .check(&get, "/y", "route", answer(500, "text/plain", "404 page not found\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("500") && e.contains("404 page not found"), "{e}");
    }

    #[test]
    fn the_token_is_scrubbed_from_messages_the_server_echoes() {
        let token = "eyJhbGciOiJIUzI1NiJ9.secret-part.sig";
        let c = client(token);
        let body = format!(r#"{{"error":{{"code":401,"message":"bad token {token}"}}}}"#);
        let e = c
            .check(&Method::GET, "/x", "clusters", answer(401, "application/json", &body))
            .unwrap_err()
            .to_string();
        assert!(!e.contains(token) && e.contains("<redacted>"), "{e}");
        assert!(!format!("{c:?}").contains(token));
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        for path in [empty, dir.path().join("missing.pem")] {
            let e = tls_config(&Trust::Verify {
                extra_ca: Some(path.clone()),
            })
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("--certificate-authority") && e.contains(&path.display().to_string()),
                "{e}"
            );
        }
    }
}
