//! `POST /exec/{id}/resize` (ExecResize).

use super::ExecStatus;
use crate::{Engine, Error, Result};

impl Engine {
    pub async fn exec_resize(&self, id: &str, height: u16, width: u16) -> Result<()> {
        let e = self.execs.get(id)?;
        if e.state().status != ExecStatus::Running {
            return Err(Error::Conflict(format!("Exec {} is not running", e.id)));
        }
        let c = self.containers.get(&e.container_id)?;
        let shim = c.shim().ok_or_else(|| Error::Conflict(format!("Container {} is not running", c.id)))?;
        shim.exec_resize(&e.id, height, width).await?;
        Ok(())
    }
}
