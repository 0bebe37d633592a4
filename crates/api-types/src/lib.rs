//! Docker Engine API wire types.
//!
//! Owns everything that crosses the API socket as JSON or framed bytes: the response and request
//! models (re-exported from `bollard-stubs`, plus our own structs where dockerd always emits a
//! field that the stubs would skip), query-string structs, `filters` parsing, stdcopy framing for
//! attach/logs streams, JSON progress messages, and the supported [`ApiVersion`] range.
//!
//! It depends on nothing else in the workspace and does no I/O: persisted records live in `store`
//! and `engine`, never here.

pub mod archive;
pub mod dockerignore;
pub mod error;
pub mod events;
pub mod filters;
pub mod legacy_network;
pub mod query;
pub mod stdcopy;
pub mod units;
pub mod version;

pub use bollard_stubs::models;
pub use error::ErrorResponse;
pub use filters::Filters;
pub use version::ApiVersion;
