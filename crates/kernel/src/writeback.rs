//! Early writeback of a file being written: `sync_file_range(SYNC_FILE_RANGE_WRITE)` starts
//! writing a range to disk without waiting, so a large file's final fsync (blobs are fsynced
//! before their rename) finds little left to do.

use std::fs::File;
use std::os::fd::AsRawFd;

/// Starts writing `len` bytes at `offset` of `file` back to disk; returns at once. Best effort:
/// a failure only means the final fsync does all the work.
pub fn start_writeback(file: &File, offset: u64, len: u64) {
    let (Ok(off), Ok(n)) = (i64::try_from(offset), i64::try_from(len)) else { return };
    // SAFETY: sync_file_range takes only integers; the descriptor is owned by `file`, which
    // outlives the call.
    let rc = unsafe { libc::sync_file_range(file.as_raw_fd(), off, n, libc::SYNC_FILE_RANGE_WRITE) };
    if rc != 0 {
        tracing::trace!(error = %std::io::Error::last_os_error(), "sync_file_range");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn writeback_leaves_the_content_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut f = File::create(&path).unwrap();
        f.write_all(&[7u8; 100_000]).unwrap();
        start_writeback(&f, 0, 100_000);
        start_writeback(&f, u64::MAX, 1);
        f.sync_all().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), vec![7u8; 100_000]);
    }
}
