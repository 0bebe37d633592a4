//! Image operations, one per file named after the Docker operation, over `berth-store`.
//!
//! [`Images`] owns the content store, the metadata database and the snapshots; the files here
//! add `impl Engine { image_* }` methods. Blocking disk work runs on tokio's blocking pool.

mod auth;
mod blob_pipe;
mod commit;
mod create;
mod delete;
mod get;
mod history;
mod inspect;
pub(crate) mod layers;
mod list;
mod load;
pub(crate) mod prune;
mod pull;
mod pull_layers;
mod push;
mod push_gzip;
mod push_layer;
mod search;
mod tag;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use berth_image::{Digest, ImageConfig, Reference};
use berth_store::meta::{ContainerSnapshot, ImageRecord};
use berth_store::{ContentStore, MetaStore, Snapshots};

use crate::{Config, Error, Result};

pub use auth::credentials;
pub use commit::CommitRequest;
pub use create::ImportRequest;
pub use inspect::InspectFields;
pub use pull::PullRequest;
pub use push::PushRequest;

pub struct Images {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub content: ContentStore,
    pub meta: MetaStore,
    pub snapshots: Snapshots,
    pub tmp: PathBuf,
    /// `userns-remap`: layers are stored with host ids in the remapped range.
    pub id_map: Option<berth_store::idmap::IdMap>,
    /// Serialises changes (import, load, tag, delete, rootfs create/remove).
    write_lock: Mutex<()>,
}

/// An image found by name, tag, id (full or unique prefix) or digest.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedImage {
    /// `sha256:<hex>` of the config.
    pub id: String,
    pub config: berth_image::ImageConfig,
}

pub(crate) fn store_err(context: &str) -> impl FnOnce(berth_store::Error) -> Error + '_ {
    move |e| Error::store(context, e)
}

impl crate::Engine {
    /// The image store, for rootfs management by other services and for tests.
    pub fn image_store(&self) -> &Images {
        &self.images
    }
}

