//! What hostile objects cost the running server, and how much memory it needs.
//!
//! 1. Each hostile shape of `support::hostile` at the apiserver's 3 MiB object limit, sent as an
//!    UPDATE review (object and oldObject, about 6 MiB) to both endpoints, and again as large as
//!    the server evaluates (under `--max-json-values`): the status and time to answer.
//! 2. `--max-concurrency` evaluated reviews of the heaviest shapes in flight at once, several rounds:
//!    the server's peak resident memory (VmHWM), the figure the Deployment's memory limit and the
//!    default `--max-concurrency` come from.
//!
//! Run with `cargo bench -p kkp-webhook --bench memory`. `KKP_MEMORY_CONCURRENCY` (default: the
//! server's default `--max-concurrency`) and `KKP_MEMORY_ROUNDS` (default 3) tune phase 2.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::http::StatusCode;
use kkp_webhook::config::{DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_JSON_VALUES};
use kkp_webhook::{MUTATE_PATH, VALIDATE_PATH};
use support::hostile::{APISERVER_MAX_OBJECT, Shape, object};
use support::{Client, Pki, client_config, tls_connect, update};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// An UPDATE review of `shape` with both objects of `size` bytes.
fn hostile_review(shape: Shape, size: usize, uid: &str) -> Bytes {
    let new = object(shape, size);
    let mut old = new.clone();
    old["metadata"]["resourceVersion"] = serde_json::json!("1");
    Bytes::from(update(uid, &new, &old).to_string())
}

/// The review of `shape` at the apiserver's limit, or as large as the server evaluates when that
/// holds more JSON values than it takes: the heaviest review of this shape that is evaluated.
fn heaviest_evaluated(shape: Shape, uid: &str) -> Bytes {
    let full = hostile_review(shape, APISERVER_MAX_OBJECT, uid);
    let values = kkp_webhook::body::json_values(&full);
    if values <= DEFAULT_MAX_JSON_VALUES {
        return full;
    }
    let size = APISERVER_MAX_OBJECT as f64 * DEFAULT_MAX_JSON_VALUES as f64 * 0.95 / values as f64;
    hostile_review(shape, size as usize, uid)
}

async fn connect(addr: std::net::SocketAddr, trust: Arc<rustls::ClientConfig>) -> Client {
    Client::http1(tls_connect(addr, trust).await.expect("TLS connect"))
        .await
        .expect("HTTP handshake")
}

fn main() {
    let concurrency: usize = env_or("KKP_MEMORY_CONCURRENCY", DEFAULT_MAX_CONCURRENCY as usize);
    let rounds: usize = env_or("KKP_MEMORY_ROUNDS", 3);
    let pki = Pki::new("memory-ca");
    let server = support::process::start(&pki, &[format!("--max-concurrency={concurrency}")]);
    let trust = client_config(&[&pki.ca_pem()], &[b"http/1.1"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "kkp-webhook hostile reviews: objects of {} bytes, UPDATE (object and oldObject), {} cores",
        APISERVER_MAX_OBJECT,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let (idle_hwm, _) = server.memory_kib();
    runtime.block_on(async {
        let mut client = connect(server.tls, trust.clone()).await;
        let mut slowest = Vec::new();
        for (shape, body) in Shape::ALL.into_iter().flat_map(|shape| {
            [
                (shape, hostile_review(shape, APISERVER_MAX_OBJECT, "hostile")),
                (shape, heaviest_evaluated(shape, "hostile")),
            ]
        }) {
            for path in [VALIDATE_PATH, MUTATE_PATH] {
                let started = Instant::now();
                let (status, answer) = client.post(path, body.clone()).await.expect("an answer");
                let took = started.elapsed();
                let reply: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
                println!(
                    "  {:<18} {:<9} {:>5} KiB body: {} in {:>8.1} ms, allowed {}, answer {} bytes",
                    shape.name(),
                    path,
                    body.len() / 1024,
                    status.as_u16(),
                    took.as_secs_f64() * 1000.0,
                    reply["response"]["allowed"],
                    answer.len()
                );
                if status == StatusCode::OK {
                    slowest.push((took, shape));
                }
            }
        }
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        let heaviest: Vec<Shape> = slowest.iter().map(|(_, s)| *s).take(3).collect();

        // Phase 2: the permitted number of the heaviest reviews in flight at once.
        let bodies: Vec<Bytes> = heaviest.iter().map(|s| heaviest_evaluated(*s, "memory")).collect();
        let started = Instant::now();
        let (mut answered, mut refused) = (0usize, 0usize);
        for _ in 0..rounds {
            let mut tasks = Vec::new();
            for i in 0..concurrency {
                let (trust, body) = (trust.clone(), bodies[i % bodies.len()].clone());
                let addr = server.tls;
                tasks.push(tokio::spawn(async move {
                    let mut client = connect(addr, trust).await;
                    let path = if i % 2 == 0 { VALIDATE_PATH } else { MUTATE_PATH };
                    client.post(path, body).await.map(|(s, _)| s)
                }));
            }
            for t in tasks {
                match t.await.expect("a task") {
                    Ok(StatusCode::OK) => answered += 1,
                    _ => refused += 1,
                }
            }
        }
        let (hwm, rss) = server.memory_kib();
        println!(
            "{concurrency} reviews at once ({:?}), {rounds} rounds in {:.1}s: {answered} answered, {refused} not (timeouts)",
            heaviest.iter().map(|s| s.name()).collect::<Vec<_>>(),
            started.elapsed().as_secs_f64()
        );
        println!(
            "server memory: idle peak {:.1} MiB, peak RSS (VmHWM) {:.1} MiB, current RSS {:.1} MiB",
            idle_hwm as f64 / 1024.0,
            hwm as f64 / 1024.0,
            rss as f64 / 1024.0
        );
    });
}
