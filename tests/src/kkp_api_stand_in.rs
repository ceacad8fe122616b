//! A stand-in for the KKP REST API (KKP dashboard API 2.31), for tests only: no KKP API can run
//! here. It serves real HTTPS on a loopback port with its own CA, checks bearer tokens and
//! per-project permissions, lets clusters go through their phases (health turning up over time,
//! the initial machine deployment appearing once the cluster is up, deletion taking a moment) and
//! serves kubeconfigs. Imported ("external") clusters are imported as the real handler does: the
//! base64 kubeconfig is decoded and really used to list pods of the cluster it names, so a
//! kubeconfig that reaches nothing is KKP's 500 `can not retrieve data, check your kubeconfig`;
//! every import gets a new ID, even for a name the project has. Every request body is validated against the API's own specification
//! (`kkp-api-swagger.json`, see [`crate::kkp_api_spec`]) and so is every JSON answer; violations
//! are recorded for the tests to assert on. Where the real server differs from its specification
//! the stand-in does what the server does (the list of clusters is an object, a duplicate machine
//! deployment and an unknown datacenter are 500, the kubeconfig route answers errors in HTML, the
//! delete options are headers, 401/403 carry an `errorResponse`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kkp_crds::versions::{self, VersionCatalog};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use serde_json::{Map, Value, json};

use crate::error::HarnessError;
use crate::kkp_api_spec::{self, ResponseBody};
use crate::pki::CertificateAuthority;

/// The routes the stand-in serves: method, the specification's path template, operationId.
pub const ROUTES: [(&str, &str, &str); 24] = [
    ("GET", "/api/v1/version", "getKubermaticVersion"),
    ("GET", "/api/v2/projects/{project_id}/clusters", "listClustersV2"),
    ("POST", "/api/v2/projects/{project_id}/clusters", "createClusterV2"),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}",
        "getClusterV2",
    ),
    (
        "PATCH",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}",
        "patchClusterV2",
    ),
    (
        "DELETE",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}",
        "deleteClusterV2",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/health",
        "getClusterHealthV2",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/kubeconfig",
        "getClusterKubeconfigV2",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/machinedeployments",
        "listMachineDeployments",
    ),
    (
        "POST",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/machinedeployments",
        "createMachineDeployment",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/machinedeployments/{machinedeployment_id}",
        "getMachineDeployment",
    ),
    (
        "PATCH",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/machinedeployments/{machinedeployment_id}",
        "patchMachineDeployment",
    ),
    (
        "DELETE",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/machinedeployments/{machinedeployment_id}",
        "deleteMachineDeployment",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/addons",
        "listAddonsV2",
    ),
    (
        "POST",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/addons",
        "createAddonV2",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/addons/{addon_id}",
        "getAddonV2",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/installableaddons",
        "listInstallableAddonsV2",
    ),
    (
        "PATCH",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/addons/{addon_id}",
        "patchAddonV2",
    ),
    (
        "DELETE",
        "/api/v2/projects/{project_id}/clusters/{cluster_id}/addons/{addon_id}",
        "deleteAddonV2",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/kubernetes/clusters",
        "listExternalClusters",
    ),
    (
        "POST",
        "/api/v2/projects/{project_id}/kubernetes/clusters",
        "createExternalCluster",
    ),
    (
        "PUT",
        "/api/v2/projects/{project_id}/kubernetes/clusters/{cluster_id}",
        "updateExternalCluster",
    ),
    (
        "DELETE",
        "/api/v2/projects/{project_id}/kubernetes/clusters/{cluster_id}",
        "deleteExternalCluster",
    ),
    (
        "GET",
        "/api/v2/projects/{project_id}/kubernetes/clusters/{cluster_id}/kubeconfig",
        "getExternalClusterKubeconfig",
    ),
];

/// What a token may do in its project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Viewer,
    Editor,
}

/// A service-account token the stand-in accepts.
#[derive(Clone, Debug)]
pub struct Account {
    pub token: String,
    pub email: String,
    pub project: String,
    pub role: Role,
}

/// How the stand-in behaves.
#[derive(Clone, Debug)]
pub struct Options {
    pub accounts: Vec<Account>,
    /// The datacenters that exist; any other is KKP's 500 `can not find seed for datacenter`.
    pub datacenters: Vec<String>,
    /// How long after creation every component is up (half of it: apiserver and etcd).
    pub healthy_after: Duration,
    /// How long a deleted cluster stays visible with its deletion timestamp.
    pub deleting_for: Duration,
    /// The kubeconfig the kubeconfig route serves (the text of a YAML file).
    pub kubeconfig: String,
    /// The addons the installation offers (KKP's `api.accessibleAddons`); `installableaddons`
    /// answers those a cluster does not have yet.
    pub accessible_addons: Vec<String>,
}

/// One request as it arrived (the `Authorization` header is not kept).
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
}

struct Cluster {
    id: String,
    project: String,
    name: String,
    labels: Map<String, Value>,
    annotations: Map<String, Value>,
    spec: Value,
    created: Instant,
    created_wall: SystemTime,
    deleted: Option<(Instant, SystemTime)>,
    initial: Option<Value>,
    machine_deployments: Vec<Value>,
    /// The addons installed through the API (KKP's default addons are not modelled).
    addons: Vec<Value>,
}

