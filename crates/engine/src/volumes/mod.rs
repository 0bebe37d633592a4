//! Volumes, bind mounts and tmpfs mounts (owned by the volumes work).
//!
//! The container lifecycle calls in here at three points: [`Engine::container_mounts`] when a
//! container starts (its OCI mounts), [`Engine::release_mounts`] when it stops, and
//! [`Engine::remove_container_volumes`] when it is removed (`v=1` removes anonymous volumes).

use oci_spec::runtime::Mount;

use crate::containers::record::Record;
use crate::{Engine, Result};

impl Engine {
    /// The container's volume, bind and tmpfs mounts, in the order they are applied.
    pub(crate) fn container_mounts(&self, record: &Record) -> Result<Vec<Mount>> {
        let _ = record;
        Ok(Vec::new())
    }

    /// Undoes whatever [`Engine::container_mounts`] set up that must not outlive the process.
    pub(crate) fn release_mounts(&self, id: &str) {
        let _ = id;
    }

    /// Removes the container's anonymous volumes when `remove_anonymous` (`docker rm -v`).
    pub(crate) fn remove_container_volumes(&self, record: &Record, remove_anonymous: bool) -> Result<()> {
        let _ = (record, remove_anonymous);
        Ok(())
    }
}
