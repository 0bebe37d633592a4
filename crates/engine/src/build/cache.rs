//! Build cache records under `<data-root>/builder/`: `records/<key>` holds the id of the
//! image a step produced (atomic writes); `cache/<id>` are `RUN --mount=type=cache`
//! directories. `docker builder prune` removes both, and the step images nothing else uses.

use std::path::{Path, PathBuf};

use berth_api_types::models::{BuildCache, BuildCacheTypeEnum};
use sha2::{Digest as _, Sha256};

use crate::fsutil::write_atomic;
use crate::{Engine, Error, Result};

/// `<data-root>/builder`.
pub(crate) fn root(data_root: &Path) -> PathBuf {
    data_root.join("builder")
}

fn record_path(data_root: &Path, key: &str) -> PathBuf {
    root(data_root).join("records").join(key)
}

/// The image id recorded for `key`, if any.
pub(crate) fn get(data_root: &Path, key: &str) -> Option<String> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let s = std::fs::read_to_string(record_path(data_root, key)).ok()?;
    let id = s.trim().to_string();
    (!id.is_empty()).then_some(id)
}

pub(crate) fn put(data_root: &Path, key: &str, image: &str) -> Result<()> {
    let p = record_path(data_root, key);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    write_atomic(&p, image.as_bytes()).map_err(|e| Error::io(format!("writing {}", p.display()), e))
}

/// The directory of cache mount `id` (created).
pub(crate) fn mount_dir(data_root: &Path, id: &str) -> Result<PathBuf> {
    let h = hex::encode(Sha256::digest(id.as_bytes()));
    let dir = root(data_root).join("cache").join(&h[..32]);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    Ok(dir)
}

/// What `docker builder prune` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildCachePruneReport {
    pub caches_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

impl Engine {
    /// The build cache for `system df`: one `regular` entry per step record (its layers are
    /// counted with the images) and one `exec.cachemount` entry per `RUN --mount=type=cache`
    /// directory, with its size.
    pub fn build_cache_entries(&self) -> Vec<BuildCache> {
        let r = root(&self.config.data_root);
        let mut out = Vec::new();
        for e in std::fs::read_dir(r.join("records")).into_iter().flatten().flatten() {
            out.push(BuildCache {
                id: Some(e.file_name().to_string_lossy().chars().take(25).collect()),
                typ: Some(BuildCacheTypeEnum::REGULAR),
                description: Some("step cache".into()),
                in_use: Some(false),
                shared: Some(true),
                size: Some(0),
                ..Default::default()
            });
        }
        for e in std::fs::read_dir(r.join("cache")).into_iter().flatten().flatten() {
            out.push(BuildCache {
                id: Some(e.file_name().to_string_lossy().chars().take(25).collect()),
                typ: Some(BuildCacheTypeEnum::EXEC_CACHEMOUNT),
                description: Some("cached mount (RUN --mount=type=cache)".into()),
                in_use: Some(false),
                shared: Some(false),
                size: Some(crate::fsutil::disk_usage(&e.path()) as i64),
                ..Default::default()
            });
        }
        out
    }

    /// `POST /build/prune`: drops every cache record and cache-mount directory, and the
    /// untagged step images no container uses.
    pub async fn build_prune(&self) -> Result<BuildCachePruneReport> {
        let r = root(&self.config.data_root);
        let mut report = BuildCachePruneReport::default();
        let mut step_images = Vec::new();
        if let Ok(rd) = std::fs::read_dir(r.join("records")) {
            for e in rd.flatten() {
                if let Ok(id) = std::fs::read_to_string(e.path()) {
                    step_images.push(id.trim().to_string());
                }
                let _ = std::fs::remove_file(e.path());
                report.caches_deleted.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        if let Ok(rd) = std::fs::read_dir(r.join("cache")) {
            for e in rd.flatten() {
                report.space_reclaimed += crate::fsutil::disk_usage(&e.path());
                let _ = std::fs::remove_dir_all(e.path());
                report.caches_deleted.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        self.remove_step_images(step_images).await;
        Ok(report)
    }

    /// Removes untagged images from `ids` that no container, tag or other image depends on,
    /// repeating while parents become free. Returns how many were removed.
    async fn remove_step_images(&self, mut ids: Vec<String>) -> u64 {
        let inner = self.images.inner.clone();
        let mut freed = 0u64;
        loop {
            let all = inner.meta.images().unwrap_or_default();
            let tags = inner.meta.tags().unwrap_or_default();
            let mut removed = false;
            for id in ids.clone() {
                let tagged = tags.iter().any(|(_, v)| v == &id);
                let has_child = all.iter().any(|i| i.parent == id);
                let used = !self.containers.using_image(&id).is_empty() || !self.images.snapshot_users(&id).is_empty();
                if tagged || has_child || used || !all.iter().any(|i| i.id == id) {
                    continue;
                }
                let _g = inner.lock();
                if let Ok(layers) = inner.remove_image(&id) {
                    let _ = layers;
                    freed += 1;
                    removed = true;
                }
                ids.retain(|x| x != &id);
            }
            if !removed {
                break;
            }
        }
        freed
    }
}
