//! Container networking (owned by the networking work).
//!
//! The container lifecycle calls in here when a container starts ([`Engine::network_attach`]:
//! which namespace it gets, and what goes into its /etc/hosts and /etc/resolv.conf) and when
//! its process is gone ([`Engine::network_detach`]).

use berth_runtime::spec::NetworkNamespace;

use crate::containers::record::Record;
use crate::{Engine, Result};

/// What a starting container gets from the network side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkSetup {
    pub namespace: NetworkNamespace,
}

impl Engine {
    /// Prepares the container's network before its process starts.
    pub(crate) async fn network_attach(&self, record: &Record) -> Result<NetworkSetup> {
        let _ = record;
        Ok(NetworkSetup::default())
    }

    /// Releases what [`Engine::network_attach`] set up (addresses, veths, rules).
    pub(crate) async fn network_detach(&self, id: &str) {
        let _ = id;
    }
}
