//! Control-plane harness for the end-to-end tests of kubectl-kkp and kkp-webhook.
//!
//! [`ControlPlane`] runs a real etcd and kube-apiserver (optionally kube-controller-manager)
//! built from their upstream Go modules by `scripts/control-plane.sh`, on free loopback
//! ports, with its own certificates, and gives tests kube clients, kubeconfigs, extra users
//! and kubectl. Set `KKP_CONTROL_PLANE_BIN` to a folder with prebuilt binaries to skip the build.
//!
//! ```no_run
//! # async fn example() -> Result<(), kkp_e2e::HarnessError> {
//! let plane = kkp_e2e::ControlPlane::start().await?;
//! let client = plane.client().await?;
//! let version = client.apiserver_version().await?;
//! assert_eq!(version.git_version, kkp_e2e::kubernetes_version());
//! # Ok(()) }
//! ```

pub mod apis;
pub mod binaries;
pub mod components;
pub mod control_plane;
pub mod crds;
pub mod demo;
pub mod error;
pub mod examples;
pub mod fake_external;
pub mod fake_kkp;
pub mod kkp_api_spec;
pub mod kkp_api_stand_in;
pub mod kubeconfig;
pub mod module_graph;
pub mod names;
pub mod pki;
pub mod plugin_support;
pub mod ports;
pub mod probe;
mod process;
pub mod shared;
mod startup;
pub mod terraform;
pub mod tools;
pub mod upstream;
pub mod users;
pub mod versions;
pub mod webhook_process;
pub mod webhook_support;
mod workdir;

pub use binaries::bin_dir;
pub use control_plane::{ControlPlane, ControlPlaneOptions, Timings, install_crypto_provider};
pub use crds::{install_crds, install_shipped_crds, parse_crds, shipped_crd, wait_for_crd};
pub use error::{BinariesError, HarnessError};
pub use names::unique_name;
pub use shared::{shared_control_plane, shared_control_plane_blocking};
pub use users::{UserCredentials, client_from_kubeconfig};
pub use versions::{etcd_version, kubernetes_version};
