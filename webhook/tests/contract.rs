//! The AdmissionReview v1 contract, driven through the router in-process: what the apiserver
//! requires of every response, and how bad input is refused without taking the server down.

mod support;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kkp_crds::admission::{self, MAX_REPORTED_ERRORS};
use kkp_crds::context::Context;
use kkp_crds::request::Request;
use kkp_webhook::answer::{MAX_ANNOTATION_BYTES, MAX_WARNINGS, WOULD_DENY_ANNOTATION, WOULD_DENY_WARNINGS};
use kkp_webhook::{AppState, Enforcement, Limits, MUTATE_PATH, VALIDATE_PATH, health_router, router};
use serde_json::{Value, json};
use support::{
    call, call_json, cluster, create, defaulted, defaulted_cluster, get, machine_deployment, review, update,
};

fn app() -> axum::Router {
    router(AppState::default())
}

/// Checks what the apiserver checks on every response and returns the response part.
fn checked(uid: &str, answer: &Value, mutating: bool) -> Value {
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1", "{answer}");
    assert_eq!(answer["kind"], "AdmissionReview", "{answer}");
    let response = answer["response"].clone();
    assert_eq!(response["uid"], uid, "{answer}");
    assert!(response["allowed"].is_boolean(), "{answer}");
    let patch = response.get("patch");
    let patch_type = response.get("patchType");
    if mutating {
        assert_eq!(
            patch.is_some(),
            patch_type.is_some(),
            "patch and patchType come together: {answer}"
        );
        if let Some(t) = patch_type {
            assert_eq!(t, "JSONPatch");
        }
    } else {
        assert!(
            patch.is_none() && patch_type.is_none(),
            "a validating response carries no patch: {answer}"
        );
    }
    if response["allowed"] == false {
        let code = response["status"]["code"].as_u64().expect("a denial has a code");
        assert!(code >= 400, "{answer}");
        assert!(
            !response["status"]["message"].as_str().unwrap_or("").is_empty(),
            "{answer}"
        );
    }
    response
}

fn decode_patch(response: &Value) -> json_patch::Patch {
    let encoded = response["patch"].as_str().expect("a base64 patch");
    serde_json::from_slice(&STANDARD.decode(encoded).expect("base64")).expect("a JSON Patch")
}

fn ctx() -> Context {
    Context::default()
}

#[tokio::test]
async fn mutate_echoes_uid_and_returns_a_patch_that_applies() {
    for (object, uid) in [(cluster(), "uid-cluster"), (machine_deployment(), "uid-md")] {
        let expected = admission::mutate(&Request::create(&object), &ctx());
        assert!(
            expected.allowed(),
            "the fixture must be admissible: {:?}",
            expected.errors
        );
        assert!(!expected.patch.0.is_empty(), "the fixture must need defaulting");

        let (status, answer) = call_json(app(), MUTATE_PATH, &create(uid, &object)).await;
        assert_eq!(status, StatusCode::OK);
        let response = checked(uid, &answer, true);
        assert_eq!(response["allowed"], true);
        assert_eq!(response["patchType"], "JSONPatch");
        let patch = decode_patch(&response);
        let mut patched = object.clone();
        json_patch::patch(&mut patched, &patch.0).expect("the patch applies to the request object");
        assert_eq!(
            Some(&patched),
            expected.object.as_ref(),
            "the patch yields the engine's defaulted object"
        );
    }
}

#[tokio::test]
async fn patch_type_only_when_the_patch_is_not_empty() {
    // Defaulting is idempotent: the defaulted object needs no further patch.
    for object in [cluster(), machine_deployment()] {
        let defaulted = admission::mutate(&Request::create(&object), &ctx()).object.unwrap();
        let (_, answer) = call_json(app(), MUTATE_PATH, &create("u2", &defaulted)).await;
        let response = checked("u2", &answer, true);
        assert_eq!(response["allowed"], true);
        assert!(response.get("patch").is_none(), "{answer}");
        assert!(response.get("patchType").is_none(), "{answer}");
    }
}

#[tokio::test]
async fn validating_responses_never_carry_a_patch() {
    // The validating webhook sees objects after defaulting.
    for object in [defaulted_cluster(), defaulted(&machine_deployment())] {
        let (status, answer) = call_json(app(), VALIDATE_PATH, &create("u3", &object)).await;
        assert_eq!(status, StatusCode::OK);
        let response = checked("u3", &answer, false);
        assert_eq!(response["allowed"], true, "{answer}");
    }
}

