//! Replacing the webhook's CA without a moment in which the apiserver distrusts the certificate
//! being served:
//!
//! 1. every webhook's caBundle trusts the old and the new CA (one PEM bundle);
//! 2. wait until the apiserver has it (read back, then a settle time: apiservers pick up webhook
//!    configurations asynchronously);
//! 3. the Secret gets the new serving certificate, key and CA;
//! 4. wait until the webhook pods serve the new certificate (their
//!    `kkp_webhook_serving_certificate_expiry_timestamp_seconds`, read through the apiserver's pod
//!    proxy, is the new certificate's; pods whose metrics cannot be read get the time the kubelet
//!    takes to update a Secret volume); skipped when no pod runs;
//! 5. the caBundle trusts the new CA only (the install's normal apply).
//!
//! Each step only does what is not done yet, so a run that failed midway is finished by running
//! install again; until step 5 both CAs stay trusted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;

use super::certs::{self, ServingCerts};
use crate::k8s::client::Connection;
use crate::k8s::errors;
use crate::k8s::wait::{self, Deadline, Poll, Progress};

/// How long the kubelet may take to update a Secret volume (its sync period and cache), plus the
/// webhook's 2 s poll: the wait for pods whose metrics cannot be read.
pub const SECRET_PROPAGATION: Duration = Duration::from_secs(150);
/// The metric that says which certificate a pod serves.
pub const EXPIRY_METRIC: &str = "kkp_webhook_serving_certificate_expiry_timestamp_seconds";

/// The CAs the webhook configurations trust now: every certificate of every webhook's caBundle,
/// each once. `None` when neither configuration exists (nothing calls the webhook yet).
pub async fn trusted_now(conn: &Connection) -> anyhow::Result<Option<String>> {
    let name = kkp_manifests::NAME;
    let read = |e: kube::Error, what: &str| anyhow::anyhow!(errors::explain(&e, conn, what));
    let mutating = Api::<MutatingWebhookConfiguration>::all(conn.client.clone())
        .get_opt(name)
        .await
        .map_err(|e| read(e, "reading the mutating webhook configuration"))?;
    let validating = Api::<ValidatingWebhookConfiguration>::all(conn.client.clone())
        .get_opt(name)
        .await
        .map_err(|e| read(e, "reading the validating webhook configuration"))?;
    if mutating.is_none() && validating.is_none() {
        return Ok(None);
    }
    let mut bundles: Vec<String> = Vec::new();
    let mut add = |bundle: Option<&k8s_openapi::ByteString>| {
        if let Some(b) = bundle {
            bundles.push(String::from_utf8_lossy(&b.0).into_owned());
        }
    };
    for hook in mutating.and_then(|m| m.webhooks).unwrap_or_default() {
        add(hook.client_config.ca_bundle.as_ref());
    }
    for hook in validating.and_then(|v| v.webhooks).unwrap_or_default() {
        add(hook.client_config.ca_bundle.as_ref());
    }
    Ok(Some(certs::concat_bundles(bundles.iter().map(String::as_str))))
}

/// What a rotation still has to do before the normal apply trusts only the target's CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Step 1: the caBundle to set, trusting every CA trusted now, the installed one and the new
    /// one; `None` when the configurations trust all of them already (a re-run).
    pub overlap: Option<String>,
    /// Step 3: the Secret does not hold the target certificate yet.
    pub write_secret: bool,
}

/// The rotation from what is trusted (`trusted`, see [`trusted_now`]) and installed to `target`;
/// `None` when the normal apply is safe as it is: nothing calls the webhook yet, or it already
/// serves `target` and only its CA is trusted.
pub fn plan(trusted: Option<&str>, installed: Option<&ServingCerts>, target: &ServingCerts) -> Option<Plan> {
    let trusted = trusted?;
    let write_secret = installed != Some(target);
    let now = certs::bundle_ders(trusted);
    if !write_secret && now == certs::bundle_ders(&target.ca_pem) {
        return None;
    }
    let installed_ca = installed.map_or("", |i| i.ca_pem.as_str());
    let overlap = certs::concat_bundles([trusted, installed_ca, target.ca_pem.as_str()]);
    let covered = certs::bundle_ders(&overlap).iter().all(|der| now.contains(der));
    Some(Plan {
        overlap: (!covered).then_some(overlap),
        write_secret,
    })
}

/// Step 2: the caBundle of every webhook is `bundle` as the apiserver returns it, then `settle`.
pub async fn wait_trusted(conn: &Connection, bundle: &str, settle: Duration, deadline: Deadline) -> anyhow::Result<()> {
    let want = certs::bundle_ders(bundle);
    let mut progress = Progress::stderr("caBundle");
    wait::poll(
        &mut progress,
        deadline,
        Duration::from_millis(250),
        "the webhook configurations to trust both CAs",
        || async {
            let now = trusted_now(conn).await?.unwrap_or_default();
            Ok(if certs::bundle_ders(&now) == want {
                Poll::Ready(())
            } else {
                Poll::Pending("the caBundle is not updated yet".to_owned())
            })
        },
    )
    .await?;
    eprintln!(
        "  waiting {}s for every apiserver to pick up the caBundle",
        settle.as_secs_f64()
    );
    tokio::time::sleep(settle).await;
    Ok(())
}

/// The running webhook pods, by name.
async fn running_pods(conn: &Connection) -> anyhow::Result<Vec<String>> {
    let api: Api<Pod> = Api::namespaced(conn.client.clone(), kkp_manifests::NAMESPACE);
    let selector = format!(
        "app.kubernetes.io/name={},app.kubernetes.io/component=admission-webhook",
        kkp_manifests::NAME
    );
    let pods = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| anyhow::anyhow!(errors::explain(&e, conn, "listing the webhook's pods")))?;
    Ok(pods
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .filter_map(|p| p.metadata.name)
        .collect())
}

