//! Where and as whom the plugin talks to the KKP REST API: the endpoint (`--api`/`KKP_API`, with
//! or without `/api/v2`), the token (`--token-file`, `KKP_TOKEN`, the config file's `api:`), the
//! project, and how the server's certificate is trusted.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

/// The flags that select the KKP REST API. Without `--api` (and `KKP_API`) the plugin works
/// through the Kubernetes API as before.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "KKP REST API options")]
pub struct ApiArgs {
    /// Act through the KKP REST API at this URL (https://HOST, with or without /api/v2) instead of
    /// the Kubernetes API [env: KKP_API].
    #[arg(long, global = true, value_name = "URL")]
    pub api: Option<String>,
    /// Read the KKP service-account token from this file [else: KKP_TOKEN, else the config file's
    /// api.token or api.tokenFile].
    #[arg(long, global = true, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub token_file: Option<PathBuf>,
    /// The KKP service-account token itself (it stays in your shell history: prefer --token-file
    /// or KKP_TOKEN).
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The KKP project ID: the project of generated clusters (KKP_PROJECT_ID) and, with --api, the
    /// project to act in [else: KKP_PROJECT, the config file's api.project, the token's project].
    #[arg(long, global = true, value_name = "ID")]
    pub project: Option<String>,
    /// Trust this PEM file's certificate authorities for the KKP API's certificate (besides the
    /// system's).
    #[arg(long, global = true, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub certificate_authority: Option<PathBuf>,
    /// Do not check the KKP API's certificate (insecure: like curl -k; anyone on the way can
    /// read the token).
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
}

/// A bearer token. It prints as `<redacted>` everywhere (Debug and Display), so it cannot leak
/// into output, logs, errors or traces by formatting.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Token(token.into())
    }

    /// The token for the `Authorization` header; the only way to read it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `project_id` claim of a KKP service-account token (a JWT), read without verifying it.
    pub fn project_claim(&self) -> Option<String> {
        use base64::Engine as _;
        let payload = self.0.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        let claims: Value = serde_json::from_slice(&bytes).ok()?;
        claims
            .get("project_id")?
            .as_str()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How the server's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The system's roots, plus the certificate authorities of a PEM file if given.
    Verify { extra_ca: Option<PathBuf> },
    /// No check at all (`--insecure-skip-tls-verify`).
    Insecure,
}

/// Everything needed to call the API, resolved from flags, environment and config file.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `scheme://host[:port]` with no path; the API's paths (`/api/v2/...`) are appended verbatim.
    pub base: String,
    pub token: Token,
    pub project: String,
    pub trust: Trust,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("--api {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(
        "no KKP token: give --token-file FILE, set KKP_TOKEN, or set api.tokenFile in {config}; create a token under the project's Service Accounts in the KKP dashboard"
    )]
    NoToken { config: String },
    #[error("--token-file {path}: {reason}")]
    TokenFile { path: String, reason: String },
    #[error("no KKP project: give --project ID or set KKP_PROJECT (the project ID is shown in the KKP dashboard)")]
    NoProject,
    #[error("--project {0:?}: a KKP project ID is letters and digits only")]
    BadProject(String),
    #[error("{path}: {reason}")]
    Config { path: String, reason: String },
}

/// The `api:` section of the plugin's config file (`config.yaml`): `url`, `token`, `tokenFile`
/// and `project`, each used when neither its flag nor its variable is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigApi {
    pub url: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    pub project: Option<String>,
}

impl ConfigApi {
    /// Reads the `api:` section of the config file at `path`; empty when the file is absent.
    pub fn load(path: &Path) -> Result<ConfigApi, SettingsError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigApi::default()),
            Err(e) => {
                return Err(SettingsError::Config {
                    path: shown,
                    reason: e.to_string(),
                });
            }
        };
        if text.trim().is_empty() {
            return Ok(ConfigApi::default());
        }
        let doc: Value = serde_yaml::from_str(&text).map_err(|e| SettingsError::Config {
            path: shown.clone(),
            reason: format!("not valid YAML: {e}"),
        })?;
        let api = match doc.get("api") {
            None | Some(Value::Null) => return Ok(ConfigApi::default()),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(SettingsError::Config {
                    path: shown,
                    reason: "api: must be a map (url, tokenFile, project)".into(),
                });
            }
        };
        let field = |key: &str| -> Result<Option<String>, SettingsError> {
            match api.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(SettingsError::Config {
                    path: shown.clone(),
                    reason: format!("api.{key} must be a string"),
                }),
            }
        };
        Ok(ConfigApi {
            url: field("url")?,
            token: field("token")?,
            token_file: field("tokenFile")?.map(PathBuf::from),
            project: field("project")?,
        })
    }
}

