//! The whole server over real TLS on loopback: HTTP/1.1 keep-alive and HTTP/2, the health port,
//! certificate reload through a Secret-style symlink swap under load, graceful shutdown, garbage
//! on the wire, and the binary itself (flags, JSON logs, SIGTERM).

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use kkp_webhook::{Config, MUTATE_PATH, Server, VALIDATE_PATH};
use serde_json::{Value, json};
use support::running::Running;
use support::{
    Client, Pki, client_config, cluster, create, defaulted, defaulted_cluster, http_get, machine_deployment,
    peer_common_name, tls_connect,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start(tune: impl FnOnce(&mut Config)) -> Running {
    Running::start("test-ca-1", "serving-1", tune).await
}

#[tokio::test]
async fn reviews_over_http1_keep_alive() {
    let r = start(|_| {}).await;
    let mut client = r.client().await;
    for i in 0..5 {
        let uid = format!("keep-alive-{i}");
        let (status, answer) = client.review(MUTATE_PATH, &create(&uid, &cluster())).await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["response"]["uid"], uid.as_str());
        assert_eq!(answer["response"]["allowed"], true);
        assert_eq!(answer["response"]["patchType"], "JSONPatch");
    }
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn reviews_over_http2() {
    let r = start(|_| {}).await;
    let stream = tls_connect(r.server.tls_addr(), r.trust(&[b"h2"])).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let client = Client::http2(stream).await.unwrap();
    let Client::Http2(sender) = client else { unreachable!() };
    // Several streams at once on the one connection.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let mut c = Client::Http2(sender.clone());
        tasks.push(tokio::spawn(async move {
            let uid = format!("h2-{i}");
            let (status, answer) = c
                .review(VALIDATE_PATH, &create(&uid, &defaulted(&machine_deployment())))
                .await
                .unwrap();
            assert_eq!(status, StatusCode::OK);
            assert_eq!(answer["response"]["uid"], uid.as_str());
            assert_eq!(answer["response"]["allowed"], true, "{answer}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_health_port_serves_probes_and_metrics() {
    let r = start(|_| {}).await;
    let mut client = r.client().await;
    client
        .review(VALIDATE_PATH, &create("h", &defaulted_cluster()))
        .await
        .unwrap();
    let health = r.server.health_addr();
    assert_eq!(http_get(health, "/healthz").await.0, StatusCode::OK);
    assert_eq!(http_get(health, "/readyz").await.0, StatusCode::OK);
    let (status, metrics) = http_get(health, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains(r#"kkp_webhook_admission_requests_total{kind="Cluster",operation="CREATE",endpoint="validate",result="allowed"} 1"#),
        "{metrics}"
    );
    // The review endpoints are not on the plain port, nor the probes on the TLS port.
    assert_eq!(http_get(health, VALIDATE_PATH).await.0, StatusCode::NOT_FOUND);
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_certificate_is_reloaded_after_a_secret_symlink_swap_without_failed_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (old_pki, new_pki) = (Pki::new("test-ca-1"), Pki::new("test-ca-2"));
    let (cert1, key1) = old_pki.serving("serving-1");
    let (cert_path, key_path) = support::write_secret_volume(dir.path(), "2026_01_01_00_00_00.1", &cert1, &key1);
    let mut config = Config::for_loopback(&cert_path, &key_path);
    config.cert_reload_interval = Duration::from_millis(50);
    let server = Server::bind(config).await.unwrap();
    let addr = server.tls_addr();
    let trust = client_config(&[&old_pki.ca_pem(), &new_pki.ca_pem()], &[b"http/1.1"]);

    // A keep-alive connection opened before the swap must keep working after it.
    let mut long_lived = Client::http1(tls_connect(addr, trust.clone()).await.unwrap())
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..4 {
        let (trust, stop, failures) = (trust.clone(), stop.clone(), failures.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                // A fresh connection (and handshake) for every request, to see the swap.
                let outcome = async {
                    let stream = tls_connect(addr, trust.clone()).await.map_err(|e| e.to_string())?;
                    let cn = peer_common_name(&stream);
                    let mut client = Client::http1(stream).await.map_err(|e| e.to_string())?;
                    let uid = format!("reload-{c}-{n}");
                    let (status, answer) = client
                        .review(VALIDATE_PATH, &create(&uid, &defaulted_cluster()))
                        .await
                        .map_err(|e| e.to_string())?;
                    if status != StatusCode::OK || answer["response"]["uid"] != uid.as_str() {
                        return Err(format!("bad answer {status}: {answer}"));
                    }
                    Ok::<_, String>(cn)
                }
                .await;
                match outcome {
                    Ok(cn) => seen.push(cn),
                    Err(e) => {
                        eprintln!("request failed: {e}");
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            seen
        }));
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    let (cert2, key2) = new_pki.serving("serving-2");
    support::write_secret_volume(dir.path(), "2026_02_01_00_00_00.2", &cert2, &key2);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stream = tls_connect(addr, trust.clone()).await.unwrap();
        if peer_common_name(&stream) == "serving-2" {
            break;
        }
        assert!(Instant::now() < deadline, "the new certificate was never served");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut seen = Vec::new();
    for c in clients {
        seen.extend(c.await.unwrap());
    }
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "no request may fail during the swap"
    );
    assert!(
        seen.iter().any(|cn| cn == "serving-1"),
        "requests were served before the swap"
    );
    assert!(
        seen.iter().any(|cn| cn == "serving-2"),
        "requests were served after the swap"
    );
    assert!(seen.len() > 20, "the clients kept requesting: {}", seen.len());

    let (status, _) = long_lived
        .review(VALIDATE_PATH, &create("long-lived", &defaulted_cluster()))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);

    let (_, metrics) = http_get(server.health_addr(), "/metrics").await;
    assert!(
        metrics.contains(r#"kkp_webhook_certificate_reloads_total{result="loaded"} 1"#),
        "{metrics}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_broken_certificate_keeps_the_old_one_serving() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("test-ca-1");
    let (cert1, key1) = pki.serving("serving-1");
    let (cert_path, key_path) = support::write_files(dir.path(), &cert1, &key1);
    let mut config = Config::for_loopback(&cert_path, &key_path);
    config.cert_reload_interval = Duration::from_millis(50);
    let server = Server::bind(config).await.unwrap();
    // A new certificate with the old key: the key check refuses it.
    let (cert2, _) = pki.serving("serving-2");
    std::fs::write(&cert_path, cert2).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, metrics) = http_get(server.health_addr(), "/metrics").await;
        if metrics.contains(r#"kkp_webhook_certificate_reloads_total{result="failed"} 1"#) {
            break;
        }
        assert!(Instant::now() < deadline, "the broken certificate was never noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stream = tls_connect(server.tls_addr(), client_config(&[&pki.ca_pem()], &[b"http/1.1"]))
        .await
        .unwrap();
    assert_eq!(peer_common_name(&stream), "serving-1");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_server_refuses_to_start_without_a_valid_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Config::for_loopback(dir.path().join("nope.crt"), dir.path().join("nope.key"));
    let err = Server::bind(missing).await.unwrap_err();
    assert!(err.to_string().contains("nope.crt"), "{err}");

    let (cert, key) = support::write_files(dir.path(), "not a certificate", "not a key");
    let err = Server::bind(Config::for_loopback(cert, key)).await.unwrap_err();
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

/// Writes a raw HTTP/1.1 request over TLS in two halves, so it is in flight across a shutdown.
#[tokio::test]
async fn graceful_shutdown_lets_in_flight_requests_finish() {
    let r = start(|_| {}).await;
    let addr = r.server.tls_addr();
    let health = r.server.health_addr();
    let trust = r.trust(&[b"http/1.1"]);
    let mut stream = tls_connect(addr, trust.clone()).await.unwrap();
    let body = create("in-flight", &defaulted_cluster()).to_string();
    let head = format!(
        "POST {VALIDATE_PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let (first, second) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let handle = r.server.shutdown_handle();
    handle.shutdown();
    let stopped = tokio::spawn(r.server.wait());

    // Draining: not ready any more, and no new connections are taken.
    let deadline = Instant::now() + Duration::from_secs(5);
    while http_get(health, "/readyz").await.0 != StatusCode::SERVICE_UNAVAILABLE {
        assert!(Instant::now() < deadline, "readiness never turned false");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        tls_connect(addr, trust).await.is_err(),
        "a new connection during the drain must fail"
    );
    assert!(!stopped.is_finished(), "the server waits for the request in flight");

    stream.write_all(second.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"uid\":\"in-flight\""), "{response}");

    tokio::time::timeout(Duration::from_secs(5), stopped)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_request_that_never_finishes_times_out() {
    let r = start(|c| c.request_timeout = Duration::from_millis(200)).await;
    let mut stream = tls_connect(r.server.tls_addr(), r.trust(&[b"http/1.1"])).await.unwrap();
    let head = format!(
        "POST {VALIDATE_PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    let started = Instant::now();
    let mut reply = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut reply))
        .await
        .expect("an answer")
        .unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // The server is still there for everyone else.
    let mut client = r.client().await;
    let (status, _) = client
        .review(VALIDATE_PATH, &create("after-timeout", &defaulted_cluster()))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn idle_keep_alive_connections_do_not_hold_up_shutdown() {
    let r = start(|_| {}).await;
    let mut client = r.client().await;
    client
        .review(VALIDATE_PATH, &create("idle", &defaulted_cluster()))
        .await
        .unwrap();
    let started = Instant::now();
    r.server.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn garbage_on_the_wire_does_not_stop_the_server() {
    let r = start(|_| {}).await;
    let addr = r.server.tls_addr();
    // Not TLS at all.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\n\r\n\x00\x01\x02garbage")
        .await
        .unwrap();
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut sink)).await;
    // TLS, but not HTTP.
    let mut tls = tls_connect(addr, r.trust(&[b"http/1.1"])).await.unwrap();
    tls.write_all(b"\x16\x03garbage that is not http\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut reply)).await;
    assert!(
        String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    // A body that is not a review, over a real client.
    let mut client = Client::connect(addr, &r.pki.ca_pem()).await;
    let (status, _) = client.post(VALIDATE_PATH, "}{".into()).await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Still serving.
    let (status, answer) = client
        .review(VALIDATE_PATH, &create("still", &defaulted_cluster()))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["response"]["allowed"], true);
    r.server.shutdown().await.unwrap();
}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn the_binary_logs_reviews_as_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("test-ca-1");
    let (cert, key) = pki.serving("serving-1");
    let (cert_path, key_path) = support::write_files(dir.path(), &cert, &key);
    let (tls, health) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_kkp-webhook"))
        .arg(format!("--listen-address={tls}"))
        .arg(format!("--health-listen-address={health}"))
        .arg("--kubernetes-versions=1.35.7,1.36.3")
        .env("KKP_WEBHOOK_TLS_CERT_FILE", &cert_path)
        .env("KKP_WEBHOOK_TLS_PRIVATE_KEY_FILE", &key_path)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());

    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(health).await.is_err() {
        assert!(Instant::now() < deadline, "the binary never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut client = Client::connect(tls, &pki.ca_pem()).await;
    let mut object = defaulted_cluster();
    object["spec"]["version"] = json!("1.34.1"); // not among --kubernetes-versions
    let (_, answer) = client.review(VALIDATE_PATH, &create("bin-1", &object)).await.unwrap();
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    drop(client);

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");

    let logs: Vec<Value> = lines
        .join()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let review = logs
        .iter()
        .find(|l| l["uid"] == "bin-1")
        .unwrap_or_else(|| panic!("no review log in {logs:?}"));
    assert_eq!(review["kind"], "Cluster");
    assert_eq!(review["name"], "abcd123456");
    assert_eq!(review["operation"], "CREATE");
    assert_eq!(review["endpoint"], "validate");
    assert_eq!(review["allowed"], false);
    assert_eq!(review["code"], 400);
    assert!(review["duration_us"].is_u64(), "{review}");
    assert!(review.get("namespace").is_some(), "{review}");
    assert!(logs.iter().any(|l| l["message"] == "SIGTERM received"), "{logs:?}");
    assert!(logs.iter().any(|l| l["message"] == "kkp-webhook stopped"), "{logs:?}");
}
