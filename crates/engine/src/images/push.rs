//! `POST /images/{name}/push`: upload an image's layers (gzip-compressed from the stored diff
//! tars while they upload, see `push_layer.rs`), config and a Docker schema 2 manifest, with
//! dockerd's progress messages. Blobs the registry already has are skipped.

use berth_api_types::query::images::{AuthConfig, JsonMessage};
use berth_image::manifest::media;
use berth_image::{Digest, Reference};
use berth_registry::Client;
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
        layers.push(super::push_layer::push_layer(inner, client, d, &short(&d.to_string()), tx).await?);
    }
    let config_digest = Digest::sha256_of(&config_bytes);
    if !client.blob_exists(&config_digest).await.map_err(registry_err)? {
        let path = dir.join(config_digest.hex());
        std::fs::write(&path, &config_bytes).map_err(|e| Error::io("writing config", e))?;
        let blob = Blob { path, digest: config_digest.clone(), size: config_bytes.len() as u64 };
        upload(client, &blob).await?;
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::DOCKER_MANIFEST,
        "config": { "mediaType": media::DOCKER_CONFIG, "size": config_bytes.len(), "digest": config_digest },
        "layers": layers.iter().map(|(digest, size)| serde_json::json!({
            "mediaType": media::DOCKER_LAYER_GZIP, "size": size, "digest": digest,
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

/// Uploads a blob whose digest is known (the image config).
async fn upload(client: &Client, blob: &Blob) -> Result<()> {
    let file = tokio::fs::File::open(&blob.path).await.map_err(|e| Error::io("opening blob", e))?;
    let stream = ReaderStream::with_capacity(file, 256 * 1024);
    client.push_blob(&blob.digest, blob.size, stream).await.map_err(registry_err)
}
