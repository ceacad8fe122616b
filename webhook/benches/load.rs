//! Load benchmark: starts the built `kkp-webhook` binary on loopback with a generated certificate,
//! drives it over keep-alive TLS with real AdmissionReviews (mutate and validate, Cluster and
//! MachineDeployment, CREATE and UPDATE), and reports
//!
//! - throughput in a closed loop with N connections,
//! - p50/p99/p99.9 latency at a fixed open-loop rate (measured from each request's scheduled send
//!   time, so a stall is not hidden by the sender waiting for it),
//! - the same closed loop against a minimal axum + rustls server that only echoes the body: a
//!   floor for what TLS and HTTP cost (target: a review at most 3x an echo). The echo runs as a
//!   process of its own with its own runtime, as the webhook does (this executable started again
//!   with `KKP_LOAD_ECHO_SERVER` set), in rounds that alternate with the webhook's
//!   (`KKP_LOAD_ROUNDS`, default 3; the median ratio is the figure), each also reporting the
//!   server CPU time per request of both, and, for comparison, inside the load generator's process,
//! - p99 latency at a steady 500 reviews/s while one hostile review (a 3 MiB UPDATE) a second is
//!   also sent,
//! - the server's peak resident memory (VmHWM of the child process).
//!
//! Run with `cargo bench -p kkp-webhook --bench load`. Every phase is bounded in time and count;
//! tune with `KKP_LOAD_CONNECTIONS` (default 32), `KKP_LOAD_SECONDS` (per phase, default 5),
//! `KKP_LOAD_MAX_REVIEWS` (closed-loop cap, default 200000), `KKP_LOAD_RATE` (default 1000/s) and
//! `KKP_LOAD_LOG` (the server's RUST_LOG, default `info`; logs go to /dev/null),
//! `KKP_LOAD_MIX` (`machinedeployment`: only a typical MachineDeployment's reviews, the payload
//! of the 3x-echo target; default: Clusters and MachineDeployments), and `KKP_LOAD_POLICIES`
//! (default 0): install that many varied admission policies (the engine benchmark's set, from a
//! `--policy-file`) to measure their cost at admission. `KKP_WEBHOOK_BINARY` runs another build of
//! the server (an earlier commit's, say) under the same load.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../../crds/benches/fixtures/policies.rs"]
mod policy_fixtures;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use kkp_crds::admission;
use kkp_crds::context::Context;
use kkp_crds::request::Request;
use kkp_webhook::{MUTATE_PATH, VALIDATE_PATH};
use support::process::ServerProcess;
use support::{Client, Pki, client_config, cluster, create, machine_deployment, tls_connect, update};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The request mix: (path, body).
fn payloads() -> Vec<(&'static str, Bytes)> {
    let ctx = Context::default();
    let defaulted = |o: &serde_json::Value| {
        admission::mutate(&Request::create(o), &ctx)
            .object
            .expect("defaultable")
    };
    let (c, md) = (cluster(), machine_deployment());
    let (dc, dmd) = (defaulted(&c), defaulted(&md));
    let mut scaled = dmd.clone();
    scaled["spec"]["replicas"] = serde_json::json!(5);
    let body = |v: serde_json::Value| Bytes::from(v.to_string());
    let machine_deployments = vec![
        (MUTATE_PATH, body(create("load-3", &md))),
        (VALIDATE_PATH, body(create("load-4", &dmd))),
        (VALIDATE_PATH, body(update("load-5", &scaled, &dmd))),
    ];
    if std::env::var("KKP_LOAD_MIX").as_deref() == Ok("machinedeployment") {
        return machine_deployments;
    }
    let mut all = vec![
        (MUTATE_PATH, body(create("load-1", &c))),
        (VALIDATE_PATH, body(create("load-2", &dc))),
        (MUTATE_PATH, body(update("load-6", &dc, &dc))),
    ];
    all.extend(machine_deployments);
    all
}

/// One round of the webhook against the echo: closed-loop throughputs and the server CPU time
/// each spent per request (user and system, from `/proc`).
struct Comparison {
    webhook: f64,
    echo: f64,
    review_cpu: Option<Duration>,
    echo_cpu: Option<Duration>,
}

