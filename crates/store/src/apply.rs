//! Applying a layer tar to a directory, turning OCI/AUFS whiteouts into overlayfs ones.
//!
//! `.wh.<name>` becomes a 0/0 character device `<name>`; `.wh..wh..opq` marks its directory
//! opaque (`trusted.overlay.opaque=y`); other `.wh..wh.*` entries (AUFS bookkeeping) are
//! skipped. Modes, owners, mtimes, symlinks, hardlinks and xattrs are preserved.

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use berth_kernel::mount::{make_whiteout, set_overlay_opaque};
use tar::EntryType;

use crate::{Error, Result};

pub const WHITEOUT_PREFIX: &str = ".wh.";
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Unpacks the tar read from `reader` into `dest` (which must exist). Returns the layer's size
/// as dockerd counts it: regular file bytes plus symlink target lengths.
pub fn apply_layer(reader: impl Read, dest: &Path) -> Result<u64> {
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(true);
    archive.set_overwrite(true);
    let mut size = 0u64;
    let unpack_err = |path: &Path, source| Error::Unpack { path: path.to_path_buf(), source };
    let bad_tar = |e: std::io::Error| Error::InvalidLayer(format!("invalid tar archive: {e}"));
    for entry in archive.entries().map_err(bad_tar)? {
        let mut entry = entry.map_err(bad_tar)?;
        let raw = entry.path().map_err(|e| unpack_err(dest, e))?.into_owned();
        let Some(rel) = clean(&raw)? else { continue };
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let parent = dest.join(rel.parent().unwrap_or(Path::new("")));
        if name == OPAQUE_MARKER {
            fs::create_dir_all(&parent).map_err(|e| unpack_err(&parent, e))?;
            set_overlay_opaque(&parent)?;
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.starts_with(WHITEOUT_PREFIX) {
                continue;
            }
            fs::create_dir_all(&parent).map_err(|e| unpack_err(&parent, e))?;
            let target = parent.join(hidden);
            remove_any(&target)?;
            make_whiteout(&target)?;
            continue;
        }
        let kind = entry.header().entry_type();
        let target = dest.join(&rel);
        if kind != EntryType::Directory {
            if let Ok(m) = fs::symlink_metadata(&target) {
                if m.is_dir() {
                    remove_any(&target)?;
                }
            }
        } else if fs::symlink_metadata(&target).is_ok_and(|m| !m.is_dir()) {
            remove_any(&target)?;
        }
        match kind {
            EntryType::Regular | EntryType::Continuous => size += entry.size(),
            EntryType::Symlink => {
                size += entry.link_name_bytes().map(|l| l.len() as u64).unwrap_or(0);
            }
            _ => {}
        }
        entry.unpack_in(dest).map_err(|e| unpack_err(&target, e))?;
    }
    Ok(size)
}

/// Normalises an entry path to a relative path inside the layer; `None` for the root itself.
fn clean(p: &Path) -> Result<Option<PathBuf>> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(Error::InvalidLayer(format!("entry {} escapes the layer root", p.display())))
            }
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

fn remove_any(p: &Path) -> Result<()> {
    let r = match fs::symlink_metadata(p) {
        Err(_) => return Ok(()),
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
    };
    r.map_err(|e| Error::io(format!("removing {}", p.display()), e))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

    use super::*;

    /// (path, type, content, link target, mode)
    type Entry<'a> = (&'a str, EntryType, &'a [u8], Option<&'a str>, u32);

    fn tar_of(entries: &[Entry<'_>]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data, link, mode) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(*mode);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_size(data.len() as u64);
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn unpacks_files_links_and_counts_size() {
        let dir = tempfile::tempdir().unwrap();
        let t = tar_of(&[
            ("./", EntryType::Directory, b"", None, 0o755),
            ("bin/", EntryType::Directory, b"", None, 0o755),
            ("bin/busybox", EntryType::Regular, b"12345", None, 0o755),
            ("bin/sh", EntryType::Symlink, b"", Some("busybox"), 0o777),
            ("bin/ash", EntryType::Link, b"", Some("bin/busybox"), 0o755),
            ("tmp/", EntryType::Directory, b"", None, 0o1777),
        ]);
        let size = apply_layer(&t[..], dir.path()).unwrap();
        assert_eq!(size, 5 + "busybox".len() as u64);
        let bb = fs::metadata(dir.path().join("bin/busybox")).unwrap();
        assert_eq!(bb.permissions().mode() & 0o7777, 0o755);
        assert_eq!(fs::read_link(dir.path().join("bin/sh")).unwrap(), Path::new("busybox"));
        assert_eq!(fs::metadata(dir.path().join("bin/ash")).unwrap().ino(), bb.ino());
        assert_eq!(fs::metadata(dir.path().join("tmp")).unwrap().permissions().mode() & 0o7777, 0o1777);
    }

    #[test]
    fn refuses_escaping_paths() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(EntryType::Regular);
        h.set_size(1);
        h.set_mode(0o644);
        // Builder refuses `..`, so write the name bytes directly.
        let name = b"../evil";
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        let mut t = h.as_bytes().to_vec();
        t.extend_from_slice(&[b'x'; 512]);
        t.extend_from_slice(&[0; 1024]);
        assert!(matches!(apply_layer(&t[..], dir.path()), Err(Error::InvalidLayer(_))));
        assert!(!dir.path().parent().unwrap().join("evil").exists());
    }

    /// Whiteouts need mknod and trusted.* xattrs: root only.
    #[test]
    fn converts_whiteouts() {
        if !berth_testkit::require_privileged("converts_whiteouts") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/old"), "x").unwrap();
        let t = tar_of(&[
            ("etc/.wh.old", EntryType::Regular, b"", None, 0o644),
            ("var/.wh..wh..opq", EntryType::Regular, b"", None, 0o644),
            (".wh..wh.plnk", EntryType::Directory, b"", None, 0o700),
        ]);
        apply_layer(&t[..], dir.path()).unwrap();
        let m = fs::symlink_metadata(dir.path().join("etc/old")).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(m.rdev(), 0);
        let v = xattr_get(&dir.path().join("var"), "trusted.overlay.opaque");
        assert_eq!(v.as_deref(), Some(&b"y"[..]));
        assert!(!dir.path().join(".wh..wh.plnk").exists());
    }

    fn xattr_get(p: &Path, name: &str) -> Option<Vec<u8>> {
        xattr::get(p, name).ok().flatten()
    }
}
