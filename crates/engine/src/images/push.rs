//! `POST /images/{name}/push`: upload an image's layers (gzip-compressed from the stored diff
//! tars), config and a Docker schema 2 manifest, with dockerd's progress messages. Blobs the
//! registry already has are skipped.

use std::io::Read;

use berth_api_types::query::images::{AuthConfig, JsonMessage};
use berth_image::manifest::media;
use berth_image::{Digest, Reference};
use berth_registry::Client;
use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc::Sender;
use tokio_util::io::ReaderStream;

use super::auth::{credentials, registry_err};
use super::{store_err, Inner};
use crate::{Engine, Error, Result};

/// What to push.
#[derive(Debug, Clone, Default)]
pub struct PushRequest {
    /// Repository name (`127.0.0.1:5000/bb`), possibly with a tag.
    pub name: String,
    /// Empty: every tag of the repository.
    pub tag: String,
    pub auth: AuthConfig,
}

/// A blob ready to upload: a file, its digest and size.
struct Blob {
    path: std::path::PathBuf,
    digest: Digest,
    size: u64,
}

fn short(d: &str) -> String {
    d.trim_start_matches("sha256:").chars().take(12).collect()
}

impl PushRequest {
    /// The references to push: the named tag, or every local tag of the repository.
    fn references(&self, inner: &Inner) -> Result<(Reference, Vec<Reference>)> {
        let r = Reference::parse(&self.name).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let tag = if !self.tag.is_empty() { Some(self.tag.clone()) } else { r.tag().map(str::to_string) };
        let repo = r.with_tag("latest").map_err(|e| Error::InvalidArgument(e.to_string()))?;
        if let Some(t) = tag {
            return Ok((repo.clone(), vec![repo.with_tag(&t).map_err(|e| Error::InvalidArgument(e.to_string()))?]));
        }
        let mut all: Vec<Reference> = inner
            .meta
            .tags()
            .map_err(store_err("reading tags"))?
            .into_iter()
            .filter_map(|(k, _)| Reference::parse(&k).ok())
            .filter(|t| t.name() == repo.name() && t.tag().is_some())
            .collect();
        all.sort_by(|a, b| a.tag().cmp(&b.tag()));
        if all.is_empty() {
            return Err(Error::NotFound(format!(
                "An image does not exist locally with the tag: {}",
                repo.familiar_name()
            )));
        }
        Ok((repo, all))
    }
}

impl Engine {
    pub async fn image_push(&self, req: PushRequest, tx: Sender<JsonMessage>) -> Result<()> {
        let inner = self.images.inner.clone();
        let (repo, tags) = req.references(&inner)?;
        for t in &tags {
            if inner.meta.tag(&t.to_string()).map_err(store_err("reading tags"))?.is_none() {
                return Err(Error::NotFound(format!("tag does not exist: {}", t.familiar())));
            }
        }
        let client = Client::new(&self.registry_endpoint(repo.domain()).await, repo.path(), &credentials(&req.auth));
        let _ = tx.send(JsonMessage::status(format!("The push refers to repository [{}]", repo.familiar_name()))).await;
        let dir = tempfile::tempdir_in(&inner.tmp).map_err(|e| Error::io("creating push directory", e))?;
        for t in tags {
            push_one(&inner, &client, &t, dir.path(), &tx).await?;
            self.emit_image(&t.familiar(), "push", &t.familiar());
        }
        Ok(())
    }
}