impl Comparison {
    /// How many echoes the machine answers in the time of one review.
    fn cost(&self) -> f64 {
        self.echo / self.webhook
    }

    /// How much more server CPU a review takes than an echo.
    fn cpu_cost(&self) -> Option<f64> {
        Some(self.review_cpu?.as_secs_f64() / self.echo_cpu?.as_secs_f64())
    }
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "webhook {:.0} reviews/s, echo {:.0}/s, {:.2}x",
            self.webhook,
            self.echo,
            self.cost()
        )?;
        if let (Some(review), Some(echo), Some(cost)) = (self.review_cpu, self.echo_cpu, self.cpu_cost()) {
            write!(
                f,
                "; server CPU per request {:.1} µs vs {:.1} µs, {cost:.2}x",
                review.as_secs_f64() * 1e6,
                echo.as_secs_f64() * 1e6
            )?;
        }
        Ok(())
    }
}

/// The CPU time process `pid` spent per request of `phase`, from its CPU time `before` it.
fn cpu_per_request(pid: u32, before: Option<Duration>, phase: &Phase) -> Option<Duration> {
    let spent = support::process::cpu_time(pid)?.checked_sub(before?)?;
    let requests = u32::try_from(phase.latencies.len()).ok().filter(|&n| n > 0)?;
    Some(spent / requests)
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The built server on loopback (see `support::process`), with `KKP_LOAD_POLICIES` admission
/// policies from a `--policy-file` in `dir` when asked for.
fn start_server(pki: &Pki, dir: &std::path::Path) -> ServerProcess {
    let mut args = Vec::new();
    let policies: usize = env_or("KKP_LOAD_POLICIES", 0);
    if policies > 0 {
        let file = dir.join("policies.yaml");
        std::fs::write(&file, policy_fixtures::policies_yaml(policies)).expect("the policy file is written");
        args.push(format!("--policy-file={}", file.display()));
    }
    support::process::start(pki, &args)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Phase {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Phase {
    /// Waits for every load task and adds up their latencies and errors; `elapsed` is read once
    /// they are all done.
    async fn collect(
        tasks: Vec<tokio::task::JoinHandle<(Vec<Duration>, usize)>>,
        elapsed: impl FnOnce() -> Duration,
    ) -> Phase {
        let mut phase = Phase {
            latencies: Vec::new(),
            errors: 0,
            elapsed: Duration::ZERO,
        };
        for t in tasks {
            let (l, e) = t.await.expect("a load task");
            phase.latencies.extend(l);
            phase.errors += e;
        }
        phase.elapsed = elapsed();
        phase
    }

    fn report(&mut self, name: &str) {
        self.latencies.sort();
        let n = self.latencies.len();
        println!(
            "{name}: {n} reviews in {:.2}s = {:.0} reviews/s, errors {}, latency p50 {:?} p99 {:?} p99.9 {:?} max {:?}",
            self.elapsed.as_secs_f64(),
            n as f64 / self.elapsed.as_secs_f64(),
            self.errors,
            percentile(&self.latencies, 50.0),
            percentile(&self.latencies, 99.0),
            percentile(&self.latencies, 99.9),
            self.latencies.last().copied().unwrap_or_default(),
        );
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

async fn connect(addr: SocketAddr, trust: Arc<rustls::ClientConfig>) -> Client {
    Client::http1(tls_connect(addr, trust).await.expect("TLS connect"))
        .await
        .expect("HTTP handshake")
}

async fn send(client: &mut Client, payload: &(&'static str, Bytes)) -> bool {
    match client.post(payload.0, payload.1.clone()).await {
        Ok((StatusCode::OK, body)) => {
            body.windows(14).any(|w| w == b"\"allowed\":true") || body.len() == payload.1.len()
        }
        _ => false,
    }
}

/// A minimal axum + rustls server that answers every POST with its body, on the same connection
/// builder as the webhook: a floor for the cost of TLS and HTTP. Serves `listener` on the current
/// runtime.
fn serve_echo(cert: &str, key: &str, listener: tokio::net::TcpListener) {
    use axum::routing::post;
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use rustls::pki_types::pem::PemObject;

    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("a certificate");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("a key");
    let mut config = rustls::ServerConfig::builder_with_provider(kkp_webhook::tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a TLS configuration");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let app = axum::Router::new().route(VALIDATE_PATH, post(|body: Bytes| async move { body }));
    tokio::spawn(async move {
        let builder = kkp_webhook::connection::builder();
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let (acceptor, builder, app) = (acceptor.clone(), builder.clone(), app.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    let _ = builder
                        .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                        .await;
                }
            });
        }
    });
}

/// The echo server inside this (the load generator's) process, sharing its runtime.
async fn echo_in_process(pki: &Pki) -> SocketAddr {
    let (cert, key) = pki.serving("serving-echo");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("an address");
    serve_echo(&cert, &key, listener);
    addr
}

/// Set in the environment of this benchmark's own executable when it runs as the echo server
/// (the certificate and key files, separated by a newline).
const ECHO_CHILD_ENV: &str = "KKP_LOAD_ECHO_SERVER";

/// The echo server as a process of its own with its own multi-threaded runtime, like the
/// webhook: the same process topology, so the comparison measures the review and nothing else.
struct EchoProcess {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl EchoProcess {
    fn start(pki: &Pki) -> EchoProcess {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (cert, key) = pki.serving("serving-echo");
        let (cert_path, key_path) = support::write_files(dir.path(), &cert, &key);
        let mut child = std::process::Command::new(std::env::current_exe().expect("this executable"))
            .env(
                ECHO_CHILD_ENV,
                format!("{}\n{}", cert_path.display(), key_path.display()),
            )
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the echo server starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut line)
            .expect("the echo server names its address");
        let addr = line.trim().parse().expect("an address");
        EchoProcess { child, addr, _dir: dir }
    }
}

impl Drop for EchoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of the echo child: serve until killed.
fn run_echo_child(files: &str) -> ! {
    let (cert_path, key_path) = files.split_once('\n').expect("certificate and key paths");
    let cert = std::fs::read_to_string(cert_path).expect("the certificate");
    let key = std::fs::read_to_string(key_path).expect("the key");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        println!("{}", listener.local_addr().expect("an address"));
        serve_echo(&cert, &key, listener);
        std::future::pending::<()>().await;
    });
    unreachable!("the echo server serves until it is killed")
}

/// One hostile UPDATE review per second (both objects at the apiserver's 3 MiB) on a connection
/// of its own until `stop`; returns how many were answered with 200 and how many otherwise.
async fn hostile_sender(addr: SocketAddr, trust: Arc<rustls::ClientConfig>, stop: Arc<AtomicBool>) -> (usize, usize) {
    let shape = support::hostile::Shape::HugeMap;
    let object = support::hostile::object(shape, support::hostile::APISERVER_MAX_OBJECT);
    let body = Bytes::from(update("hostile", &object, &object).to_string());
    let (mut answered, mut other) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let mut client = connect(addr, trust.clone()).await;
        match client.post(VALIDATE_PATH, body.clone()).await {
            Ok((StatusCode::OK, _)) => answered += 1,
            _ => other += 1,
        }
    }
    (answered, other)
}

/// As many reviews as `connections` keep-alive connections can get answered, each sending its next
/// request when the previous answer arrives.
async fn closed_loop(
    addr: SocketAddr,
    trust: Arc<rustls::ClientConfig>,
    payloads: Arc<Vec<(&'static str, Bytes)>>,
    connections: usize,
    duration: Duration,
    max_reviews: usize,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (trust, payloads, stop, sent) = (trust.clone(), payloads.clone(), stop.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = connect(addr, trust).await;
            let (mut latencies, mut errors) = (Vec::new(), 0);
            let mut i = c;
            while !stop.load(Ordering::Relaxed) && sent.fetch_add(1, Ordering::Relaxed) < max_reviews {
                let t = Instant::now();
                let ok = send(&mut client, &payloads[i % payloads.len()]).await;
                latencies.push(t.elapsed());
                errors += usize::from(!ok);
                i += 1;
            }
            (latencies, errors)
        }));
    }
    let deadline = started + duration;
    while Instant::now() < deadline && sent.load(Ordering::Relaxed) < max_reviews {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    Phase::collect(tasks, || started.elapsed()).await
}

