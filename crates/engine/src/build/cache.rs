//! Build cache records under `<data-root>/builder/`: `records/<key>` holds the id of the
//! image a step produced (atomic writes; the file's mtime is when the step was last used);
//! `cache/<id>` are `RUN --mount=type=cache` directories. [`entries`] lists both with their
//! sizes for `system df` and `builder prune` (`prune.rs`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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

/// Marks a record or cache directory as used now (its mtime).
fn touch(p: &Path) {
    if let Ok(f) = std::fs::File::open(p) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// The image id recorded for `key`, if any (the record counts as used).
pub(crate) fn get(data_root: &Path, key: &str) -> Option<String> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let p = record_path(data_root, key);
    let s = std::fs::read_to_string(&p).ok()?;
    let id = s.trim().to_string();
    if id.is_empty() {
        return None;
    }
    touch(&p);
    Some(id)
}

pub(crate) fn put(data_root: &Path, key: &str, image: &str) -> Result<()> {
    let p = record_path(data_root, key);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    write_atomic(&p, image.as_bytes()).map_err(|e| Error::io(format!("writing {}", p.display()), e))
}

/// The directory of cache mount `id` (created; counts as used).
pub(crate) fn mount_dir(data_root: &Path, id: &str) -> Result<PathBuf> {
    let h = hex::encode(Sha256::digest(id.as_bytes()));
    let dir = root(data_root).join("cache").join(&h[..32]);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    touch(&dir);
    Ok(dir)
}

/// One build cache entry: a step record or a cache-mount directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// What `system df` and `builder prune` show (25 characters, as BuildKit's ids).
    pub id: String,
    pub path: PathBuf,
    /// A `RUN --mount=type=cache` directory (else a step record).
    pub mount: bool,
    /// The step image of a record.
    pub image: Option<String>,
    /// Bytes: the layer the step added (0 for config-only steps), or the directory's usage.
    pub size: u64,
    pub created: SystemTime,
    pub last_used: SystemTime,
    /// Not part of any tagged image (cache mounts are never referenced by images).
    pub dangling: bool,
}

impl Engine {
    /// Every build cache entry with its size.
    pub(crate) fn build_cache_list(&self) -> Vec<Entry> {
        let r = root(&self.config.data_root);
        let meta = &self.images.inner.meta;
        let images: HashMap<String, berth_store::meta::ImageRecord> =
            meta.images().unwrap_or_default().into_iter().map(|i| (i.id.clone(), i)).collect();
        let sizes: HashMap<String, u64> =
            meta.layers().unwrap_or_default().into_iter().map(|l| (l.chain_id, l.size)).collect();
        // Images a tag depends on: tagged images and their parent chains.
        let mut reachable = HashSet::new();
        for (_, id) in meta.tags().unwrap_or_default() {
            let mut cur = Some(id);
            while let Some(id) = cur.take().filter(|id| reachable.insert(id.clone())) {
                cur = images.get(&id).map(|i| i.parent.clone()).filter(|p| !p.is_empty());
            }
        }
        let times = |p: &Path| {
            let md = std::fs::metadata(p).ok();
            let used = md.as_ref().and_then(|m| m.modified().ok()).unwrap_or(SystemTime::UNIX_EPOCH);
            let created = md.as_ref().and_then(|m| m.created().ok()).unwrap_or(used);
            (created, used)
        };
        let mut out = Vec::new();
        for e in std::fs::read_dir(r.join("records")).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let image = std::fs::read_to_string(e.path()).ok().map(|s| s.trim().to_string());
            let rec = image.as_ref().and_then(|i| images.get(i));
            let size = rec.map_or(0, |rec| {
                let parent_len = images.get(&rec.parent).map_or(0, |p| p.layers.len());
                match rec.layers.last() {
                    Some(top) if rec.layers.len() > parent_len => sizes.get(top).copied().unwrap_or(0),
                    _ => 0,
                }
            });
            let (created, last_used) = times(&e.path());
            out.push(Entry {
                id: name.chars().take(25).collect(),
                path: e.path(),
                mount: false,
                dangling: !image.as_ref().is_some_and(|i| reachable.contains(i)),
                image,
                size,
                created,
                last_used,
            });
        }
        for e in std::fs::read_dir(r.join("cache")).into_iter().flatten().flatten() {
            let (created, last_used) = times(&e.path());
            out.push(Entry {
                id: e.file_name().to_string_lossy().chars().take(25).collect(),
                path: e.path(),
                mount: true,
                image: None,
                size: crate::fsutil::disk_usage(&e.path()),
                created,
                last_used,
                dangling: true,
            });
        }
        out.sort_by(|a, b| a.last_used.cmp(&b.last_used).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// The build cache for `system df`: one `regular` entry per step record, sized by the
    /// layer the step added, and one `exec.cachemount` entry per `RUN --mount=type=cache`
    /// directory, with its disk usage.
    pub fn build_cache_entries(&self) -> Vec<BuildCache> {
        let date = |t: SystemTime| {
            let t: chrono::DateTime<chrono::Utc> = t.into();
            // `BollardDate` is a string or a chrono time depending on features; both parse.
            t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).parse().ok()
        };
        self.build_cache_list()
            .into_iter()
            .map(|e| BuildCache {
                id: Some(e.id),
                typ: Some(if e.mount { BuildCacheTypeEnum::EXEC_CACHEMOUNT } else { BuildCacheTypeEnum::REGULAR }),
                description: Some(if e.mount {
                    "cached mount (RUN --mount=type=cache)".into()
                } else {
                    "step cache".into()
                }),
                in_use: Some(false),
                shared: Some(!e.mount),
                size: Some(i64::try_from(e.size).unwrap_or(i64::MAX)),
                created_at: date(e.created),
                last_used_at: date(e.last_used),
                ..Default::default()
            })
            .collect()
    }
}
