//! `GET /images/get` and `GET /images/{name}/get` (`docker save`): a docker-archive that
//! `docker load` accepts: `<config hex>.json`, `<diff id hex>/layer.tar` (the original
//! uncompressed layer tars, kept in the content store), `manifest.json`, `repositories`.

use std::collections::BTreeMap;
use std::io::Write;

use berth_image::{ArchiveManifestEntry, Digest, Reference};
use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

use super::{store_err, Inner};
use crate::{Engine, Error, Result};

/// What goes into the archive for one image.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    id: String,
    tags: Vec<Reference>,
}

impl Engine {
    /// Resolves every name first (a missing one fails before any byte is sent), then streams the
    /// archive.
    pub async fn image_get(&self, names: &[String]) -> Result<impl AsyncRead + Send + Unpin + 'static> {
        let inner = self.images.inner.clone();
        let plan = plan(&inner, names)?;
        for p in &plan {
            self.emit_image(&p.id, "save", &p.id);
        }
        let (reader, writer) = tokio::io::duplex(256 * 1024);
        let writer = SyncIoBridge::new(writer);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = write_archive(&inner, &plan, writer) {
                tracing::warn!(error = %e, "image save aborted");
            }
        });
        Ok(reader)
    }
}

fn plan(inner: &Inner, names: &[String]) -> Result<Vec<Planned>> {
    let tags = inner.meta.tags().map_err(store_err("reading tags"))?;
    let mut out: Vec<Planned> = Vec::new();
    for name in names {
        let rec = inner.resolve(name).map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound(format!("No such image: {name}")),
            other => other,
        })?;
        let mut picked = Vec::new();
        if let Ok(r) = Reference::parse(name) {
            if r.tag().is_some() {
                picked.push(r);
            } else if r.digest().is_none() {
                for (k, v) in &tags {
                    match Reference::parse(k) {
                        Ok(t) if v == &rec.id && t.name() == r.name() => picked.push(t),
                        _ => {}
                    }
                }
            }
        }
        match out.iter_mut().find(|p| p.id == rec.id) {
            Some(p) => {
                for t in picked {
                    if !p.tags.contains(&t) {
                        p.tags.push(t);
                    }
                }
            }
            None => out.push(Planned { id: rec.id.clone(), tags: picked }),
        }
    }
    Ok(out)
}

fn write_archive(inner: &Inner, plan: &[Planned], w: impl Write) -> Result<()> {
    let mut tar = tar::Builder::new(w);
    let mut manifest = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut written = std::collections::HashSet::new();
    let io = |e| Error::io("writing image archive", e);
    for p in plan {
        let (bytes, config) = inner.config(&p.id)?;
        let mtime = config.created_time().timestamp().max(0) as u64;
        let id_hex = p.id.trim_start_matches("sha256:").to_string();
        let config_name = format!("{id_hex}.json");
        append(&mut tar, &config_name, &bytes, mtime).map_err(io)?;
        let mut layers = Vec::new();
        for diff in &config.rootfs.diff_ids {
            let d: Digest = diff.parse().map_err(|e| Error::Internal(format!("image {}: {e}", p.id)))?;
            let dir = d.hex().to_string();
            if written.insert(dir.clone()) {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_mtime(mtime);
                h.set_size(0);
                tar.append_data(&mut h, format!("{dir}/"), std::io::empty()).map_err(io)?;
                append(&mut tar, &format!("{dir}/VERSION"), b"1.0", mtime).map_err(io)?;
                let json = serde_json::json!({ "id": dir }).to_string();
                append(&mut tar, &format!("{dir}/json"), json.as_bytes(), mtime).map_err(io)?;
                let size = inner.content.size(&d).map_err(store_err("reading layer tar"))?;
                let file = inner.content.open_blob(&d).map_err(store_err("reading layer tar"))?;
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_mtime(mtime);
                h.set_size(size);
                tar.append_data(&mut h, format!("{dir}/layer.tar"), file).map_err(io)?;
            }
            layers.push(format!("{dir}/layer.tar"));
        }
        for t in &p.tags {
            if let (Some(tag), Some(top)) = (t.tag(), layers.last()) {
                let top = top.trim_end_matches("/layer.tar").to_string();
                repositories.entry(t.familiar_name()).or_default().insert(tag.to_string(), top);
            }
        }
        manifest.push(ArchiveManifestEntry {
            config: config_name,
            repo_tags: (!p.tags.is_empty()).then(|| p.tags.iter().map(|t| t.familiar()).collect()),
            layers,
        });
    }
    let m = serde_json::to_vec(&manifest).map_err(|e| Error::Internal(format!("encoding manifest: {e}")))?;
    append(&mut tar, "manifest.json", &m, 0).map_err(io)?;
    if !repositories.is_empty() {
        let r =
            serde_json::to_vec(&repositories).map_err(|e| Error::Internal(format!("encoding repositories: {e}")))?;
        append(&mut tar, "repositories", &r, 0).map_err(io)?;
    }
    tar.into_inner().map_err(io)?.flush().map_err(io)?;
    Ok(())
}

fn append(tar: &mut tar::Builder<impl Write>, path: &str, data: &[u8], mtime: u64) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_mtime(mtime);
    h.set_size(data.len() as u64);
    tar.append_data(&mut h, path, data)
}
