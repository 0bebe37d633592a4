//! Volumes, bind mounts and tmpfs mounts.
//!
//! Local volumes live in [`store::Volumes`] (one versioned JSON record per volume, data under
//! `<data-root>/volumes/<name>/_data`); the Docker operations are one per file (`create.rs` →
//! [`Engine::volume_create`], `list.rs`, `inspect.rs`, `delete.rs`, `prune.rs`). A container's
//! mount requests are parsed in `spec.rs` at create and kept in its record; `mounts.rs` turns
//! them into OCI mounts at start ([`Engine::container_mounts`], with copy-up from the image in
//! `copyup.rs`), releases them at stop ([`Engine::release_mounts`]) and removes anonymous
//! volumes with the container ([`Engine::remove_container_volumes`]).
//!
//! No `unsafe` and no direct kernel calls: driver-option mounts go through `berth-kernel`, and
//! mounts into a container are OCI spec entries that the runtime performs.

mod active;
mod copyup;
mod create;
mod delete;
mod inspect;
mod list;
mod mounts;
mod prune;
pub mod requested;
pub mod spec;
pub mod store;

pub use create::check_options;
pub use inspect::no_such_volume;
