//! `POST /containers/{id}/kill` (ContainerKill).

use std::time::Duration;

use super::signal;
use super::state::Status;
use crate::{Engine, Error, Result};

impl Engine {
    /// Sends `signal` (default KILL) to the container's init process; for SIGKILL, waits until
    /// the exit is recorded. 409 when the container is not running.
    pub async fn container_kill(&self, key: &str, signal: Option<&str>) -> Result<()> {
        let c = self.containers.get(key)?;
        let sig = match signal.filter(|s| !s.is_empty()) {
            None => signal::SIGKILL,
            Some(s) => signal::parse(s).map_err(|e| match s.trim().parse::<i64>() {
                Ok(_) => Error::InvalidArgument(format!("Cannot kill container: {key}: {e}")),
                Err(_) => e,
            })?,
        };
        let not_running =
            || Error::Conflict(format!("Cannot kill container: {key}: Container {} is not running", c.id));
        if !c.status().can_signal() {
            return Err(not_running());
        }
        // dockerd: only SIGKILL reaches a paused container (the shim thaws it to let it die).
        if c.record().state.paused && sig != signal::SIGKILL {
            return Err(not_running());
        }
        let shim = c.shim().ok_or_else(not_running)?;
        // As dockerd: a killed container counts as stopped by the user; SIGKILL makes the exit final.
        if sig == signal::SIGKILL {
            self.cancel_restart(&c, true)?;
        } else if !c.record().state.manually_stopped {
            c.update(|r| {
                r.state.manually_stopped = true;
                Ok(())
            })?;
        }
        match shim.signal(sig).await {
            Ok(()) => {}
            // As dockerd: a process that exited meanwhile is not an error; its exit is recorded
            // by the monitor.
            Err(e) if e.is_gone() => tracing::debug!(id = %c.id, error = %e, "kill: already exited"),
            Err(e) => return Err(Error::Internal(format!("Cannot kill container: {key}: {e}"))),
        }
        self.emit_container(&c.record(), "kill", &[("signal", sig.to_string())]);
        if sig == signal::SIGKILL {
            c.wait_until(|s| s.status != Status::Running, Some(Duration::from_secs(30))).await;
        }
        Ok(())
    }
}
