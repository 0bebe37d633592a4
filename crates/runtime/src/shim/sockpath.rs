//! Unix socket paths that fit in `sun_path` (108 bytes) however deep the exec root is.
//!
//! `<exec-root>/shims/<64-hex id>/ctl.sock` passes the limit when the exec root is long (as in
//! tests and benchmarks on temp dirs). A socket can be reached through an open directory fd
//! instead: `/proc/<pid>/fd/<n>/ctl.sock` names the same file for as long as `<pid>` keeps the
//! directory open, and is short.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Longest path used as is; a `sockaddr_un` path holds 107 bytes and a NUL.
const MAX: usize = 100;

/// A socket path, and the directory handle that keeps a short alias of it valid.
pub struct SocketPath {
    path: PathBuf,
    _dir: Option<File>,
}

impl SocketPath {
    /// `dir/name`, or its `/proc/<pid>/fd/<n>/name` alias when that is too long.
    pub fn new(dir: &Path, name: &str) -> std::io::Result<SocketPath> {
        let full = dir.join(name);
        if full.as_os_str().len() <= MAX {
            return Ok(SocketPath { path: full, _dir: None });
        }
        let handle = File::open(dir)?;
        let path = PathBuf::from(format!("/proc/{}/fd/{}/{name}", std::process::id(), handle.as_raw_fd()));
        Ok(SocketPath { path, _dir: Some(handle) })
    }

    /// The path to bind or connect to; valid while `self` lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_directories_get_a_short_alias_that_works() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("x".repeat(60)).join("y".repeat(60));
        std::fs::create_dir_all(&deep).unwrap();
        let p = SocketPath::new(&deep, "ctl.sock").unwrap();
        assert!(p.path().starts_with("/proc/"), "{}", p.path().display());
        let listener = std::os::unix::net::UnixListener::bind(p.path()).unwrap();
        assert!(deep.join("ctl.sock").exists(), "the socket lands in the real directory");
        let other = SocketPath::new(&deep, "ctl.sock").unwrap();
        std::os::unix::net::UnixStream::connect(other.path()).unwrap();
        drop(listener);

        let short = SocketPath::new(tmp.path(), "ctl.sock").unwrap();
        assert_eq!(short.path(), tmp.path().join("ctl.sock"));
    }
}
