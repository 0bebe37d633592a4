//! Dockerfile builds, independent of the engine: parse (`parse-dockerfile`) → the stages the
//! target needs → one function per instruction (`instructions/<name>.rs`), with the build
//! context and `.dockerignore` ([`context`], [`dockerignore`]), variable expansion
//! ([`expand`]) and step cache keys ([`build::cache_key`]).
//!
//! Everything that touches images, containers or the store goes through one trait,
//! [`BuildBackend`], which the engine implements (`engine/src/build/`). Progress is written
//! as dockerd's classic builder writes it (`{"stream":"Step 1/3 : FROM busybox\n"}`), so the
//! docker CLI shows the same output.
//!
//! Independent stages build concurrently (`stages.rs`), printed in Dockerfile order.
//!
//! This crate must not depend on the engine or the store, and has no HTTP.

pub mod backend;
pub mod build;
pub mod context;
pub use berth_api_types::dockerignore;
pub mod error;
pub mod expand;
pub mod instructions;
pub mod parse;
mod stages;
pub mod step_container;

pub use backend::{BuildBackend, Fetched, Layer, MountedImage, Progress, RunLimits, RunMount, RunSpec};
pub use build::{build, BuildOptions};
pub use error::{Error, Result};