/// The expiry a pod's metrics report, read through the apiserver's pod proxy; `None` when they
/// cannot be read or do not have it.
async fn served_expiry(conn: &Connection, pod: &str) -> Option<i64> {
    let path = format!(
        "/api/v1/namespaces/{}/pods/{pod}:{}/proxy{}",
        kkp_manifests::NAMESPACE,
        kkp_manifests::HEALTH_PORT,
        kkp_manifests::METRICS_PATH
    );
    let request = http::Request::get(path).body(Vec::new()).ok()?;
    let text = conn.client.request_text(request).await.ok()?;
    expiry_in_metrics(&text)
}

/// The value of [`EXPIRY_METRIC`] in Prometheus text.
pub fn expiry_in_metrics(text: &str) -> Option<i64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(EXPIRY_METRIC)?.strip_prefix(' ')?;
        value.trim().parse::<f64>().ok().map(|v| v as i64)
    })
}

/// Step 4: waits until every running webhook pod serves the certificate expiring at `not_after`
/// (pods whose metrics cannot be read: until [`SECRET_PROPAGATION`] after `written`).
pub async fn wait_served(
    conn: &Connection,
    not_after: i64,
    written: Instant,
    deadline: Deadline,
) -> anyhow::Result<()> {
    if running_pods(conn).await?.is_empty() {
        eprintln!("  no webhook pods are running: none serves the old certificate; skipping the wait");
        return Ok(());
    }
    let mut progress = Progress::stderr("webhook pods");
    wait::poll(
        &mut progress,
        deadline,
        Duration::from_secs(2),
        "the webhook pods to serve the new certificate",
        || async {
            let mut pending = BTreeMap::new();
            for pod in running_pods(conn).await? {
                match served_expiry(conn, &pod).await {
                    Some(t) if t == not_after => {}
                    Some(_) => {
                        pending.insert(pod, "serves the old certificate");
                    }
                    None if written.elapsed() >= SECRET_PROPAGATION => {}
                    None => {
                        pending.insert(pod, "metrics not readable; waiting for the Secret volume to update");
                    }
                }
            }
            Ok(if pending.is_empty() {
                Poll::Ready(())
            } else {
                let states: Vec<String> = pending.iter().map(|(p, s)| format!("{p}: {s}")).collect();
                Poll::Pending(states.join(", "))
            })
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> (ServingCerts, ServingCerts) {
        (certs::generate().expect("old"), certs::generate().expect("new"))
    }

    #[test]
    fn a_first_install_or_an_unchanged_one_needs_no_rotation() {
        let (old, new) = two();
        assert_eq!(plan(None, None, &new), None, "nothing calls the webhook yet");
        assert_eq!(plan(Some(&old.ca_pem), Some(&old), &old), None, "nothing changes");
    }

    #[test]
    fn a_new_ca_is_trusted_next_to_the_old_before_the_secret_changes() {
        let (old, new) = two();
        let plan = plan(Some(&old.ca_pem), Some(&old), &new).expect("a rotation");
        assert!(plan.write_secret);
        let overlap = plan.overlap.expect("both CAs first");
        assert_eq!(
            certs::bundle_ders(&overlap),
            [
                certs::bundle_ders(&old.ca_pem)[0].clone(),
                certs::bundle_ders(&new.ca_pem)[0].clone()
            ]
        );
    }

    #[test]
    fn a_rerun_after_a_failure_midway_keeps_both_cas_until_the_end() {
        let (old, new) = two();
        let both = certs::concat_bundles([old.ca_pem.as_str(), new.ca_pem.as_str()]);
        // Failed after step 1: the bundle has both, the Secret the old one; a re-run generates
        // another CA, which joins them.
        let newer = certs::generate().expect("newer");
        let again = plan(Some(&both), Some(&old), &newer).expect("a rotation");
        assert_eq!(certs::bundle_ders(&again.overlap.expect("the newer CA added")).len(), 3);
        // Failed after step 3: the Secret has the new one, which install keeps; the bundle
        // already trusts it, so only the waits and the final apply are left.
        let resume = plan(Some(&both), Some(&new), &new).expect("not finished yet");
        assert_eq!(
            resume,
            Plan {
                overlap: None,
                write_secret: false
            }
        );
    }

    #[test]
    fn an_install_without_a_secret_trusts_the_new_ca_next_to_the_configured_one() {
        let (old, new) = two();
        let plan = plan(Some(&old.ca_pem), None, &new).expect("a rotation");
        assert!(plan.write_secret);
        assert_eq!(certs::bundle_ders(&plan.overlap.expect("both")).len(), 2);
    }

    #[test]
    fn the_served_expiry_is_read_from_the_metrics() {
        let text = "# HELP kkp_webhook_serving_certificate_expiry_timestamp_seconds When...\n\
                    # TYPE kkp_webhook_serving_certificate_expiry_timestamp_seconds gauge\n\
                    kkp_webhook_serving_certificate_expiry_timestamp_seconds 1900000000\n\
                    kkp_webhook_connections_open 1\n";
        assert_eq!(expiry_in_metrics(text), Some(1_900_000_000));
        assert_eq!(expiry_in_metrics("kkp_webhook_connections_open 1\n"), None);
        assert_eq!(
            expiry_in_metrics("kkp_webhook_serving_certificate_expiry_timestamp_seconds_other 5\n"),
            None
        );
    }
}
