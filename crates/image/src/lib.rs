//! The OCI/Docker image model, pure data and no I/O: references (with docker.io normalisation),
//! digests, manifests, indexes, image configs, platforms, DiffID/ChainID.
//!
//! Main types: [`Reference`], [`Digest`], [`ImageConfig`], [`Manifest`], [`Index`]. Nothing here
//! touches the filesystem or the network; `berth-store` keeps the bytes.

pub mod chain;
pub mod config;
pub mod digest;
pub mod manifest;
pub mod reference;

pub use chain::{chain_id, chain_ids};
pub use config::{ContainerConfig, HistoryEntry, ImageConfig, RootFs};
pub use digest::{Digest, DigestError};
pub use manifest::{ArchiveManifestEntry, Descriptor, Index, Manifest, Platform};
pub use reference::{Reference, ReferenceError};
