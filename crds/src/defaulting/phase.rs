//! Whether an object is being created or updated, which decides some of the defaults it gets.

/// What defaulting needs to know beyond the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Create,
    Update,
}
