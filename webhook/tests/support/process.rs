//! The built `kkp-webhook` binary on loopback ports with a generated certificate, for benchmarks
//! that measure the process as it runs in a pod (its memory included).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Pki;

/// A running `kkp-webhook`; killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub tls: SocketAddr,
    pub health: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// The process's peak and current resident memory in KiB (VmHWM, VmRSS).
    pub fn memory_kib(&self) -> (u64, u64) {
        let pid = self.child.id();
        (
            proc_status_kib(pid, "VmHWM:").unwrap_or(0),
            proc_status_kib(pid, "VmRSS:").unwrap_or(0),
        )
    }
}

pub fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
}

/// The binary to start: this build's, or the one `KKP_WEBHOOK_BINARY` names (to compare two builds
/// with the same benchmark).
fn binary() -> std::path::PathBuf {
    std::env::var_os("KKP_WEBHOOK_BINARY")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_kkp-webhook").into())
}

/// Starts the binary with `args` (and never an API server); waits until it listens.
pub fn start(pki: &Pki, args: &[String]) -> ServerProcess {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = pki.serving("serving-bench");
    let (cert_path, key_path) = super::write_files(dir.path(), &cert, &key);
    let (tls, health) = (free_port(), free_port());
    let child = Command::new(binary())
        .arg("--watch-policies=false")
        .args(args)
        .arg("--tls-cert-file")
        .arg(&cert_path)
        .arg("--tls-private-key-file")
        .arg(&key_path)
        .arg(format!("--listen-address={tls}"))
        .arg(format!("--health-listen-address={health}"))
        .env(
            "RUST_LOG",
            std::env::var("KKP_LOAD_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the kkp-webhook binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(tls).is_err() {
        assert!(Instant::now() < deadline, "kkp-webhook never listened on {tls}");
        std::thread::sleep(Duration::from_millis(20));
    }
    ServerProcess {
        child,
        tls,
        health,
        _dir: dir,
    }
}

/// The CPU time (user and system, all threads) process `pid` has used so far, from
/// `/proc/<pid>/stat`, to the kernel's clock-tick resolution (usually 10 ms).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are
    // state (3), ..., utime (14) and stime (15).
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .ok()
        .filter(|&t| t > 0)?;
    Some(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
