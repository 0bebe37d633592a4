//! `POST /containers/{id}/exec` (ContainerExec).

use std::sync::{Arc, Mutex};

use super::{Exec, ExecSettings};
use crate::{Engine, Error, Result};

impl Engine {
    /// Registers an exec instance in a running container; 409 when it is not running.
    pub async fn exec_create(&self, key: &str, settings: ExecSettings) -> Result<String> {
        let c = self.containers.get(key)?;
        let status = c.status();
        if c.record().state.paused {
            return Err(Error::Conflict(format!("Container {key} is paused, unpause the container before exec")));
        }
        if !status.is_running() {
            return Err(Error::Conflict(format!("Container {} is not running", c.id)));
        }
        if settings.cmd.is_empty() {
            return Err(Error::InvalidArgument("No exec command specified".into()));
        }
        let id = super::new_id();
        let record = c.record();
        let run = record.state.exits;
        let action = format!("exec_create: {}", settings.cmd.join(" "));
        self.emit_container(&record, &action, &[("execID", id.clone())]);
        self.execs.insert(Arc::new(Exec {
            id: id.clone(),
            container_id: c.id.clone(),
            settings,
            run,
            state: Mutex::new(Default::default()),
        }));
        Ok(id)
    }
}
