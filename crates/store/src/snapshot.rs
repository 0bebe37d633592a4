//! Snapshots: `<data-root>/snapshots/<n>/{fs,work}`, numbered with short ids so overlay option
//! strings stay short. A layer snapshot is an unpacked layer (`fs`, used as a lowerdir); a
//! container snapshot is `fs` (upper) + `work` on top of its image's layers, mounted at `merged`.
//!
//! The snapshotter returns [`Mount`]s as data; [`Snapshots::mount`] applies them through
//! `berth-kernel`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One mount, as data: `mount -t <kind> -o <options> <source> <target>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub kind: String,
    pub source: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Snapshots {
    root: PathBuf,
}

impl Snapshots {
    pub fn open(data_root: &Path) -> Result<Snapshots> {
        let root = data_root.join("snapshots");
        fs::create_dir_all(&root).map_err(|e| Error::io(format!("creating {}", root.display()), e))?;
        Ok(Snapshots { root })
    }

    pub fn dir(&self, n: u64) -> PathBuf {
        self.root.join(n.to_string())
    }

    pub fn fs_dir(&self, n: u64) -> PathBuf {
        self.dir(n).join("fs")
    }

    pub fn work_dir(&self, n: u64) -> PathBuf {
        self.dir(n).join("work")
    }

    pub fn merged_dir(&self, n: u64) -> PathBuf {
        self.dir(n).join("merged")
    }

    /// Creates an empty layer snapshot (`fs` only), replacing leftovers of a crashed attempt.
    pub fn prepare_layer(&self, n: u64) -> Result<PathBuf> {
        self.remove(n)?;
        let fs_dir = self.fs_dir(n);
        fs::create_dir_all(&fs_dir).map_err(|e| Error::io(format!("creating {}", fs_dir.display()), e))?;
        Ok(fs_dir)
    }

    /// Creates a container snapshot: `fs` (upper), `work` and the `merged` mount point.
    pub fn prepare_container(&self, n: u64) -> Result<()> {
        self.remove(n)?;
        for d in [self.fs_dir(n), self.work_dir(n), self.merged_dir(n)] {
            fs::create_dir_all(&d).map_err(|e| Error::io(format!("creating {}", d.display()), e))?;
        }
        Ok(())
    }

    /// The mounts that assemble container snapshot `upper` over `lowers` (top first).
    pub fn overlay_mounts(&self, upper: u64, lowers: &[u64]) -> Vec<Mount> {
        if lowers.is_empty() {
            let src = self.fs_dir(upper).display().to_string();
            return vec![Mount { kind: "bind".into(), source: src, options: vec!["rbind".into(), "rw".into()] }];
        }
        let lowerdir: Vec<String> = lowers.iter().map(|l| self.fs_dir(*l).display().to_string()).collect();
        vec![Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            options: vec![
                format!("lowerdir={}", lowerdir.join(":")),
                format!("upperdir={}", self.fs_dir(upper).display()),
                format!("workdir={}", self.work_dir(upper).display()),
            ],
        }]
    }

    /// Mounts `mounts` on `target` (idempotent: an existing mount there is kept).
    pub fn mount(&self, mounts: &[Mount], target: &Path) -> Result<()> {
        if berth_kernel::mount::is_mountpoint(target) {
            return Ok(());
        }
        fs::create_dir_all(target).map_err(|e| Error::io(format!("creating {}", target.display()), e))?;
        for m in mounts {
            berth_kernel::mount::mount(&m.kind, &m.source, target, &m.options)?;
        }
        Ok(())
    }

    pub fn unmount(&self, target: &Path) -> Result<()> {
        while berth_kernel::mount::is_mountpoint(target) {
            berth_kernel::mount::unmount(target)?;
        }
        Ok(())
    }

    /// Unmounts and deletes snapshot `n` (idempotent).
    pub fn remove(&self, n: u64) -> Result<()> {
        let dir = self.dir(n);
        self.unmount(&self.merged_dir(n))?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing {}", dir.display()), e)),
        }
    }

    /// Snapshot numbers present on disk (for garbage collection).
    pub fn list(&self) -> Result<Vec<u64>> {
        let rd = fs::read_dir(&self.root).map_err(|e| Error::io(format!("reading {}", self.root.display()), e))?;
        Ok(rd.flatten().filter_map(|e| e.file_name().to_string_lossy().parse().ok()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_mounts_are_data() {
        let s = Snapshots { root: PathBuf::from("/var/lib/berth/snapshots") };
        let m = s.overlay_mounts(9, &[3, 2, 1]);
        let golden = serde_json::json!([{
            "kind": "overlay",
            "source": "overlay",
            "options": [
                "lowerdir=/var/lib/berth/snapshots/3/fs:/var/lib/berth/snapshots/2/fs:/var/lib/berth/snapshots/1/fs",
                "upperdir=/var/lib/berth/snapshots/9/fs",
                "workdir=/var/lib/berth/snapshots/9/work"
            ]
        }]);
        assert_eq!(serde_json::to_value(&m).unwrap(), golden);
        assert_eq!(s.overlay_mounts(4, &[])[0].kind, "bind");
    }

    #[test]
    fn prepare_and_remove_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let s = Snapshots::open(dir.path()).unwrap();
        s.prepare_container(5).unwrap();
        assert!(s.work_dir(5).is_dir() && s.fs_dir(5).is_dir());
        assert_eq!(s.list().unwrap(), vec![5]);
        s.remove(5).unwrap();
        s.remove(5).unwrap();
        assert!(!s.dir(5).exists());
    }
}
