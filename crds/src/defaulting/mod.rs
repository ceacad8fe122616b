//! Defaulting: pure functions that fill in what the user left out, exactly as KKP's and
//! machine-controller's mutating webhooks do (without a seed to read defaults from). Defaulting an
//! already defaulted object changes nothing.

mod cluster;
mod cluster_crd;
mod cluster_features;
mod machine;
mod phase;

pub use cluster::{
    DEFAULT_CONTAINER_RUNTIME, DEFAULT_DNS_DOMAIN, DEFAULT_NODE_PORT_RANGE, NetworkDefaults, default_cluster,
    network_defaults, provider_has_ccm,
};
pub use cluster_crd::CRD_DEFAULT_PROXY_MODE;
pub use cluster_features::{CCM_MIGRATION_NEEDED_ANNOTATION, CSI_MIGRATION_NEEDED_ANNOTATION};
pub use machine::{
    DEFAULT_MIN_READY_SECONDS, DEFAULT_PROGRESS_DEADLINE_SECONDS, DEFAULT_REPLICAS, DEFAULT_REVISION_HISTORY_LIMIT,
    ROLLING_UPDATE, default_machine_deployment,
};
pub use phase::Phase;
