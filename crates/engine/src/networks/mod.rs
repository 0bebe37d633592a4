//! Container networking: the `bridge`, `host` and `none` networks every daemon has, user-defined
//! bridge networks, addresses (IPAM), published ports and the firewall.
//!
//! The container lifecycle calls in here when a container starts ([`Engine::network_attach`]:
//! which namespace it gets, and what goes into its /etc/hosts and /etc/resolv.conf) and when
//! its process is gone ([`Engine::network_detach`]); connect and disconnect add and remove
//! endpoints of running containers. Containers on user-defined networks get an embedded DNS
//! server ([`dns`]). Plans come from `berth-net`; the kernel is
//! changed through `berth-kernel` only. State is the [`registry::Registry`] under
//! `<data-root>/network/`.

mod attach;
mod congctl;
mod connect;
mod create;
mod daemon;
mod delete;
mod disconnect;
pub mod dns;
mod etc_files;
mod inspect;
pub(crate) mod links;
pub mod list;
mod prune;
pub mod registry;
pub mod settings;

pub use list::ListFilters;

use std::collections::HashMap;
use std::path::PathBuf;

use berth_runtime::spec::NetworkNamespace;

use crate::{Config, Error, Result};
use registry::Registry;

/// What a starting container gets from the network side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkSetup {
    pub namespace: NetworkNamespace,
}

/// The networking service of the engine.
pub(crate) struct Networks {
    path: PathBuf,
    netns_dir: PathBuf,
    state: std::sync::Mutex<Registry>,
    /// Serialises kernel changes (bridges, veths, ruleset loads).
    ops: tokio::sync::Mutex<()>,
    /// Sockets holding published host ports (as dockerd does), per container.
    held: std::sync::Mutex<HashMap<String, Vec<attach::HeldPort>>>,
    /// Whether this run changed the kernel (so a stop may remove bridges and the table).
    touched: std::sync::atomic::AtomicBool,
    /// Bridges set up by this run (skipped on later attaches).
    ready_bridges: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Host ends of veths released by containers that exited (deleted in the background; daemon
    /// stop makes sure none is left).
    lingering: std::sync::Mutex<Vec<String>>,
    /// The ruleset last loaded (an unchanged one is not loaded again).
    last_ruleset: std::sync::Mutex<Option<String>>,
    /// Names served by the embedded DNS servers.
    dns: std::sync::Arc<berth_net::dns::NameTable>,
    /// The embedded DNS server task of each container on a user-defined network.
    dns_tasks: std::sync::Mutex<HashMap<String, tokio::task::AbortHandle>>,
}

impl Networks {
    pub(crate) fn open(config: &Config) -> Result<Networks> {
        let path = Registry::path(&config.data_root);
        let state = Registry::load(&path)?;
        Ok(Networks {
            path,
            netns_dir: config.exec_root.join("netns"),
            state: std::sync::Mutex::new(state),
            ops: tokio::sync::Mutex::new(()),
            held: std::sync::Mutex::new(HashMap::new()),
            touched: std::sync::atomic::AtomicBool::new(false),
            ready_bridges: Default::default(),
            last_ruleset: Default::default(),
            lingering: Default::default(),
            dns: Default::default(),
            dns_tasks: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// A snapshot of the registry.
    pub(crate) fn snapshot(&self) -> Registry {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves a consistent registry (changes are applied to a
        // clone and swapped in), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies `change` to a copy of the registry, persists it, then makes it current.
    fn update<T>(&self, change: impl FnOnce(&mut Registry) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        let mut next = guard.clone();
        let out = change(&mut next)?;
        next.save(&self.path)?;
        *guard = next;
        Ok(out)
    }
}

fn kernel_err(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}
