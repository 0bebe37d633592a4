//! `POST /containers/{id}/pause` (ContainerPause) and `/unpause` (ContainerUnpause): the
//! cgroup freezer (v1 `freezer.state`, v2 `cgroup.freeze`).

use std::path::Path;

use crate::{Engine, Error, Result};

impl Engine {
    pub async fn container_pause(&self, key: &str) -> Result<()> {
        self.set_paused(key, true).await
    }

    pub async fn container_unpause(&self, key: &str) -> Result<()> {
        self.set_paused(key, false).await
    }

    async fn set_paused(&self, key: &str, paused: bool) -> Result<()> {
        let c = self.containers.get(key)?;
        let _op = c.op.lock().await;
        let mut check = c.record().state;
        let checked = if paused { check.pause(&c.id) } else { check.unpause(&c.id) };
        checked.map_err(Error::Conflict)?;
        let root = Path::new(berth_kernel::cgroup::CGROUP_ROOT);
        let path = self.cgroup_path(&c.id);
        berth_kernel::cgroup_limits::freeze(root, &path, paused).map_err(|e| {
            let verb = if paused { "pause" } else { "unpause" };
            Error::Internal(format!("Cannot {verb} container {}: {e}", c.id))
        })?;
        let r = c.update(|r| {
            let changed = if paused { r.state.pause(&r.id) } else { r.state.unpause(&r.id) };
            changed.map_err(Error::Conflict)?;
            Ok(r.clone())
        })?;
        self.emit_container(&r, if paused { "pause" } else { "unpause" }, &[]);
        Ok(())
    }
}
