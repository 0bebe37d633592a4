//! `POST /build/prune` (BuildPrune): removes build cache entries (step records with the
//! untagged step images nothing else uses, and `RUN --mount=type=cache` directories).
//! Without `all` only dangling entries go (a step record whose image no tag depends on,
//! cache mounts); `until` keeps what was used more recently; `keep-storage` removes the
//! least recently used entries only until the cache fits in that many bytes.
//! `SpaceReclaimed` counts cache-mount bytes and the layers of step images removed.

use std::time::{Duration, SystemTime};

use berth_api_types::Filters;

use super::cache::Entry;
use crate::{Engine, Error, Result};

const ACCEPTED: &[&str] = &["until", "unused-for", "id", "type"];

/// What `docker builder prune` asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildPruneOptions {
    /// `-a`: every unused entry, not just dangling ones.
    pub all: bool,
    /// `--keep-storage` in bytes (0: no limit).
    pub keep_storage: u64,
    pub filters: Filters,
}

/// What `docker builder prune` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildCachePruneReport {
    pub caches_deleted: Vec<String>,
    pub space_reclaimed: u64,
}

/// The entries the filters select.
struct Selection {
    until: Option<SystemTime>,
    ids: Vec<String>,
    types: Vec<String>,
}

impl Selection {
    fn parse(f: &Filters) -> Result<Selection> {
        if let Err(e) = f.validate(ACCEPTED) {
            return Err(Error::InvalidArgument(match e {
                berth_api_types::filters::FilterError::UnknownKey(k) => format!("Invalid filter '{k}'"),
                other => other.to_string(),
            }));
        }
        let mut until = None;
        for key in ["until", "unused-for"] {
            match f.get(key) {
                [] => {}
                [v] => {
                    let t = crate::images::prune::parse_timestamp(v, chrono::Utc::now())?;
                    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
                    until = Some(t);
                }
                _ => return Err(Error::InvalidArgument(format!("more than one {key} filter specified"))),
            }
        }
        Ok(Selection { until, ids: f.get("id").to_vec(), types: f.get("type").to_vec() })
    }

    fn matches(&self, e: &Entry, all: bool) -> bool {
        let kind = if e.mount { "exec.cachemount" } else { "regular" };
        (all || e.dangling)
            && self.until.is_none_or(|t| e.last_used < t)
            && (self.ids.is_empty() || self.ids.iter().any(|i| e.id.starts_with(i.as_str())))
            && (self.types.is_empty() || self.types.iter().any(|t| t == kind))
    }
}

impl Engine {
    pub async fn build_prune(&self, opts: &BuildPruneOptions) -> Result<BuildCachePruneReport> {
        let sel = Selection::parse(&opts.filters)?;
        let entries = self.build_cache_list();
        let mut total: u64 = entries.iter().map(|e| e.size).sum();
        let mut report = BuildCachePruneReport::default();
        let mut records = Vec::new();
        // Oldest first, so --keep-storage keeps the most recently used.
        for e in entries.into_iter().filter(|e| sel.matches(e, opts.all)) {
            if opts.keep_storage > 0 && total <= opts.keep_storage {
                break;
            }
            total = total.saturating_sub(e.size);
            if e.mount {
                if std::fs::remove_dir_all(&e.path).is_ok() {
                    report.space_reclaimed += e.size;
                    report.caches_deleted.push(e.id);
                }
                continue;
            }
            if std::fs::remove_file(&e.path).is_ok() {
                report.caches_deleted.push(e.id.clone());
                records.push(e);
            }
        }
        let images: Vec<String> = records.iter().filter_map(|e| e.image.clone()).collect();
        self.remove_step_images(images).await;
        let inner = &self.images.inner;
        for e in &records {
            let gone = e.image.as_ref().is_some_and(|i| inner.meta.image(i).ok().flatten().is_none());
            if gone {
                report.space_reclaimed += e.size;
            }
        }
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
                if inner.remove_image(&id).is_ok() {
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
