//! berth-compose: the compose-spec side of `berth compose`.
//!
//! Owns the pieces that are pure data:
//! - [`yaml`]: the YAML tree (serde-saphyr: anchors, aliases, `<<` merge keys) where every
//!   node keeps its file and line;
//! - [`interpolate`]: `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`, and `.env` files;
//! - [`merge`]: several `-f` files, `extends` and `include`, by the compose-spec merge rules;
//! - [`load`]: finding the files, the project name, profiles, top-level networks/volumes/
//!   secrets/configs, and reference checks; [`service`] types one service, [`units`] parses
//!   ports, mounts, durations and sizes; [`error`] names file, line and key of every mistake;
//! - [`model`]: the resolved [`model::Project`] that `config` ([`config`]) prints;
//! - [`graph`]: dependency order and cycles; [`labels`]: Docker Compose v2's labels and names;
//!   [`hash`]: the per-service config hash computed as Compose v2 does; [`rebase`]: paths
//!   in included/extended files made relative to those files' own directory;
//! - [`container`]: the ContainerCreate body a service becomes; [`plan`]: the converge plan
//!   (keep, start, recreate, create, remove) from the containers that exist.
//!
//! It never talks to a daemon: the `cli` crate (`commands/compose/`) executes the plan with
//! its bollard client, so this crate is tested without one, and `berth compose` works the same
//! against berthd and dockerd.

pub mod config;
pub mod container;
pub mod error;
pub mod graph;
pub mod hash;
pub mod interpolate;
pub mod labels;
pub mod load;
pub mod merge;
pub mod model;
pub mod plan;
pub mod rebase;
pub mod service;
pub mod units;
pub mod yaml;
