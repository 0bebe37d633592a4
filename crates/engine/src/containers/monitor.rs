//! Following running containers: a task per running container follows its shim's events (exec
//! exits, then the container's exit), records the exit, cleans up, and honours AutoRemove.
//! [`restore`] reconnects after a daemon start.

use std::sync::Arc;

use berth_runtime::shim::client::{ShimClient, ShimError};
use berth_runtime::shim::protocol::{ExitStatus, Response};
use chrono::{DateTime, Utc};

use super::state::Status;
use super::Container;
use crate::{Engine, Error, Result};

/// Follows the shim's events until the container's exit: exec exits are recorded as they come.
async fn follow(engine: &Engine, shim: &ShimClient) -> Result<ExitStatus, ShimError> {
    let mut events = match shim.subscribe().await {
        Ok(events) => events,
        // A shim of an earlier build (live restore after an upgrade) only answers Wait.
        Err(ShimError::Remote(m)) if m.starts_with("bad request") => return shim.wait().await,
        Err(e) => return Err(e),
    };
    loop {
        match events.next().await? {
            Response::ExecExited { exec_id, exit } => engine.exec_exited(&exec_id, exit.code),
            Response::Exited(exit) => return Ok(exit),
            Response::Error { message } => return Err(ShimError::Remote(message)),
            other => return Err(ShimError::Protocol(format!("unexpected event {other:?}"))),
        }
    }
}

/// Spawns the task that follows `c` through `shim` until it exits.
pub(crate) fn spawn(engine: Arc<Engine>, c: Arc<Container>, shim: ShimClient) {
    tokio::spawn(async move {
        let exit = match follow(&engine, &shim).await {
            Ok(exit) => exit,
            Err(e) => {
                tracing::warn!(id = %c.id, error = %e, "lost the shim; reading its exit file");
                ShimClient::read_exit(&shim.state_dir).unwrap_or_else(lost_exit)
            }
        };
        engine.record_exit(&c, &shim, exit).await;
    });
}

fn lost_exit() -> ExitStatus {
    ExitStatus { code: 255, finished_at: Utc::now().to_rfc3339(), oom_killed: false }
}

impl Engine {
    async fn record_exit(self: &Arc<Self>, c: &Arc<Container>, shim: &ShimClient, exit: ExitStatus) {
        if let Err(e) = shim.shutdown().await {
            tracing::debug!(id = %c.id, error = %e, "shim shutdown");
        }
        c.set_shim(None);
        self.cleanup_after_exit(&c.id).await;
        let finished = DateTime::parse_from_rfc3339(&exit.finished_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let code = i64::from(exit.code);
        let (by, restart) = self.on_exit(c, code);
        let recorded = c.update(|r| {
            r.state.exited_by(by, code, finished, exit.oom_killed).map_err(|e| Error::Internal(e.to_string()))?;
            if restart.is_some() {
                r.restart_count += 1;
            }
            Ok(())
        });
        if let Err(e) = recorded {
            tracing::warn!(id = %c.id, error = %e, "recording exit");
            return;
        }
        let record = c.record();
        if exit.oom_killed {
            self.emit_container(&record, "oom", &[]);
        }
        self.emit_container(&record, "die", &[("exitCode", code.to_string())]);
        self.emit_volume_unmounts(&record);
        if let Some(delay) = restart {
            self.schedule_restart(c.clone(), delay);
            return;
        }
        if record.host.auto_remove {
            // As dockerd's --rm: anonymous volumes go with the container.
            if let Err(e) = self.container_delete(&c.id, false, true).await {
                tracing::warn!(id = %c.id, error = %e, "auto-remove");
            }
        }
    }
}

/// Reconnects to running shims after a daemon start; containers whose shim is gone are marked
/// exited with the status from their exit file (255 when there is none).
pub async fn restore(engine: &Arc<Engine>) -> Result<()> {
    for c in engine.containers.all() {
        match c.status() {
            Status::Running => {}
            Status::Removing => {
                // A delete was interrupted: finish it.
                if let Err(e) = engine.container_delete(&c.id, true, false).await {
                    tracing::warn!(id = %c.id, error = %e, "finishing interrupted removal");
                }
                continue;
            }
            _ => continue,
        }
        let state_dir = engine.shim_dir(&c.id);
        let shim = ShimClient::open(&c.id, &state_dir);
        match shim.state().await {
            Ok(state) if state.exit.is_none() => {
                tracing::info!(id = %c.id, pid = state.pid, "reconnected to running container");
                c.set_shim(Some(shim.clone()));
                spawn(engine.clone(), c.clone(), shim);
                // As dockerd's restore: the healthcheck starts over (`starting`).
                engine.start_health_monitor(&c);
            }
            Ok(state) => {
                let exit = state.exit.unwrap_or_else(lost_exit);
                engine.record_exit(&c, &shim, exit).await;
            }
            Err(e) => {
                tracing::info!(id = %c.id, error = %e, "shim is gone; container exited while the daemon was down");
                let exit = ShimClient::read_exit(&state_dir).unwrap_or_else(lost_exit);
                engine.record_exit(&c, &shim, exit).await;
            }
        }
    }
    Ok(())
}
