//! The one engine behind `kubectl kkp` and `kkp-webhook`.
//!
//! Everything that decides what a KKP `Cluster` or a machine-controller `MachineDeployment` looks
//! like after defaulting, and whether it is admitted, lives here as pure functions: no network, no
//! files, no async runtime. The plugin calls [`admission::admit`] before it sends anything; the
//! webhook calls the same function at admission, so the same object gets the same answer.

pub mod cloud_controller;
pub mod cluster;
pub mod crd_check;
pub mod crdgen;
pub mod field;
pub mod label_selector;
pub mod machine;
pub mod providers;
pub mod request;
pub mod schema;
pub mod semver_coerce;
pub mod shared_fields;
pub mod type_check;

pub use cluster::Cluster;
pub use field::{FieldError, Path};
pub use machine::{Machine, MachineDeployment, MachineSet};
pub mod admission;
pub mod cni;
pub mod context;
pub mod decode;
pub mod defaulting;
pub mod platform;
pub mod policy;
pub mod validation;
pub mod versions;

pub use admission::{Verdict, admit, admit_all, mutate, validate};
pub use context::Context;
pub use request::{Operation, Request, ResourceKind, UserInfo};
