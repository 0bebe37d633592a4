//! `POST /containers/{id}/stop` (ContainerStop).

use std::time::Duration;

use super::signal;
use super::state::Status;
use crate::{Engine, Error, Result};

/// dockerd's default grace period.
pub const DEFAULT_STOP_TIMEOUT: i64 = 10;

impl Engine {
    /// Sends the stop signal (`signal`, else the container's StopSignal, else SIGTERM), waits
    /// `timeout` seconds (else StopTimeout, else 10; negative = forever), then SIGKILL.
    /// `NotModified` when not running.
    pub async fn container_stop(&self, key: &str, timeout: Option<i64>, signal: Option<&str>) -> Result<()> {
        let c = self.containers.get(key)?;
        let _op = c.op.lock().await;
        // Stopped by the user: never restarted by its policy; one waiting to restart stops here.
        if self.cancel_restart(&c, c.status().can_signal())? {
            self.emit_container(&c.record(), "stop", &[]);
            return Ok(());
        }
        let stopped = self.stop_locked(&c, timeout, signal).await;
        // An exit recorded just before the cancel may have scheduled a restart: end it.
        if c.status().is_restarting() {
            self.cancel_restart(&c, false)?;
        }
        stopped
    }

    /// Stop with the container's lifecycle lock already held (restart, delete).
    pub(crate) async fn stop_locked(
        &self,
        c: &super::Container,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        if !c.status().can_signal() {
            return Err(Error::NotModified("container already stopped".into()));
        }
        let record = c.record();
        let sig = match signal.filter(|s| !s.is_empty()).map(str::to_string).or(record.config.stop_signal.clone()) {
            Some(s) => signal::parse(&s)?,
            None => signal::SIGTERM,
        };
        // A paused container cannot handle its stop signal: dockerd kills it at once.
        let grace = if record.state.paused {
            0
        } else {
            timeout.or(record.config.stop_timeout).unwrap_or(DEFAULT_STOP_TIMEOUT)
        };
        let Some(shim) = c.shim() else {
            return Err(Error::NotModified("container already stopped".into()));
        };
        match shim.signal(sig).await {
            Ok(()) => self.emit_container(&record, "kill", &[("signal", sig.to_string())]),
            Err(e) => tracing::warn!(id = %c.id, error = %e, "stop signal failed; killing"),
        }
        let stopped = |s: &super::Snapshot| s.status != Status::Running;
        let limit = u64::try_from(grace).ok().map(Duration::from_secs);
        if c.wait_until(stopped, limit).await.is_some() {
            self.emit_container(&c.record(), "stop", &[]);
            return Ok(());
        }
        match shim.signal(signal::SIGKILL).await {
            Ok(()) => {}
            // Exited meanwhile: the monitor records it, which the wait below sees.
            Err(e) if e.is_gone() => tracing::debug!(id = %c.id, error = %e, "stop: already exited"),
            Err(e) => return Err(Error::Internal(format!("Cannot stop container: {}: {e}", c.id))),
        }
        self.emit_container(&record, "kill", &[("signal", signal::SIGKILL.to_string())]);
        match c.wait_until(stopped, Some(Duration::from_secs(60))).await {
            Some(_) => {
                self.emit_container(&c.record(), "stop", &[]);
                Ok(())
            }
            None => Err(Error::Internal(format!(
                "Cannot stop container: {}: tried to kill container, but did not receive an exit event",
                c.id
            ))),
        }
    }
}
