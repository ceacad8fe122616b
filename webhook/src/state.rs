//! What every request handler shares: the engine's context (swappable while serving), metrics,
//! limits and readiness.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use kkp_crds::context::Context;
use kkp_crds::platform::Datacenters;
use kkp_crds::policy::PolicySet;
use kkp_crds::versions::{BUILTIN_KKP_RELEASE, VersionCatalog};
use tokio::sync::{Semaphore, watch};

use crate::config::{Enforcement, Limits};
use crate::exemption::ExemptionAdmins;
use crate::machine_labels::MachineLabels;
use crate::metrics::Metrics;
use crate::policy_counts::PolicyCounters;
use crate::report_queue::ReportQueue;

/// The platform's configuration to install with [`AppState::set_platform`].
#[derive(Clone, Debug, Default)]
pub struct PlatformInForce {
    /// `None` keeps the versions in force.
    pub versions: Option<VersionCatalog>,
    /// `None` keeps the default in force; `Some(None)`: the configuration names none.
    pub expose_strategy: Option<Option<String>>,
    pub datacenters: Option<Arc<Datacenters>>,
    /// One line for `/readyz` and the logs.
    pub summary: String,
}

/// Shared state of the router. Cloning is cheap; clones share everything.
///
/// The engine's [`Context`] sits behind an [`ArcSwap`]: each review reads the context current when
/// it starts, and a policy source (a watch on the AdmissionPolicy resources) installs a new one
/// with [`AppState::set_context`] or [`AppState::set_policies`] without blocking reviews.
#[derive(Clone, Debug)]
pub struct AppState {
    context: Arc<ArcSwap<Context>>,
    metrics: Arc<Metrics>,
    limits: Limits,
    permits: Arc<Semaphore>,
    ready: Arc<AtomicBool>,
    audit_only: Arc<AtomicBool>,
    policy_counters: Arc<PolicyCounters>,
    platform: Arc<ArcSwap<String>>,
    machine_labels: MachineLabels,
    exemption_admins: Arc<ArcSwap<ExemptionAdmins>>,
    report_queue: Arc<ReportQueue>,
    /// Counts the policy sets installed, for the reporter to audit again when it changes.
    policies_installed: Arc<watch::Sender<u64>>,
}

impl AppState {
    pub fn new(context: Context, limits: Limits) -> Self {
        AppState {
            context: Arc::new(ArcSwap::from_pointee(context)),
            metrics: Arc::new(Metrics::new()),
            permits: Arc::new(Semaphore::new(limits.max_concurrency.clamp(1, Semaphore::MAX_PERMITS))),
            limits,
            ready: Arc::new(AtomicBool::new(true)),
            audit_only: Arc::new(AtomicBool::new(false)),
            policy_counters: Arc::new(PolicyCounters::default()),
            machine_labels: MachineLabels::default(),
            exemption_admins: Arc::new(ArcSwap::from_pointee(ExemptionAdmins::default())),
            report_queue: Arc::new(ReportQueue::default()),
            policies_installed: Arc::new(watch::Sender::new(0)),
            platform: Arc::new(ArcSwap::from_pointee(format!(
                "the built-in catalog of {BUILTIN_KKP_RELEASE}; no datacenters known"
            ))),
        }
    }

    /// The context reviews are evaluated in right now.
    pub fn context(&self) -> Arc<Context> {
        self.context.load_full()
    }

    /// The swappable cell itself, for a policy source that wants to hold on to it.
    pub fn context_cell(&self) -> Arc<ArcSwap<Context>> {
        Arc::clone(&self.context)
    }

    /// Replaces the whole context; reviews already running finish with the old one.
    pub fn set_context(&self, context: Context) {
        self.context.store(Arc::new(context));
        self.policies_installed.send_modify(|n| *n += 1);
    }

    /// Replaces the policies in force, keeping the rest of the context.
    pub fn set_policies(&self, policies: PolicySet) {
        self.context.rcu(|current| Context {
            policies: policies.clone(),
            ..Context::clone(current)
        });
        self.policies_installed.send_modify(|n| *n += 1);
    }

    /// Changes each time a set of policies is installed.
    pub fn policies_installed(&self) -> watch::Receiver<u64> {
        self.policies_installed.subscribe()
    }

    /// The objects to write policy reports about again.
    pub fn report_queue(&self) -> &ReportQueue {
        &self.report_queue
    }

    /// Installs the platform's configuration: versions and expose strategy (`None` keeps those
    /// in force), datacenters, and a one-line description for `/readyz`.
    pub fn set_platform(&self, platform: PlatformInForce) {
        self.context.rcu(|current| Context {
            versions: platform.versions.clone().unwrap_or_else(|| current.versions.clone()),
            expose_strategy: platform
                .expose_strategy
                .clone()
                .unwrap_or_else(|| current.expose_strategy.clone()),
            datacenters: platform.datacenters.clone(),
            ..Context::clone(current)
        });
        self.platform.store(Arc::new(platform.summary));
    }

    /// Which platform configuration reviews are answered with, in one line.
    pub fn platform_summary(&self) -> Arc<String> {
        self.platform.load_full()
    }

    /// Who may exempt objects from the webhook.
    pub fn exemption_admins(&self) -> Arc<ExemptionAdmins> {
        self.exemption_admins.load_full()
    }

    pub fn set_exemption_admins(&self, admins: ExemptionAdmins) {
        self.exemption_admins.store(Arc::new(admins));
    }

    /// The selector labels of the MachineDeployments, for scale requests.
    pub fn machine_labels(&self) -> &MachineLabels {
        &self.machine_labels
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Matched and denied counts per policy, not yet written to the policies' status.
    pub fn policy_counters(&self) -> &PolicyCounters {
        &self.policy_counters
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn permits(&self) -> &Arc<Semaphore> {
        &self.permits
    }

    /// What the built-in rules do with an invalid object.
    pub fn enforcement(&self) -> Enforcement {
        if self.audit_only.load(Ordering::Relaxed) {
            Enforcement::Audit
        } else {
            Enforcement::Deny
        }
    }

    /// Sets what the built-in rules do with an invalid object, for every clone of this state.
    pub fn set_enforcement(&self, enforcement: Enforcement) {
        self.audit_only
            .store(enforcement == Enforcement::Audit, Ordering::Relaxed);
    }

    /// Whether `/readyz` reports ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Marks the server ready or not (it stops being ready when it starts shutting down).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new(Context::default(), Limits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kkp_crds::versions::VersionCatalog;

    #[test]
    fn set_policies_keeps_the_versions() {
        let versions = VersionCatalog::from_versions(vec![semver::Version::new(1, 36, 3)]).unwrap();
        let state = AppState::new(
            Context {
                versions: versions.clone(),
                ..Context::default()
            },
            Limits::default(),
        );
        let before = state.context();
        state.set_policies(PolicySet::default());
        assert!(!Arc::ptr_eq(&before, &state.context()), "a new context was installed");
        assert_eq!(state.context().versions, versions);
    }

    #[test]
    fn clones_share_readiness() {
        let a = AppState::default();
        let b = a.clone();
        assert!(b.is_ready());
        a.set_ready(false);
        assert!(!b.is_ready());
    }
}