impl Images {
    pub fn open(config: &Config) -> Result<Images> {
        let root = &config.data_root;
        let tmp = root.join("tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(format!("creating {}", tmp.display()), e))?;
        let inner = Inner {
            content: ContentStore::open(root).map_err(store_err("opening content store"))?,
            meta: MetaStore::open(root).map_err(store_err("opening metadata"))?,
            snapshots: Snapshots::open(root).map_err(store_err("opening snapshots"))?,
            tmp,
            id_map: config.userns_remap.as_ref().map(|r| r.map.clone()),
            write_lock: Mutex::new(()),
        };
        Ok(Images { inner: Arc::new(inner) })
    }

    /// Number of images, for `/info`.
    pub fn count(&self) -> usize {
        self.inner.meta.images().map(|v| v.len()).unwrap_or(0)
    }

    /// Finds an image; `Error::NotFound("No such image: <ref>")` when there is none.
    pub fn resolve(&self, reference: &str) -> Result<ResolvedImage> {
        let rec = self.inner.resolve(reference)?;
        let config = self.inner.config(&rec.id)?.1;
        Ok(ResolvedImage { id: rec.id, config })
    }

    /// Creates the container's writable snapshot on top of the image's layers.
    pub fn create_rootfs(&self, container_id: &str, image_id: &str) -> Result<()> {
        let inner = &self.inner;
        let _g = inner.lock();
        if inner.meta.container(container_id).map_err(store_err("reading snapshot"))?.is_some() {
            return Ok(());
        }
        let image = inner.resolve(image_id)?;
        let n = inner.meta.write(|w| w.next_snapshot_id()).map_err(store_err("allocating snapshot"))?;
        inner.snapshots.prepare_container(n).map_err(store_err("creating container snapshot"))?;
        if let Some(map) = &inner.id_map {
            // The upper directory is the rootfs's `/`: owned by the container's root.
            let (uid, gid) = map.root();
            let upper = inner.snapshots.fs_dir(n);
            if let Err(e) = std::os::unix::fs::chown(&upper, Some(uid), Some(gid)) {
                let _ = inner.snapshots.remove(n);
                return Err(Error::io(format!("changing the owner of {}", upper.display()), e));
            }
        }
        let rec = ContainerSnapshot {
            v: 1,
            container_id: container_id.to_string(),
            image_id: image.id.clone(),
            snapshot: n,
            layers: image.layers.clone(),
        };
        let r = inner.meta.write(|w| {
            w.ref_layers(&rec.layers)?;
            w.put_container(&rec)
        });
        if let Err(e) = r {
            let _ = inner.snapshots.remove(n);
            return Err(Error::store("recording container snapshot", e));
        }
        Ok(())
    }

    /// Mounts the container's rootfs (idempotent) and returns the mounted directory.
    pub fn mount_rootfs(&self, container_id: &str) -> Result<PathBuf> {
        let inner = &self.inner;
        let rec = inner.container_snapshot(container_id)?;
        let mut lowers = Vec::with_capacity(rec.layers.len());
        for chain in rec.layers.iter().rev() {
            let l = inner
                .meta
                .layer(chain)
                .map_err(store_err("reading layer"))?
                .ok_or_else(|| Error::Internal(format!("layer {chain} of container {container_id} is missing")))?;
            lowers.push(l.snapshot);
        }
        let mounts = inner.snapshots.overlay_mounts(rec.snapshot, &lowers);
        let target = inner.snapshots.merged_dir(rec.snapshot);
        inner.snapshots.mount(&mounts, &target).map_err(store_err("mounting rootfs"))?;
        Ok(target)
    }

    /// The overlay directories of a container's rootfs, as dockerd's `GraphDriver.Data`
    /// (`LowerDir`, `UpperDir`, `WorkDir`, `MergedDir`).
    pub fn rootfs_dirs(&self, container_id: &str) -> Result<std::collections::HashMap<String, String>> {
        let inner = &self.inner;
        let rec = inner.container_snapshot(container_id)?;
        let mut lowers = Vec::with_capacity(rec.layers.len());
        for chain in rec.layers.iter().rev() {
            if let Some(l) = inner.meta.layer(chain).map_err(store_err("reading layer"))? {
                lowers.push(l.snapshot);
            }
        }
        let mut data = std::collections::HashMap::new();
        for m in inner.snapshots.overlay_mounts(rec.snapshot, &lowers) {
            for opt in &m.options {
                for (key, name) in [("lowerdir=", "LowerDir"), ("upperdir=", "UpperDir"), ("workdir=", "WorkDir")] {
                    if let Some(v) = opt.strip_prefix(key) {
                        data.insert(name.to_string(), v.to_string());
                    }
                }
            }
        }
        data.insert("MergedDir".into(), inner.snapshots.merged_dir(rec.snapshot).display().to_string());
        Ok(data)
    }

    /// `(SizeRw, SizeRootFs)` of a container: bytes in its writable layer, and those plus its
    /// image's layers.
    pub fn rootfs_sizes(&self, container_id: &str) -> Result<(i64, i64)> {
        let rec = self.inner.container_snapshot(container_id)?;
        let upper = self.rootfs_dirs(container_id)?.remove("UpperDir").unwrap_or_default();
        let rw = crate::fsutil::disk_usage(Path::new(&upper));
        let image = list::image_size(&self.inner, &rec.layers)?;
        Ok((rw as i64, (image + rw) as i64))
    }

    /// Unmounts the container's rootfs (idempotent; fine when not mounted).
    pub fn unmount_rootfs(&self, container_id: &str) -> Result<()> {
        let inner = &self.inner;
        let Some(rec) = inner.meta.container(container_id).map_err(store_err("reading snapshot"))? else {
            return Ok(());
        };
        inner.snapshots.unmount(&inner.snapshots.merged_dir(rec.snapshot)).map_err(store_err("unmounting rootfs"))
    }

    /// Unmounts and deletes the container's snapshot (idempotent).
    pub fn remove_rootfs(&self, container_id: &str) -> Result<()> {
        let inner = &self.inner;
        let _g = inner.lock();
        let Some(rec) = inner.meta.container(container_id).map_err(store_err("reading snapshot"))? else {
            return Ok(());
        };
        inner.snapshots.remove(rec.snapshot).map_err(store_err("removing container snapshot"))?;
        let freed = inner
            .meta
            .write(|w| {
                w.remove_container(container_id)?;
                w.unref_layers(&rec.layers)
            })
            .map_err(store_err("removing container snapshot"))?;
        inner.release_layers(&freed);
        Ok(())
    }

    /// Ids of containers whose snapshots sit on `image_id`.
    pub(crate) fn snapshot_users(&self, image_id: &str) -> Vec<String> {
        let all = self.inner.meta.containers().unwrap_or_default();
        all.into_iter().filter(|c| c.image_id == image_id).map(|c| c.container_id).collect()
    }
}

impl Inner {
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves no half-written state we rely on: every change
        // is one redb transaction, so a poisoned lock is still usable.
        self.write_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn container_snapshot(&self, container_id: &str) -> Result<ContainerSnapshot> {
        self.meta
            .container(container_id)
            .map_err(store_err("reading snapshot"))?
            .ok_or_else(|| Error::NotFound(format!("no rootfs for container {container_id}")))
    }