/// The API base URL when the KKP REST API is selected: `--api`, else `KKP_API`, else the config
/// file's `api.url`; `None` means "use the Kubernetes API".
pub fn selected_url(args: &ApiArgs, env: &dyn Fn(&str) -> Option<String>, config: &ConfigApi) -> Option<String> {
    args.api
        .clone()
        .or_else(|| env("KKP_API"))
        .or_else(|| config.url.clone())
        .filter(|u| !u.trim().is_empty())
}

/// `https://host/api/v2/` → `https://host`: the scheme, host and port, with a trailing `/api`,
/// `/api/v1` or `/api/v2` (as the seed's scripts write `KKP_API`) and slashes removed.
pub fn normalize_base(url: &str) -> Result<String, SettingsError> {
    let bad = |reason: &str| SettingsError::BadUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = url.trim();
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| bad("the URL must start with https:// (or http:// for a local test server)"))?;
    if rest.contains(['?', '#']) {
        return Err(bad("the URL must not carry a query or fragment"));
    }
    let scheme_len = trimmed.len() - rest.len();
    let mut path = rest.trim_end_matches('/');
    for suffix in ["/api/v2", "/api/v1", "/api"] {
        if let Some(p) = path.strip_suffix(suffix) {
            path = p.trim_end_matches('/');
            break;
        }
    }
    let host = path.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("the URL names no host"));
    }
    if host.contains('@') {
        return Err(bad("put the token in --token-file or KKP_TOKEN, not in the URL"));
    }
    Ok(format!("{}{}", &trimmed[..scheme_len], path))
}

/// Resolves the settings. `env` reads environment variables; `config` is the config file's
/// `api:` section.
pub fn resolve(
    args: &ApiArgs,
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
    config: &ConfigApi,
    config_path: &str,
) -> Result<ApiSettings, SettingsError> {
    let base = normalize_base(url)?;
    let token = if let Some(path) = &args.token_file {
        read_token_file(path)?
    } else if let Some(token) = args.token.clone().filter(|t| !t.trim().is_empty()) {
        Token::new(token.trim())
    } else if let Some(token) = env("KKP_TOKEN").filter(|t| !t.trim().is_empty()) {
        Token::new(token.trim())
    } else if let Some(path) = &config.token_file {
        read_token_file(path)?
    } else if let Some(token) = config.token.clone().filter(|t| !t.trim().is_empty()) {
        Token::new(token.trim())
    } else {
        return Err(SettingsError::NoToken {
            config: config_path.to_owned(),
        });
    };
    let project = args
        .project
        .clone()
        .or_else(|| env("KKP_PROJECT"))
        .or_else(|| config.project.clone())
        .filter(|p| !p.trim().is_empty())
        .or_else(|| token.project_claim())
        .ok_or(SettingsError::NoProject)?;
    let project = project.trim().to_owned();
    if !project.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(SettingsError::BadProject(project));
    }
    let trust = if args.insecure_skip_tls_verify {
        Trust::Insecure
    } else {
        Trust::Verify {
            extra_ca: args.certificate_authority.clone(),
        }
    };
    Ok(ApiSettings {
        base,
        token,
        project,
        trust,
    })
}

