//! The content store: blobs named by their sha256 under `<root>/content/blobs/sha256/<hex>`.
//!
//! A [`BlobWriter`] writes to a temp file in the same directory while hashing; `commit` checks
//! the digest, fsyncs and renames, so a blob is either complete or absent.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use berth_image::Digest;
use rand::Rng;
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

pub use berth_kernel::filemap::FileMap as BlobMap;
pub use berth_kernel::writeback::start_writeback;

/// A blob's writeback is started every this many bytes, so that its fsync at commit is short.
const WRITEBACK: u64 = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ContentStore {
    dir: PathBuf,
}

impl ContentStore {
    /// Opens (creating) the store under `data_root`.
    pub fn open(data_root: &Path) -> Result<ContentStore> {
        let dir = data_root.join("content/blobs/sha256");
        fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let store = ContentStore { dir };
        store.remove_stale_temps();
        Ok(store)
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.hex())
    }

    pub fn exists(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    pub fn size(&self, digest: &Digest) -> Result<u64> {
        fs::metadata(self.path(digest)).map(|m| m.len()).map_err(|e| self.not_found_or(digest, e))
    }

    /// Starts a new blob.
    pub fn writer(&self) -> Result<BlobWriter> {
        let suffix: u64 = rand::rng().random();
        let tmp = self.dir.join(format!(".tmp-{suffix:016x}"));
        let file = File::create(&tmp).map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
        Ok(BlobWriter { file: Some(file), tmp, dir: self.dir.clone(), hasher: Sha256::new(), size: 0, flushed: 0 })
    }

    /// Stores `bytes`, returning their digest.
    pub fn put(&self, bytes: &[u8]) -> Result<Digest> {
        let mut w = self.writer()?;
        w.write_all(bytes).map_err(|e| Error::io("writing blob", e))?;
        w.commit(None)
    }

    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>> {
        fs::read(self.path(digest)).map_err(|e| self.not_found_or(digest, e))
    }

    pub fn open_blob(&self, digest: &Digest) -> Result<File> {
        File::open(self.path(digest)).map_err(|e| self.not_found_or(digest, e))
    }

    /// `len` (> 0) bytes of a blob from `start`, mapped read-only, for serving it without
    /// copying it through a buffer ([`BlobMap::send_to`] sends it with sendfile). Blobs are
    /// only ever replaced by rename, so a map stays valid even if the blob is deleted.
    pub fn map(&self, digest: &Digest, start: u64, len: usize) -> Result<BlobMap> {
        let file = self.open_blob(digest)?;
        BlobMap::new(file, start, len).map_err(|e| Error::io(format!("mapping blob {digest}"), e))
    }

    /// Deletes a blob; absent is fine.
    pub fn delete(&self, digest: &Digest) -> Result<()> {
        match fs::remove_file(self.path(digest)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing blob {digest}"), e)),
        }
    }

    /// Every committed blob.
    pub fn list(&self) -> Result<Vec<Digest>> {
        let rd = fs::read_dir(&self.dir).map_err(|e| Error::io(format!("reading {}", self.dir.display()), e))?;
        Ok(rd.filter_map(|e| e.ok()).filter_map(|e| Digest::from_hex(&e.file_name().to_string_lossy()).ok()).collect())
    }

    fn not_found_or(&self, digest: &Digest, e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::NotFound {
            Error::NotFound(format!("blob {digest}"))
        } else {
            Error::io(format!("reading blob {digest}"), e)
        }
    }

    /// Temp files left by a crash are garbage.
    fn remove_stale_temps(&self) {
        if let Ok(rd) = fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
}

/// A blob being written. Dropped without `commit`, its temp file is removed.
pub struct BlobWriter {
    file: Option<File>,
    tmp: PathBuf,
    dir: PathBuf,
    hasher: Sha256,
    size: u64,
    /// Bytes whose writeback was started.
    flushed: u64,
}

impl BlobWriter {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Verifies the digest (when `expected` is given), fsyncs and renames into place.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<Digest> {
        let digest = Digest::from_hasher(std::mem::take(&mut self.hasher));
        if let Some(want) = expected {
            if want != &digest {
                return Err(Error::DigestMismatch {
                    what: "blob".into(),
                    expected: want.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        let file = self.file.take().ok_or_else(|| Error::io("blob writer", io::ErrorKind::Other.into()))?;
        file.sync_all().map_err(|e| Error::io("fsync blob", e))?;
        drop(file);
        let dest = self.dir.join(digest.hex());
        fs::rename(&self.tmp, &dest).map_err(|e| Error::io(format!("renaming blob to {}", dest.display()), e))?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(digest)
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self.file.as_mut().ok_or_else(|| io::Error::other("blob already committed"))?;
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        if self.size - self.flushed >= WRITEBACK {
            start_writeback(file, self.flushed, self.size - self.flushed);
            self.flushed = self.size;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A reader that copies everything it reads into a writer (a blob being stored).
pub struct TeeReader<R, W> {
    pub inner: R,
    pub sink: W,
}

impl<R: Read, W: Write> Read for TeeReader<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sink.write_all(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_read_delete() {
        let dir = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(dir.path()).unwrap();
        let d = cs.put(b"hello").unwrap();
        assert_eq!(d, Digest::sha256_of(b"hello"));
        assert_eq!(cs.read(&d).unwrap(), b"hello");
        assert!(dir.path().join("content/blobs/sha256").join(d.hex()).is_file());
        assert_eq!(cs.list().unwrap(), vec![d.clone()]);
        cs.delete(&d).unwrap();
        cs.delete(&d).unwrap();
        assert!(cs.read(&d).unwrap_err().is_not_found());
    }

    #[test]
    fn mismatch_and_abandoned_writes_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cs = ContentStore::open(dir.path()).unwrap();
        let mut w = cs.writer().unwrap();
        w.write_all(b"abc").unwrap();
        let err = w.commit(Some(&Digest::sha256_of(b"other"))).unwrap_err();
        assert!(matches!(err, Error::DigestMismatch { .. }));
        let mut w = cs.writer().unwrap();
        w.write_all(b"abc").unwrap();
        drop(w);
        assert_eq!(fs::read_dir(dir.path().join("content/blobs/sha256")).unwrap().count(), 0);
    }
}