/// A Cluster with several independent mistakes.
fn broken_cluster() -> Value {
    let mut c = cluster();
    c["spec"]["version"] = json!("1.20.0");
    c["spec"]["exposeStrategy"] = json!("Teleport");
    c["spec"]["clusterNetwork"] = json!({"dnsDomain": "example.org"});
    c
}

#[tokio::test]
async fn a_denial_has_code_400_and_lists_every_field_error() {
    let object = broken_cluster();
    let expected = admission::validate(&Request::create(&object), &ctx());
    assert!(
        expected.errors.len() >= 2,
        "the fixture must break several rules: {:?}",
        expected.errors
    );

    let (status, answer) = call_json(app(), VALIDATE_PATH, &create("u4", &object)).await;
    assert_eq!(status, StatusCode::OK, "a denial is still a successful review");
    let response = checked("u4", &answer, false);
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 400);
    let message = response["status"]["message"].as_str().unwrap();
    assert_eq!(message, expected.message());
    for error in &expected.errors {
        assert!(message.contains(&error.to_string()), "{message} lacks {error}");
    }
    assert!(message.contains("spec.version"), "{message}");
    assert!(message.contains("spec.exposeStrategy"), "{message}");
}

#[tokio::test]
async fn an_unparsable_object_is_denied_by_the_mutating_webhook_too() {
    let mut object = cluster();
    object["spec"]["version"] = json!({"not": "a version"});
    let (_, answer) = call_json(app(), MUTATE_PATH, &create("u5", &object)).await;
    let response = checked("u5", &answer, true);
    assert_eq!(response["allowed"], false, "{answer}");
    assert_eq!(response["status"]["code"], 400);
    assert!(
        response["status"]["message"].as_str().unwrap().contains("spec.version"),
        "{answer}"
    );
}

#[tokio::test]
async fn dry_run_gets_the_same_answer() {
    for path in [MUTATE_PATH, VALIDATE_PATH] {
        for object in [cluster(), broken_cluster(), machine_deployment()] {
            let real = create("u6", &object);
            let mut dry = real.clone();
            dry["request"]["dryRun"] = json!(true);
            let (_, a) = call_json(app(), path, &real).await;
            let (_, b) = call_json(app(), path, &dry).await;
            assert_eq!(a, b, "{path}");
        }
    }
}

#[tokio::test]
async fn delete_requests_pass() {
    for path in [MUTATE_PATH, VALIDATE_PATH] {
        let old = broken_cluster();
        let (status, answer) = call_json(app(), path, &review("u7", "DELETE", None, Some(&old))).await;
        assert_eq!(status, StatusCode::OK);
        let response = checked("u7", &answer, path == MUTATE_PATH);
        assert_eq!(response["allowed"], true, "{answer}");
        assert!(response.get("patch").is_none());
    }
}

#[tokio::test]
async fn objects_being_deleted_pass() {
    let mut object = broken_cluster();
    object["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
    for path in [MUTATE_PATH, VALIDATE_PATH] {
        let (_, answer) = call_json(app(), path, &update("u8", &object, &broken_cluster())).await;
        let response = checked("u8", &answer, path == MUTATE_PATH);
        assert_eq!(response["allowed"], true, "{answer}");
        assert!(response.get("patch").is_none(), "{answer}");
    }
}

#[tokio::test]
async fn update_compares_old_and_new_object() {
    let old = admission::mutate(&Request::create(&cluster()), &ctx()).object.unwrap();
    let mut moved = old.clone();
    moved["spec"]["cloud"]["dc"] = json!("hetzner-nbg1");
    let (_, answer) = call_json(app(), VALIDATE_PATH, &update("u9", &moved, &old)).await;
    let response = checked("u9", &answer, false);
    assert_eq!(response["allowed"], false, "{answer}");
    assert_eq!(response["status"]["code"], 400);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("spec.cloud.dc") && message.contains("immutable"),
        "{message}"
    );

    // The same object as a CREATE is fine: the denial came from the comparison.
    let (_, answer) = call_json(app(), VALIDATE_PATH, &create("u9", &moved)).await;
    assert_eq!(checked("u9", &answer, false)["allowed"], true, "{answer}");
    // And an unchanged UPDATE passes.
    let (_, answer) = call_json(app(), VALIDATE_PATH, &update("u9", &old, &old)).await;
    assert_eq!(checked("u9", &answer, false)["allowed"], true, "{answer}");
}

