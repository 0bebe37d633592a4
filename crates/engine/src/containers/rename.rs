//! `POST /containers/{id}/rename` (ContainerRename).

use super::names;
use crate::{Engine, Error, Result};

impl Engine {
    pub async fn container_rename(&self, key: &str, new_name: &str) -> Result<()> {
        if key.is_empty() || new_name.is_empty() {
            return Err(Error::InvalidArgument("Neither old nor new names may be empty".into()));
        }
        let c = self.containers.get(key)?;
        let _op = c.op.lock().await;
        let new = names::validate(new_name)?;
        let old = c.name();
        if old == new {
            return Err(Error::InvalidArgument("Renaming a container with the same name as its current name".into()));
        }
        if !c.status().can_rename() {
            return Err(Error::Conflict(format!("Can't rename container {}: it is being removed", c.id)));
        }
        self.containers.rename(&c.id, &old, &new)?;
        let saved = c.update(|r| {
            r.name = new.clone();
            Ok(())
        });
        if let Err(e) = saved {
            // Put the old name back so index and record agree.
            if let Err(re) = self.containers.rename(&c.id, &new, &old) {
                tracing::error!(id = %c.id, error = %re, "restoring name after failed rename");
            }
            return Err(e);
        }
        if c.status().is_running() {
            // Its name on user-defined networks' embedded DNS follows.
            self.dns_refresh(&c.record()).await;
        }
        self.emit_container(&c.record(), "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }
}
