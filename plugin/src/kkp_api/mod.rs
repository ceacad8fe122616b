//! The KKP REST API client: what a KKP user with a service-account token reaches instead of the
//! seed's Kubernetes API. Depends on the admission engine only, never on the commands.

pub mod client;
pub mod clusters;
pub mod convert;
pub mod external;
pub mod models;
pub mod payload;
pub mod settings;

#[cfg(test)]
mod contract;
