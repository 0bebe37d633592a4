//! User-namespace id mappings (`userns-remap`) and shifting a tree's owners between container
//! ids and host ids.
//!
//! With remapping on, layer content is stored with host ids (container uid `u` is host uid
//! `base + u`), so the container's root, mapped to `base`, owns its files. [`shift_tree`]
//! moves a freshly unpacked layer into the host range; [`IdMap::to_container`] maps owners back
//! when a diff or archive is written, so images and archives carry container ids.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::{Error, Result};

/// One contiguous range: container ids `container..container+size` are host ids
/// `host..host+size` (a line of `/proc/<pid>/uid_map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

/// A container id outside the ranges (dockerd's message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Container ID {0} cannot be mapped to a host ID")]
pub struct UnmappedId(pub u32);

/// The uid and gid ranges of a remapped root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMap {
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
}

fn to_host(ranges: &[IdRange], id: u32) -> Option<u32> {
    ranges.iter().find(|r| id >= r.container && id - r.container < r.size).map(|r| r.host + (id - r.container))
}

fn to_container(ranges: &[IdRange], id: u32) -> Option<u32> {
    ranges.iter().find(|r| id >= r.host && id - r.host < r.size).map(|r| r.container + (id - r.host))
}

impl IdMap {
    /// The host uid and gid of the container's root.
    pub fn root(&self) -> (u32, u32) {
        (to_host(&self.uids, 0).unwrap_or(0), to_host(&self.gids, 0).unwrap_or(0))
    }

    /// Container (uid, gid) → host (uid, gid); an error when either is outside the ranges.
    pub fn to_host(&self, uid: u32, gid: u32) -> std::result::Result<(u32, u32), UnmappedId> {
        Ok((to_host(&self.uids, uid).ok_or(UnmappedId(uid))?, to_host(&self.gids, gid).ok_or(UnmappedId(gid))?))
    }

    /// Host (uid, gid) → container (uid, gid). Ids outside the ranges (files the daemon made
    /// as the real root) are the container's root, as dockerd's archiver does for 0 and
    /// `nobody` (65534) otherwise.
    pub fn to_container(&self, uid: u32, gid: u32) -> (u32, u32) {
        let one = |ranges: &[IdRange], id: u32| match to_container(ranges, id) {
            Some(c) => c,
            None if id == 0 => 0,
            None => 65534,
        };
        (one(&self.uids, uid), one(&self.gids, gid))
    }
}

/// Changes the owner of every entry under `root` (and `root` itself) from container ids to host
/// ids, without following symlinks. Set-id bits, which `chown` clears, are put back.
pub fn shift_tree(root: &Path, map: &IdMap) -> Result<()> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let md = fs::symlink_metadata(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let (uid, gid) = map.to_host(md.uid(), md.gid()).map_err(|e| Error::InvalidLayer(e.to_string()))?;
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid))
            .map_err(|e| Error::io(format!("changing the owner of {}", path.display()), e))?;
        let ft = md.file_type();
        if !ft.is_symlink() && md.mode() & 0o6000 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(md.mode() & 0o7777))
                .map_err(|e| Error::io(format!("restoring the mode of {}", path.display()), e))?;
        }
        if ft.is_dir() {
            for entry in fs::read_dir(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))? {
                let entry = entry.map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
                stack.push(entry.path());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> IdMap {
        IdMap {
            uids: vec![IdRange { container: 0, host: 100000, size: 65536 }],
            gids: vec![
                IdRange { container: 0, host: 200000, size: 10 },
                IdRange { container: 10, host: 300000, size: 65526 },
            ],
        }
    }

    #[test]
    fn maps_both_ways_across_ranges() {
        let m = map();
        assert_eq!(m.root(), (100000, 200000));
        assert_eq!(m.to_host(0, 0).unwrap(), (100000, 200000));
        assert_eq!(m.to_host(1000, 12).unwrap(), (101000, 300002));
        assert_eq!(m.to_host(65536, 0).unwrap_err().to_string(), "Container ID 65536 cannot be mapped to a host ID");
        assert_eq!(m.to_container(101000, 300002), (1000, 12));
        assert_eq!(m.to_container(0, 5), (0, 65534));
    }

    #[test]
    fn shifts_a_tree_when_root() {
        if !berth_testkit::is_root() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("fs");
        fs::create_dir_all(root.join("bin")).unwrap();
        fs::write(root.join("bin/su"), "x").unwrap();
        std::os::unix::fs::lchown(root.join("bin/su"), Some(5), Some(5)).unwrap();
        fs::set_permissions(root.join("bin/su"), fs::Permissions::from_mode(0o4755)).unwrap();
        std::os::unix::fs::symlink("su", root.join("bin/sudo")).unwrap();
        shift_tree(&root, &map()).unwrap();
        let su = fs::metadata(root.join("bin/su")).unwrap();
        assert_eq!((su.uid(), su.gid()), (100005, 200005));
        assert_eq!(su.mode() & 0o7777, 0o4755);
        let link = fs::symlink_metadata(root.join("bin/sudo")).unwrap();
        assert_eq!((link.uid(), link.gid()), (100000, 200000));
        let top = fs::metadata(&root).unwrap();
        assert_eq!((top.uid(), top.gid()), (100000, 200000));

        // A diff of the shifted tree carries the container ids again.
        let mut tar = Vec::new();
        crate::diff::write_diff_mapped(&root, &[], Some(&map()), &mut tar).unwrap();
        let owners: Vec<(String, u64, u64)> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.header().uid().unwrap(), e.header().gid().unwrap())
            })
            .collect();
        assert!(owners.contains(&("bin/su".into(), 5, 5)), "{owners:?}");
        assert!(owners.contains(&("bin/sudo".into(), 0, 0)), "{owners:?}");
    }
}
