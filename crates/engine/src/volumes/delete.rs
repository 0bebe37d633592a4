//! `DELETE /volumes/{name}` (VolumeDelete).

use super::inspect::no_such_volume;
use crate::{Engine, Error, Result};

impl Engine {
    /// Removes a volume. Refused (409) while any container uses it, force or not; `force` only
    /// makes a missing volume a success.
    pub fn volume_delete(&self, name: &str, force: bool) -> Result<()> {
        let _g = self.volumes.lock();
        if self.volumes.get(name).is_none() {
            return if force { Ok(()) } else { Err(no_such_volume(name)) };
        }
        let users = self.volume_users(name, None);
        if !users.is_empty() {
            return Err(Error::Conflict(format!("remove {name}: volume is in use - [{}]", users.join(", "))));
        }
        self.volumes.remove(name)?;
        self.emit_volume(name, "destroy");
        Ok(())
    }
}