/// `rate` reviews per second for `duration`, spread over `connections` connections; each latency
/// is measured from the moment the request was due when the connection was still busy with an
/// earlier answer then (so a stall counts against every request it delays), and otherwise from
/// the moment it was sent (so the client's timer granularity does not count).
async fn open_loop(
    addr: SocketAddr,
    trust: Arc<rustls::ClientConfig>,
    payloads: Arc<Vec<(&'static str, Bytes)>>,
    connections: usize,
    rate: f64,
    duration: Duration,
) -> Phase {
    let total = (rate * duration.as_secs_f64()) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(connect(addr, trust.clone()).await);
    }
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::new();
    for (c, mut client) in clients.into_iter().enumerate() {
        let payloads = payloads.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            for k in (c..total).step_by(connections) {
                let due = start + interval * k as u32;
                let sent = if tokio::time::Instant::now() >= due {
                    due
                } else {
                    tokio::time::sleep_until(due).await;
                    tokio::time::Instant::now()
                };
                let ok = send(&mut client, &payloads[k % payloads.len()]).await;
                latencies.push(sent.elapsed());
                errors += usize::from(!ok);
            }
            (latencies, errors)
        }));
    }
    Phase::collect(tasks, || start.elapsed()).await
}

fn main() {
    if let Ok(files) = std::env::var(ECHO_CHILD_ENV) {
        run_echo_child(&files);
    }
    let connections: usize = env_or("KKP_LOAD_CONNECTIONS", 32);
    let seconds: f64 = env_or("KKP_LOAD_SECONDS", 5.0);
    let max_reviews: usize = env_or("KKP_LOAD_MAX_REVIEWS", 200_000);
    let rate: f64 = env_or("KKP_LOAD_RATE", 1000.0);
    let phase_time = Duration::from_secs_f64(seconds);

    let pki = Pki::new("load-ca");
    let policy_dir = tempfile::tempdir().expect("a temporary directory");
    let server = start_server(&pki, policy_dir.path());
    let pid = server.child.id();
    let trust = client_config(&[&pki.ca_pem()], &[b"http/1.1"]);
    let payloads = Arc::new(payloads());
    println!(
        "kkp-webhook load: pid {pid}, {connections} connections, {seconds}s per phase, {} payloads, {} policies, {} cores",
        payloads.len(),
        env_or::<usize>("KKP_LOAD_POLICIES", 0),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut warmup = closed_loop(
            server.tls,
            trust.clone(),
            payloads.clone(),
            4,
            Duration::from_secs(1),
            20_000,
        )
        .await;
        warmup.report("warm-up");
        assert_eq!(warmup.errors, 0, "the warm-up saw failed reviews");

        let mut closed = closed_loop(
            server.tls,
            trust.clone(),
            payloads.clone(),
            connections,
            phase_time,
            max_reviews,
        )
        .await;
        closed.report(&format!("closed loop, {connections} connections"));

        let mut open = open_loop(server.tls, trust.clone(), payloads.clone(), 8, rate, phase_time).await;
        open.report(&format!("open loop, {rate:.0}/s over 8 connections"));

        let (before_hostile, _) = server.memory_kib();

        // The floor: the same closed loop against a server that only echoes the body, as a process
        // of its own (like the webhook), in rounds that alternate with the webhook's so that both
        // see the same machine (steal time here drifts over seconds); then once inside this process.
        let echo_payloads: Arc<Vec<(&'static str, Bytes)>> =
            Arc::new(payloads.iter().map(|(_, b)| (VALIDATE_PATH, b.clone())).collect());
        let echo_process = EchoProcess::start(&pki);
        let rounds: usize = env_or("KKP_LOAD_ROUNDS", 3).max(1);
        let mut comparisons = Vec::new();
        for round in 1..=rounds {
            let review_cpu = support::process::cpu_time(pid);
            let mut webhook = closed_loop(server.tls, trust.clone(), payloads.clone(), connections, phase_time, max_reviews).await;
            let review_cpu = cpu_per_request(pid, review_cpu, &webhook);
            webhook.report(&format!("round {round}: webhook, closed loop, {connections} connections"));
            let echo_pid = echo_process.child.id();
            let echo_cpu = support::process::cpu_time(echo_pid);
            let mut echoed = closed_loop(
                echo_process.addr,
                trust.clone(),
                echo_payloads.clone(),
                connections,
                phase_time,
                max_reviews,
            )
            .await;
            let echo_cpu = cpu_per_request(echo_pid, echo_cpu, &echoed);
            echoed.report(&format!(
                "round {round}: echo (axum + rustls, body back, own process), closed loop, {connections} connections"
            ));
            let comparison = Comparison {
                webhook: webhook.throughput(),
                echo: echoed.throughput(),
                review_cpu,
                echo_cpu,
            };
            println!("round {round}: {comparison}");
            comparisons.push(comparison);
        }
        drop(echo_process);
        let echo = echo_in_process(&pki).await;
        let mut echoed_here = closed_loop(echo, trust.clone(), echo_payloads, connections, phase_time, max_reviews).await;
        echoed_here.report(&format!(
            "echo (axum + rustls, body back, in the load generator's process), closed loop, {connections} connections"
        ));

        // A steady 500 reviews/s while one hostile 3 MiB review a second is also sent.
        let steady = 500.0;
        let stop = Arc::new(AtomicBool::new(false));
        let hostile = tokio::spawn(hostile_sender(server.tls, trust.clone(), stop.clone()));
        let mut under_attack = open_loop(server.tls, trust.clone(), payloads.clone(), 8, steady, phase_time).await;
        stop.store(true, Ordering::Relaxed);
        let (hostile_ok, hostile_other) = hostile.await.expect("the hostile sender");
        under_attack.report(&format!(
            "open loop, {steady:.0}/s over 8 connections, with 1 hostile 3 MiB review/s ({hostile_ok} answered, {hostile_other} not)"
        ));

        let (hwm, rss) = server.memory_kib();
        println!(
            "server memory: peak RSS (VmHWM) {:.1} MiB, current RSS {:.1} MiB",
            hwm as f64 / 1024.0,
            rss as f64 / 1024.0
        );

        let p99 = percentile(&open.latencies, 99.0);
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        println!("targets:");
        let cost = median(comparisons.iter().map(Comparison::cost).collect());
        let cpu_cost = median(comparisons.iter().filter_map(Comparison::cpu_cost).collect());
        let middle = comparisons
            .iter()
            .min_by(|a, b| (a.cost() - cost).abs().total_cmp(&(b.cost() - cost).abs()))
            .expect("at least one round");
        println!(
            "  a review costs <= 3x an echo (median of {rounds} alternating rounds): webhook {:.0} reviews/s, echo {:.0}/s, {cost:.2}x ({}); server CPU per request {cpu_cost:.2}x",
            middle.webhook,
            middle.echo,
            verdict(cost <= 3.0)
        );
        println!(
            "  (against the echo inside the load generator, which saves the cross-process hand-offs: {:.0}/s, {:.2}x)",
            echoed_here.throughput(),
            echoed_here.throughput() / middle.webhook
        );
        println!(
            "  p99 at {steady:.0}/s with hostile reviews: {:?}",
            percentile(&under_attack.latencies, 99.0)
        );
        println!(
            "  throughput >= 10000 reviews/s: {:.0} ({})",
            closed.throughput(),
            verdict(closed.throughput() >= 10_000.0)
        );
        println!(
            "  p99 < 2 ms at {rate:.0}/s: {p99:?} ({})",
            verdict(p99 < Duration::from_millis(2))
        );
        println!(
            "  peak RSS < 50 MiB before the hostile reviews: {:.1} MiB ({})",
            before_hostile as f64 / 1024.0,
            verdict(before_hostile < 50 * 1024)
        );
        println!(
            "  failed reviews: {} ({})",
            closed.errors + open.errors,
            verdict(closed.errors + open.errors == 0)
        );
    });
}
