//! `GET /containers/{id}/export` (ContainerExport): a tar of the container's root filesystem
//! (image layers plus its changes, without volumes or bind mounts), named relative to `/` as
//! dockerd's (`bin/`, `bin/sh`, …). Running containers are read from their mounted rootfs;
//! stopped ones are mounted for the duration (see `archive.rs`).

use std::sync::Arc;

use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

use super::archive_tar::{self, SeenLinks};
use crate::{Engine, Result};

impl Engine {
    pub async fn container_export(self: &Arc<Self>, key: &str) -> Result<impl AsyncRead + Send + Unpin + 'static> {
        let c = self.containers.get(key)?;
        let view = self.open_root_view(&c, false).await?;
        let (reader, writer) = tokio::io::duplex(256 * 1024);
        let writer = SyncIoBridge::new(writer);
        let id = c.id.clone();
        let mut seen = SeenLinks::with_id_map(self.config.userns_remap.as_ref().map(|r| r.map.clone()));
        tokio::task::spawn_blocking(move || {
            let mut b = tar::Builder::new(writer);
            let res = archive_tar::write_contents(&mut b, &mut seen, &view.root, b"");
            if let Err(e) = res.and_then(|()| b.into_inner().map(drop)) {
                tracing::warn!(%id, error = %e, "export stream aborted");
            }
            drop(view);
        });
        Ok(reader)
    }
}
