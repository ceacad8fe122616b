//! Prometheus metrics: reviews by kind, operation, endpoint and result, their latency, denials by
//! rule (and, in audit mode, would-be denials), audit-only policy violations, certificate reloads,
//! renewals and the served certificate's expiry, reviews holding an evaluation slot and open connections.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// How a review ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allowed,
    Denied,
    /// The request could not be answered as a review (bad body, internal failure).
    Error,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    kind: &'static str,
    operation: &'static str,
    endpoint: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DenialLabels {
    kind: &'static str,
    endpoint: &'static str,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuditLabels {
    policy: String,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: &'static str,
}

type HistogramFamily = Family<LatencyLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 50µs … ~1.6s: reviews take well under a millisecond; the tail shows queueing.
    Histogram::new(exponential_buckets(0.00005, 2.0, 16))
}

/// At most this many distinct `rule` labels on the denials counter. Field paths come from the
/// objects users send, so a stream of made-up field names could otherwise grow the series
/// without bound; later new rules are counted under [`OTHER_RULE`].
pub const MAX_RULE_LABELS: usize = 256;
/// The `rule` label of denials beyond [`MAX_RULE_LABELS`].
pub const OTHER_RULE: &str = "other";

/// The webhook's metrics and the registry that exposes them.
#[derive(Debug)]
pub struct Metrics {
    /// The distinct rule labels in use, for [`MAX_RULE_LABELS`].
    rule_labels: Mutex<HashSet<String>>,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    denials: Family<DenialLabels, Counter>,
    audits: Family<AuditLabels, Counter>,
    cert_reloads: Family<ReloadLabels, Counter>,
    cert_renewals: Family<ReloadLabels, Counter>,
    cert_expiry: Gauge,
    would_deny: Family<DenialLabels, Counter>,
    evaluating: Gauge,
    connections: Gauge,
    connections_refused: Counter,
    reports_written: Counter,
    report_audits: Family<ReloadLabels, Counter>,
}

/// Counts a review as being evaluated while it lives.
#[derive(Debug)]
pub struct Evaluating(Gauge);

