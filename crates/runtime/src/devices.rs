//! Host device nodes for `--device` and `--privileged`: stat the host path and describe the
//! node the container gets (type, major/minor, mode, owner), as dockerd's
//! `oci.DevicesFromPath` and runc's `HostDevices` do. Reads the host's /dev; no kernel calls.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use crate::security::DeviceMapping;

/// A device that cannot be given to the container; the message is dockerd's.
#[derive(Debug, thiserror::Error)]
#[error("error gathering device information while adding custom device {path:?}: {reason}")]
pub struct DeviceError {
    pub path: String,
    pub reason: String,
}

fn major(dev: u64) -> i64 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & 0xffff_f000)) as i64
}

fn minor(dev: u64) -> i64 {
    ((dev & 0xff) | ((dev >> 12) & 0xffff_ff00)) as i64
}

/// The device node at `path`, to be created at `dest`; `None` when it is not a device.
fn node(path: &Path, dest: &Path) -> std::io::Result<Option<LinuxDevice>> {
    let md = std::fs::metadata(path)?;
    let ft = md.file_type();
    let typ = if ft.is_char_device() {
        LinuxDeviceType::C
    } else if ft.is_block_device() {
        LinuxDeviceType::B
    } else {
        return Ok(None);
    };
    let mut d = LinuxDevice::default();
    d.set_path(dest.to_path_buf())
        .set_typ(typ)
        .set_major(major(md.rdev()))
        .set_minor(minor(md.rdev()))
        .set_file_mode(Some(md.mode() & 0o7777))
        .set_uid(Some(md.uid()))
        .set_gid(Some(md.gid()));
    Ok(Some(d))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => e.to_string(),
    }
}

/// `--device host[:container[:perms]]`, resolved: one device, or every device under a
/// directory (placed under `path_in_container` with the same relative path).
pub fn from_path(path_on_host: &str, path_in_container: &str, perms: &str) -> Result<Vec<DeviceMapping>, DeviceError> {
    let err = |reason: String| DeviceError { path: path_on_host.to_string(), reason };
    let host = Path::new(path_on_host);
    let dest = if path_in_container.is_empty() { host } else { Path::new(path_in_container) };
    // Symlinks (e.g. /dev/disk/by-id/...) resolve to the device they name.
    let resolved = std::fs::canonicalize(host).map_err(|e| err(io_reason(&e)))?;
    if let Some(d) = node(&resolved, dest).map_err(|e| err(io_reason(&e)))? {
        return Ok(vec![DeviceMapping { device: d, access: perms.to_string() }]);
    }
    if !resolved.is_dir() {
        return Err(err("not a device node".into()));
    }
    let mut out = Vec::new();
    let mut stack = vec![resolved.clone()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| err(io_reason(&e)))?;
        for entry in entries.flatten() {
            let p = entry.path();
            let rel = p.strip_prefix(&resolved).unwrap_or(&p);
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else if let Ok(Some(d)) = node(&p, &dest.join(rel)) {
                out.push(DeviceMapping { device: d, access: perms.to_string() });
            }
        }
    }
    Ok(out)
}

/// Every device node under `dev_root` (the host's `/dev`) for a privileged container, skipping
/// what runc skips (pts, shm, mqueue, fd and hidden dirs, /dev/console).
pub fn host_devices(dev_root: &Path) -> Vec<LinuxDevice> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dev_root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if !matches!(name.as_str(), "pts" | "shm" | "fd" | "mqueue") && !name.starts_with('.') {
                    stack.push(p);
                }
                continue;
            }
            if ft.is_symlink() || (dir == dev_root && name == "console") {
                continue;
            }
            let rel = p.strip_prefix(dev_root).unwrap_or(&p);
            if let Ok(Some(d)) = node(&p, &Path::new("/dev").join(rel)) {
                out.push(d);
            }
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_null_as_mynull() {
        let d = from_path("/dev/null", "/dev/mynull", "rw").unwrap();
        assert_eq!(d.len(), 1);
        let dev = &d[0].device;
        assert_eq!(dev.path(), &PathBuf::from("/dev/mynull"));
        assert_eq!((dev.typ(), dev.major(), dev.minor()), (LinuxDeviceType::C, 1, 3));
        assert_eq!(dev.file_mode(), Some(0o666));
        assert_eq!(d[0].access, "rw");
    }

    #[test]
    fn errors_like_dockerd() {
        let e = from_path("/dev/nonexist", "", "rwm").unwrap_err().to_string();
        assert_eq!(
            e,
            "error gathering device information while adding custom device \"/dev/nonexist\": no such file or directory"
        );
        let f = tempfile::NamedTempFile::new().unwrap();
        let e = from_path(&f.path().to_string_lossy(), "", "rwm").unwrap_err().to_string();
        assert!(e.ends_with(": not a device node"), "{e}");
    }

    #[test]
    fn host_devices_has_null() {
        let all = host_devices(Path::new("/dev"));
        assert!(all.iter().any(|d| d.path() == &PathBuf::from("/dev/null")));
        assert!(!all.iter().any(|d| d.path().starts_with("/dev/pts")));
    }

    #[test]
    fn dev_numbers() {
        assert_eq!((major(0x0103), minor(0x0103)), (1, 3));
        assert_eq!((major(0xe500), minor(0xe500)), (229, 0));
    }
}
