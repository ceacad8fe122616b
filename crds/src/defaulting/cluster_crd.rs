//! The structural defaults of KKP's `Cluster` CRD. The apiserver applies them to every request
//! object before any webhook sees it, to fields that are absent (or null) under an object that is
//! present; applying them here makes the offline chain see what KKP's webhooks see.

use serde_json::{Value, json};

use crate::cluster::{ClusterSpec, EventRateLimitConfigItem};

pub const CRD_DEFAULT_PROXY_MODE: &str = "ipvs";
pub const CRD_DEFAULT_CONTAINER_RUNTIME: &str = "containerd";
pub const CRD_DEFAULT_EVENT_RATE_LIMIT_QPS: i32 = 50;
pub const CRD_DEFAULT_EVENT_RATE_LIMIT_BURST: i32 = 100;
pub const CRD_DEFAULT_EVENT_RATE_LIMIT_CACHE_SIZE: i32 = 4096;
pub const CRD_DEFAULT_OPA_WEBHOOK_TIMEOUT_SECONDS: i64 = 10;

/// Applies the CRD's defaults to a spec.
pub fn apply(spec: &mut ClusterSpec) {
    spec.container_runtime
        .get_or_insert_with(|| CRD_DEFAULT_CONTAINER_RUNTIME.to_owned());
    spec.pause.get_or_insert(false);
    if let Some(net) = spec.cluster_network.as_mut() {
        net.proxy_mode.get_or_insert_with(|| CRD_DEFAULT_PROXY_MODE.to_owned());
        net.konnectivity_enabled.get_or_insert(true);
        net.node_local_dns_cache_enabled.get_or_insert(true);
        if let Some(ipvs) = net.ipvs.as_mut() {
            ipvs.strict_arp.get_or_insert(true);
        }
    }
    if let Some(limits) = spec.event_rate_limit_config.as_mut() {
        for bucket in [
            &mut limits.server,
            &mut limits.namespace,
            &mut limits.user,
            &mut limits.source_and_object,
        ]
        .into_iter()
        .flatten()
        {
            default_bucket(bucket);
        }
    }
    if let Some(Value::Object(opa)) = spec.opa_integration.as_mut()
        && opa.get("webhookTimeoutSeconds").is_none_or(Value::is_null)
    {
        opa.insert(
            "webhookTimeoutSeconds".into(),
            json!(CRD_DEFAULT_OPA_WEBHOOK_TIMEOUT_SECONDS),
        );
    }
}

fn default_bucket(bucket: &mut EventRateLimitConfigItem) {
    bucket.qps.get_or_insert(CRD_DEFAULT_EVENT_RATE_LIMIT_QPS);
    bucket.burst.get_or_insert(CRD_DEFAULT_EVENT_RATE_LIMIT_BURST);
    bucket.cache_size.get_or_insert(CRD_DEFAULT_EVENT_RATE_LIMIT_CACHE_SIZE);
}
