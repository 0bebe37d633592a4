//! Daemon shutdown with `live-restore: false`: every running container is stopped (its stop
//! signal, then SIGKILL after its stop timeout), all at once, as dockerd's `Shutdown` does. They
//! are not marked as stopped by the user, so `always` and `unless-stopped` bring them back when
//! the daemon starts again.

use crate::{Engine, Error};

impl Engine {
    pub(crate) async fn stop_all_for_shutdown(&self) {
        let running: Vec<_> = self.containers.all().into_iter().filter(|c| c.status().can_signal()).collect();
        tracing::info!(count = running.len(), "live-restore is off: stopping running containers");
        let stops = running.into_iter().map(|c| async move {
            let _op = c.op.lock().await;
            match self.stop_locked(&c, None, None).await {
                Ok(()) | Err(Error::NotModified(_)) => {}
                Err(e) => tracing::warn!(id = %c.id, error = %e, "stopping container at shutdown"),
            }
        });
        futures_util::future::join_all(stops).await;
    }
}
