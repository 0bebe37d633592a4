//! `DELETE /containers/{id}` (ContainerDelete).

use std::time::Duration;

use super::remove_dir_if_exists;
use super::signal;
use super::state::{Status, Transition};
use crate::{Engine, Error, Result};

impl Engine {
    /// Removes a container: 409 if running without `force`; with `force` kills it first. Removes
    /// the rootfs snapshot, shim state, bundle and container directory, then the index entry.
    pub async fn container_delete(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        let c = self.containers.get(key)?;
        let _op = c.op.lock().await;
        // Another delete may have finished while we waited for the lock.
        if !self.containers.get(&c.id).is_ok_and(|x| std::sync::Arc::ptr_eq(&x, &c)) {
            return Err(Error::no_such_container(key));
        }
        if c.status().is_restarting() {
            if !force {
                return Err(Error::Conflict(format!(
                    "You cannot remove a restarting container {}. Stop the container before attempting removal or force remove",
                    c.id
                )));
            }
            self.cancel_restart(&c, false)?;
        }
        let status = c.status();
        if status.is_running() && !force && c.record().state.paused {
            return Err(Error::Conflict(format!(
                "You cannot remove a paused container {}. Unpause and then stop the container before attempting removal or force remove",
                c.id
            )));
        }
        if status.is_running() && force {
            self.cancel_restart(&c, false)?;
        }
        if status.is_running() {
            if !force {
                return Err(Error::Conflict(format!(
                    "You cannot remove a running container {}. Stop the container before attempting removal or force remove",
                    c.id
                )));
            }
            if let Some(shim) = c.shim() {
                match shim.signal(signal::SIGKILL).await {
                    Ok(()) => {}
                    // It exited meanwhile (its shim is exiting or gone): the monitor records
                    // the exit, which the wait below sees.
                    Err(e) if e.is_gone() => tracing::debug!(id = %c.id, error = %e, "rm -f: already exited"),
                    Err(e) => {
                        return Err(Error::Internal(format!(
                            "Could not kill running container {}, cannot remove - {e}",
                            c.id
                        )))
                    }
                }
                self.emit_container(&c.record(), "kill", &[("signal", signal::SIGKILL.to_string())]);
            }
            if c.wait_until(|s| s.status != Status::Running, Some(Duration::from_secs(30))).await.is_none() {
                return Err(Error::Internal(format!(
                    "Could not kill running container {}, cannot remove - no exit event",
                    c.id
                )));
            }
        }
        // An exit recorded just before the cancel may have scheduled a restart: end it.
        if c.status().is_restarting() {
            self.cancel_restart(&c, false)?;
        }
        if c.status() != Status::Removing {
            c.update(|r| {
                r.state.status =
                    r.state.status.apply(Transition::RemoveBegan).map_err(|_| {
                        Error::Conflict(format!("removal of container {} is already in progress", c.id))
                    })?;
                Ok(())
            })?;
        }
        let result =
            self.remove_everything(&c.id, &c.dir).and_then(|()| self.remove_container_volumes(&c.record(), volumes));
        if let Err(e) = result {
            let _ = c.update(|r| {
                r.state.status = r.state.status.apply(Transition::RemoveFailed).unwrap_or(Status::Dead);
                Ok(())
            });
            return Err(Error::Internal(format!("unable to remove container {}: {e}", c.id)));
        }
        let record = c.record();
        c.mark_removed();
        self.containers.remove(&c.id);
        self.execs.remove_container(&c.id);
        self.restarts.forget(&c.id);
        self.emit_container(&record, "destroy", &[]);
        Ok(())
    }

    fn remove_everything(&self, id: &str, dir: &std::path::Path) -> Result<()> {
        self.images.remove_rootfs(id)?;
        remove_dir_if_exists(&self.bundle_dir(id))?;
        remove_dir_if_exists(&self.shim_dir(id))?;
        remove_dir_if_exists(dir)
    }
}
