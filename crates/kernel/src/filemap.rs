//! A read-only memory map of part of a file that can also send itself to a socket with
//! `sendfile(2)`: a server can hand the mapped bytes to a generic HTTP stack, and its connection
//! can recognise them and let the kernel move the pages from the page cache to the socket
//! instead of copying them through user memory twice.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

/// `len` bytes of a file from `offset`, mapped read-only. Only for files that are never
/// truncated while mapped (content-addressed blobs, replaced by rename, never rewritten in
/// place): reading a mapped page past the end of a shrunk file raises SIGBUS.
#[derive(Debug)]
pub struct FileMap {
    /// Start of the mapping (page aligned, at or before `offset`).
    base: NonNull<u8>,
    /// Bytes mapped from `base`.
    map_len: usize,
    /// Where `offset` lies in the mapping.
    skip: usize,
    len: usize,
    file: File,
    offset: u64,
}

// SAFETY: the mapping is private to this value, read-only and never remapped; shared reads of
// it from several threads are as safe as reads of a `&[u8]`.
unsafe impl Send for FileMap {}
// SAFETY: as above; no method mutates the mapping.
unsafe impl Sync for FileMap {}

impl FileMap {
    /// Maps `len` (> 0) bytes of `file` from `offset`. The file must hold them.
    pub fn new(file: File, offset: u64, len: usize) -> io::Result<FileMap> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "mapping of zero bytes"));
        }
        let end = offset.checked_add(len as u64).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        if end > file.metadata()?.len() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "range past the end of the file"));
        }
        // SAFETY: sysconf takes an integer and returns one.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
        let aligned = offset - offset % page;
        let skip = (offset - aligned) as usize;
        let map_len = skip + len;
        let off = libc::off_t::try_from(aligned).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a fresh shared read-only mapping chosen by the kernel (null hint) of a range the
        // file holds; nothing else aliases it and it is unmapped once, in Drop.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), map_len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), off)
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `ptr` is the mapping just made, `map_len` its length. Advice only: a failure
        // leaves the default readahead.
        unsafe { libc::madvise(ptr, map_len, libc::MADV_SEQUENTIAL) };
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::from(io::ErrorKind::AddrNotAvailable))?;
        Ok(FileMap { base, map_len, skip, len, file, offset })
    }

    /// The mapped bytes.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `base + skip .. base + map_len` is mapped readable for the life of `self`.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(self.skip), self.len) }
    }

    /// Sends up to `max` bytes of the map from byte `at` to `out` with sendfile(2), returning how
    /// many went. On a non-blocking socket a full send buffer is `WouldBlock`.
    pub fn send_to(&self, at: usize, max: usize, out: BorrowedFd<'_>) -> io::Result<usize> {
        let count = self.len.saturating_sub(at).min(max);
        if count == 0 {
            return Ok(0);
        }
        let mut off =
            libc::off_t::try_from(self.offset + at as u64).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: both descriptors are open for the call (`out` is borrowed, the file is owned by
        // `self`); `off` is a valid local the kernel updates.
        let n = unsafe { libc::sendfile(out.as_raw_fd(), self.file.as_raw_fd(), &mut off, count) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

impl AsRef<[u8]> for FileMap {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Drop for FileMap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no reference into it outlives `self`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.map_len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;

    fn file_of(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        File::create(&path).unwrap().write_all(bytes).unwrap();
        (dir, path)
    }

    #[test]
    fn maps_an_unaligned_range() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let (_d, path) = file_of(&data);
        let m = FileMap::new(File::open(&path).unwrap(), 4097, 10_000).unwrap();
        assert_eq!(m.as_bytes(), &data[4097..14_097]);
    }

    #[test]
    fn refuses_empty_and_out_of_range() {
        let (_d, path) = file_of(b"abc");
        assert!(FileMap::new(File::open(&path).unwrap(), 0, 0).is_err());
        assert_eq!(FileMap::new(File::open(&path).unwrap(), 1, 3).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        assert!(FileMap::new(File::open(&path).unwrap(), u64::MAX, 1).is_err());
    }

    #[test]
    fn sends_a_range_to_a_socket() {
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let (_d, path) = file_of(&data);
        let m = FileMap::new(File::open(&path).unwrap(), 100, 30_000).unwrap();
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            b.read_to_end(&mut got).unwrap();
            got
        });
        let mut at = 1000;
        while at < 30_000 {
            at += m.send_to(at, 7000, a.as_fd()).unwrap();
        }
        assert_eq!(m.send_to(at, 7000, a.as_fd()).unwrap(), 0);
        drop(a);
        assert_eq!(reader.join().unwrap(), &data[1100..30_100]);
    }
}
