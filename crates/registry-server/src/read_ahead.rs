//! Blob bodies read ahead of the socket: a blocking thread reads the requested range in
//! [`PIECE`]-byte pieces and queues up to [`DEPTH`] of them, so the disk (or page cache) read
//! of the next piece overlaps sending the current one instead of waiting for the socket.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use axum::body::Body;
use bytes::Bytes;

/// Bytes per body frame.
const PIECE: u64 = 1024 * 1024;
/// Pieces read ahead.
const DEPTH: usize = 4;

/// The `len` bytes of `file` from `start`, as a streamed body. A read error ends the body early
/// (the client sees a short transfer against `Content-Length`).
pub fn body(mut file: File, start: u64, len: u64) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(DEPTH);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = file.seek(SeekFrom::Start(start)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = len;
        while left > 0 {
            let n = left.min(PIECE);
            let mut piece = Vec::with_capacity(n as usize);
            let piece = match (&mut file).take(n).read_to_end(&mut piece) {
                Ok(k) if k as u64 == n => Ok(Bytes::from(piece)),
                Ok(_) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its size")),
                Err(e) => Err(e),
            };
            let failed = piece.is_err();
            // The client went away, or the read failed: stop reading.
            if tx.blocking_send(piece).is_err() || failed {
                return;
            }
            left -= n;
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) }))
}
