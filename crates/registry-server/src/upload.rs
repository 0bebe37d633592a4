//! Receiving a blob upload and committing it. Request bodies are written to `uploads/<uuid>` on
//! a blocking thread that hashes the bytes as it writes them; a second thread starts their
//! writeback every [`WRITEBACK`] bytes (`sync_file_range`, which blocks while the disk queue is
//! congested: on its own thread it never stalls the writer, the socket or the client). So the
//! closing `PUT ?digest=` neither re-reads the upload nor waits for the whole file to reach the
//! disk: it checks the digest kept in memory, fsyncs (only the tail is left to write) and renames
//! the file into the content store. A crash leaves either no blob or a complete, verified one.
//! When the hash state is missing (the server restarted between requests), the commit re-hashes
//! the file instead.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use berth_image::Digest;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};

use crate::error::{Code, RegistryError, Result};
use crate::Storage;
use berth_store::content::start_writeback;

/// Body bytes handed to the writer thread at a time.
const PIECE: usize = 1024 * 1024;
/// Pieces queued for the writer thread.
const DEPTH: usize = 4;
/// Writeback of the received bytes is started every this many bytes.
const WRITEBACK: u64 = 8 * 1024 * 1024;

/// The hash of an upload's bytes so far.
struct Partial {
    hasher: Sha256,
    size: u64,
}

/// Hash states of the uploads in progress, by upload id.
#[derive(Clone, Default)]
pub struct UploadStates(Arc<Mutex<HashMap<String, Partial>>>);

impl std::fmt::Debug for UploadStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("UploadStates").field("uploads", &n).finish()
    }
}

impl UploadStates {
    fn take(&self, uuid: &str) -> Option<Partial> {
        self.0.lock().ok()?.remove(uuid)
    }

    fn put(&self, uuid: &str, p: Partial) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(uuid.to_string(), p);
        }
    }

    /// Forgets an upload (cancelled or finished).
    pub fn forget(&self, uuid: &str) {
        let _ = self.take(uuid);
    }
}

fn unknown_upload(e: io::Error) -> RegistryError {
    if e.kind() == io::ErrorKind::NotFound {
        RegistryError::new(Code::BlobUploadUnknown, "blob upload unknown to registry")
    } else {
        e.into()
    }
}

/// Starts the writeback of a file's ranges on a thread of its own. The writer only reports how
/// far it has written; the flusher catches up with the latest offset (skipping the ones it
/// missed while blocked), so it never builds a backlog and a slow disk queue never reaches the
/// writer. It ends when the writer drops it; what it did not start, the commit's fsync writes.
struct Flusher(Option<std::sync::mpsc::Sender<u64>>);

impl Flusher {
    fn start(file: &File, from: u64) -> Flusher {
        // Without a second descriptor there is no early writeback: the fsync does it all.
        let Ok(file) = file.try_clone() else { return Flusher(None) };
        let (tx, rx) = std::sync::mpsc::channel::<u64>();
        tokio::task::spawn_blocking(move || {
            let mut flushed = from;
            while let Ok(mut end) = rx.recv() {
                while let Ok(later) = rx.try_recv() {
                    end = later;
                }
                if end > flushed {
                    start_writeback(&file, flushed, end - flushed);
                    flushed = end;
                }
            }
        });
        Flusher(Some(tx))
    }

    /// The file is written up to `end`.
    fn written(&self, end: u64) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(end);
        }
    }
}

/// Writes the pieces from `rx` at the end of `file`, hashing them into `partial` (when the
/// upload's hash is known).
fn write_pieces(
    mut file: File,
    mut partial: Option<Partial>,
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> (Option<Partial>, io::Result<u64>) {
    let mut end = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return (None, Err(e)),
    };
    let flusher = Flusher::start(&file, end);
    let mut flushed = end;
    while let Some(piece) = rx.blocking_recv() {
        if let Err(e) = file.write_all(&piece) {
            // What reached the file is unknown now: the commit re-hashes it.
            return (None, Err(e));
        }
        if let Some(p) = &mut partial {
            p.hasher.update(&piece);
            p.size += piece.len() as u64;
        }
        end += piece.len() as u64;
        if end - flushed >= WRITEBACK {
            flusher.written(end);
            flushed = end;
        }
    }
    // The tail too: its writeback overlaps the client's next request (the `PUT ?digest=`).
    if end > flushed {
        flusher.written(end);
    }
    (partial, Ok(end))
}

/// Appends the request body to upload `uuid`; returns the upload's new size.
pub async fn append(storage: &Storage, uuid: &str, body: Body) -> Result<u64> {
    let path = storage.upload_path(uuid);
    let file = std::fs::OpenOptions::new().append(true).open(&path).map_err(unknown_upload)?;
    let len = file.metadata()?.len();
    let partial = match storage.uploads.take(uuid) {
        Some(p) if p.size == len => Some(p),
        None if len == 0 => Some(Partial { hasher: Sha256::new(), size: 0 }),
        _ => None,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(DEPTH);
    let writer = tokio::task::spawn_blocking(move || write_pieces(file, partial, rx));
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::with_capacity(PIECE);
    let mut failure = None;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                failure = Some(RegistryError::new(Code::BlobUploadInvalid, format!("reading body: {e}")));
                break;
            }
        };
        buf.extend_from_slice(&chunk);
        if buf.len() >= PIECE
            && tx.send(std::mem::replace(&mut buf, BytesMut::with_capacity(PIECE)).freeze()).await.is_err()
        {
            break;
        }
    }
    if failure.is_none() && !buf.is_empty() {
        let _ = tx.send(buf.freeze()).await;
    }
    drop(tx);
    let (partial, written) = writer.await.map_err(RegistryError::internal)?;
    if let (Some(p), Ok(size)) = (partial, &written) {
        if p.size == *size {
            storage.uploads.put(uuid, p);
        }
    }
    let size = written?;
    match failure {
        Some(e) => Err(e),
        None => Ok(size),
    }
}

fn hash_file(mut file: &File) -> io::Result<Digest> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; PIECE];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(Digest::from_hasher(hasher));
        }
        hasher.update(&buf[..n]);
    }
}

/// Moves the finished upload `uuid` into the content store if its digest is `want`; the upload
/// is gone afterwards either way.
pub async fn commit(storage: &Storage, uuid: &str, want: &Digest) -> Result<Digest> {
    let path = storage.upload_path(uuid);
    let partial = storage.uploads.take(uuid);
    let dest = storage.content.path(want);
    let want = want.clone();
    let committed = tokio::task::spawn_blocking(move || -> Result<Digest> {
        let file = File::open(&path).map_err(unknown_upload)?;
        let len = file.metadata()?.len();
        let digest = match partial {
            Some(p) if p.size == len => Digest::from_hasher(p.hasher),
            _ => hash_file(&file)?,
        };
        if digest != want {
            let _ = std::fs::remove_file(&path);
            return Err(berth_store::Error::DigestMismatch {
                what: "blob".into(),
                expected: want.to_string(),
                actual: digest.to_string(),
            }
            .into());
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&path, &dest)?;
        if let Some(dir) = dest.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(digest)
    })
    .await
    .map_err(RegistryError::internal)?;
    if committed.is_err() {
        let _ = tokio::fs::remove_file(storage.upload_path(uuid)).await;
    }
    committed
}