    /// The raw config bytes and parsed config of image `id`.
    pub(crate) fn config(&self, id: &str) -> Result<(Vec<u8>, ImageConfig)> {
        let digest: Digest = id.parse().map_err(|e| Error::Internal(format!("image id {id}: {e}")))?;
        let bytes = self.content.read(&digest).map_err(store_err("reading image config"))?;
        let config = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Internal(format!("image config {id} is corrupt: {e}")))?;
        Ok((bytes, config))
    }

    /// Familiar tags (`busybox:latest`) pointing at `id`, sorted.
    pub(crate) fn tags_of(&self, id: &str) -> Result<Vec<String>> {
        let tags = self.meta.tags().map_err(store_err("reading tags"))?;
        Ok(tags
            .into_iter()
            .filter(|(_, v)| v == id)
            .filter_map(|(k, _)| Reference::parse(&k).ok().map(|r| r.familiar()))
            .collect())
    }

    /// dockerd's lookup: full id, `sha256:` id, tag, digest reference, then unique id prefix.
    pub(crate) fn resolve(&self, s: &str) -> Result<ImageRecord> {
        let not_found = || match Reference::parse(s) {
            Ok(r) => Error::no_such_image(&r.with_default_tag().familiar()),
            Err(_) => Error::no_such_image(s),
        };
        let hexpart = s.strip_prefix("sha256:").unwrap_or(s);
        let is_hex = !hexpart.is_empty() && hexpart.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if is_hex && hexpart.len() == 64 {
            return self.image(&format!("sha256:{hexpart}"))?.ok_or_else(not_found);
        }
        if s.starts_with("sha256:") && !is_hex {
            return Err(Error::InvalidArgument("invalid reference format".into()));
        }
        if !s.starts_with("sha256:") {
            match Reference::parse(s) {
                Ok(r) => {
                    let r = r.with_default_tag();
                    if let Some(d) = r.digest() {
                        let name = format!("{}@{d}", r.name());
                        let found = self.meta.images().map_err(store_err("reading images"))?;
                        return found.into_iter().find(|i| i.repo_digests.contains(&name)).ok_or_else(not_found);
                    }
                    if let Some(id) = self.meta.tag(&r.to_string()).map_err(store_err("reading tags"))? {
                        return self.image(&id)?.ok_or_else(not_found);
                    }
                }
                Err(e) if !is_hex => return Err(Error::InvalidArgument(e.to_string())),
                Err(_) => {}
            }
        }
        if is_hex {
            let all = self.meta.images().map_err(store_err("reading images"))?;
            let mut hits = all.into_iter().filter(|i| i.id["sha256:".len()..].starts_with(hexpart));
            if let Some(first) = hits.next() {
                if hits.next().is_some() {
                    return Err(Error::NotFound(format!("No such image: {s}")));
                }
                return Ok(first);
            }
        }
        Err(not_found())
    }

    fn image(&self, id: &str) -> Result<Option<ImageRecord>> {
        self.meta.image(id).map_err(store_err("reading image"))
    }
}
