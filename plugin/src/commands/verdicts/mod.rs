//! The admission engine's verdicts on local objects, for `validate`, `policy test`, `generate`
//! and `create`: [`admit`] runs the engine, [`render`] is the one place verdicts become text or
//! JSON, and [`gate`] holds the checks `generate` and `create` share before they print or send
//! objects.

pub mod admit;
pub mod gate;
pub mod render;