impl Drop for Evaluating {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts a connection as open while it lives.
#[derive(Debug)]
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kkp_webhook");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "admission_requests",
            "Admission reviews by resource kind, operation, endpoint and result (allowed, denied, error)",
            requests.clone(),
        );
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "admission_duration_seconds",
            "Time from a review's request to its response, by endpoint",
            latency.clone(),
        );
        let denials = Family::<DenialLabels, Counter>::default();
        registry.register(
            "admission_denials",
            "Reasons for denials: the field path of a field error or policy/rule of a denying policy",
            denials.clone(),
        );
        let audits = Family::<AuditLabels, Counter>::default();
        registry.register(
            "policy_audit_violations",
            "Violations of Audit-enforced policies (the objects were admitted)",
            audits.clone(),
        );
        let cert_reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "certificate_reloads",
            "Changes of the serving certificate files seen, by result (loaded, failed)",
            cert_reloads.clone(),
        );
        let cert_renewals = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "certificate_renewals",
            "Serving certificates the webhook issued itself from its CA, by result (renewed, failed)",
            cert_renewals.clone(),
        );
        let cert_expiry = Gauge::default();
        registry.register(
            "serving_certificate_expiry_timestamp_seconds",
            "When the serving certificate in use expires (its notAfter), in unix seconds",
            cert_expiry.clone(),
        );
        let would_deny = Family::<DenialLabels, Counter>::default();
        registry.register(
            "would_deny",
            "Objects the built-in rules would have denied in --enforcement=audit (they were admitted), by field path",
            would_deny.clone(),
        );
        let evaluating = Gauge::default();
        registry.register(
            "reviews_evaluating",
            "Reviews holding an evaluation slot (reading their body or being evaluated)",
            evaluating.clone(),
        );
        let connections = Gauge::default();
        registry.register("connections_open", "Open TLS connections", connections.clone());
        let connections_refused = Counter::default();
        registry.register(
            "connections_refused",
            "TLS connections closed at once because --max-connections were open",
            connections_refused.clone(),
        );
        let reports_written = Counter::default();
        registry.register(
            "policy_reports_written",
            "PolicyReports and ClusterPolicyReports written because what the policies say about an object changed",
            reports_written.clone(),
        );
        let report_audits = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "policy_report_audits",
            "Background audits of every Cluster and MachineDeployment for policy reports, by result (done, failed)",
            report_audits.clone(),
        );
        Metrics {
            reports_written,
            report_audits,
            would_deny,
            evaluating,
            connections,
            connections_refused,
            rule_labels: Mutex::new(HashSet::new()),
            registry,
            requests,
            latency,
            denials,
            audits,
            cert_reloads,
            cert_renewals,
            cert_expiry,
        }
    }

    /// Records one review.
    pub fn observe_review(
        &self,
        kind: &'static str,
        operation: &'static str,
        endpoint: &'static str,
        outcome: Outcome,
        took: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                kind,
                operation,
                endpoint,
                result: outcome.as_str(),
            })
            .inc();
        self.latency
            .get_or_create(&LatencyLabels { endpoint })
            .observe(took.as_secs_f64());
    }

    /// Records one reason a review was denied.
    pub fn observe_denial(&self, kind: &'static str, endpoint: &'static str, rule: &str) {
        let rule = self.bounded_rule(generic_rule(rule));
        self.denials.get_or_create(&DenialLabels { kind, endpoint, rule }).inc();
    }

    /// Records one reason a review would have been denied in deny mode (it was admitted).
    pub fn observe_would_deny(&self, kind: &'static str, endpoint: &'static str, rule: &str) {
        let rule = self.bounded_rule(generic_rule(rule));
        self.would_deny
            .get_or_create(&DenialLabels { kind, endpoint, rule })
            .inc();
    }

    /// Counts a review as holding an evaluation slot until the guard is dropped.
    pub fn evaluating(&self) -> Evaluating {
        self.evaluating.inc();
        Evaluating(self.evaluating.clone())
    }

    /// Reviews holding an evaluation slot right now.
    pub fn evaluating_now(&self) -> i64 {
        self.evaluating.get()
    }

    /// Counts a connection as open until the guard is dropped.
    pub fn connection_opened(&self) -> OpenConnection {
        self.connections.inc();
        OpenConnection(self.connections.clone())
    }

    /// Open TLS connections right now.
    pub fn connections_now(&self) -> i64 {
        self.connections.get()
    }

    /// Counts a connection closed because too many were open.
    pub fn observe_connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// `rule` itself while fewer than [`MAX_RULE_LABELS`] rules were seen (or it was seen before),
    /// else [`OTHER_RULE`].
    fn bounded_rule(&self, rule: String) -> String {
        let mut seen = self.rule_labels.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(&rule) {
            return rule;
        }
        if seen.len() >= MAX_RULE_LABELS {
            return OTHER_RULE.to_owned();
        }
        seen.insert(rule.clone());
        rule
    }

    /// Records one violation of an Audit-enforced policy.
    pub fn observe_audit(&self, policy: &str, rule: &str) {
        self.audits
            .get_or_create(&AuditLabels {
                policy: policy.to_owned(),
                rule: rule.to_owned(),
            })
            .inc();
    }

    /// Records a certificate reload attempt.
    /// Records policy reports written.
    pub fn observe_reports_written(&self, n: usize) {
        self.reports_written.inc_by(n as u64);
    }

    /// Records one background audit for policy reports.
    pub fn observe_report_audit(&self, ok: bool) {
        self.report_audits
            .get_or_create(&ReloadLabels {
                result: if ok { "done" } else { "failed" },
            })
            .inc();
    }

    pub fn observe_cert_reload(&self, ok: bool) {
        self.cert_reloads
            .get_or_create(&ReloadLabels {
                result: if ok { "loaded" } else { "failed" },
            })
            .inc();
    }

    /// Records what the certificate loop reported: reloads, renewals, the served expiry.
    pub fn observe_certificate(&self, event: crate::tls::CertEvent) {
        use crate::tls::CertEvent;
        let renewal = |result| self.cert_renewals.get_or_create(&ReloadLabels { result }).inc();
        match event {
            CertEvent::Loaded => self.observe_cert_reload(true),
            CertEvent::LoadFailed => self.observe_cert_reload(false),
            CertEvent::Renewed => {
                renewal("renewed");
            }
            CertEvent::RenewalFailed => {
                renewal("failed");
            }
            CertEvent::Serving { not_after } => {
                self.cert_expiry.set(not_after);
            }
        }
    }

    /// The served certificate's expiry as the gauge has it (unix seconds; 0 before it is known).
    pub fn serving_certificate_expiry(&self) -> i64 {
        self.cert_expiry.get()
    }

    /// The metrics in the Prometheus/OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A field path without list indices and map keys, so one rule is one time series:
