//! The registry of local volumes: one versioned JSON record per volume at
//! `<data-root>/volumes/<name>/volume.v1.json` (written temp → fsync → rename), the data under
//! `<data-root>/volumes/<name>/_data`, and an in-memory index loaded at start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Config, Error, Result};

pub const VOLUME_FILE: &str = "volume.v1.json";
pub const VOLUME_VERSION: u32 = 1;
/// Docker 23+'s marker for anonymous volumes (prune removes only these unless `all`).
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// One volume as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub version: u32,
    pub name: String,
    pub driver: String,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Driver options (`type`, `device`, `o`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub anonymous: bool,
    /// Set once image content has been copied in (or copying was declined), so it happens once.
    #[serde(default)]
    pub populated: bool,
}

impl VolumeRecord {
    pub fn new(
        name: &str,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Self {
        VolumeRecord {
            version: VOLUME_VERSION,
            name: name.to_string(),
            driver: "local".into(),
            created: Utc::now(),
            labels,
            options,
            anonymous,
            populated: false,
        }
    }

    /// Options that need a mount of their own on `_data` (`type=tmpfs`, `o=bind`, …).
    pub fn needs_mount(&self) -> bool {
        self.options.contains_key("type") || self.options.contains_key("device")
    }
}

/// The in-memory index over the volume directory, plus which containers currently have each
/// volume mounted (for driver-option mounts made on `_data`).
pub struct Volumes {
    dir: PathBuf,
    index: RwLock<BTreeMap<String, VolumeRecord>>,
    /// Serialises create/remove so "check then act" is atomic.
    pub(crate) op: Mutex<()>,
    /// Container id → names of volumes it has mounted (driver-option mounts only).
    pub(crate) active: Mutex<BTreeMap<String, Vec<String>>>,
    /// `userns-remap`: the host uid/gid `_data` directories are given (the containers' root).
    root_owner: Option<(u32, u32)>,
}

impl Volumes {
    pub fn open(config: &Config) -> Result<Volumes> {
        let dir = config.data_root.join("volumes");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let mut index = BTreeMap::new();
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path().join(VOLUME_FILE);
            if !path.exists() {
                continue;
            }
            match load(&path) {
                Ok(v) => {
                    index.insert(v.name.clone(), v);
                }
                Err(e) => tracing::warn!(error = %e, "skipping unreadable volume record"),
            }
        }
        Ok(Volumes {
            dir,
            index: RwLock::new(index),
            op: Mutex::new(()),
            active: Mutex::new(BTreeMap::new()),
            root_owner: config.userns_remap.as_ref().map(|r| r.root()),
        })
    }

    pub fn volume_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `<data-root>/volumes/<name>/_data`.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("_data")
    }

    pub fn get(&self, name: &str) -> Option<VolumeRecord> {
        self.index.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    pub fn all(&self) -> Vec<VolumeRecord> {
        self.index.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    /// Persists `v` (creating its directories) and indexes it.
    pub fn put(&self, v: &VolumeRecord) -> Result<()> {
        let data = self.data_dir(&v.name);
        let new = !data.exists();
        std::fs::create_dir_all(&data).map_err(|e| Error::io(format!("creating {}", data.display()), e))?;
        if let Some((uid, gid)) = self.root_owner.filter(|_| new) {
            std::os::unix::fs::chown(&data, Some(uid), Some(gid))
                .map_err(|e| Error::io(format!("changing the owner of {}", data.display()), e))?;
        }
        let path = self.volume_dir(&v.name).join(VOLUME_FILE);
        let json = serde_json::to_vec_pretty(v).map_err(|e| Error::Internal(format!("encoding volume record: {e}")))?;
        crate::fsutil::write_atomic(&path, &json).map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        self.index.write().unwrap_or_else(|p| p.into_inner()).insert(v.name.clone(), v.clone());
        Ok(())
    }

    /// Forgets `name` and deletes its directory (record first, so a crash never leaves a record
    /// without data).
    pub fn remove(&self, name: &str) -> Result<()> {
        let dir = self.volume_dir(name);
        let _ = berth_kernel::mount::unmount(&self.data_dir(name));
        match std::fs::remove_file(dir.join(VOLUME_FILE)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("removing {}", dir.display()), e)),
        }
        self.index.write().unwrap_or_else(|p| p.into_inner()).remove(name);
        crate::containers::remove_dir_if_exists(&dir)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        // Poisoning only means a panic while held; the index stays consistent.
        self.op.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn active(&self) -> MutexGuard<'_, BTreeMap<String, Vec<String>>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn load(path: &Path) -> Result<VolumeRecord> {
    let data = std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let v: VolumeRecord =
        serde_json::from_slice(&data).map_err(|e| Error::Internal(format!("decoding {}: {e}", path.display())))?;
    if v.version != VOLUME_VERSION {
        return Err(Error::Internal(format!("{}: unsupported volume record version {}", path.display(), v.version)));
    }
    Ok(v)
}

/// A random 64-hex-digit name, as dockerd gives anonymous and unnamed volumes.
pub fn new_name() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// dockerd's local volume name rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Bytes used under `dir` (see [`crate::fsutil::disk_usage`]).
pub fn disk_usage(dir: &Path) -> i64 {
    i64::try_from(crate::fsutil::disk_usage(dir)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("ab"));
        assert!(valid_name("my_vol.1-x"));
        assert!(!valid_name("a"));
        assert!(!valid_name("_a"));
        assert!(!valid_name("x/y"));
        assert!(!valid_name(""));
    }

    #[test]
    fn persists_and_reloads() {
        let d = tempfile::tempdir().unwrap();
        let config = Config::with_roots(d.path().join("data"), d.path().join("exec"));
        let vs = Volumes::open(&config).unwrap();
        let v = VolumeRecord::new("data1", [("a".to_string(), "b".to_string())].into(), BTreeMap::new(), false);
        vs.put(&v).unwrap();
        assert!(vs.data_dir("data1").is_dir());
        std::fs::write(vs.data_dir("data1").join("f"), b"12345").unwrap();
        assert_eq!(disk_usage(&vs.data_dir("data1")), 5);
        let again = Volumes::open(&config).unwrap();
        assert_eq!(again.get("data1"), Some(v));
        again.remove("data1").unwrap();
        assert!(again.get("data1").is_none());
        assert!(!again.volume_dir("data1").exists());
    }
}
