//! `POST /images/load`: a docker-archive (`manifest.json` + config + layer tars, old and new
//! layouts) or an OCI layout (`oci-layout` + `index.json` + `blobs/`). Tags that already exist
//! move to the loaded image.

use std::fs::File;
use std::path::{Component, Path, PathBuf};

use berth_image::manifest::{is_index, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME};
use berth_image::{chain_ids, ArchiveManifestEntry, Digest, ImageConfig, Index, Manifest, Platform, Reference};
use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

use super::layers::decompress;
use super::Inner;
use crate::{Engine, Error, Result};

/// One image found in an archive.
struct Found {
    config: PathBuf,
    layers: Vec<PathBuf>,
    tags: Vec<Reference>,
}

impl Engine {
    /// Loads every image of the archive; returns dockerd's lines (`Loaded image: busybox:latest`,
    /// `Loaded image ID: sha256:…`).
    pub async fn image_load(&self, body: impl AsyncRead + Send + Unpin + 'static) -> Result<Vec<String>> {
        let inner = self.images.inner.clone();
        let reader = SyncIoBridge::new(body);
        let task = tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir_in(&inner.tmp).map_err(|e| Error::io("creating load directory", e))?;
            let mut archive = tar::Archive::new(decompress(reader)?);
            archive.unpack(dir.path()).map_err(|e| Error::InvalidArgument(format!("invalid tar archive: {e}")))?;
            let found = if dir.path().join("manifest.json").is_file() {
                docker_archive(dir.path())?
            } else if dir.path().join("index.json").is_file() {
                oci_layout(dir.path())?
            } else {
                return Err(Error::InvalidArgument(
                    "invalid archive: found neither manifest.json (docker-archive) nor index.json (OCI layout)".into(),
                ));
            };
            let _g = inner.lock();
            let mut lines = Vec::new();
            for f in found {
                let id = load_one(&inner, &f)?;
                if f.tags.is_empty() {
                    lines.push(format!("Loaded image ID: {id}"));
                }
                for t in &f.tags {
                    lines.push(format!("Loaded image: {}", t.familiar()));
                }
            }
            Ok(lines)
        });
        let lines = task.await.map_err(|e| Error::Internal(format!("load task: {e}")))??;
        let mut ids: Vec<String> = Vec::new();
        for l in &lines {
            let id = match (l.strip_prefix("Loaded image ID: "), l.strip_prefix("Loaded image: ")) {
                (Some(id), _) => Some(id.to_string()),
                (None, Some(name)) => self.images.resolve(name).ok().map(|i| i.id),
                _ => None,
            };
            if let Some(id) = id.filter(|id| !ids.contains(id)) {
                self.emit_image(&id, "load", &id);
                ids.push(id);
            }
        }
        Ok(lines)
    }
}

fn load_one(inner: &Inner, f: &Found) -> Result<Digest> {
    let bytes = std::fs::read(&f.config).map_err(|e| Error::InvalidArgument(format!("reading image config: {e}")))?;
    let config: ImageConfig =
        serde_json::from_slice(&bytes).map_err(|e| Error::InvalidArgument(format!("invalid image config: {e}")))?;
    let diff_ids = config.diff_ids().map_err(|e| Error::InvalidArgument(format!("invalid image config: {e}")))?;
    if diff_ids.len() != f.layers.len() {
        return Err(Error::InvalidArgument(format!(
            "invalid manifest, layers length mismatch: expected {}, got {}",
            diff_ids.len(),
            f.layers.len()
        )));
    }
    let chains = chain_ids(&diff_ids);
    let mut layers = Vec::with_capacity(f.layers.len());
    for (path, chain) in f.layers.iter().zip(&chains) {
        let known = inner.meta.layer(&chain.to_string()).map_err(|e| Error::store("reading layer", e))?.is_some();
        if known {
            layers.push(None);
            continue;
        }
        let file = File::open(path).map_err(|e| Error::InvalidArgument(format!("opening layer: {e}")))?;
        match inner.unpack_layer(file) {
            Ok(l) => layers.push(Some(l)),
            Err(e) => {
                for l in layers.into_iter().flatten() {
                    let _ = inner.snapshots.remove(l.snapshot);
                }
                return Err(e);
            }
        }
    }
    // dockerd leaves LastTagTime unset for loaded images.
    inner.add_image(&bytes, layers, &f.tags, false)
}

/// A path from an archive's metadata, kept inside the archive.
fn inside(root: &Path, rel: &str) -> Result<PathBuf> {
    let p = Path::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(Error::InvalidArgument(format!("invalid archive: path {rel:?} leaves the archive")));
    }
    Ok(root.join(p))
}

fn docker_archive(root: &Path) -> Result<Vec<Found>> {
    let bytes = std::fs::read(root.join("manifest.json")).map_err(|e| Error::io("reading manifest.json", e))?;
    let entries: Vec<ArchiveManifestEntry> =
        serde_json::from_slice(&bytes).map_err(|e| Error::InvalidArgument(format!("invalid manifest.json: {e}")))?;
    entries
        .into_iter()
        .map(|e| {
            let tags = e
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| Reference::parse(t).map(Reference::with_default_tag))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| Error::InvalidArgument(format!("invalid tag in manifest.json: {err}")))?;
            Ok(Found {
                config: inside(root, &e.config)?,
                layers: e.layers.iter().map(|l| inside(root, l)).collect::<Result<_>>()?,
                tags,
            })
        })
        .collect()
}

fn blob(root: &Path, d: &Digest) -> PathBuf {
    root.join("blobs/sha256").join(d.hex())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::InvalidArgument(format!("reading {what}: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::InvalidArgument(format!("invalid {what}: {e}")))
}

fn oci_layout(root: &Path) -> Result<Vec<Found>> {
    let index: Index = read_json(&root.join("index.json"), "index.json")?;
    let mut out = Vec::new();
    for desc in &index.manifests {
        let name = desc.annotations.get(ANNOTATION_IMAGE_NAME).or_else(|| desc.annotations.get(ANNOTATION_REF_NAME));
        let tags = match name.map(|n| Reference::parse(n)) {
            Some(Ok(r)) if r.tag().is_some() || n_has_slash(name) => vec![r.with_default_tag()],
            _ => vec![],
        };
        let mut d = desc.clone();
        // Follow nested indexes down to this platform's manifest.
        for _ in 0..4 {
            if !is_index(&d.media_type) {
                break;
            }
            let nested: Index = read_json(&blob(root, &d.digest), "image index")?;
            d = nested
                .select(&Platform::host())
                .cloned()
                .ok_or_else(|| Error::NotFound("no image for this platform in the archive".into()))?;
        }
        let m: Manifest = read_json(&blob(root, &d.digest), "image manifest")?;
        out.push(Found {
            config: blob(root, &m.config.digest),
            layers: m.layers.iter().map(|l| blob(root, &l.digest)).collect(),
            tags,
        });
    }
    Ok(out)
}

/// A bare OCI `ref.name` such as `latest` is a tag without a repository: not a name to apply.
fn n_has_slash(name: Option<&String>) -> bool {
    name.is_some_and(|n| n.contains('/') || n.contains(':'))
}
