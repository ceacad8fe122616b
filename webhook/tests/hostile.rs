//! Hostile input against the real TLS server on loopback: malformed, truncated, wrong-typed and
//! oversize reviews, every hostile object shape at the apiserver's 3 MiB, slow and idle
//! connections, a connection flood and an HTTP/2 stream flood. Every request is bounded in count
//! and time; each test checks the status, that answers stay small, and that `/healthz` answers.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use kkp_webhook::{Config, MUTATE_PATH, VALIDATE_PATH};
use serde_json::json;
use support::hostile::{APISERVER_MAX_OBJECT, Shape, object};
use support::running::Running;
use support::{Client, create, defaulted_cluster, http_get, tls_connect, update};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The largest answer any hostile review may get.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// How long any one step may take before the test fails.
const STEP: Duration = Duration::from_secs(30);

async fn start(tune: impl FnOnce(&mut Config)) -> Running {
    Running::start("hostile-ca", "serving-hostile", tune).await
}

/// `/healthz` answers OK and a valid review is admitted.
async fn assert_healthy(r: &Running) {
    let (status, _) = tokio::time::timeout(STEP, http_get(r.server.health_addr(), "/healthz"))
        .await
        .expect("/healthz answers");
    assert_eq!(status, StatusCode::OK);
    let mut client = r.client().await;
    let (status, answer) = tokio::time::timeout(
        STEP,
        client.review(VALIDATE_PATH, &create("alive", &defaulted_cluster())),
    )
    .await
    .expect("a review is answered")
    .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
}

async fn post(client: &mut Client, path: &str, body: impl Into<Bytes>) -> (StatusCode, Bytes) {
    tokio::time::timeout(STEP, client.post(path, body.into()))
        .await
        .expect("an answer in time")
        .expect("an HTTP answer")
}

