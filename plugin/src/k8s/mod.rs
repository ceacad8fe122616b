//! Everything that talks to a cluster: kubeconfig files, clients, server-side apply, waiting,
//! and the secrets that hold a cluster's own kubeconfig.
//!
//! Commands use these pieces; none of them decides whether an object is valid (the engine in
//! `kkp_crds` does) and none of them prints data: progress goes to stderr, results are returned.

pub mod apply;
pub mod capi;
pub mod client;
pub mod config;
pub mod crds;
pub mod duration;
pub mod errors;
pub mod external;
pub mod kkp;
pub mod lock;
pub mod merge;
pub mod policies;
pub mod resources;
pub mod rollout;
pub mod secret;
pub mod trust;
pub mod wait;

/// The field manager every server-side apply of the plugin uses.
pub const FIELD_MANAGER: &str = "kubectl-kkp";