/// An imported cluster.
struct Imported {
    id: String,
    project: String,
    name: String,
    /// The kubeconfig as it was sent, decoded.
    kubeconfig: String,
    version: String,
    created: Instant,
    created_wall: SystemTime,
}

#[derive(Default)]
struct State {
    clusters: Vec<Cluster>,
    imported: Vec<Imported>,
    recorded: Vec<Recorded>,
    violations: Vec<String>,
    next: u64,
}

/// A running stand-in; it stops when dropped.
pub struct KkpApiStandIn {
    url: String,
    ca_pem: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl std::fmt::Debug for KkpApiStandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KkpApiStandIn")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for KkpApiStandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

impl KkpApiStandIn {
    /// Starts the stand-in on a free loopback port.
    pub fn start(options: Options) -> Result<Self, HarnessError> {
        crate::install_crypto_provider();
        kkp_api_spec::spec()?;
        let ca = CertificateAuthority::new("kkp-api-stand-in-ca")?;
        let serving = ca.issue_serving("kkp-api-stand-in", &["localhost"], &[IpAddr::V4(Ipv4Addr::LOCALHOST)])?;
        let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(serving.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(serving.key_der.clone())),
            )?;
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| HarnessError::io("binding a loopback port", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the bound port", e))?
            .port();
        let state = Arc::new(Mutex::new(State {
            next: SEQUENCE.fetch_add(1000, Ordering::SeqCst),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let options = Arc::new(options);
        {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let (config, state, options) = (config.clone(), state.clone(), options.clone());
                    std::thread::spawn(move || serve_connection(stream, config, &state, &options));
                }
            });
        }
        Ok(KkpApiStandIn {
            url: format!("https://127.0.0.1:{port}"),
            ca_pem: ca.cert().cert_pem.clone(),
            state,
            stop,
            port,
        })
    }

    /// `https://127.0.0.1:PORT` (no `/api/v2`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA that signed its serving certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The flags that point `kubectl kkp` at this stand-in for `project`: the token read from
    /// `token_file`, the stand-in trusted through `ca_file` (a copy of [`Self::ca_pem`]).
    pub fn plugin_flags(&self, token_file: &std::path::Path, ca_file: &std::path::Path, project: &str) -> Vec<String> {
        vec![
            "--api".into(),
            self.url.clone(),
            "--token-file".into(),
            token_file.display().to_string(),
            "--project".into(),
            project.into(),
            "--certificate-authority".into(),
            ca_file.display().to_string(),
        ]
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().recorded.clone()
    }

    /// Requests and answers that did not match the specification.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// The (ID, human-readable name) of the project's clusters, deleted ones included until gone.
    pub fn clusters(&self, project: &str) -> Vec<(String, String)> {
        let mut state = self.lock();
        sweep(&mut state, Duration::ZERO);
        state
            .clusters
            .iter()
            .filter(|c| c.project == project)
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect()
    }

    /// The (ID, name, stored kubeconfig) of the project's imported clusters.
    pub fn imported(&self, project: &str) -> Vec<(String, String, String)> {
        self.lock()
            .imported
            .iter()
            .filter(|c| c.project == project)
            .map(|c| (c.id.clone(), c.name.clone(), c.kubeconfig.clone()))
            .collect()
    }