async fn push_one(
    inner: &std::sync::Arc<Inner>,
    client: &Client,
    t: &Reference,
    dir: &std::path::Path,
    tx: &Sender<JsonMessage>,
) -> Result<()> {
    let rec = inner.resolve(&t.to_string())?;
    let (config_bytes, config) = inner.config(&rec.id)?;
    let diff_ids = config.diff_ids().map_err(|e| Error::Internal(format!("image config {}: {e}", rec.id)))?;
    for d in diff_ids.iter().rev() {
        let _ = tx.send(JsonMessage::layer(&short(&d.to_string()), "Preparing")).await;
    }
    let mut layers = Vec::with_capacity(diff_ids.len());
    for d in diff_ids.iter() {
        let id = short(&d.to_string());
        let (inner2, d2, dir2) = (inner.clone(), d.clone(), dir.to_path_buf());
        let blob = tokio::task::spawn_blocking(move || compress(&inner2, &d2, &dir2))
            .await
            .map_err(|e| Error::Internal(format!("compress task: {e}")))??;
        if client.blob_exists(&blob.digest).await.map_err(registry_err)? {
            let _ = tx.send(JsonMessage::layer(&id, "Layer already exists")).await;
        } else {
            upload(client, &blob, Some(&id), tx).await?;
            let _ = tx.send(JsonMessage::layer(&id, "Pushed")).await;
        }
        layers.push(blob);
    }
    let config_digest = Digest::sha256_of(&config_bytes);
    if !client.blob_exists(&config_digest).await.map_err(registry_err)? {
        let path = dir.join(config_digest.hex());
        std::fs::write(&path, &config_bytes).map_err(|e| Error::io("writing config", e))?;
        let blob = Blob { path, digest: config_digest.clone(), size: config_bytes.len() as u64 };
        upload(client, &blob, None, tx).await?;
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::DOCKER_MANIFEST,
        "config": { "mediaType": media::DOCKER_CONFIG, "size": config_bytes.len(), "digest": config_digest },
        "layers": layers.iter().map(|b| serde_json::json!({
            "mediaType": media::DOCKER_LAYER_GZIP, "size": b.size, "digest": b.digest,
        })).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Internal(format!("encoding manifest: {e}")))?;
    let size = bytes.len();
    let tag = t.tag().unwrap_or("latest").to_string();
    let digest = client.push_manifest(&tag, bytes, media::DOCKER_MANIFEST).await.map_err(registry_err)?;
    let repo_digest = format!("{}@{digest}", t.name());
    inner
        .meta
        .write(|w| {
            if let Some(mut r) = w.image(&rec.id)? {
                if !r.repo_digests.contains(&repo_digest) {
                    r.repo_digests.push(repo_digest.clone());
                    w.put_image(&r)?;
                }
            }
            Ok(())
        })
        .map_err(store_err("recording repo digest"))?;
    let _ = tx.send(JsonMessage::status(format!("{tag}: digest: {digest} size: {size}"))).await;
    let aux = serde_json::json!({ "Tag": tag, "Digest": digest.to_string(), "Size": size });
    let _ =
        tx.send(JsonMessage { progress_detail: Some(Default::default()), aux: Some(aux), ..Default::default() }).await;
    Ok(())
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// gzip-compresses the stored diff tar of `diff_id` into `dir` (deterministically: no name,
/// mtime 0), hashing the compressed bytes as they are written. The fast level: on a push the
/// CPU, not the link to the registry, is what limits throughput.
fn compress(inner: &Inner, diff_id: &Digest, dir: &std::path::Path) -> Result<Blob> {
    let mut src = inner.content.open_blob(diff_id).map_err(store_err("reading layer"))?;
    let path = dir.join(format!("{}.gz", diff_id.hex()));
    let file = std::fs::File::create(&path).map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    let out = Hashing { inner: std::io::BufWriter::with_capacity(256 * 1024, file), hasher: Sha256::new(), size: 0 };
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = src.read(&mut buf).map_err(|e| Error::io("reading layer", e))?;
        if n == 0 {
            break;
        }
        std::io::Write::write_all(&mut gz, &buf[..n]).map_err(|e| Error::io("compressing layer", e))?;
    }
    let mut out = gz.finish().map_err(|e| Error::io("compressing layer", e))?;
    std::io::Write::flush(&mut out).map_err(|e| Error::io("writing compressed layer", e))?;
    Ok(Blob { path, digest: Digest::from_hasher(out.hasher), size: out.size })
}

/// Uploads a blob, reporting `Pushing` under `id` when given.
async fn upload(client: &Client, blob: &Blob, id: Option<&str>, tx: &Sender<JsonMessage>) -> Result<()> {
    let file = tokio::fs::File::open(&blob.path).await.map_err(|e| Error::io("opening blob", e))?;
    let total = blob.size as i64;
    let id = id.map(str::to_string);
    let tx2 = tx.clone();
    let mut done = 0i64;
    let stream = ReaderStream::with_capacity(file, 256 * 1024).map(move |chunk| {
        if let (Ok(c), Some(id)) = (&chunk, &id) {
            done += c.len() as i64;
            let _ = tx2.try_send(JsonMessage::transfer(id, "Pushing", done, total));
        }
        chunk
    });
    client.push_blob(&blob.digest, blob.size, stream).await.map_err(registry_err)
}
