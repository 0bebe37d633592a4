//! `POST /containers/{id}/resize` (ContainerResize).

use crate::{Engine, Error, Result};

impl Engine {
    /// Resizes the container's TTY; 409 when it is not running.
    pub async fn container_resize(&self, key: &str, height: u16, width: u16) -> Result<()> {
        let c = self.containers.get(key)?;
        let not_running = || Error::Conflict(format!("Container {} is not running", c.id));
        if !c.status().can_signal() {
            return Err(not_running());
        }
        let shim = c.shim().ok_or_else(not_running)?;
        shim.resize(height, width).await?;
        self.emit_container(&c.record(), "resize", &[("height", height.to_string()), ("width", width.to_string())]);
        Ok(())
    }
}