fn read_token_file(path: &Path) -> Result<Token, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|e| SettingsError::TokenFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(SettingsError::TokenFile {
            path: path.display().to_string(),
            reason: "the file is empty".into(),
        });
    }
    if token.contains(char::is_whitespace) {
        return Err(SettingsError::TokenFile {
            path: path.display().to_string(),
            reason: "the file must hold the token alone on one line".into(),
        });
    }
    Ok(Token::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_base_url_is_taken_with_or_without_the_api_suffix() {
        for url in [
            "https://kkp.example.com",
            "https://kkp.example.com/",
            "https://kkp.example.com/api/v2",
            "https://kkp.example.com/api/v2/",
            "https://kkp.example.com/api/v1",
            "https://kkp.example.com/api",
        ] {
            assert_eq!(normalize_base(url).unwrap(), "https://kkp.example.com", "{url}");
        }
        assert_eq!(
            normalize_base("http://127.0.0.1:8080/api/v2").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_base("https://h.example/kkp/api/v2").unwrap(),
            "https://h.example/kkp"
        );
        for bad in [
            "kkp.example.com",
            "ftp://x",
            "https:///api/v2",
            "https://u:p@h/api/v2",
            "https://h/?a=1",
        ] {
            let err = normalize_base(bad).unwrap_err().to_string();
            assert!(err.starts_with("--api"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_api_is_selected_by_flag_variable_or_config() {
        let none = ConfigApi::default();
        assert_eq!(selected_url(&ApiArgs::default(), &env_of(&[]), &none), None);
        assert_eq!(
            selected_url(&ApiArgs::default(), &env_of(&[("KKP_API", "https://e/api/v2")]), &none).as_deref(),
            Some("https://e/api/v2")
        );
        let config = ConfigApi {
            url: Some("https://c".into()),
            ..ConfigApi::default()
        };
        assert_eq!(
            selected_url(&ApiArgs::default(), &env_of(&[]), &config).as_deref(),
            Some("https://c")
        );
        let args = ApiArgs {
            api: Some("https://f".into()),
            ..ApiArgs::default()
        };
        assert_eq!(
            selected_url(&args, &env_of(&[("KKP_API", "https://e")]), &config).as_deref(),
            Some("https://f")
        );
    }

    #[test]
    fn the_token_comes_from_the_flag_file_then_the_variable_then_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let env = env_of(&[("KKP_TOKEN", "from-env"), ("KKP_PROJECT", "p1")]);
        let args = ApiArgs {
            token_file: Some(file.clone()),
            ..ApiArgs::default()
        };
        let s = resolve(&args, "https://h", &env, &ConfigApi::default(), "config.yaml").unwrap();
        assert_eq!(s.token.expose(), "from-file");
        let s = resolve(&ApiArgs::default(), "https://h", &env, &ConfigApi::default(), "c").unwrap();
        assert_eq!(s.token.expose(), "from-env");
        assert_eq!(s.project, "p1");
        let config = ConfigApi {
            token_file: Some(file),
            project: Some("p2".into()),
            ..ConfigApi::default()
        };
        let s = resolve(&ApiArgs::default(), "https://h", &env_of(&[]), &config, "c").unwrap();
        assert_eq!(s.token.expose(), "from-file");
        assert_eq!(s.project, "p2");
        let err = resolve(
            &ApiArgs::default(),
            "https://h",
            &env_of(&[]),
            &ConfigApi::default(),
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--token-file") && err.contains("KKP_TOKEN") && err.contains("c.yaml"),
            "{err}"
        );
    }

    #[test]
    fn the_project_defaults_to_the_tokens_claim() {
        use base64::Engine as _;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"email":"sa@example.com","project_id":"xw2k9fgh4t","token_id":"t"}"#);
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{claims}.c2ln");
        let env = move |k: &str| (k == "KKP_TOKEN").then(|| jwt.clone());
        let s = resolve(&ApiArgs::default(), "https://h", &env, &ConfigApi::default(), "c").unwrap();
        assert_eq!(s.project, "xw2k9fgh4t");
        let err = resolve(
            &ApiArgs::default(),
            "https://h",
            &|k: &str| (k == "KKP_TOKEN").then(|| "opaque".to_owned()),
            &ConfigApi::default(),
            "c",
        )
        .unwrap_err();
        assert!(matches!(err, SettingsError::NoProject), "{err}");
        let args = ApiArgs {
            project: Some("a/b".into()),
            ..ApiArgs::default()
        };
        let err = resolve(
            &args,
            "https://h",
            &env_of(&[("KKP_TOKEN", "t")]),
            &ConfigApi::default(),
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("--project \"a/b\""), "{err}");
    }

    #[test]
    fn a_token_file_that_is_empty_or_missing_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        for path in [empty, dir.path().join("missing")] {
            let args = ApiArgs {
                token_file: Some(path.clone()),
                project: Some("p".into()),
                ..ApiArgs::default()
            };
            let err = resolve(&args, "https://h", &env_of(&[]), &ConfigApi::default(), "c")
                .unwrap_err()
                .to_string();
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
    }

    #[test]
    fn the_token_never_formats() {
        let secret = "s3cr3t-token-value";
        let settings = ApiSettings {
            base: "https://h".into(),
            token: Token::new(secret),
            project: "p".into(),
            trust: Trust::Insecure,
        };
        assert!(!format!("{settings:?}").contains(secret));
        assert!(!format!("{}", settings.token).contains(secret));
        assert!(!format!("{:#?}", settings.token).contains(secret));
    }

    #[test]
    fn the_config_files_api_section_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        assert_eq!(ConfigApi::load(&path).unwrap(), ConfigApi::default());
        std::fs::write(
            &path,
            "variables: {A: b}\napi:\n  url: https://h/api/v2\n  tokenFile: /t\n  project: p\n",
        )
        .unwrap();
        let c = ConfigApi::load(&path).unwrap();
        assert_eq!(c.url.as_deref(), Some("https://h/api/v2"));
        assert_eq!(c.token_file, Some(PathBuf::from("/t")));
        assert_eq!(c.project.as_deref(), Some("p"));
        std::fs::write(&path, "api: [1]\n").unwrap();
        assert!(
            ConfigApi::load(&path)
                .unwrap_err()
                .to_string()
                .contains("api: must be a map")
        );
    }
}
