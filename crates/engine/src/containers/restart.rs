//! `POST /containers/{id}/restart` (ContainerRestart).

use std::sync::Arc;

use crate::{Engine, Error, Result};

impl Engine {
    /// Stops the container if it runs (as `container_stop`), then starts it.
    pub async fn container_restart(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let c = self.containers.get(key)?;
        {
            let _op = c.op.lock().await;
            match self.stop_locked(&c, timeout, signal).await {
                Ok(()) | Err(Error::NotModified(_)) => {}
                Err(e) => return Err(e),
            }
        }
        match self.container_start(&c.id).await {
            Ok(()) | Err(Error::NotModified(_)) => {
                self.emit_container(&c.record(), "restart", &[]);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
