//! Mounting and unmounting, and the two overlayfs markers layer unpacking writes.
//!
//! Callers describe mounts as data (`berth-store` snapshotters return `fstype`, `source`,
//! `options`); [`mount`] applies one. [`unmount`] detaches lazily (`MNT_DETACH`) and treats
//! "not mounted" as success so teardown is idempotent.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{umount2, MntFlags, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("mounting {fstype} on {target}: {source}")]
    Mount {
        fstype: String,
        target: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("mount options for {target} are {len} bytes, more than the kernel's {max}")]
    OptionsTooLong { target: PathBuf, len: usize, max: usize },
    #[error("unmounting {target}: {source}")]
    Unmount {
        target: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("making whiteout {path}: {source}")]
    Whiteout {
        path: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("setting {name} on {path}: {source}")]
    Xattr {
        path: PathBuf,
        name: String,
        #[source]
        source: std::io::Error,
    },
}

/// The kernel copies at most one page of mount data.
pub const MAX_MOUNT_DATA: usize = 4095;

/// Flags understood in an options list (the rest is passed to the filesystem as data).
fn split_options(options: &[String]) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for o in options {
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => {}
            "bind" => flags |= MsFlags::MS_BIND,
            "rbind" => flags |= MsFlags::MS_BIND | MsFlags::MS_REC,
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            other => data.push(other),
        }
    }
    (flags, data.join(","))
}

/// Mounts `source` (of type `fstype`) on `target` with `options` (flags such as `ro` and
/// filesystem data such as `lowerdir=...`).
pub fn mount(fstype: &str, source: &str, target: &Path, options: &[String]) -> Result<(), MountError> {
    let (flags, data) = split_options(options);
    if data.len() > MAX_MOUNT_DATA {
        return Err(MountError::OptionsTooLong { target: target.into(), len: data.len(), max: MAX_MOUNT_DATA });
    }
    let fs = (!fstype.is_empty() && fstype != "bind").then_some(fstype);
    let data = (!data.is_empty()).then_some(data.as_str());
    nix::mount::mount(Some(source), target, fs, flags, data).map_err(|source| MountError::Mount {
        fstype: fstype.to_string(),
        target: target.into(),
        source,
    })
}

/// Lazily unmounts `target`; succeeds when nothing is mounted there or it does not exist.
pub fn unmount(target: &Path) -> Result<(), MountError> {
    match umount2(target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => Ok(()),
        Err(source) => Err(MountError::Unmount { target: target.into(), source }),
    }
}

/// True when `target` is the root of a mount (its device differs from its parent's, or it
/// appears in `/proc/self/mountinfo`).
pub fn is_mountpoint(target: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    let want = target.as_os_str().as_bytes();
    info.lines().any(|l| l.split(' ').nth(4).is_some_and(|p| unescape_mountinfo(p).as_bytes() == want))
}

fn unescape_mountinfo(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// Creates an overlayfs whiteout (a 0/0 character device) at `path`.
pub fn make_whiteout(path: &Path) -> Result<(), MountError> {
    mknod(path, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
        .map_err(|source| MountError::Whiteout { path: path.into(), source })
}

/// Marks `dir` opaque for overlayfs (`trusted.overlay.opaque=y`).
pub fn set_overlay_opaque(dir: &Path) -> Result<(), MountError> {
    set_xattr(dir, "trusted.overlay.opaque", b"y")
}

/// Whether `dir` is marked opaque for overlayfs (`trusted.overlay.opaque=y`); false when the
/// attribute is absent or unreadable.
pub fn is_overlay_opaque(dir: &Path) -> bool {
    let Ok(c_path) = CString::new(dir.as_os_str().as_bytes()) else { return false };
    let name = c"trusted.overlay.opaque";
    let mut buf = [0u8; 4];
    // SAFETY: both strings are NUL-terminated and live across the call; `buf` is a writable
    // buffer of `buf.len()` bytes, and the kernel writes at most that many.
    let n = unsafe { libc::lgetxattr(c_path.as_ptr(), name.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    n == 1 && buf[0] == b'y'
}

/// Sets an extended attribute on `path` itself (not following a final symlink).
pub fn set_xattr(path: &Path, name: &str, value: &[u8]) -> Result<(), MountError> {
    let err = |source| MountError::Xattr { path: path.into(), name: name.to_string(), source };
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| err(std::io::Error::from(std::io::ErrorKind::InvalidInput)))?;
    let c_name = CString::new(name).map_err(|_| err(std::io::Error::from(std::io::ErrorKind::InvalidInput)))?;
    // SAFETY: both strings are NUL-terminated and live across the call; `value` is a valid
    // buffer of `value.len()` bytes that the kernel only reads.
    let rc = unsafe { libc::lsetxattr(c_path.as_ptr(), c_name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if rc != 0 {
        return Err(err(std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_flags_from_data() {
        let (f, d) = split_options(&["ro".into(), "lowerdir=/a:/b".into(), "upperdir=/u".into()]);
        assert!(f.contains(MsFlags::MS_RDONLY));
        assert_eq!(d, "lowerdir=/a:/b,upperdir=/u");
    }

    #[test]
    fn unmounting_what_is_not_mounted_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        unmount(dir.path()).unwrap();
        unmount(&dir.path().join("missing")).unwrap();
        assert!(!is_mountpoint(dir.path()));
    }

    #[test]
    fn refuses_oversized_options() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("lowerdir={}", "a".repeat(5000));
        assert!(matches!(mount("overlay", "overlay", dir.path(), &[long]), Err(MountError::OptionsTooLong { .. })));
    }
}
