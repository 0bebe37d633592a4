//! Metadata in `<data-root>/meta.redb`: tags → image id, image records, layer records with
//! refcounts, container snapshots, and a schema version. Records are versioned JSON values.
//!
//! Reads go through [`MetaStore`]; changes through [`MetaStore::write`], which commits the whole
//! closure's work atomically or none of it.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Bumped when a record or table changes incompatibly.
pub const SCHEMA_VERSION: u64 = 1;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const TAGS: TableDefinition<&str, &str> = TableDefinition::new("tags");
const IMAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("images");
const LAYERS: TableDefinition<&str, &[u8]> = TableDefinition::new("layers");
const CONTAINERS: TableDefinition<&str, &[u8]> = TableDefinition::new("container_snapshots");

/// An image: its id (the config digest) and its layer chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub v: u32,
    /// `sha256:<hex>` of the config blob.
    pub id: String,
    /// Chain ids, bottom first.
    pub layers: Vec<String>,
    /// Parent image id (images made by commit/build), empty otherwise.
    #[serde(default)]
    pub parent: String,
    /// RFC 3339, set whenever a tag is added.
    #[serde(default)]
    pub last_tag_time: Option<String>,
    /// `repo@sha256:…` digests known for this image.
    #[serde(default)]
    pub repo_digests: Vec<String>,
}

/// A layer unpacked into a snapshot; `refs` counts images and container snapshots using it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    pub v: u32,
    pub chain_id: String,
    pub diff_id: String,
    pub parent: Option<String>,
    /// Bytes of file content in this layer (dockerd's layer size).
    pub size: u64,
    /// Size of the uncompressed tar blob (keyed by `diff_id` in the content store).
    pub tar_size: u64,
    pub snapshot: u64,
    pub refs: u64,
}

/// A container's writable snapshot on top of an image's layer chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSnapshot {
    pub v: u32,
    pub container_id: String,
    pub image_id: String,
    pub snapshot: u64,
    /// Chain ids of the image's layers, bottom first (each holds one ref for this snapshot).
    pub layers: Vec<String>,
}

pub struct MetaStore {
    db: Database,
}

