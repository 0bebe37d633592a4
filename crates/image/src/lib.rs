//! The OCI/Docker image model, pure data and no I/O: references (with docker.io normalisation),
//! digests, manifests, indexes, image configs, platforms, DiffID/ChainID.

pub mod config;

pub use config::{ContainerConfig, HistoryEntry, ImageConfig, RootFs};