    /// The machine deployment names of a cluster.
    pub fn machine_deployments(&self, cluster_id: &str) -> Vec<String> {
        self.lock()
            .clusters
            .iter()
            .filter(|c| c.id == cluster_id)
            .flat_map(|c| c.machine_deployments.iter())
            .filter_map(|m| m.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes clusters whose deletion has finished.
fn sweep(state: &mut State, deleting_for: Duration) {
    state
        .clusters
        .retain(|c| c.deleted.is_none_or(|(at, _)| at.elapsed() < deleting_for));
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    extra: Vec<(&'static str, String)>,
}

fn json_answer(status: u16, body: Value) -> Response {
    Response {
        status,
        content_type: "application/json",
        body: body.to_string().into_bytes(),
        extra: Vec::new(),
    }
}

fn error_answer(status: u16, message: &str) -> Response {
    json_answer(status, json!({"error": {"code": status, "message": message}}))
}

fn serve_connection(stream: TcpStream, config: Arc<ServerConfig>, state: &Mutex<State>, options: &Options) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(connection) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(connection, stream);
    let Some(request) = read_request(&mut tls) else { return };
    let response = answer(&request, state, options);
    let reason = match response.status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        406 => "Not Acceptable",
        409 => "Conflict",
        415 => "Unsupported Media Type",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = tls.write_all(head.as_bytes());
    let _ = tls.write_all(&response.body);
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

fn read_request(stream: &mut impl std::io::Read) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
        if data.len() > 1 << 20 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    body.truncate(length);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

/// The route a path matches, with its parameters.
fn route(method: &str, path: &str) -> Option<(&'static str, BTreeMap<&'static str, String>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    for (m, template, _) in ROUTES {
        if m != method {
            continue;
        }
        let parts: Vec<&'static str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut params = BTreeMap::new();
        let matched = parts.iter().zip(&segments).all(|(p, s)| {
            if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                params.insert(name, (*s).to_owned());
                !s.is_empty()
            } else {
                p == s
            }
        });
        if matched {
            return Some((template, params));
        }
    }
    None
}

fn answer(request: &Request, state: &Mutex<State>, options: &Options) -> Response {
    let spec = kkp_api_spec::spec().expect("loaded at start");
    let Some((template, params)) = route(&request.method, &request.path) else {
        let response = Response {
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: b"404 page not found\n".to_vec(),
            extra: Vec::new(),
        };
        record(state, request, &response);
        return response;
    };
    let html_errors = template.ends_with("/kubeconfig") && !template.contains("/kubernetes/");
    let mut violations = Vec::new();
    // Like the real server, the body is decoded before the token is checked.
    let body = match spec.request_schema(&request.method, template) {
        Some(schema) => {
            if request
                .header("content-type")
                .is_some_and(|t| !t.starts_with("application/json"))
            {
                let response = error_answer(415, "the API consumes application/json only");
                record(state, request, &response);
                return response;
            }
            let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
                let response = error_answer(500, "unexpected end of JSON input");
                record(state, request, &response);
                return response;
            };
            if let Err(errors) = spec.validate(schema, &body) {
                violations.push(format!(
                    "{} {}: the request body does not match the specification: {}",
                    request.method,
                    request.path,
                    errors.join("; ")
                ));
                let response = error_answer(
                    400,
                    &format!(
                        "stand-in: the body does not match the API specification: {}",
                        errors.join("; ")
                    ),
                );
                let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                s.violations.extend(violations);
                drop(s);
                record(state, request, &response);
                return response;
            }
            Some(body)
        }
        None => None,
    };
    let mut response = match authorize(request, &params, options) {
        Err(response) => response,
        Ok(account) => {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            sweep(&mut s, options.deleting_for);
            handle(&mut s, request, template, &params, body, &account, options)
        }
    };
    if html_errors && response.status >= 400 {
        let message = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        response = Response {
            status: response.status,
            content_type: "text/html",
            body: format!(
                "<html><head><title>Error</title></head><body><h1>{}</h1><p>{message}</p></body></html>",
                response.status
            )
            .into_bytes(),
            extra: Vec::new(),
        };
    }
    if response.content_type == "application/json" {
        let value: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        match spec.response_body(&request.method, template, response.status) {
            Some(ResponseBody::Schema(schema)) => {
                if let Err(errors) = spec.validate(&schema, &value) {
                    violations.push(format!(
                        "{} {} answered {}: the body does not match the specification: {}",
                        request.method,
                        request.path,
                        response.status,
                        errors.join("; ")
                    ));
                }
            }
            // The real server answers `{}` for "empty" and an errorResponse for 401/403.
            Some(ResponseBody::Empty) => {
                let ok = value == json!({})
                    || spec
                        .validate_definition("errorResponse", &value)
                        .is_ok_and(|()| response.status >= 400);
                if !ok {
                    violations.push(format!(
                        "{} {}: an empty answer carried {value}",
                        request.method, request.path
                    ));
                }
            }
            None => violations.push(format!(
                "{} {}: the specification describes no {} answer",
                request.method, request.path, response.status
            )),
        }
    }
    if !violations.is_empty() {
        state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .violations
            .extend(violations);
    }
    record(state, request, &response);
    response
}

fn record(state: &Mutex<State>, request: &Request, response: &Response) {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    s.recorded.push(Recorded {
        method: request.method.clone(),
        path: if request.query.is_empty() {
            request.path.clone()
        } else {
            format!("{}?{}", request.path, request.query)
        },
        headers: request
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect(),
        body: String::from_utf8_lossy(&request.body).to_string(),
        status: response.status,
    });
}

fn authorize(request: &Request, params: &BTreeMap<&str, String>, options: &Options) -> Result<Account, Response> {
    let header = request.header("authorization").unwrap_or_default();
    if header.len() <= 7 {
        return Err(json_answer(
            401,
            json!({"error": {"code": 401, "message": "not authorized", "details": ["haven't found an OIDC token, invalid header"]}}),
        ));
    }
    // The real server drops the first seven characters, whatever they are.
    let token = &header[7..];
    let Some(account) = options.accounts.iter().find(|a| a.token == token) else {
        return Err(error_answer(
            401,
            "access denied, invalid token: token is malformed or unknown",
        ));
    };
    if let Some(project) = params.get("project_id")
        && *project != account.project
    {
        return Err(error_answer(
            403,
            &format!("forbidden: \"{}\" doesn't belong to project {project}", account.email),
        ));
    }
    if request.method != "GET" && account.role == Role::Viewer {
        return Err(error_answer(
            403,
            &format!(
                "forbidden: \"{}\" is a viewer of project {} and may not change it",
                account.email, account.project
            ),
        ));
    }
    Ok(account.clone())
}

fn handle(
    state: &mut State,
    request: &Request,
    template: &str,
    params: &BTreeMap<&str, String>,
    body: Option<Value>,
    account: &Account,
    options: &Options,
) -> Response {
    let project = account.project.as_str();
    let body = body.unwrap_or(Value::Null);
    if template.contains("/kubernetes/clusters") {
        return handle_imported(state, request, template, params, &body, project, options);
    }
    let cluster_index = params
        .get("cluster_id")
        .map(|id| state.clusters.iter().position(|c| &c.id == id && c.project == project));
    if let Some(None) = cluster_index {
        return error_answer(404, &format!("cluster-provider \"{}\" not found", params["cluster_id"]));
    }
    let cluster_index = cluster_index.flatten();
    match (request.method.as_str(), template.rsplit('/').next().unwrap_or_default()) {
        ("GET", "version") => json_answer(200, json!({"api": "v2.31.0-stand-in"})),
        ("GET", "clusters") => {
            let clusters: Vec<Value> = state
                .clusters
                .iter()
                .filter(|c| c.project == project)
                .map(|c| render_cluster(c, options))
                .collect();
            json_answer(200, json!({"clusters": clusters}))
        }
        ("POST", "clusters") => create_cluster(state, project, body, options),
        ("GET", "{cluster_id}") => json_answer(
            200,
            render_cluster(&state.clusters[cluster_index.expect("found")], options),
        ),
        ("PATCH", "{cluster_id}") => patch_cluster(&mut state.clusters[cluster_index.expect("found")], &body, options),
        ("DELETE", "{cluster_id}") => {
            for name in ["DeleteVolumes", "DeleteLoadBalancers"] {
                if let Some(v) = request.header(name)
                    && !["true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False"].contains(&v)
                {
                    return error_answer(500, &format!("strconv.ParseBool: parsing {v:?}: invalid syntax"));
                }
            }
            let cluster = &mut state.clusters[cluster_index.expect("found")];
            if cluster.deleted.is_none() {
                cluster.deleted = Some((Instant::now(), SystemTime::now()));
            }
            json_answer(200, json!({}))
        }
        ("GET", "health") => json_answer(200, health(&state.clusters[cluster_index.expect("found")], options)),
        ("GET", "kubeconfig") => {
            let accept = request.header("accept").unwrap_or("*/*");
            if !accept.contains("application/octet-stream") && !accept.contains("*/*") {
                return error_answer(
                    406,
                    &format!("cannot produce {accept}: the kubeconfig is application/octet-stream"),
                );
            }
            let id = &state.clusters[cluster_index.expect("found")].id;
            Response {
                status: 200,
                content_type: "application/octet-stream",
                body: options.kubeconfig.clone().into_bytes(),
                extra: vec![
                    (
                        "content-disposition",
                        format!("attachment; filename=kubeconfig-admin-{id}"),
                    ),
                    ("cache-control", "no-cache".into()),
                ],
            }
        }
        ("GET", "machinedeployments") => {
            let cluster = &mut state.clusters[cluster_index.expect("found")];
            materialize_initial(cluster, options);
            json_answer(200, Value::Array(cluster.machine_deployments.clone()))
        }
        ("POST", "machinedeployments") => {
            create_machine_deployment(&mut state.clusters[cluster_index.expect("found")], body, options)
        }
        (method, "{machinedeployment_id}") => {
            let cluster = &mut state.clusters[cluster_index.expect("found")];
            materialize_initial(cluster, options);
            let id = &params["machinedeployment_id"];
            let Some(i) = cluster
                .machine_deployments
                .iter()
                .position(|m| m.get("id").and_then(Value::as_str) == Some(id))
            else {
                return error_answer(404, &format!("machinedeployments.cluster.k8s.io \"{id}\" not found"));
            };
            match method {
                "GET" => json_answer(200, cluster.machine_deployments[i].clone()),
                "DELETE" => {
                    cluster.machine_deployments.remove(i);
                    json_answer(200, json!({}))
                }
                _ => patch_machine_deployment(cluster, i, &body),
            }
        }
        ("GET", "addons") => json_answer(
            200,
            Value::Array(state.clusters[cluster_index.expect("found")].addons.clone()),
        ),
        ("POST", "addons") => create_addon(&mut state.clusters[cluster_index.expect("found")], &body),
        ("GET", "installableaddons") => {
            let cluster = &state.clusters[cluster_index.expect("found")];
            let installable: Vec<Value> = options
                .accessible_addons
                .iter()
                .filter(|name| !cluster.addons.iter().any(|a| a["id"] == json!(name)))
                .map(|name| json!(name))
                .collect();
            json_answer(200, Value::Array(installable))
        }
        (method, "{addon_id}") => {
            let cluster = &mut state.clusters[cluster_index.expect("found")];
            let id = &params["addon_id"];
            let Some(i) = cluster
                .addons
                .iter()
                .position(|a| a.get("id").and_then(Value::as_str) == Some(id))
            else {
                return error_answer(404, &format!("addons.kubermatic.k8c.io \"{id}\" not found"));
            };
            match method {
                "GET" => json_answer(200, cluster.addons[i].clone()),
                "DELETE" => {
                    cluster.addons.remove(i);
                    json_answer(200, json!({}))
                }
                _ => {
                    // Like KKP's handler, a PATCH takes the variables and the reconcile flag of the
                    // Addon it is sent, and nothing else.
                    let spec = body.get("spec").cloned().unwrap_or_default();
                    let addon = &mut cluster.addons[i];
                    addon["spec"]["variables"] = spec.get("variables").cloned().unwrap_or(json!({}));
                    addon["spec"]["continuouslyReconcile"] =
                        spec.get("continuouslyReconcile").cloned().unwrap_or(json!(false));
                    json_answer(200, addon.clone())
                }
            }
        }
        _ => error_answer(500, "stand-in: route without a handler"),
    }
}

/// The routes of imported clusters.
fn handle_imported(
    state: &mut State,
    request: &Request,
    template: &str,
    params: &BTreeMap<&str, String>,
    body: &Value,
    project: &str,
    options: &Options,
) -> Response {
    let index = params
        .get("cluster_id")
        .map(|id| state.imported.iter().position(|c| &c.id == id && c.project == project));
    if let Some(None) = index {
        return error_answer(
            404,
            &format!(
                "externalclusters.kubermatic.k8c.io \"{}\" not found",
                params["cluster_id"]
            ),
        );
    }
    let index = index.flatten();
    match (request.method.as_str(), template.rsplit('/').next().unwrap_or_default()) {
        ("GET", "clusters") => {
            let listed: Vec<Value> = state
                .imported
                .iter()
                .filter(|c| c.project == project)
                .map(|c| render_imported(c, options))
                .collect();
            json_answer(200, Value::Array(listed))
        }
        ("POST", "clusters") => {
            if body.get("cloud").is_some() {
                return error_answer(400, "stand-in: only imports (no cloud) are modelled");
            }
            let (name, kubeconfig, version) = match import_checks(body) {
                Ok(checked) => checked,
                Err(response) => return response,
            };
            let id = new_id(state);
            let imported = Imported {
                id,
                project: project.to_owned(),
                name,
                kubeconfig,
                version,
                created: Instant::now(),
                created_wall: SystemTime::now(),
            };
            let rendered = render_imported(&imported, options);
            state.imported.push(imported);
            json_answer(201, rendered)
        }
        ("PUT", "{cluster_id}") => {
            let (name, kubeconfig, version) = match import_checks(body) {
                Ok(checked) => checked,
                Err(response) => return response,
            };
            let imported = &mut state.imported[index.expect("found")];
            imported.name = name;
            imported.kubeconfig = kubeconfig;
            imported.version = version;
            json_answer(200, render_imported(imported, options))
        }
        ("DELETE", "{cluster_id}") => {
            // Case-sensitive, as the real handler: `Delete` is refused.
            match request.header("action") {
                None | Some("disconnect") | Some("delete") => {}
                Some(_) => return error_answer(400, "wrong action parameter"),
            }
            state.imported.remove(index.expect("found"));
            json_answer(200, json!({}))
        }
        ("GET", "kubeconfig") => {
            let imported = &state.imported[index.expect("found")];
            Response {
                status: 200,
                content_type: "application/octet-stream",
                body: imported.kubeconfig.clone().into_bytes(),
                extra: vec![(
                    "content-disposition",
                    format!("attachment; filename=kubeconfig-external-cluster-{}", imported.id),
                )],
            }
        }
        _ => error_answer(500, "stand-in: route without a handler"),
    }
}

/// What the real handler checks of an import: a name, a base64 kubeconfig that decodes, and
/// that it lists the pods of its cluster. The name, the kubeconfig and the cluster's version.
fn import_checks(body: &Value) -> Result<(String, String, String), Response> {
    use base64::Engine as _;
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() {
        return Err(error_answer(400, "the name can not be empty"));
    }
    let encoded = body.get("kubeconfig").and_then(Value::as_str).unwrap_or_default();
    if encoded.is_empty() {
        return Err(error_answer(400, "the kubeconfig can not be empty"));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| error_answer(400, &e.to_string()))?;
    let kubeconfig = String::from_utf8(decoded).map_err(|e| error_answer(400, &e.to_string()))?;
    let version = list_pods(&kubeconfig)
        .map_err(|e| error_answer(500, &format!("can not retrieve data, check your kubeconfig: {e}")))?;
    Ok((name.to_owned(), kubeconfig, version))
}

/// Connects with `kubeconfig` (its current context) and lists pods, as KKP does before it stores
/// an import; the cluster's version (`1.36.3`).
fn list_pods(kubeconfig: &str) -> Result<String, String> {
    use k8s_openapi::api::core::v1::Pod;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let client = crate::users::client_from_current_context(kubeconfig)
            .await
            .map_err(|e| e.to_string())?;
        let pods: kube::Api<Pod> = kube::Api::all(client.clone());
        tokio::time::timeout(
            Duration::from_secs(5),
            pods.list(&kube::api::ListParams::default().limit(1)),
        )
        .await
        .map_err(|_| "the cluster did not answer within 5s".to_owned())?
        .map_err(|e| e.to_string())?;
        crate::users::reachable_version(&client).await
    })
}

fn render_imported(imported: &Imported, options: &Options) -> Value {
    let state = if imported.created.elapsed() >= options.healthy_after {
        "Running"
    } else {
        "Provisioning"
    };
    json!({
        "id": imported.id,
        "name": imported.name,
        "creationTimestamp": timestamp(imported.created_wall),
        "cloud": {"bringYourOwn": {}},
        "spec": {"version": imported.version},
        "status": {"state": state},
    })
}

/// Installs an addon: its ID is its name; a second one of the same name is the conflict KKP
/// answers. (Whether KKP's own POST refuses an addon it does not offer is not in its specification;
/// the stand-in takes any, and offers `installableaddons` for a client to check first.)
fn create_addon(cluster: &mut Cluster, body: &Value) -> Response {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    if name.is_empty() {
        return error_answer(400, "addon name is empty");
    }
    if body.get("id").is_some() {
        return error_answer(400, "addon.ID is read-only");
    }
    if cluster.addons.iter().any(|a| a["id"] == json!(name)) {
        return error_answer(409, &format!("addons.kubermatic.k8c.io \"{name}\" already exists"));
    }
    let spec = body.get("spec").cloned().unwrap_or_default();
    let addon = json!({
        "id": name,
        "name": name,
        "creationTimestamp": timestamp(SystemTime::now()),
        "spec": {
            "variables": spec.get("variables").cloned().unwrap_or(json!({})),
            "continuouslyReconcile": spec.get("continuouslyReconcile").cloned().unwrap_or(json!(false)),
        },
    });
    cluster.addons.push(addon.clone());
    json_answer(201, addon)
}

fn new_id(state: &mut State) -> String {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const REST: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    state.next += 1;
    let mut n = state.next.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (std::process::id() as u64);
    let mut id = String::new();
    id.push(FIRST[(n % 26) as usize] as char);
    for _ in 0..9 {
        n /= 26;
        n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        id.push(REST[((n >> 33) % REST.len() as u64) as usize] as char);
    }
    id
}

fn create_cluster(state: &mut State, project: &str, body: Value, options: &Options) -> Response {
    let cluster = body.get("cluster").cloned().unwrap_or_default();
    if cluster.get("id").is_some() {
        return error_answer(400, "cluster.ID is read-only");
    }
    if let Some(t) = cluster.get("type").and_then(Value::as_str)
        && !t.is_empty()
        && t != "kubernetes"
    {
        return error_answer(400, "invalid cluster type");
    }
    let name = cluster
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if name.len() > 100 {
        return error_answer(400, "cluster name is too long (more than 100 characters)");
    }
    let spec = cluster.get("spec").cloned().unwrap_or_default();
    let dc = spec.pointer("/cloud/dc").and_then(Value::as_str).unwrap_or_default();
    if dc.is_empty() {
        return error_answer(400, "cluster datacenter name is empty");
    }
    if !options.datacenters.iter().any(|d| d == dc) {
        return error_answer(500, &format!("can not find seed for datacenter {dc}"));
    }
    if let Err(message) = offered_version(spec.get("version")) {
        return error_answer(400, &message);
    }
    if state
        .clusters
        .iter()
        .any(|c| c.project == project && c.name == name && c.deleted.is_none())
    {
        return error_answer(409, &format!("cluster \"{name}\" already exists"));
    }
    let initial = body.get("nodeDeployment").cloned();
    if let Some(md) = &initial
        && let Err(message) = check_machine_deployment(md, &spec)
    {
        return error_answer(400, &message);
    }
    let id = new_id(state);
    let mut annotations = cluster
        .get("annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(preset) = cluster.get("credential").and_then(Value::as_str) {
        annotations.insert("presetName".into(), preset.into());
    }
    let created = Cluster {
        id,
        project: project.to_owned(),
        name,
        labels: cluster
            .get("labels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        annotations,
        spec,
        created: Instant::now(),
        created_wall: SystemTime::now(),
        deleted: None,
        initial,
        machine_deployments: Vec::new(),
        addons: Vec::new(),
    };
    let rendered = render_cluster(&created, options);
    state.clusters.push(created);
    json_answer(201, rendered)
}

fn offered_version(version: Option<&Value>) -> Result<semver::Version, String> {
    let text = version.and_then(Value::as_str).unwrap_or_default();
    let version = versions::parse(text).map_err(|_| format!("invalid cluster version {text:?}"))?;
    if !VersionCatalog::default().offers(&version) {
        return Err(format!("unsupported version {version}"));
    }
    Ok(version)
}

/// The fields of a cluster's spec a PATCH may change (what the real handler copies back).
const PATCHABLE_SPEC: [&str; 26] = [
    "cloud",
    "machineNetworks",
    "version",
    "oidc",
    "usePodSecurityPolicyAdmissionPlugin",
    "usePodNodeSelectorAdmissionPlugin",
    "useEventRateLimitAdmissionPlugin",
    "admissionPlugins",
    "podNodeSelectorAdmissionPluginConfig",
    "eventRateLimitConfig",
    "auditLogging",
    "updateWindow",
    "opaIntegration",
    "serviceAccount",
    "mla",
    "containerRuntime",
    "cniPlugin",
    "exposeStrategy",
    "backupConfig",
    "kubernetesDashboard",
    "apiServerAllowedIPRanges",
    "kubelb",
    "disableCsiDriver",
    "kyverno",
    "encryptionConfiguration",
    "componentsOverride",
];

fn patch_cluster(cluster: &mut Cluster, patch: &Value, options: &Options) -> Response {
    let mut merged = json!({
        "name": cluster.name, "labels": cluster.labels, "annotations": cluster.annotations, "spec": cluster.spec
    });
    merge_patch(&mut merged, patch);
    let mut spec = cluster.spec.clone();
    for key in PATCHABLE_SPEC {
        match merged["spec"].get(key) {
            Some(v) => spec[key] = v.clone(),
            None => {
                if let Some(s) = spec.as_object_mut() {
                    s.remove(key);
                }
            }
        }
    }
    for (key, v) in [
        ("konnectivityEnabled", "/spec/clusterNetwork/konnectivityEnabled"),
        ("proxyMode", "/spec/clusterNetwork/proxyMode"),
    ] {
        if let Some(v) = merged.pointer(v) {
            spec["clusterNetwork"][key] = v.clone();
        }
    }
    if let Err(message) = offered_version(spec.get("version")) {
        return error_answer(400, &format!("invalid cluster: {message}"));
    }
    cluster.spec = spec;
    cluster.name = merged["name"].as_str().unwrap_or_default().to_owned();
    cluster.labels = merged["labels"].as_object().cloned().unwrap_or_default();
    cluster.annotations = merged["annotations"].as_object().cloned().unwrap_or_default();
    json_answer(200, render_cluster(cluster, options))
}

/// RFC 7396: objects merge, `null` deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let map = target.as_object_mut().expect("an object");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn timestamp(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn render_cluster(cluster: &Cluster, options: &Options) -> Value {
    let mut spec = cluster.spec.clone();
    // Answers carry PublicCloudSpec: the datacenter and the provider with its secrets stripped.
    if let Some(cloud) = spec.get_mut("cloud").and_then(Value::as_object_mut) {
        cloud.remove("providerName");
        for (key, value) in cloud.iter_mut() {
            if key != "dc" {
                *value = json!({});
            }
        }
    }
    let mut labels = cluster.labels.clone();
    labels.remove("project-id");
    let mut out = json!({
        "id": cluster.id,
        "name": cluster.name,
        "type": "kubernetes",
        "creationTimestamp": timestamp(cluster.created_wall),
        "spec": spec,
        "status": {
            "url": format!("https://{}.kkp.stand-in:6443", cluster.id),
            "version": cluster.spec.get("version").cloned().unwrap_or_default(),
        },
        "machineDeploymentCount": machine_deployment_count(cluster, options),
    });
    if !labels.is_empty() {
        out["labels"] = Value::Object(labels);
    }
    if !cluster.annotations.is_empty() {
        out["annotations"] = Value::Object(cluster.annotations.clone());
    }
    if let Some((_, at)) = cluster.deleted {
        out["deletionTimestamp"] = timestamp(at).into();
    }
    out
}

fn machine_deployment_count(cluster: &Cluster, options: &Options) -> usize {
    cluster.machine_deployments.len() + usize::from(cluster.initial.is_some() && healthy(cluster, options))
}

fn healthy(cluster: &Cluster, options: &Options) -> bool {
    cluster.deleted.is_none() && cluster.created.elapsed() >= options.healthy_after
}

fn health(cluster: &Cluster, options: &Options) -> Value {
    let elapsed = cluster.created.elapsed();
    let (early, late) = if cluster.deleted.is_some() {
        ("HealthStatusDown", "HealthStatusDown")
    } else if elapsed >= options.healthy_after {
        ("HealthStatusUp", "HealthStatusUp")
    } else if elapsed >= options.healthy_after / 2 {
        ("HealthStatusUp", "HealthStatusProvisioning")
    } else {
        ("HealthStatusProvisioning", "")
    };
    json!({
        "apiserver": early, "etcd": early,
        "controller": late, "scheduler": late, "machineController": late,
        "cloudProviderInfrastructure": late, "userClusterControllerManager": late,
        "applicationController": late, "operatingSystemManager": late,
    })
}

/// KKP's seed controller creates the initial machine deployment once the cluster is up.
fn materialize_initial(cluster: &mut Cluster, options: &Options) {
    if healthy(cluster, options)
        && let Some(initial) = cluster.initial.take()
    {
        let name = initial
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{}-worker-stand1", cluster.id));
        cluster
            .machine_deployments
            .push(render_machine_deployment(&name, &initial));
    }
}

fn render_machine_deployment(name: &str, body: &Value) -> Value {
    let mut md = body.clone();
    md["id"] = name.into();
    md["name"] = name.into();
    let replicas = md.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    md["status"] = json!({"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "updatedReplicas": replicas});
    md
}

fn check_machine_deployment(md: &Value, cluster_spec: &Value) -> Result<(), String> {
    let os = md
        .pointer("/spec/template/operatingSystem")
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    if os.len() != 1 || !["amzn2", "flatcar", "rhel", "rockylinux", "ubuntu"].contains(&os[0].as_str()) {
        return Err("unknown operating system".into());
    }
    if let Some(kubelet) = md.pointer("/spec/template/versions/kubelet").and_then(Value::as_str)
        && !kubelet.is_empty()
    {
        let kubelet = versions::parse(kubelet)
            .map_err(|_| format!("node deployment validation failed: invalid kubelet version {kubelet:?}"))?;
        if let Ok(control_plane) = offered_version(cluster_spec.get("version"))
            && let Some(refusal) = versions::kubelet_skew_refusal(&control_plane, &kubelet)
        {
            return Err(format!("node deployment validation failed: {refusal}"));
        }
    }
    let spec = md.get("spec").cloned().unwrap_or_default();
    let replicas = spec.get("replicas").and_then(Value::as_i64).unwrap_or(0);
    if let (Some(min), Some(max)) = (
        spec.get("minReplicas").and_then(Value::as_i64),
        spec.get("maxReplicas").and_then(Value::as_i64),
    ) && (replicas < min || replicas > max)
    {
        return Err(format!(
            "replicas {replicas} must be between minReplicas {min} and maxReplicas {max}"
        ));
    }
    Ok(())
}

fn create_machine_deployment(cluster: &mut Cluster, body: Value, options: &Options) -> Response {
    if !healthy(cluster, options) {
        return error_answer(503, "Cluster components are not ready yet");
    }
    materialize_initial(cluster, options);
    if let Err(message) = check_machine_deployment(&body, &cluster.spec) {
        let status = if message == "unknown operating system" {
            500
        } else {
            400
        };
        return error_answer(status, &message);
    }
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}-worker-{}", cluster.id, cluster.machine_deployments.len()));
    if cluster
        .machine_deployments
        .iter()
        .any(|m| m.get("id").and_then(Value::as_str) == Some(&name))
    {
        return error_answer(
            500,
            &format!("machinedeployments.cluster.k8s.io \"{name}\" already exists"),
        );
    }
    let md = render_machine_deployment(&name, &body);
    cluster.machine_deployments.push(md.clone());
    json_answer(201, md)
}

fn patch_machine_deployment(cluster: &mut Cluster, index: usize, patch: &Value) -> Response {
    let current = cluster.machine_deployments[index].clone();
    let mut merged = current.clone();
    merge_patch(&mut merged, patch);
    let mut updated = current;
    updated["annotations"] = merged.get("annotations").cloned().unwrap_or(json!({}));
    if updated["annotations"] == json!({}) {
        updated.as_object_mut().expect("an object").remove("annotations");
    }
    for key in ["template", "replicas", "paused", "minReplicas", "maxReplicas"] {
        if let Some(v) = merged["spec"].get(key) {
            updated["spec"][key] = v.clone();
        }
    }
    if let Err(message) = check_machine_deployment(&updated, &cluster.spec) {
        return error_answer(400, &message);
    }
    let name = updated["name"].as_str().unwrap_or_default().to_owned();
    let rendered = render_machine_deployment(&name, &updated);
    cluster.machine_deployments[index] = rendered.clone();
    json_answer(200, rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_an_operation_of_the_specification() {
        let spec = kkp_api_spec::spec().expect("the KKP API specification");
        for (method, template, operation_id) in ROUTES {
            let operation = spec
                .operation(method, template)
                .unwrap_or_else(|| panic!("{method} {template} is not in the specification"));
            assert_eq!(operation["operationId"], operation_id, "{method} {template}");
        }
    }

    #[test]
    fn paths_are_routed_with_their_parameters() {
        let (template, params) = route("GET", "/api/v2/projects/p1/clusters/c1/health").unwrap();
        assert_eq!(template, "/api/v2/projects/{project_id}/clusters/{cluster_id}/health");
        assert_eq!(params["project_id"], "p1");
        assert_eq!(params["cluster_id"], "c1");
        assert!(route("PUT", "/api/v2/projects/p1/clusters").is_none());
        let (template, params) = route("PUT", "/api/v2/projects/p1/kubernetes/clusters/x1").unwrap();
        assert_eq!(
            template,
            "/api/v2/projects/{project_id}/kubernetes/clusters/{cluster_id}"
        );
        assert_eq!(params["cluster_id"], "x1");
        let (template, _) = route("GET", "/api/v2/projects/p1/kubernetes/clusters").unwrap();
        assert_eq!(template, "/api/v2/projects/{project_id}/kubernetes/clusters");
        assert!(route("GET", "/api/v2/projects//clusters").is_none());
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_secs(1_796_342_400 + 3661)),
            "2026-12-04T01:01:01Z"
        );
    }

    #[test]
    fn ids_look_like_kkps() {
        let mut state = State::default();
        let a = new_id(&mut state);
        let b = new_id(&mut state);
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.len(), 10);
            assert!(id.chars().next().unwrap().is_ascii_lowercase());
        }
    }
}