#[tokio::test]
async fn an_unknown_kind_is_allowed_untouched_with_a_warning() {
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "d"}});
    for path in [MUTATE_PATH, VALIDATE_PATH] {
        let (status, answer) = call_json(app(), path, &create("u10", &config_map)).await;
        assert_eq!(status, StatusCode::OK);
        let response = checked("u10", &answer, path == MUTATE_PATH);
        assert_eq!(response["allowed"], true);
        assert!(response.get("patch").is_none());
        let warnings = response["warnings"].as_array().expect("warnings");
        assert!(
            warnings.iter().any(|w| w.as_str().unwrap().contains("ConfigMap")),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_400_with_the_reason() {
    for path in [MUTATE_PATH, VALIDATE_PATH] {
        let (status, body) = call(app(), path, Some("application/json"), b"{\"apiVersion\": ".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], 400);
        assert!(
            body["message"].as_str().unwrap().contains("not a JSON AdmissionReview"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_review_of_the_wrong_type_is_400() {
    let mut wrong_version = create("u11", &cluster());
    wrong_version["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let mut wrong_kind = create("u11", &cluster());
    wrong_kind["kind"] = json!("TokenReview");
    let no_request = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"});
    let mut no_uid = create("u11", &cluster());
    no_uid["request"]["uid"] = json!("");
    for (review, reason) in [
        (wrong_version, "admission.k8s.io/v1beta1"),
        (wrong_kind, "TokenReview"),
        (no_request, "no request"),
        (no_uid, "no uid"),
    ] {
        let (status, body) = call_json(app(), VALIDATE_PATH, &review).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains(reason), "{body}");
        assert_eq!(body["kind"], "Status");
    }
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let body = create("u12", &cluster()).to_string().into_bytes();
    for ct in [Some("text/plain"), Some("application/yaml"), None] {
        let (status, reply) = call(app(), MUTATE_PATH, ct, body.clone()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        assert!(
            reply["message"].as_str().unwrap().contains("application/json"),
            "{reply}"
        );
    }
    let (status, _) = call(app(), MUTATE_PATH, Some("application/json; charset=utf-8"), body).await;
    assert_eq!(status, StatusCode::OK);
}

/// A review padded with a large annotation to about `size` bytes.
fn padded_review(size: usize) -> Vec<u8> {
    let mut object = cluster();
    object["metadata"]["annotations"] = json!({"padding": "x".repeat(size)});
    create("big", &object).to_string().into_bytes()
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let limits = Limits {
        max_body_bytes: 64 * 1024,
        ..Limits::default()
    };
    let small = router(AppState::new(Context::default(), limits));
    let (status, body) = call(
        small.clone(),
        VALIDATE_PATH,
        Some("application/json"),
        padded_review(100 * 1024),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(body["message"].as_str().unwrap().contains("65536"), "{body}");
    let (status, _) = call(small, VALIDATE_PATH, Some("application/json"), padded_review(10 * 1024)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_default_limit_is_well_above_axums_2_mib() {
    let (status, body) = call(
        app(),
        VALIDATE_PATH,
        Some("application/json"),
        padded_review(6 * 1024 * 1024),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    let (status, _) = call(
        app(),
        VALIDATE_PATH,
        Some("application/json"),
        padded_review(17 * 1024 * 1024),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_refused() {
    let (status, _) = call(app(), "/admit", Some("application/json"), b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(app(), MUTATE_PATH).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn garbage_never_takes_the_router_down() {
    let state = AppState::default();
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        b"null".to_vec(),
        b"[1,2,3]".to_vec(),
        b"\"AdmissionReview\"".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":42}".to_vec(),
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "request": {"uid": "g", "operation": "CREATE", "object": [1, 2]}})
        .to_string()
        .into_bytes(),
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "request": {"uid": "g", "operation": "CREATE", "object": "a string"}})
        .to_string()
        .into_bytes(),
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "request": {"uid": "g", "operation": "UPDATE",
                           "object": {"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "spec": 7},
                           "oldObject": {"apiVersion": "kubermatic.k8c.io/v1", "kind": "Cluster", "metadata": []}}})
        .to_string()
        .into_bytes(),
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "request": {"uid": "g", "operation": "CREATE",
                           "object": {"apiVersion": "cluster.k8s.io/v1alpha1", "kind": "MachineDeployment",
                                      "metadata": {"name": 5}, "spec": {"template": null}}}})
        .to_string()
        .into_bytes(),
    ];
    for body in garbage {
        for path in [MUTATE_PATH, VALIDATE_PATH] {
            let (status, reply) = call(router(state.clone()), path, Some("application/json"), body.clone()).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{status} for {}",
                String::from_utf8_lossy(&body)
            );
            let reply: Value = serde_json::from_slice(&reply).expect("every answer is JSON");
            if status == StatusCode::OK {
                checked("g", &reply, path == MUTATE_PATH);
            }
        }
    }
    let (status, answer) = call_json(router(state), VALIDATE_PATH, &create("after", &defaulted_cluster())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["response"]["allowed"], true);
}

#[tokio::test]
async fn metrics_count_reviews_denials_and_errors() {
    let state = AppState::default();
    call_json(router(state.clone()), MUTATE_PATH, &create("m1", &cluster())).await;
    call_json(
        router(state.clone()),
        VALIDATE_PATH,
        &create("m2", &defaulted(&machine_deployment())),
    )
    .await;
    call_json(router(state.clone()), VALIDATE_PATH, &create("m3", &broken_cluster())).await;
    call(
        router(state.clone()),
        VALIDATE_PATH,
        Some("application/json"),
        b"nope".to_vec(),
    )
    .await;

    let (status, text) = get(health_router(state.clone()), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        r#"kkp_webhook_admission_requests_total{kind="Cluster",operation="CREATE",endpoint="mutate",result="allowed"} 1"#,
        r#"kkp_webhook_admission_requests_total{kind="MachineDeployment",operation="CREATE",endpoint="validate",result="allowed"} 1"#,
        r#"kkp_webhook_admission_requests_total{kind="Cluster",operation="CREATE",endpoint="validate",result="denied"} 1"#,
        r#"kkp_webhook_admission_requests_total{kind="Unknown",operation="UNKNOWN",endpoint="validate",result="error"} 1"#,
        r#"kkp_webhook_admission_denials_total{kind="Cluster",endpoint="validate",rule="spec.version"} 1"#,
        r#"kkp_webhook_admission_duration_seconds_count{endpoint="validate"} 3"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let state = AppState::default();
    assert_eq!(get(health_router(state.clone()), "/healthz").await.0, StatusCode::OK);
    assert_eq!(get(health_router(state.clone()), "/readyz").await.0, StatusCode::OK);
    state.set_ready(false);
    assert_eq!(
        get(health_router(state.clone()), "/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(get(health_router(state), "/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_new_context_applies_to_the_next_review() {
    // The policy hook: swapping the context changes answers without restarting anything.
    let state = AppState::default();
    let mut object = defaulted_cluster();
    object["spec"]["version"] = json!("1.36.3");
    let (_, answer) = call_json(router(state.clone()), VALIDATE_PATH, &create("c1", &object)).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");

    let only_135 = kkp_crds::versions::VersionCatalog::from_versions(vec![semver_version("1.35.7")]).unwrap();
    state.set_context(Context {
        versions: only_135,
        ..Context::default()
    });
    let (_, answer) = call_json(router(state), VALIDATE_PATH, &create("c2", &object)).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(
        answer["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("spec.version"),
        "{answer}"
    );
}

fn semver_version(s: &str) -> semver::Version {
    kkp_crds::versions::parse(s).unwrap()
}

// ---- audit mode -----------------------------------------------------------------------------

fn audit_state() -> AppState {
    let state = AppState::default();
    state.set_enforcement(Enforcement::Audit);
    state
}

#[tokio::test]
async fn audit_mode_admits_what_deny_mode_denies_and_says_why() {
    let object = broken_cluster();
    let expected = admission::validate(&Request::create(&object), &ctx());
    assert!(expected.errors.len() >= 2, "{:?}", expected.errors);

    let state = audit_state();
    let (status, answer) = call_json(router(state.clone()), VALIDATE_PATH, &create("a1", &object)).await;
    assert_eq!(status, StatusCode::OK);
    let response = checked("a1", &answer, false);
    assert_eq!(response["allowed"], true, "{answer}");
    assert!(response.get("status").is_none(), "{answer}");

    let annotation = response["auditAnnotations"][WOULD_DENY_ANNOTATION]
        .as_str()
        .unwrap_or_else(|| panic!("no would-deny annotation: {answer}"));
    assert_eq!(annotation, expected.message(), "the annotation is deny mode's message");
    let warnings: Vec<&str> = response["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The first errors one warning each, the rest counted.
    for error in expected.errors.iter().take(WOULD_DENY_WARNINGS) {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("would deny") && w.contains(&error.to_string())),
            "no warning for {error}: {warnings:?}"
        );
    }
    if expected.errors.len() > WOULD_DENY_WARNINGS {
        let more = format!("... and {} more", expected.errors.len() - WOULD_DENY_WARNINGS);
        assert!(warnings.iter().any(|w| w.ends_with(&more)), "{warnings:?}");
    }

    let metrics = state.metrics().render();
    assert!(
        metrics.contains(r#"kkp_webhook_would_deny_total{kind="Cluster",endpoint="validate",rule="spec.version"} 1"#),
        "{metrics}"
    );
    assert!(
        !metrics.contains("kkp_webhook_admission_denials_total{"),
        "nothing was denied: {metrics}"
    );
    assert!(
        metrics.contains(
            r#"kkp_webhook_admission_requests_total{kind="Cluster",operation="CREATE",endpoint="validate",result="allowed"} 1"#
        ),
        "{metrics}"
    );

    // The same review in deny mode is denied with that message.
    let (_, denied) = call_json(app(), VALIDATE_PATH, &create("a1", &object)).await;
    assert_eq!(denied["response"]["allowed"], false);
    assert_eq!(denied["response"]["status"]["message"], annotation);
}

#[tokio::test]
async fn audit_mode_still_defaults() {
    let object = cluster();
    let expected = admission::mutate(&Request::create(&object), &ctx());
    let (_, answer) = call_json(router(audit_state()), MUTATE_PATH, &create("a2", &object)).await;
    let response = checked("a2", &answer, true);
    assert_eq!(response["allowed"], true);
    let patch = decode_patch(&response);
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch.0).expect("the patch applies");
    assert_eq!(Some(&patched), expected.object.as_ref());
    assert!(response.get("auditAnnotations").is_none(), "{answer}");
}

#[tokio::test]
async fn audit_mode_admits_an_object_that_does_not_decode_without_a_patch() {
    let mut object = cluster();
    object["spec"]["version"] = json!({"not": "a version"});
    for path in [MUTATE_PATH, VALIDATE_PATH] {
        let (_, answer) = call_json(router(audit_state()), path, &create("a3", &object)).await;
        let response = checked("a3", &answer, path == MUTATE_PATH);
        assert_eq!(response["allowed"], true, "{path}: {answer}");
        assert!(response.get("patch").is_none(), "{answer}");
        assert!(
            response["auditAnnotations"][WOULD_DENY_ANNOTATION]
                .as_str()
                .is_some_and(|a| a.contains("spec.version")),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn audit_mode_caps_its_warnings_and_annotation() {
    let mut object = cluster();
    let features: serde_json::Map<String, Value> = (0..5_000).map(|i| (format!("f{i}"), json!("yes"))).collect();
    object["spec"]["features"] = Value::Object(features);
    let state = audit_state();
    let (_, answer) = call_json(router(state.clone()), VALIDATE_PATH, &create("a4", &object)).await;
    let response = checked("a4", &answer, false);
    assert_eq!(response["allowed"], true);
    let warnings = response["warnings"].as_array().unwrap();
    assert!(warnings.len() <= MAX_WARNINGS, "{}", warnings.len());
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().ends_with("more") && w.as_str().unwrap().contains("would deny")),
        "{warnings:?}"
    );
    let annotation = response["auditAnnotations"][WOULD_DENY_ANNOTATION].as_str().unwrap();
    assert!(annotation.len() <= MAX_ANNOTATION_BYTES, "{}", annotation.len());
    // One metric series for the map's entries, counted once per reported error.
    let metrics = state.metrics().render();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with(r#"kkp_webhook_would_deny_total{kind="Cluster",endpoint="validate",rule="spec.features[*]"}"#)
        })
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(line.ends_with(&format!(" {MAX_REPORTED_ERRORS}")), "{line}");
}
