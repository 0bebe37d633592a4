//! The layer half of `POST /images/create`: every missing layer is downloaded, digested and
//! unpacked in one pass (the bytes go from the socket through SHA-256 into the decompressor and
//! the tar unpacker without touching a temp file), up to [`CONCURRENT_DOWNLOADS`] layers at once
//! as dockerd does.
//!
//! A layer becomes a snapshot only if its whole blob arrived and matched its digest: the last
//! piece of the download is held back until the digest is checked, so the unpacker cannot reach
//! the end of the blob otherwise, and any failure removes the layer's snapshot and its
//! uncommitted tar blob. The snapshots are recorded (made visible) later, by `add_image`.

use std::io::{self, Read};
use std::sync::Arc;

use berth_api_types::query::images::JsonMessage;
use berth_image::Digest;
use berth_registry::Client;
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use super::auth::registry_err;
use super::layers::NewLayer;
use super::Inner;
use crate::{Error, Result};

/// Layers downloaded at the same time (dockerd's `max-concurrent-downloads` default).
pub(super) const CONCURRENT_DOWNLOADS: usize = 3;

/// Pieces buffered between a download and its unpacker.
const PIPE_DEPTH: usize = 64;

/// A layer to fetch: its position in the manifest, digest and size.
pub(super) struct Wanted {
    pub index: usize,
    pub digest: Digest,
    pub size: i64,
}

pub(super) fn short(d: &Digest) -> String {
    d.hex()[..12].to_string()
}

/// Downloads and unpacks `wanted` into new (unrecorded) snapshots, returned by manifest
/// position in a vector of `len` slots. On any failure no snapshot is left.
pub(super) async fn fetch_layers(
    inner: &Arc<Inner>,
    client: &Client,
    wanted: Vec<Wanted>,
    len: usize,
    tx: &mpsc::Sender<JsonMessage>,
) -> Result<Vec<Option<NewLayer>>> {
    let results: Vec<(usize, Result<NewLayer>)> = futures_util::stream::iter(wanted)
        .map(|w| async move { (w.index, fetch_layer(inner.clone(), client, w.digest, w.size, tx.clone()).await) })
        .buffer_unordered(CONCURRENT_DOWNLOADS)
        .collect()
        .await;
    let mut layers: Vec<Option<NewLayer>> = (0..len).map(|_| None).collect();
    let mut first_err = None;
    for (i, r) in results {
        match r {
            Ok(l) => layers[i] = Some(l),
            Err(e) => first_err = first_err.or(Some((i, e))),
        }
    }
    if let Some((_, e)) = first_err {
        for l in layers.into_iter().flatten() {
            let _ = inner.snapshots.remove(l.snapshot);
        }
        return Err(e);
    }
    Ok(layers)
}

/// What the download hands the unpacker.
enum Piece {
    Data(Bytes),
    /// The whole blob arrived and matched its digest.
    End,
    Failed(String),
}

/// The unpacker's side of the pipe: a blocking `Read` over the download's pieces.
struct PipeReader {
    rx: mpsc::Receiver<Piece>,
    current: Bytes,
    ended: bool,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.current.is_empty() {
                let n = buf.len().min(self.current.len());
                buf[..n].copy_from_slice(&self.current.split_to(n));
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Piece::Data(b)) => self.current = b,
                Some(Piece::End) => self.ended = true,
                Some(Piece::Failed(m)) => return Err(io::Error::other(m)),
                None => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the layer download stopped")),
            }
        }
    }
}

/// Downloads blob `digest` while a blocking task unpacks it.
async fn fetch_layer(
    inner: Arc<Inner>,
    client: &Client,
    digest: Digest,
    size: i64,
    tx: mpsc::Sender<JsonMessage>,
) -> Result<NewLayer> {
    let id = short(&digest);
    let stream = client.blob_stream(&digest, size).await.map_err(registry_err)?;
    let (pipe, rx) = mpsc::channel(PIPE_DEPTH);
    let store = inner.clone();
    let unpack = tokio::task::spawn_blocking(move || -> Result<NewLayer> {
        let mut r = PipeReader { rx, current: Bytes::new(), ended: false };
        let layer = inner.unpack_layer(&mut r)?;
        // A decompressor may stop before the end of the blob: the layer counts only once the
        // rest arrived and the digest matched.
        if let Err(e) = io::copy(&mut r, &mut io::sink()) {
            let _ = inner.snapshots.remove(layer.snapshot);
            return Err(Error::io("reading layer", e));
        }
        Ok(layer)
    });
    let fed = feed(stream, &digest, size, &pipe, &tx).await;
    drop(pipe);
    let unpacked = unpack.await.map_err(|e| Error::Internal(format!("unpack task: {e}")))?;
    match (fed, unpacked) {
        (Ok(()), Ok(layer)) => {
            let _ = tx.send(JsonMessage::layer(&id, "Pull complete")).await;
            Ok(layer)
        }
        // The download's error is the cause of the unpacker's.
        (Err(e), Ok(layer)) => {
            let _ = store.snapshots.remove(layer.snapshot);
            Err(e)
        }
        (Err(e), Err(_)) => Err(e),
        (Ok(()), Err(e)) => Err(e),
    }
    .map_err(|e| {
        tracing::debug!(layer = %digest, error = %e, "pulling layer failed");
        e
    })
}

