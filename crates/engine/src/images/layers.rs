//! Storing layers and registering images: shared by import, load and delete.

use std::io::{self, BufRead, BufReader, Read};

use berth_image::{chain_ids, Digest, ImageConfig, Reference};
use berth_store::apply::apply_layer;
use berth_store::content::TeeReader;
use berth_store::meta::{ImageRecord, LayerRecord};

use super::blob_pipe::BlobPipe;
use super::{store_err, Inner};
use crate::{Error, Result};

/// A layer unpacked into a fresh snapshot, not yet recorded.
pub(crate) struct NewLayer {
    pub diff_id: Digest,
    pub size: u64,
    pub tar_size: u64,
    pub snapshot: u64,
}

/// Wraps `r` in the decompressor its first bytes call for (gzip, zstd, or none).
pub(crate) fn decompress<'a>(r: impl Read + Send + 'a) -> Result<Box<dyn Read + Send + 'a>> {
    let mut r = BufReader::with_capacity(64 * 1024, r);
    let head = r.fill_buf().map_err(|e| Error::io("reading layer", e))?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(r).map_err(|e| Error::io("starting zstd", e))?)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Err(Error::InvalidArgument("xz-compressed layers are not supported; use gzip or zstd".into()));
    } else if head.starts_with(b"BZh") {
        return Err(Error::InvalidArgument("bzip2-compressed layers are not supported; use gzip or zstd".into()));
    } else {
        Box::new(r)
    })
}

impl Inner {
    /// Unpacks a (possibly compressed) layer tar into a new snapshot and keeps its uncompressed
    /// tar in the content store under its diff id. Nothing is left behind on error.
    pub(crate) fn unpack_layer(&self, r: impl Read + Send) -> Result<NewLayer> {
        let snapshot = self.meta.write(|w| w.next_snapshot_id()).map_err(store_err("allocating snapshot"))?;
        let fs_dir = self.snapshots.prepare_layer(snapshot).map_err(store_err("creating layer snapshot"))?;
        let result = (|| {
            let blob = self.content.writer().map_err(store_err("storing layer"))?;
            // The tar copy is hashed and written on its own thread, in large pieces.
            let blob = BlobPipe::new(blob).map_err(|e| Error::io("storing layer", e))?;
            let mut tee = TeeReader { inner: decompress(r)?, sink: blob };
            let size = apply_layer(&mut tee, &fs_dir).map_err(|e| match e {
                berth_store::Error::InvalidLayer(m) => Error::InvalidArgument(m),
                berth_store::Error::Unpack { source, .. } if source.kind() == io::ErrorKind::InvalidData => {
                    Error::InvalidArgument(format!("invalid tar archive: {source}"))
                }
                other => Error::store("unpacking layer", other),
            })?;
            io::copy(&mut tee, &mut io::sink()).map_err(|e| Error::io("reading layer", e))?;
            if let Some(map) = &self.id_map {
                berth_store::idmap::shift_tree(&fs_dir, map).map_err(|e| match e {
                    berth_store::Error::InvalidLayer(m) => Error::InvalidArgument(m),
                    other => Error::store("unpacking layer", other),
                })?;
            }
            let blob = tee.sink.finish().map_err(|e| Error::io("storing layer", e))?;
            let tar_size = blob.size();
            let diff_id = blob.commit(None).map_err(store_err("storing layer"))?;
            Ok(NewLayer { diff_id, size, tar_size, snapshot })
        })();
        if result.is_err() {
            let _ = self.snapshots.remove(snapshot);
        }
        result
    }

