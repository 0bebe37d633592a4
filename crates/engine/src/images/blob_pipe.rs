//! [`BlobPipe`]: a `Write` into a content-store blob on a thread of its own, so hashing and
//! writing a layer's tar copy run beside the decompressor and the unpacker instead of after
//! each of their reads (a pull or load is otherwise bound by one core).

use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use berth_store::content::BlobWriter;

/// Bytes handed to the writer thread at a time.
const PIECE: usize = 1024 * 1024;
/// Pieces in flight.
const DEPTH: usize = 4;

pub(crate) struct BlobPipe {
    buf: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<io::Result<BlobWriter>>>,
}

impl BlobPipe {
    pub(crate) fn new(blob: BlobWriter) -> io::Result<BlobPipe> {
        let (tx, rx) = sync_channel::<Vec<u8>>(DEPTH);
        let worker = std::thread::Builder::new().name("berth-blob".into()).spawn(move || {
            let mut blob = blob;
            for piece in rx {
                blob.write_all(&piece)?;
            }
            Ok(blob)
        })?;
        Ok(BlobPipe { buf: Vec::with_capacity(PIECE), tx: Some(tx), worker: Some(worker) })
    }

    /// The writer's own error, once it stopped taking pieces.
    fn worker_error(&mut self) -> io::Error {
        self.tx = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => io::Error::other("the blob writer thread stopped"),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE));
        let sent = self.tx.as_ref().map(|tx| tx.send(piece).is_ok()).unwrap_or(false);
        if sent {
            Ok(())
        } else {
            Err(self.worker_error())
        }
    }

    /// Waits for every byte to be written; returns the blob to commit.
    pub(crate) fn finish(mut self) -> io::Result<BlobWriter> {
        self.send()?;
        self.tx = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            _ => Err(io::Error::other("the blob writer thread panicked")),
        }
    }
}

impl Write for BlobPipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BlobPipe {
    /// Abandoned: the writer ends and drops the blob (removing its temp file) before we return.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_arrive_in_order_and_abandoned_blobs_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cs = berth_store::ContentStore::open(dir.path()).unwrap();
        let data: Vec<u8> = (0..3 * PIECE + 17).map(|i| (i % 251) as u8).collect();
        let mut p = BlobPipe::new(cs.writer().unwrap()).unwrap();
        for chunk in data.chunks(7000) {
            p.write_all(chunk).unwrap();
        }
        let d = p.finish().unwrap().commit(None).unwrap();
        assert_eq!(d, berth_image::Digest::sha256_of(&data));
        assert_eq!(cs.read(&d).unwrap(), data);

        let mut p = BlobPipe::new(cs.writer().unwrap()).unwrap();
        p.write_all(&data).unwrap();
        drop(p);
        assert_eq!(cs.list().unwrap(), vec![d]);
        let blobs = dir.path().join("content/blobs/sha256");
        let names: Vec<_> = std::fs::read_dir(blobs).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
