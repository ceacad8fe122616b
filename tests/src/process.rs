//! Child processes of the control plane: output to a log file, their own process group,
//! SIGKILL when the test process dies (`PR_SET_PDEATHSIG`), and SIGTERM-then-SIGKILL on stop.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked the child ends, not the process.
//! Tests start control planes from short-lived threads (each test's own thread, tokio's
//! blocking pool), so every child is forked by one long-lived spawner thread instead.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, tail_lines};

/// Proxy variables that must not reach the children: loopback traffic goes direct.
const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
];

/// How many log lines an error quotes.
pub(crate) const LOG_TAIL_LINES: usize = 40;

/// How much of the end of a log file is read to find its tail.
const LOG_TAIL_BYTES: u64 = 64 * 1024;

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

fn spawner() -> Option<&'static Mutex<mpsc::Sender<SpawnRequest>>> {
    static SPAWNER: OnceLock<Option<Mutex<mpsc::Sender<SpawnRequest>>>> = OnceLock::new();
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<SpawnRequest>();
            std::thread::Builder::new()
                .name("kkp-e2e-spawner".into())
                .spawn(move || {
                    for (mut command, reply) in rx {
                        // The requester may have given up; nothing to do then.
                        let _ = reply.send(command.spawn());
                    }
                })
                .ok()
                .map(|_| Mutex::new(tx))
        })
        .as_ref()
}

/// Spawns `command` from the long-lived spawner thread (falls back to this thread).
fn spawn_from_spawner(mut command: Command) -> std::io::Result<Child> {
    let Some(spawner) = spawner() else {
        return command.spawn();
    };
    let (reply_tx, reply_rx) = mpsc::channel();
    let sent = spawner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((command, reply_tx));
    match sent {
        Ok(()) => reply_rx
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the spawner thread is gone"))),
        Err(mpsc::SendError((mut command, _))) => command.spawn(),
    }
}

/// A running child process of the control plane.
#[derive(Debug)]
pub(crate) struct ManagedProcess {
    name: String,
    child: Child,
    log: PathBuf,
    exit: Option<ExitStatus>,
}

impl ManagedProcess {
    /// Starts `program args…` with stdout and stderr going to `log`.
    pub(crate) fn spawn<I, S>(name: &str, program: &Path, args: I, log: PathBuf) -> Result<Self, HarnessError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = File::create(&log).map_err(|e| HarnessError::io(format!("creating {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| HarnessError::io(format!("duplicating {}", log.display()), e))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        for var in PROXY_VARS {
            command.env_remove(var);
        }
        let parent = std::process::id();
        // SAFETY: only async-signal-safe libc calls run between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Own process group: a terminal's Ctrl-C goes to the test runner, whose
                // death then kills this child through the death signal below.
                if libc::setpgid(0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the death signal was armed.
                if libc::getppid() as u32 != parent {
                    return Err(std::io::Error::other("the test process exited during spawn"));
                }
                Ok(())
            });
        }
        tracing::debug!(name, program = %program.display(), log = %log.display(), "starting");
        let child = spawn_from_spawner(command)
            .map_err(|e| HarnessError::io(format!("starting {name} ({})", program.display()), e))?;
        Ok(Self {
            name: name.to_string(),
            child,
            log,
            exit: None,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn log_path(&self) -> &Path {
        &self.log
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of the log.
    pub(crate) fn log_tail(&self) -> String {
        read_log_tail(&self.log, LOG_TAIL_LINES)
    }

    /// An error describing the exit, if the process has exited.
    pub(crate) fn exited(&mut self) -> Option<HarnessError> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        let status = self.exit?;
        Some(HarnessError::ProcessExited {
            name: self.name.clone(),
            status: status.to_string(),
            log: self.log.clone(),
            log_tail: self.log_tail(),
        })
    }

    /// Sends SIGTERM to the process group, waits up to `grace`, then SIGKILLs it and reaps it.
    pub(crate) fn stop(&mut self, grace: Duration) {
        if self.exit.is_some() {
            return;
        }
        if let Ok(Some(status)) = self.child.try_wait() {
            self.exit = Some(status);
            return;
        }
        let group = -(self.child.id() as libc::pid_t);
        // SAFETY: plain kill(2) on the child's own process group.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(status);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.exit.is_none() {
            tracing::debug!(name = %self.name, "did not stop after SIGTERM; sending SIGKILL");
            // SAFETY: as above.
            unsafe { libc::kill(group, libc::SIGKILL) };
            self.exit = self.child.wait().ok();
        }
        tracing::debug!(name = %self.name, status = ?self.exit, "stopped");
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}

/// The last `lines` lines of a log file (reading at most its last 64 KiB).
pub(crate) fn read_log_tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(LOG_TAIL_BYTES);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    tail_lines(&String::from_utf8_lossy(&bytes), lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_goes_to_the_log_and_an_exit_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("sh.log");
        let mut p = ManagedProcess::spawn(
            "sh",
            Path::new("/bin/sh"),
            [
                "-c",
                "echo out; echo err >&2; echo \"proxy=${HTTPS_PROXY:-none}\"; exit 3",
            ],
            log.clone(),
        )
        .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        let err = loop {
            if let Some(err) = p.exited() {
                break err;
            }
            assert!(Instant::now() < deadline, "sh did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
        let text = err.to_string();
        assert!(text.contains("exit status: 3"), "{text}");
        assert!(text.contains("out") && text.contains("err"), "{text}");
        assert!(p.log_tail().contains("proxy=none"), "proxy variables are removed");
    }

    #[test]
    fn stop_terminates_a_running_process() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = ManagedProcess::spawn("sleep", Path::new("/bin/sleep"), ["600"], dir.path().join("sleep.log"))
            .expect("spawn");
        assert!(p.exited().is_none());
        let started = Instant::now();
        p.stop(Duration::from_secs(5));
        assert!(started.elapsed() < Duration::from_secs(5), "SIGTERM was enough");
        assert!(p.exited().is_some());
        // SAFETY: kill with signal 0 only checks whether the pid exists.
        let alive = unsafe { libc::kill(p.pid() as libc::pid_t, 0) } == 0;
        assert!(!alive, "the process is gone and reaped");
    }

    #[test]
    fn stop_kills_a_process_that_ignores_sigterm() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = ManagedProcess::spawn(
            "stubborn",
            Path::new("/bin/sh"),
            ["-c", "trap '' TERM; echo ready; while :; do sleep 1; done"],
            dir.path().join("stubborn.log"),
        )
        .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !p.log_tail().contains("ready") {
            assert!(Instant::now() < deadline, "the trap was never set");
            std::thread::sleep(Duration::from_millis(10));
        }
        p.stop(Duration::from_millis(200));
        assert!(p.exited().is_some_and(|e| e.to_string().contains("signal: 9")));
    }

    #[test]
    fn log_tail_of_a_missing_file_says_so() {
        assert!(read_log_tail(Path::new("/nonexistent/kkp.log"), 5).contains("no log"));
    }
}