impl MetaStore {
    /// Opens (creating) `<data_root>/meta.redb` and checks the schema version.
    pub fn open(data_root: &Path) -> Result<MetaStore> {
        let path = data_root.join("meta.redb");
        let db = Database::create(&path).map_err(|e| Error::db(format!("opening {}", path.display()))(e.into()))?;
        let store = MetaStore { db };
        store.write(|w| {
            let mut meta = w.tx.open_table(META).map_err(|e| Error::db("meta table")(e.into()))?;
            let found = meta.get("schema_version").map_err(|e| Error::db("schema")(e.into()))?.map(|g| g.value());
            match found {
                Some(v) if v > SCHEMA_VERSION => return Err(Error::Schema { found: v, supported: SCHEMA_VERSION }),
                Some(_) => {}
                None => {
                    meta.insert("schema_version", SCHEMA_VERSION).map_err(|e| Error::db("schema")(e.into()))?;
                }
            }
            drop(meta);
            for t in [IMAGES, LAYERS, CONTAINERS] {
                w.tx.open_table(t).map_err(|e| Error::db("creating tables")(e.into()))?;
            }
            w.tx.open_table(TAGS).map_err(|e| Error::db("creating tables")(e.into()))?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Runs `f` in one write transaction, committed only when it returns `Ok`.
    pub fn write<T>(&self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let tx = self.db.begin_write().map_err(|e| Error::db("begin write")(e.into()))?;
        let out = {
            let mut w = Writer { tx: &tx };
            f(&mut w)?
        };
        tx.commit().map_err(|e| Error::db("commit")(e.into()))?;
        Ok(out)
    }

    fn read_tx(&self) -> Result<redb::ReadTransaction> {
        self.db.begin_read().map_err(|e| Error::db("begin read")(e.into()))
    }

    pub fn tag(&self, name: &str) -> Result<Option<String>> {
        let t = self.read_tx()?.open_table(TAGS).map_err(|e| Error::db("tags")(e.into()))?;
        let v = t.get(name).map_err(|e| Error::db("tags")(e.into()))?.map(|g| g.value().to_string());
        Ok(v)
    }

    /// Every `(full reference, image id)`, sorted by reference.
    pub fn tags(&self) -> Result<Vec<(String, String)>> {
        let t = self.read_tx()?.open_table(TAGS).map_err(|e| Error::db("tags")(e.into()))?;
        let mut out = Vec::new();
        for item in t.iter().map_err(|e| Error::db("tags")(e.into()))? {
            let (k, v) = item.map_err(|e| Error::db("tags")(e.into()))?;
            out.push((k.value().to_string(), v.value().to_string()));
        }
        Ok(out)
    }

    pub fn image(&self, id: &str) -> Result<Option<ImageRecord>> {
        let t = self.read_tx()?.open_table(IMAGES).map_err(|e| Error::db("images")(e.into()))?;
        get_json(&t, id)
    }

    pub fn images(&self) -> Result<Vec<ImageRecord>> {
        let t = self.read_tx()?.open_table(IMAGES).map_err(|e| Error::db("images")(e.into()))?;
        all_json(&t)
    }

    pub fn layer(&self, chain_id: &str) -> Result<Option<LayerRecord>> {
        let t = self.read_tx()?.open_table(LAYERS).map_err(|e| Error::db("layers")(e.into()))?;
        get_json(&t, chain_id)
    }

    pub fn layers(&self) -> Result<Vec<LayerRecord>> {
        let t = self.read_tx()?.open_table(LAYERS).map_err(|e| Error::db("layers")(e.into()))?;
        all_json(&t)
    }

    pub fn container(&self, id: &str) -> Result<Option<ContainerSnapshot>> {
        let t = self.read_tx()?.open_table(CONTAINERS).map_err(|e| Error::db("containers")(e.into()))?;
        get_json(&t, id)
    }

    pub fn containers(&self) -> Result<Vec<ContainerSnapshot>> {
        let t = self.read_tx()?.open_table(CONTAINERS).map_err(|e| Error::db("containers")(e.into()))?;
        all_json(&t)
    }
}

fn get_json<T: DeserializeOwned>(t: &impl ReadableTable<&'static str, &'static [u8]>, key: &str) -> Result<Option<T>> {
    let Some(g) = t.get(key).map_err(|e| Error::db(format!("reading {key}"))(e.into()))? else { return Ok(None) };
    let v = serde_json::from_slice(g.value()).map_err(|source| Error::Corrupt { key: key.to_string(), source })?;
    Ok(Some(v))
}

fn all_json<T: DeserializeOwned>(t: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for item in t.iter().map_err(|e| Error::db("iterating")(e.into()))? {
        let (k, v) = item.map_err(|e| Error::db("iterating")(e.into()))?;
        out.push(
            serde_json::from_slice(v.value())
                .map_err(|source| Error::Corrupt { key: k.value().to_string(), source })?,
        );
    }
    Ok(out)
}

/// Changes inside one write transaction.
pub struct Writer<'a> {
    tx: &'a redb::WriteTransaction,
}

macro_rules! table {
    ($w:expr, $def:expr, $what:literal) => {
        $w.tx.open_table($def).map_err(|e| Error::db($what)(e.into()))?
    };
}

impl Writer<'_> {
    /// A fresh snapshot number (short, to keep overlay `lowerdir` strings short).
    pub fn next_snapshot_id(&mut self) -> Result<u64> {
        let mut t = table!(self, META, "meta");
        let n = t.get("next_snapshot").map_err(|e| Error::db("meta")(e.into()))?.map(|g| g.value()).unwrap_or(1);
        t.insert("next_snapshot", n + 1).map_err(|e| Error::db("meta")(e.into()))?;
        Ok(n)
    }

    pub fn tag(&mut self, name: &str) -> Result<Option<String>> {
        let t = table!(self, TAGS, "tags");
        let v = t.get(name).map_err(|e| Error::db("tags")(e.into()))?.map(|g| g.value().to_string());
        Ok(v)
    }

    /// Points `name` at `image_id`, returning the image it pointed at before.
    pub fn set_tag(&mut self, name: &str, image_id: &str) -> Result<Option<String>> {
        let mut t = table!(self, TAGS, "tags");
        let old = t.insert(name, image_id).map_err(|e| Error::db("tags")(e.into()))?.map(|g| g.value().to_string());
        Ok(old)
    }

    pub fn remove_tag(&mut self, name: &str) -> Result<Option<String>> {
        let mut t = table!(self, TAGS, "tags");
        let old = t.remove(name).map_err(|e| Error::db("tags")(e.into()))?.map(|g| g.value().to_string());
        Ok(old)
    }

    pub fn image(&mut self, id: &str) -> Result<Option<ImageRecord>> {
        get_json(&table!(self, IMAGES, "images"), id)
    }

    pub fn put_image(&mut self, rec: &ImageRecord) -> Result<()> {
        self.put_json(IMAGES, &rec.id, rec)
    }

    pub fn remove_image(&mut self, id: &str) -> Result<()> {
        let mut t = table!(self, IMAGES, "images");
        t.remove(id).map_err(|e| Error::db("images")(e.into()))?;
        Ok(())
    }

    pub fn layer(&mut self, chain_id: &str) -> Result<Option<LayerRecord>> {
        get_json(&table!(self, LAYERS, "layers"), chain_id)
    }

    pub fn put_layer(&mut self, rec: &LayerRecord) -> Result<()> {
        self.put_json(LAYERS, &rec.chain_id, rec)
    }

    pub fn remove_layer(&mut self, chain_id: &str) -> Result<()> {
        let mut t = table!(self, LAYERS, "layers");
        t.remove(chain_id).map_err(|e| Error::db("layers")(e.into()))?;
        Ok(())
    }

    pub fn container(&mut self, id: &str) -> Result<Option<ContainerSnapshot>> {
        get_json(&table!(self, CONTAINERS, "containers"), id)
    }

    pub fn put_container(&mut self, rec: &ContainerSnapshot) -> Result<()> {
        self.put_json(CONTAINERS, &rec.container_id, rec)
    }

    pub fn remove_container(&mut self, id: &str) -> Result<()> {
        let mut t = table!(self, CONTAINERS, "containers");
        t.remove(id).map_err(|e| Error::db("containers")(e.into()))?;
        Ok(())
    }

    /// Adds one reference to each layer; a missing layer is an error.
    pub fn ref_layers(&mut self, chain: &[String]) -> Result<()> {
        for c in chain {
            let mut l = self.layer(c)?.ok_or_else(|| Error::NotFound(format!("layer {c}")))?;
            l.refs += 1;
            self.put_layer(&l)?;
        }
        Ok(())
    }

    /// Drops one reference from each layer; returns the layers that reached zero (removed from
    /// the index; the caller deletes their snapshots and blobs after commit).
    pub fn unref_layers(&mut self, chain: &[String]) -> Result<Vec<LayerRecord>> {
        let mut freed = Vec::new();
        for c in chain {
            let Some(mut l) = self.layer(c)? else { continue };
            l.refs = l.refs.saturating_sub(1);
            if l.refs == 0 {
                self.remove_layer(c)?;
                freed.push(l);
            } else {
                self.put_layer(&l)?;
            }
        }
        Ok(freed)
    }

    fn put_json<T: Serialize>(&mut self, def: TableDefinition<&str, &[u8]>, key: &str, v: &T) -> Result<()> {
        let bytes = serde_json::to_vec(v).map_err(|source| Error::Corrupt { key: key.to_string(), source })?;
        let mut t = table!(self, def, "records");
        t.insert(key, bytes.as_slice()).map_err(|e| Error::db(format!("writing {key}"))(e.into()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(chain: &str, snap: u64) -> LayerRecord {
        LayerRecord {
            v: 1,
            chain_id: chain.into(),
            diff_id: chain.into(),
            parent: None,
            size: 1,
            tar_size: 2,
            snapshot: snap,
            refs: 0,
        }
    }

    #[test]
    fn tags_images_and_refcounts_persist() {
        let dir = tempfile::tempdir().unwrap();
        {
            let m = MetaStore::open(dir.path()).unwrap();
            m.write(|w| {
                let n = w.next_snapshot_id()?;
                assert_eq!(n, 1);
                w.put_layer(&layer("sha256:a", n))?;
                w.ref_layers(&["sha256:a".into()])?;
                w.ref_layers(&["sha256:a".into()])?;
                assert_eq!(w.set_tag("docker.io/library/x:latest", "sha256:i")?, None);
                Ok(())
            })
            .unwrap();
        }
        let m = MetaStore::open(dir.path()).unwrap();
        assert_eq!(m.tag("docker.io/library/x:latest").unwrap().as_deref(), Some("sha256:i"));
        assert_eq!(m.layer("sha256:a").unwrap().unwrap().refs, 2);
        let freed = m.write(|w| w.unref_layers(&["sha256:a".into()])).unwrap();
        assert!(freed.is_empty());
        let freed = m.write(|w| w.unref_layers(&["sha256:a".into()])).unwrap();
        assert_eq!(freed.len(), 1);
        assert!(m.layer("sha256:a").unwrap().is_none());
        assert_eq!(m.write(|w| w.next_snapshot_id()).unwrap(), 2);
    }

    #[test]
    fn failed_write_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let m = MetaStore::open(dir.path()).unwrap();
        let r: Result<()> = m.write(|w| {
            w.set_tag("t", "sha256:i")?;
            Err(Error::NotFound("boom".into()))
        });
        assert!(r.is_err());
        assert!(m.tags().unwrap().is_empty());
    }
}