#[tokio::test]
async fn malformed_truncated_wrong_typed_and_oversize_reviews_get_their_status() {
    let r = start(|c| c.max_body_bytes = 1024 * 1024).await;
    let good = create("u", &defaulted_cluster()).to_string();
    let wrong_typed = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                             "request": {"uid": 7, "operation": ["CREATE"]}});
    let wrong_kind_of_review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                             "request": {"uid": "u", "operation": "CREATE",
                                         "kind": {"group": "", "version": "v1", "kind": "Pod"},
                                         "object": {"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster"}}});
    let long_kind = json!({"apiVersion": "admission.k8s.io/v1", "kind": "x".repeat(512 * 1024)});
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        ("not JSON", b"}{ not json".to_vec(), StatusCode::BAD_REQUEST),
        ("empty", Vec::new(), StatusCode::BAD_REQUEST),
        (
            "truncated",
            good.as_bytes()[..good.len() / 2].to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong types",
            wrong_typed.to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a foreign object",
            wrong_kind_of_review.to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a huge kind",
            long_kind.to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "over the body limit",
            vec![b' '; 2 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "too deep",
            format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "too many values",
            format!("[{}1]", "1,".repeat(300_000)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for path in [MUTATE_PATH, VALIDATE_PATH] {
        for (what, body, expected) in &cases {
            // A fresh connection each: the server closes one whose body it did not read.
            let mut client = r.client().await;
            let (status, answer) = post(&mut client, path, body.clone()).await;
            assert_eq!(
                status,
                *expected,
                "{what} on {path}: {}",
                String::from_utf8_lossy(&answer)
            );
            assert!(
                answer.len() <= 2048,
                "{what}: the refusal is short: {} bytes",
                answer.len()
            );
            let status_body: serde_json::Value = serde_json::from_slice(&answer).expect("a Status");
            assert_eq!(status_body["kind"], "Status", "{what}");
        }
    }
    // Not JSON at all: 415, before anything is read.
    let mut raw = tls_connect(r.server.tls_addr(), r.trust(&[b"http/1.1"])).await.unwrap();
    raw.write_all(
        format!("POST {VALIDATE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 2\r\n\r\n{{}}")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut reply = vec![0u8; 4096];
    let n = tokio::time::timeout(STEP, raw.read(&mut reply)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&reply[..n]).starts_with("HTTP/1.1 415"));
    // A body announced over the limit is refused without being sent.
    let mut raw = tls_connect(r.server.tls_addr(), r.trust(&[b"http/1.1"])).await.unwrap();
    raw.write_all(
        format!("POST {VALIDATE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let n = tokio::time::timeout(STEP, raw.read(&mut reply)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&reply[..n]).starts_with("HTTP/1.1 413"));
    assert_healthy(&r).await;
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_hostile_shape_at_three_mib_is_answered_or_refused_small() {
    let r = start(|_| {}).await;
    let mut client = r.client().await;
    for shape in Shape::ALL {
        let new = object(shape, APISERVER_MAX_OBJECT);
        let review = update("hostile", &new, &new).to_string();
        let (status, answer) = post(&mut client, VALIDATE_PATH, review).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::PAYLOAD_TOO_LARGE,
            "{}: {status}",
            shape.name()
        );
        assert!(
            answer.len() <= MAX_ANSWER_BYTES,
            "{}: {} bytes",
            shape.name(),
            answer.len()
        );
        if status == StatusCode::OK {
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            assert_eq!(answer["response"]["uid"], "hostile", "{}", shape.name());
        }
        let (status, _) = http_get(r.server.health_addr(), "/healthz").await;
        assert_eq!(status, StatusCode::OK, "after {}", shape.name());
    }
    assert_healthy(&r).await;
    r.server.shutdown().await.unwrap();
}

/// With one async worker, the probes still answer while the heaviest review is evaluated: the
/// evaluation runs on a blocking thread, not on the worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn probes_answer_while_the_heaviest_review_is_evaluated() {
    let r = start(|c| c.request_timeout = Duration::from_secs(60)).await;
    let state = r.server.state().clone();
    let health = r.server.health_addr();
    // The heaviest shape the server evaluates rather than refuses.
    let heavy = object(Shape::HugeMap, APISERVER_MAX_OBJECT);
    let review = Bytes::from(update("heavy", &heavy, &heavy).to_string());
    let mut answered_while_evaluating = 0;
    for _attempt in 0..5 {
        let mut client = r.client().await;
        let body = review.clone();
        let sent = tokio::spawn(async move { client.post(VALIDATE_PATH, body).await });
        while !sent.is_finished() {
            if state.metrics().evaluating_now() > 0 {
                let (status, _) = tokio::time::timeout(STEP, http_get(health, "/readyz"))
                    .await
                    .expect("/readyz answers");
                assert_eq!(status, StatusCode::OK);
                if state.metrics().evaluating_now() > 0 && !sent.is_finished() {
                    answered_while_evaluating += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let (status, _) = sent.await.unwrap().unwrap();
        assert_eq!(status, StatusCode::OK);
        if answered_while_evaluating >= 3 {
            break;
        }
    }
    assert!(
        answered_while_evaluating >= 3,
        "the probes answered only {answered_while_evaluating} times during evaluations"
    );
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_loris_headers_are_cut_off() {
    let r = start(|_| {}).await;
    let mut stream = tls_connect(r.server.tls_addr(), r.trust(&[b"http/1.1"])).await.unwrap();
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One header byte a second: the header read timeout (10 s) ends it.
    let dribble = async {
        for _ in 0..30 {
            if stream.write_all(b"X").await.is_err() || stream.flush().await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut buf = [0u8; 256];
            if let Ok(read) = tokio::time::timeout(Duration::from_millis(10), stream.read(&mut buf)).await {
                // EOF, an error, or a 408: the server gave up on the request.
                return matches!(read, Ok(0) | Err(_)) || buf.starts_with(b"HTTP/1.1 408");
            }
        }
        false
    };
    assert!(dribble.await, "the dribbled headers were cut off within 30 s");
    assert_healthy(&r).await;
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let r = start(|c| c.idle_timeout = Duration::from_secs(1)).await;
    let trust = r.trust(&[b"h2"]);
    // A TLS connection that never says anything, and an HTTP/2 one that goes quiet.
    let mut silent = tls_connect(r.server.tls_addr(), trust.clone()).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(STEP, silent.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let h2 = Client::http2(tls_connect(r.server.tls_addr(), trust).await.unwrap())
        .await
        .unwrap();
    let Client::Http2(mut sender) = h2 else { unreachable!() };
    tokio::time::timeout(STEP, async {
        while sender.ready().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the quiet HTTP/2 connection is closed");
    assert_healthy(&r).await;
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connection_flood_is_refused_beyond_the_cap() {
    let r = start(|c| c.max_connections = 8).await;
    let addr = r.server.tls_addr();
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(r.client().await);
    }
    // 200 more connections: each is closed at once.
    let mut refused = 0;
    for _ in 0..200 {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = tcp.write_all(b"\x16\x03\x01").await;
        let mut buf = [0u8; 16];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(STEP, tcp.read(&mut buf)).await {
            refused += 1;
        }
    }
    assert_eq!(refused, 200);
    let metrics = r.server.state().metrics().render();
    assert!(
        metrics.contains("kkp_webhook_connections_refused_total 200"),
        "{metrics}"
    );
    // The connections held are still served, and once they go, new ones are taken.
    let (status, _) = held[0]
        .review(VALIDATE_PATH, &create("held", &defaulted_cluster()))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    drop(held);
    let deadline = tokio::time::Instant::now() + STEP;
    while r.server.state().metrics().connections_now() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed connections are released"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_healthy(&r).await;
    r.server.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http2_stream_flood_is_bounded() {
    let r = start(|_| {}).await;
    let stream = tls_connect(r.server.tls_addr(), r.trust(&[b"h2"])).await.unwrap();
    let Client::Http2(sender) = Client::http2(stream).await.unwrap() else {
        unreachable!()
    };
    let review = Arc::new(create("flood", &defaulted_cluster()).to_string());
    // One request first, so that the server's SETTINGS (its stream limit) have reached the client,
    // as they have for any client past its first request.
    let (status, _) = Client::Http2(sender.clone())
        .post(VALIDATE_PATH, Bytes::from(review.to_string()))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let mut tasks = Vec::new();
    for _ in 0..300 {
        let (mut c, review) = (Client::Http2(sender.clone()), review.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::timeout(STEP, c.post(VALIDATE_PATH, Bytes::from(review.to_string()))).await
        }));
    }
    let (mut ok, mut unavailable) = (0, 0);
    for t in tasks {
        match t.await.unwrap().expect("each stream ends in time") {
            Ok((StatusCode::OK, _)) => ok += 1,
            Ok((StatusCode::SERVICE_UNAVAILABLE, _)) => unavailable += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(ok + unavailable, 300);
    assert!(ok > 0);
    assert_healthy(&r).await;
    r.server.shutdown().await.unwrap();
}