/// Sends the download's pieces down `pipe`, reporting progress, holding the last piece back until
/// the digest is verified. A gone unpacker (it failed) ends the feed quietly: its error is the
/// one to report.
async fn feed(
    mut stream: futures_util::stream::BoxStream<'static, io::Result<Bytes>>,
    digest: &Digest,
    size: i64,
    pipe: &mpsc::Sender<Piece>,
    tx: &mpsc::Sender<JsonMessage>,
) -> Result<()> {
    let id = short(digest);
    let mut hasher = Sha256::new();
    let mut held: Option<Bytes> = None;
    let mut done: i64 = 0;
    let mut last_report: i64 = -1;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("downloading {digest}: {e}");
                let _ = pipe.send(Piece::Failed(msg.clone())).await;
                return Err(Error::Unavailable(msg));
            }
        };
        hasher.update(&chunk);
        done += chunk.len() as i64;
        if let Some(prev) = held.replace(chunk) {
            if pipe.send(Piece::Data(prev)).await.is_err() {
                return Ok(());
            }
        }
        if done - last_report >= 512 * 1024 || done == size {
            let _ = tx.send(JsonMessage::transfer(&id, "Downloading", done, size)).await;
            last_report = done;
        }
    }
    let _ = tx.send(JsonMessage::layer(&id, "Verifying Checksum")).await;
    let actual = Digest::from_hasher(hasher);
    if &actual != digest {
        let msg = format!("filesystem layer verification failed for digest {digest}: got {actual}");
        let _ = pipe.send(Piece::Failed(msg.clone())).await;
        return Err(Error::InvalidArgument(msg));
    }
    let _ = tx.send(JsonMessage::layer(&id, "Download complete")).await;
    if let Some(last) = held {
        if pipe.send(Piece::Data(last)).await.is_err() {
            return Ok(());
        }
    }
    let _ = pipe.send(Piece::End).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(pieces: Vec<Piece>) -> PipeReader {
        let (tx, rx) = mpsc::channel(pieces.len().max(1));
        for p in pieces {
            tx.try_send(p).unwrap_or_else(|_| panic!("channel full"));
        }
        PipeReader { rx, current: Bytes::new(), ended: false }
    }

    #[test]
    fn pipe_reads_pieces_until_the_end_marker() {
        let mut r =
            reader(vec![Piece::Data(Bytes::from_static(b"ab")), Piece::Data(Bytes::from_static(b"cde")), Piece::End]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcde");
    }

    #[test]
    fn pipe_without_end_marker_is_an_error() {
        let mut r = reader(vec![Piece::Data(Bytes::from_static(b"ab"))]);
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(out, b"ab");
        let mut r = reader(vec![Piece::Data(Bytes::from_static(b"ab")), Piece::Failed("digest".into())]);
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "digest");
    }

    #[tokio::test]
    async fn feed_holds_back_the_last_piece_of_a_bad_blob() {
        let data: Vec<io::Result<Bytes>> = vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))];
        let wrong = Digest::sha256_of(b"something else");
        let (pipe, mut rx) = mpsc::channel(8);
        let (tx, _progress) = mpsc::channel(64);
        let e = feed(futures_util::stream::iter(data).boxed(), &wrong, 11, &pipe, &tx).await.unwrap_err();
        assert!(e.to_string().contains("verification failed"), "{e}");
        drop(pipe);
        let mut seen = Vec::new();
        while let Some(p) = rx.recv().await {
            seen.push(match p {
                Piece::Data(b) => String::from_utf8(b.to_vec()).unwrap(),
                Piece::End => "END".into(),
                Piece::Failed(_) => "FAILED".into(),
            });
        }
        assert_eq!(seen, ["hello ", "FAILED"]);
    }

    #[tokio::test]
    async fn feed_passes_a_good_blob_and_ends() {
        let data: Vec<io::Result<Bytes>> = vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))];
        let good = Digest::sha256_of(b"hello world");
        let (pipe, rx) = mpsc::channel(8);
        let (tx, _progress) = mpsc::channel(64);
        feed(futures_util::stream::iter(data).boxed(), &good, 11, &pipe, &tx).await.unwrap();
        drop(pipe);
        let mut r = PipeReader { rx, current: Bytes::new(), ended: false };
        let out = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            r.read_to_end(&mut out).map(|_| out)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(out, b"hello world");
    }
}
