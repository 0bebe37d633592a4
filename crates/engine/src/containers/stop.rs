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
        self.stop_locked(&c, timeout, signal).await
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
        let grace = timeout.or(record.config.stop_timeout).unwrap_or(DEFAULT_STOP_TIMEOUT);
        let Some(shim) = c.shim() else {
            return Err(Error::NotModified("container already stopped".into()));
        };
        if let Err(e) = shim.signal(sig).await {
            tracing::warn!(id = %c.id, error = %e, "stop signal failed; killing");
        }
        let stopped = |s: &super::Snapshot| s.status != Status::Running;
        let limit = u64::try_from(grace).ok().map(Duration::from_secs);
        if c.wait_until(stopped, limit).await.is_some() {
            return Ok(());
        }
        shim.signal(signal::SIGKILL)
            .await
            .map_err(|e| Error::Internal(format!("Cannot stop container: {}: {e}", c.id)))?;
        match c.wait_until(stopped, Some(Duration::from_secs(60))).await {
            Some(_) => Ok(()),
            None => Err(Error::Internal(format!(
                "Cannot stop container: {}: tried to kill container, but did not receive an exit event",
                c.id
            ))),
        }
    }
}
