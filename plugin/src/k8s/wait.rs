//! Waiting for a cluster to reach a state, with progress on stderr: one line each time the
//! observed state changes, and on a terminal a spinner with the elapsed time below them.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A wait (`--wait`) that ran out of time. Waits return it inside their `anyhow::Error`; the
/// program exits 124 for it.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {after:?} waiting for {what}")]
pub struct WaitTimeout {
    pub what: String,
    pub after: std::time::Duration,
}

/// The result of one look at the thing waited for.
#[derive(Debug)]
pub enum Poll<T> {
    Ready(T),
    /// Not there yet; the text describes what was seen (`phase Creating, apiserver Provisioning`).
    Pending(String),
}

/// One `--timeout` shared by every step of a command.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    started: Instant,
    timeout: Duration,
}

impl Deadline {
    pub fn new(timeout: Duration) -> Self {
        Deadline {
            started: Instant::now(),
            timeout,
        }
    }

    pub fn expired(&self) -> bool {
        self.started.elapsed() >= self.timeout
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Progress lines for one wait.
pub struct Progress<W: Write> {
    out: W,
    tty: bool,
    started: Instant,
    label: String,
    last: Option<String>,
    frame: usize,
    spinner_visible: bool,
}

impl Progress<std::io::Stderr> {
    /// Progress on stderr; the spinner only when stderr is a terminal.
    pub fn stderr(label: impl Into<String>) -> Self {
        let err = std::io::stderr();
        let tty = err.is_terminal();
        Progress::new(err, tty, label)
    }
}

impl<W: Write> Progress<W> {
    pub fn new(out: W, tty: bool, label: impl Into<String>) -> Self {
        Progress {
            out,
            tty,
            started: Instant::now(),
            label: label.into(),
            last: None,
            frame: 0,
            spinner_visible: false,
        }
    }

    /// Changes what the lines are about (`waiting for cluster "x"` → `applying machine deployments`).
    pub fn relabel(&mut self, label: impl Into<String>) {
        self.label = label.into();
        self.last = None;
    }

    /// Reports the observed state; prints a line only when it differs from the last one.
    pub fn state(&mut self, state: &str) {
        if self.last.as_deref() == Some(state) {
            return;
        }
        self.last = Some(state.to_owned());
        let line = format!("{}: {state}", self.label);
        self.line(&line);
    }

    /// Prints a line whatever the state.
    pub fn note(&mut self, line: &str) {
        self.line(line);
    }

    fn line(&mut self, line: &str) {
        self.clear_spinner();
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    /// Redraws the spinner (terminal only).
    pub fn tick(&mut self) {
        if !self.tty {
            return;
        }
        self.frame = (self.frame + 1) % SPINNER.len();
        let elapsed = super::duration::format(Duration::from_secs(self.started.elapsed().as_secs()));
        let state = self.last.as_deref().unwrap_or("starting");
        let _ = write!(
            self.out,
            "\r\x1b[2K{} {}: {state} ({elapsed})",
            SPINNER[self.frame], self.label
        );
        let _ = self.out.flush();
        self.spinner_visible = true;
    }

    fn clear_spinner(&mut self) {
        if self.spinner_visible {
            let _ = write!(self.out, "\r\x1b[2K");
            self.spinner_visible = false;
        }
    }

    /// Removes the spinner line.
    pub fn finish(&mut self) {
        self.clear_spinner();
        let _ = self.out.flush();
    }

    /// The last state reported.
    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }

    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Calls `probe` every `interval` until it is ready, fails, or the deadline passes. With a zero
/// timeout it looks once. On timeout the error is a [`WaitTimeout`] naming `what` and the last
/// state seen, so the command exits with code 124.
pub async fn poll<T, W, F, Fut>(
    progress: &mut Progress<W>,
    deadline: Deadline,
    interval: Duration,
    what: &str,
    mut probe: F,
) -> anyhow::Result<T>
where
    W: Write,
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Poll<T>>>,
{
    const TICK: Duration = Duration::from_millis(120);
    loop {
        match probe().await {
            Ok(Poll::Ready(value)) => {
                progress.finish();
                return Ok(value);
            }
            Ok(Poll::Pending(state)) => progress.state(&state),
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        }
        if deadline.expired() {
            progress.finish();
            let last = progress.last().unwrap_or("nothing observed yet").to_owned();
            return Err(WaitTimeout {
                what: format!("{what} (last seen: {last})"),
                after: deadline.timeout(),
            }
            .into());
        }
        let wake = Instant::now() + interval;
        while Instant::now() < wake && !deadline.expired() {
            progress.tick();
            let step = wake.saturating_duration_since(Instant::now()).min(TICK);
            tokio::time::sleep(step).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_printed_only_when_the_state_changes() {
        let mut p = Progress::new(Vec::new(), false, "waiting for cluster \"x\"");
        p.state("phase Creating");
        p.state("phase Creating");
        p.tick();
        p.state("phase Running");
        let text = String::from_utf8(p.into_inner()).expect("utf8");
        assert_eq!(
            text,
            "waiting for cluster \"x\": phase Creating\nwaiting for cluster \"x\": phase Running\n"
        );
    }

    #[test]
    fn a_terminal_gets_a_spinner_that_lines_clear() {
        let mut p = Progress::new(Vec::new(), true, "w");
        p.state("a");
        p.tick();
        p.state("b");
        p.finish();
        let text = String::from_utf8(p.into_inner()).expect("utf8");
        assert!(text.contains("w: a (0s)"), "{text:?}");
        assert!(text.contains("\r\x1b[2Kw: b\n"), "{text:?}");
        assert!(text.ends_with("w: b\n"), "{text:?}");
    }

    #[tokio::test]
    async fn a_timeout_names_what_was_awaited_and_the_last_state() {
        let mut p = Progress::new(Vec::new(), false, "w");
        let deadline = Deadline::new(Duration::from_millis(50));
        let err = poll(
            &mut p,
            deadline,
            Duration::from_millis(10),
            "cluster \"x\" to be Running",
            || async { Ok(Poll::<()>::Pending("phase Creating".into())) },
        )
        .await
        .expect_err("times out");
        let timeout = err.downcast_ref::<WaitTimeout>().expect("a WaitTimeout");
        assert!(timeout.what.contains("cluster \"x\" to be Running"), "{}", timeout.what);
        assert!(timeout.what.contains("last seen: phase Creating"), "{}", timeout.what);
    }

    #[tokio::test]
    async fn ready_returns_the_value_and_errors_stop_the_wait() {
        let mut p = Progress::new(Vec::new(), false, "w");
        let mut n = 0;
        let got = poll(
            &mut p,
            Deadline::new(Duration::from_secs(5)),
            Duration::from_millis(1),
            "x",
            || {
                n += 1;
                let ready = n >= 3;
                async move {
                    Ok(if ready {
                        Poll::Ready(7)
                    } else {
                        Poll::Pending(format!("try {n}"))
                    })
                }
            },
        )
        .await
        .expect("ready");
        assert_eq!(got, 7);
        let err = poll(
            &mut p,
            Deadline::new(Duration::from_secs(5)),
            Duration::from_millis(1),
            "x",
            || async { Err::<Poll<()>, _>(anyhow::anyhow!("gone")) },
        )
        .await
        .expect_err("fails");
        assert_eq!(err.to_string(), "gone");
    }
}
