//! The `kkp-webhook` binary as a cluster admin runs it: its own process with a serving
//! certificate, a kubeconfig in `KUBECONFIG`, loopback ports, and its JSON log lines collected as
//! they come. The process is killed when the value is dropped, also when a test fails.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::HarnessError;
use crate::probe::{self, HttpResponse};
use crate::webhook_support::ServingCert;

/// A running `kkp-webhook`.
#[derive(Debug)]
pub struct WebhookProcess {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    pub tls_port: u16,
    pub health_port: u16,
}

impl WebhookProcess {
    /// Starts `binary` serving `cert` on free loopback ports, with `kubeconfig` as `KUBECONFIG`
    /// and `args` added to the command line.
    pub fn spawn(binary: &Path, cert: &ServingCert, kubeconfig: &Path, args: &[&str]) -> Result<Self, HarnessError> {
        WebhookProcess::spawn_with_files(binary, &cert.cert_path, &cert.key_path, kubeconfig, args)
    }

    /// Like [`WebhookProcess::spawn`], serving the certificate and key in the files given (for
    /// tests that lay them out as a Secret volume and change them).
    pub fn spawn_with_files(
        binary: &Path,
        cert_path: &Path,
        key_path: &Path,
        kubeconfig: &Path,
        args: &[&str],
    ) -> Result<Self, HarnessError> {
        let [tls_port, health_port] = crate::ports::free_ports::<2>()?;
        let mut child = Command::new(binary)
            .arg("--tls-cert-file")
            .arg(cert_path)
            .arg("--tls-private-key-file")
            .arg(key_path)
            .args(["--listen-address", &format!("127.0.0.1:{tls_port}")])
            .args(["--health-listen-address", &format!("127.0.0.1:{health_port}")])
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env_remove("KKP_WEBHOOK_CLUSTER_VERSION")
            .env_remove("KKP_WEBHOOK_KUBERNETES_VERSIONS")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| HarnessError::io(format!("starting {}", binary.display()), e))?;
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let pipes: [Option<Box<dyn std::io::Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ];
        for pipe in pipes.into_iter().flatten() {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut lines) = lines.lock() {
                        lines.push(line);
                    }
                }
            });
        }
        Ok(WebhookProcess {
            child,
            lines,
            tls_port,
            health_port,
        })
    }

    /// Everything it logged so far, one line each.
    pub fn log(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Its log lines that are JSON objects.
    pub fn json_lines(&self) -> Vec<Value> {
        self.lines
            .lock()
            .map(|l| l.iter().filter_map(|l| serde_json::from_str(l).ok()).collect())
            .unwrap_or_default()
    }

    /// The first JSON log line whose message starts with `prefix`.
    pub fn find_log(&self, prefix: &str) -> Option<Value> {
        self.json_lines().into_iter().find(|l| {
            l.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.starts_with(prefix))
        })
    }

    /// `GET /readyz` on the health port.
    pub fn readyz(&self) -> std::io::Result<HttpResponse> {
        probe::get_plain(self.health_port, "/readyz", Duration::from_secs(1))
    }

    /// Waits until `/readyz` answers 200 and `ready` accepts its body; fails early if the process
    /// exits.
    pub async fn wait_ready(
        &mut self,
        timeout: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> Result<String, HarnessError> {
        let started = Instant::now();
        loop {
            if let Ok(r) = self.readyz()
                && r.status == 200
                && ready(&r.body)
            {
                return Ok(r.body);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(HarnessError::InvalidInput(format!(
                    "kkp-webhook exited with {status}:\n{}",
                    self.log()
                )));
            }
            if started.elapsed() > timeout {
                let last = self.readyz().map(|r| r.body).unwrap_or_else(|e| e.to_string());
                return Err(HarnessError::InvalidInput(format!(
                    "kkp-webhook not ready as expected after {timeout:?} (last /readyz: {last}):\n{}",
                    self.log()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit; the exit status says whether it was clean.
    pub async fn terminate(&mut self, timeout: Duration) -> Result<std::process::ExitStatus, HarnessError> {
        let pid = i32::try_from(self.child.id())
            .map_err(|_| HarnessError::InvalidInput("the webhook's pid does not fit an i32".into()))?;
        // SAFETY: sending a signal to our own child process.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        if sent != 0 {
            return Err(HarnessError::io("sending SIGTERM", std::io::Error::last_os_error()));
        }
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| HarnessError::io("waiting for kkp-webhook", e))?
            {
                return Ok(status);
            }
            if started.elapsed() > timeout {
                return Err(HarnessError::InvalidInput(format!(
                    "kkp-webhook did not stop on SIGTERM within {timeout:?}:\n{}",
                    self.log()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for WebhookProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
