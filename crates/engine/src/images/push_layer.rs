//! One layer of `docker push`: the stored diff tar is gzip-compressed on every core
//! ([`super::push_gzip`]) while the compressed bytes stream to the registry in one upload, so
//! compression, hashing and the transfer overlap (dockerd also compresses on the fly). The
//! compressed digest of each diff id is remembered, as dockerd's v2 metadata does, so the next
//! push of the layer asks the registry for it first and can answer `Layer already exists`.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use berth_api_types::query::images::JsonMessage;
use berth_image::Digest;
use berth_registry::Client;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc::Sender;

use super::auth::registry_err;
use super::{push_gzip, store_err, Inner};
use crate::{Error, Result};

/// Compressed pieces queued between the compressor and the upload.
const QUEUE: usize = 8;

/// `<data-root>/distribution/<diff-id hex>`: `sha256:<hex> <size>` of its compressed blob.
fn remembered_path(inner: &Inner, diff_id: &Digest) -> Option<PathBuf> {
    Some(inner.tmp.parent()?.join("distribution").join(diff_id.hex()))
}

fn remembered(inner: &Inner, diff_id: &Digest) -> Option<(Digest, u64)> {
    let text = std::fs::read_to_string(remembered_path(inner, diff_id)?).ok()?;
    let (d, size) = text.trim().split_once(' ')?;
    Some((d.parse().ok()?, size.parse().ok()?))
}

fn remember(inner: &Inner, diff_id: &Digest, digest: &Digest, size: u64) {
    if let Some(path) = remembered_path(inner, diff_id) {
        // Only a shortcut for the next push: losing it costs an upload, nothing else.
        if let Err(e) = crate::fsutil::write_atomic(&path, format!("{digest} {size}\n").as_bytes()) {
            tracing::debug!(error = %e, "remembering the compressed digest of {diff_id}");
        }
    }
}

/// Reports `Pushing` progress over the uncompressed bytes read, as dockerd does.
struct Progress<R> {
    inner: R,
    done: i64,
    total: i64,
    id: String,
    tx: Sender<JsonMessage>,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as i64;
        let _ = self.tx.try_send(JsonMessage::transfer(&self.id, "Pushing", self.done, self.total));
        Ok(n)
    }
}

/// Pushes the layer `diff_id` unless the registry has it; returns the compressed blob's
/// digest and size for the manifest.
pub(super) async fn push_layer(
    inner: &Arc<Inner>,
    client: &Client,
    diff_id: &Digest,
    id: &str,
    tx: &Sender<JsonMessage>,
) -> Result<(Digest, u64)> {
    if let Some((digest, size)) = remembered(inner, diff_id) {
        if client.blob_exists(&digest).await.map_err(registry_err)? {
            let _ = tx.send(JsonMessage::layer(id, "Layer already exists")).await;
            return Ok((digest, size));
        }
    }
    let total = inner.content.size(diff_id).map_err(store_err("reading layer"))? as i64;
    let src = inner.content.open_blob(diff_id).map_err(store_err("reading layer"))?;
    let src = Progress { inner: src, done: 0, total, id: id.to_string(), tx: tx.clone() };
    let (piece_tx, piece_rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(QUEUE);
    let compressing = tokio::task::spawn_blocking(move || {
        let sent = |piece: Vec<u8>| {
            piece_tx
                .blocking_send(Ok(Bytes::from(piece)))
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped"))
        };
        let r = push_gzip::compress(src, flate2::Compression::default(), push_gzip::threads(), sent);
        if let Err(e) = &r {
            // Ends the upload's body with the error, so the registry never sees a short blob.
            let _ = piece_tx.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
        }
        r
    });
    let body = futures_util::stream::unfold(piece_rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) });
    let uploaded = client.push_blob_streamed(body.boxed()).await;
    let compressed = compressing.await.map_err(|e| Error::Internal(format!("compress task: {e}")))?;
    match (compressed, uploaded) {
        (Err(e), _) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::io("compressing layer", e)),
        (_, Err(e)) => Err(registry_err(e)),
        (Err(e), Ok(_)) => Err(Error::io("compressing layer", e)),
        (Ok(()), Ok((digest, size))) => {
            remember(inner, diff_id, &digest, size);
            let _ = tx.send(JsonMessage::layer(id, "Pushed")).await;
            Ok((digest, size))
        }
    }
}