    /// Stores `config_bytes` and records the image over `layers` (new snapshots, in the order of
    /// the config's diff ids; `None` where the layer already existed), then points `tags` at it.
    /// Returns the image id and the images that lost a tag.
    pub(crate) fn add_image(
        &self,
        config_bytes: &[u8],
        layers: Vec<Option<NewLayer>>,
        tags: &[Reference],
        stamp_tag_time: bool,
    ) -> Result<Digest> {
        let config: ImageConfig = serde_json::from_slice(config_bytes)
            .map_err(|e| Error::InvalidArgument(format!("invalid image config: {e}")))?;
        let diff_ids = config.diff_ids().map_err(|e| Error::InvalidArgument(format!("invalid image config: {e}")))?;
        let chains = chain_ids(&diff_ids);
        let cleanup = |layers: &[Option<NewLayer>]| {
            for l in layers.iter().flatten() {
                let _ = self.snapshots.remove(l.snapshot);
            }
        };
        if layers.len() != diff_ids.len() {
            cleanup(&layers);
            return Err(Error::InvalidArgument("number of layers does not match the image config".into()));
        }
        for (l, want) in layers.iter().zip(&diff_ids) {
            if let Some(l) = l {
                if &l.diff_id != want {
                    cleanup(&layers);
                    return Err(Error::InvalidArgument(format!(
                        "layer digest mismatch: config says {want}, content is {}",
                        l.diff_id
                    )));
                }
            }
        }
        let id = match self.content.put(config_bytes) {
            Ok(id) => id,
            Err(e) => {
                cleanup(&layers);
                return Err(Error::store("storing image config", e));
            }
        };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let chain_strs: Vec<String> = chains.iter().map(|c| c.to_string()).collect();
        let mut duplicates = Vec::new();
        let r = self.meta.write(|w| {
            duplicates.clear();
            for (i, slot) in layers.iter().enumerate() {
                let chain = &chain_strs[i];
                let exists = w.layer(chain)?.is_some();
                match slot {
                    Some(l) if exists => duplicates.push(l.snapshot),
                    Some(l) => w.put_layer(&LayerRecord {
                        v: 1,
                        chain_id: chain.clone(),
                        diff_id: l.diff_id.to_string(),
                        parent: i.checked_sub(1).map(|p| chain_strs[p].clone()),
                        size: l.size,
                        tar_size: l.tar_size,
                        snapshot: l.snapshot,
                        refs: 0,
                    })?,
                    None if !exists => return Err(berth_store::Error::NotFound(format!("layer {chain}"))),
                    None => {}
                }
            }
            let mut rec = match w.image(&id.to_string())? {
                Some(rec) => rec,
                None => {
                    w.ref_layers(&chain_strs)?;
                    ImageRecord {
                        v: 1,
                        id: id.to_string(),
                        layers: chain_strs.clone(),
                        parent: String::new(),
                        last_tag_time: None,
                        repo_digests: vec![],
                    }
                }
            };
            for t in tags {
                w.set_tag(&t.to_string(), &rec.id)?;
                if stamp_tag_time {
                    rec.last_tag_time = Some(now.clone());
                }
            }
            w.put_image(&rec)
        });
        match r {
            Ok(()) => {
                for s in duplicates {
                    let _ = self.snapshots.remove(s);
                }
                Ok(id)
            }
            Err(e) => {
                cleanup(&layers);
                Err(Error::store("recording image", e))
            }
        }
    }

    /// Deletes the snapshots of layers nobody references any more, and their tar blobs when no
    /// remaining layer shares the diff id.
    pub(crate) fn release_layers(&self, freed: &[LayerRecord]) {
        if freed.is_empty() {
            return;
        }
        let remaining = self.meta.layers().unwrap_or_default();
        for l in freed {
            if let Err(e) = self.snapshots.remove(l.snapshot) {
                tracing::warn!(layer = %l.chain_id, error = %e, "removing layer snapshot");
            }
            if remaining.iter().any(|r| r.diff_id == l.diff_id) {
                continue;
            }
            if let Ok(d) = l.diff_id.parse::<Digest>() {
                if let Err(e) = self.content.delete(&d) {
                    tracing::warn!(layer = %l.chain_id, error = %e, "removing layer blob");
                }
            }
        }
    }

    /// Removes image `id` (its tags must already be gone), releasing unreferenced layers.
    /// Returns the chain ids of the layers deleted.
    pub(crate) fn remove_image(&self, id: &str) -> Result<Vec<String>> {
        let freed = self
            .meta
            .write(|w| {
                let Some(rec) = w.image(id)? else { return Ok(vec![]) };
                w.remove_image(id)?;
                w.unref_layers(&rec.layers)
            })
            .map_err(store_err("removing image"))?;
        if let Ok(d) = id.parse::<Digest>() {
            let _ = self.content.delete(&d);
        }
        self.release_layers(&freed);
        Ok(freed.into_iter().rev().map(|l| l.chain_id).collect())
    }
}
