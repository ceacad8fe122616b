//! The one entry point: what would admission say about this object?
//!
//! [`mutate`] is what the mutating webhook does (defaulting, returned as a JSON patch), [`validate`]
//! what the validating webhook does (rules and policies on the object as it is), and [`admit`]
//! the whole chain the way the apiserver runs it: default first, then validate the result. The
//! plugin calls [`admit_all`] on the objects it is given together (the cross-object rules) before it sends
//! anything.
//!
//! Each takes a [`crate::request::Request`] (one admission question) and a [`crate::context::Context`]
//! (what the engine knows beyond the object).
//!
//! An object with fields of the wrong JSON type gets every one of them named (see
//! [`crate::decode`]), and the rules still check the fields that are fine.

mod batch;
mod chain;
mod patch;
mod verdict;

pub use batch::{admit_all, lone_cluster_version};
pub use chain::{MAX_NESTING, admit, mutate, validate};
pub use patch::diff;
pub use verdict::{MAX_MESSAGE_BYTES, MAX_REPORTED_ERRORS, Verdict};