/// `spec.machines[3].name` → `spec.machines[*].name`.
fn generic_rule(rule: &str) -> String {
    let mut out = String::with_capacity(rule.len());
    let mut depth = 0usize;
    for c in rule.chars() {
        match c {
            '[' => {
                if depth == 0 {
                    out.push_str("[*]");
                }
                depth += 1;
            }
            ']' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_reports_are_counted() {
        let m = Metrics::new();
        m.observe_reports_written(3);
        m.observe_reports_written(0);
        m.observe_report_audit(true);
        m.observe_report_audit(false);
        let text = m.render();
        assert!(text.contains("kkp_webhook_policy_reports_written_total 3\n"), "{text}");
        assert!(
            text.contains(r#"kkp_webhook_policy_report_audits_total{result="done"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"kkp_webhook_policy_report_audits_total{result="failed"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn rule_labels_are_bounded() {
        let m = Metrics::new();
        for i in 0..MAX_RULE_LABELS + 10 {
            m.observe_denial("Cluster", "validate", &format!("spec.madeUp{i}"));
        }
        // A rule seen before the cap keeps its own series.
        m.observe_denial("Cluster", "validate", "spec.madeUp0");
        let text = m.render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("kkp_webhook_admission_denials_total{"))
            .count();
        assert_eq!(series, MAX_RULE_LABELS + 1, "{text}");
        assert!(
            text.contains(r#"kkp_webhook_admission_denials_total{kind="Cluster",endpoint="validate",rule="other"} 10"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"kkp_webhook_admission_denials_total{kind="Cluster",endpoint="validate",rule="spec.madeUp0"} 2"#
            ),
            "{text}"
        );
    }

    #[test]
    fn would_deny_rules_share_the_label_cap() {
        let m = Metrics::new();
        for i in 0..MAX_RULE_LABELS {
            m.observe_denial("Cluster", "validate", &format!("spec.madeUp{i}"));
        }
        m.observe_would_deny("Cluster", "validate", "spec.new");
        m.observe_would_deny("Cluster", "validate", "spec.madeUp3");
        let text = m.render();
        assert!(
            text.contains(r#"kkp_webhook_would_deny_total{kind="Cluster",endpoint="validate",rule="other"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"kkp_webhook_would_deny_total{kind="Cluster",endpoint="validate",rule="spec.madeUp3"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn rules_lose_their_indices() {
        assert_eq!(generic_rule("spec.pods.cidrBlocks[0]"), "spec.pods.cidrBlocks[*]");
        assert_eq!(generic_rule("metadata.labels[project-id]"), "metadata.labels[*]");
        assert_eq!(generic_rule("a[1].b[x[2]]"), "a[*].b[*]");
        assert_eq!(generic_rule("policy/rule"), "policy/rule");
    }

    #[test]
    fn rendered_metrics_carry_labels() {
        let m = Metrics::new();
        m.observe_review(
            "Cluster",
            "CREATE",
            "validate",
            Outcome::Denied,
            Duration::from_micros(300),
        );
        m.observe_denial("Cluster", "validate", "spec.version");
        m.observe_would_deny("Cluster", "validate", "spec.cloud.aws.vpcID");
        m.observe_audit("limits", "max-replicas");
        let busy = m.evaluating();
        assert_eq!(m.evaluating_now(), 1);
        drop(busy);
        assert_eq!(m.evaluating_now(), 0);
        m.observe_cert_reload(true);
        let text = m.render();
        assert!(
            text.contains(
                r#"kkp_webhook_admission_requests_total{kind="Cluster",operation="CREATE",endpoint="validate",result="denied"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"kkp_webhook_admission_duration_seconds_count{endpoint="validate"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"kkp_webhook_admission_denials_total{kind="Cluster",endpoint="validate",rule="spec.version"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"kkp_webhook_policy_audit_violations_total{policy="limits",rule="max-replicas"} 1"#));
        assert!(text.contains(r#"kkp_webhook_certificate_reloads_total{result="loaded"} 1"#));
        assert!(
            text.contains(
                r#"kkp_webhook_would_deny_total{kind="Cluster",endpoint="validate",rule="spec.cloud.aws.vpcID"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains("kkp_webhook_reviews_evaluating 0"), "{text}");
    }

    #[test]
    fn certificate_events_set_the_expiry_gauge_and_count_renewals() {
        use crate::tls::CertEvent;
        let m = Metrics::new();
        assert!(
            m.render()
                .contains("kkp_webhook_serving_certificate_expiry_timestamp_seconds 0")
        );
        m.observe_certificate(CertEvent::Serving {
            not_after: 1_900_000_000,
        });
        m.observe_certificate(CertEvent::Renewed);
        m.observe_certificate(CertEvent::RenewalFailed);
        m.observe_certificate(CertEvent::Loaded);
        m.observe_certificate(CertEvent::Serving {
            not_after: 1_950_000_000,
        });
        let text = m.render();
        assert!(
            text.contains("kkp_webhook_serving_certificate_expiry_timestamp_seconds 1950000000"),
            "{text}"
        );
        assert_eq!(m.serving_certificate_expiry(), 1_950_000_000);
        assert!(
            text.contains(r#"kkp_webhook_certificate_renewals_total{result="renewed"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"kkp_webhook_certificate_renewals_total{result="failed"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"kkp_webhook_certificate_reloads_total{result="loaded"} 1"#),
            "{text}"
        );
    }
}
