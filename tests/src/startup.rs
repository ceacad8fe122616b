//! Starting etcd and kube-apiserver and waiting until they are ready.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use crate::components::{self, ApiserverFiles, EtcdPorts};
use crate::error::HarnessError;
use crate::probe;
use crate::process::ManagedProcess;
use crate::workdir::{PkiFiles, mkdir};

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(100);

/// Timeout of one probe request.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The processes and ports of a started etcd + kube-apiserver.
pub(crate) struct Core {
    pub(crate) processes: Vec<ManagedProcess>,
    pub(crate) etcd_port: u16,
    pub(crate) apiserver_port: u16,
    pub(crate) etcd_time: Duration,
    pub(crate) apiserver_time: Duration,
}

/// Starts etcd and kube-apiserver on the given ports and waits until both are ready.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_core(
    bin_dir: &Path,
    dir: &Path,
    files: &PkiFiles,
    tls: &Arc<ClientConfig>,
    attempt: u32,
    [etcd_client, etcd_peer, apiserver_port]: [u16; 3],
    timeout: Duration,
) -> Result<Core, HarnessError> {
    let logs = dir.join("logs");

    let etcd_started = Instant::now();
    let data_dir = dir.join(format!("etcd-{attempt}"));
    let etcd_ports = EtcdPorts {
        client: etcd_client,
        peer: etcd_peer,
    };
    let mut etcd = ManagedProcess::spawn(
        "etcd",
        &bin_dir.join("etcd"),
        components::etcd_args(etcd_ports, &data_dir),
        logs.join(format!("etcd-{attempt}.log")),
    )?;
    wait_until(&mut etcd, timeout, || {
        let r = probe::get_plain(etcd_client, "/health", PROBE_TIMEOUT).map_err(|e| e.to_string())?;
        if r.status == 200 && r.body.contains("\"health\":\"true\"") {
            Ok(())
        } else {
            Err(format!("/health: {} {}", r.status, r.body.trim()))
        }
    })?;
    let etcd_time = etcd_started.elapsed();

    let apiserver_started = Instant::now();
    let cert_dir = dir.join("apiserver-certs");
    mkdir(&cert_dir)?;
    let apiserver_files = ApiserverFiles {
        cert_dir: &cert_dir,
        tls_cert: &files.apiserver_cert,
        tls_key: &files.apiserver_key,
        client_ca: &files.client_ca,
        sa_public_key: &files.sa_public_key,
        sa_private_key: &files.sa_private_key,
    };
    let mut apiserver = ManagedProcess::spawn(
        "kube-apiserver",
        &bin_dir.join("kube-apiserver"),
        components::apiserver_args(etcd_client, apiserver_port, &apiserver_files),
        logs.join(format!("kube-apiserver-{attempt}.log")),
    )?;
    let ready = wait_until(&mut apiserver, timeout, || {
        // etcd dying makes the apiserver hang rather than exit; report it directly.
        if let Some(e) = etcd.exited() {
            return Err(e.to_string());
        }
        tls_status(tls, apiserver_port, "/readyz", 200)?;
        tls_status(tls, apiserver_port, "/api/v1/namespaces/default", 200)
    });
    if let Err(e) = ready {
        if let Some(etcd_exit) = etcd.exited() {
            return Err(etcd_exit);
        }
        return Err(e);
    }
    Ok(Core {
        processes: vec![etcd, apiserver],
        etcd_port: etcd_client,
        apiserver_port,
        etcd_time,
        apiserver_time: apiserver_started.elapsed(),
    })
}

/// `Ok` when `GET path` answers `want`, else a description of what came back.
pub(crate) fn tls_status(tls: &Arc<ClientConfig>, port: u16, path: &str, want: u16) -> Result<(), String> {
    let r = probe::get_tls(tls, port, path, PROBE_TIMEOUT).map_err(|e| format!("{path}: {e}"))?;
    if r.status == want {
        Ok(())
    } else {
        Err(format!(
            "{path}: {} {}",
            r.status,
            crate::error::tail_lines(r.body.trim(), 5)
        ))
    }
}

/// Polls `check` until it succeeds, the process exits, or `timeout` passes.
pub(crate) fn wait_until(
    process: &mut ManagedProcess,
    timeout: Duration,
    mut check: impl FnMut() -> Result<(), String>,
) -> Result<(), HarnessError> {
    let started = Instant::now();
    loop {
        if let Some(e) = process.exited() {
            return Err(e);
        }
        let last_check = match check() {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if started.elapsed() >= timeout {
            return Err(HarnessError::NotReady {
                name: process.name().to_string(),
                timeout,
                last_check,
                log: process.log_path().to_path_buf(),
                log_tail: process.log_tail(),
            });
        }
        std::thread::sleep(POLL);
    }
}
