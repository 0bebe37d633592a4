//! `POST /images/create?fromImage=`: pull an image from a registry, reporting progress as
//! dockerd's JSON message stream. Manifest lists and OCI indexes are resolved to one platform;
//! layers whose chain already exists are skipped; the others are downloaded, digest-checked and
//! unpacked in one streamed pass (`pull_layers`) and recorded only when all of them succeeded.
//! Docker Hub images come from the first registry mirror that has them, else from Docker Hub.

use berth_api_types::query::images::{AuthConfig, JsonMessage};
use berth_image::manifest::is_index;
use berth_image::{chain_ids, Digest, ImageConfig, Index, Manifest, Platform, Reference};
use berth_registry::Client;
use tokio::sync::mpsc::Sender;

use super::auth::{credentials, registry_err};
use super::layers::NewLayer;
use super::pull_layers::{fetch_layers, short, Wanted};
use super::{store_err, Inner};
use crate::{Engine, Error, Result};

/// What to pull.
#[derive(Debug, Clone, Default)]
pub struct PullRequest {
    pub from_image: String,
    pub tag: String,
    /// `os/arch[/variant]`; empty for the host's.
    pub platform: String,
    pub auth: AuthConfig,
}

impl PullRequest {
    /// The reference to pull: `fromImage` plus `tag` (a tag or a digest), `latest` by default.
    pub fn reference(&self) -> Result<Reference> {
        let r = Reference::parse(&self.from_image).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        if self.tag.is_empty() {
            return Ok(r.with_default_tag());
        }
        if self.tag.contains(':') {
            return Reference::parse(&format!("{}@{}", r.name(), self.tag))
                .map_err(|e| Error::InvalidArgument(e.to_string()));
        }
        r.with_tag(&self.tag).map_err(|e| Error::InvalidArgument(e.to_string()))
    }

    fn platform(&self) -> Result<Platform> {
        if self.platform.is_empty() {
            return Ok(Platform::host());
        }
        berth_registry::parse_platform(&self.platform).ok_or_else(|| {
            Error::InvalidArgument(format!("invalid platform {:?}: want os/arch[/variant]", self.platform))
        })
    }
}

/// Sends a message; a gone receiver (client hung up) does not stop the pull.
async fn say(tx: &Sender<JsonMessage>, m: JsonMessage) {
    let _ = tx.send(m).await;
}

impl Engine {
    /// Pulls `req`'s image, sending progress on `tx`. Nothing is sent before the manifest was
    /// found, so early failures can still be answered with an HTTP error.
    pub async fn image_pull(&self, req: PullRequest, tx: Sender<JsonMessage>) -> Result<()> {
        let r = req.reference()?;
        let want = req.platform()?;
        let tag_or_digest = match (r.digest(), r.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_string(),
            (None, None) => "latest".to_string(),
        };
        // Docker Hub images try each registry mirror first, then Docker Hub, as dockerd: a
        // mirror that fails (no manifest, a broken or missing blob) hands over to the next
        // endpoint; a failed attempt leaves nothing behind.
        let endpoints = self.config.registry.pull_endpoints(r.domain()).await;
        let creds = credentials(&req.auth);
        for (i, endpoint) in endpoints.iter().enumerate() {
            let client = Client::new(endpoint, r.path(), &creds);
            let result = match resolve(&client, &r, &tag_or_digest, &want).await {
                Ok(found) => self.pull_resolved(&client, &r, &tag_or_digest, found, &tx).await,
                Err(e) => Err(e),
            };
            match result {
                Err(e) if i + 1 < endpoints.len() => {
                    tracing::info!(endpoint = %endpoint.base(), error = %e, "attempting next endpoint for pull after error");
                }
                other => return other,
            }
        }
        Err(Error::Internal(format!("no registry endpoint for {}", r.domain())))
    }

    /// The rest of a pull once `client`'s registry gave the manifest and config: layers
    /// fetched and unpacked, then the image recorded with its tag and repo digest.
    async fn pull_resolved(
        &self,
        client: &Client,
        r: &Reference,
        tag_or_digest: &str,
        found: Resolved,
        tx: &Sender<JsonMessage>,
    ) -> Result<()> {
        let Resolved { top, manifest, config_bytes } = found;
        say(
            tx,
            JsonMessage {
                id: Some(tag_or_digest.to_string()),
                ..JsonMessage::status(format!("Pulling from {}", r.path()))
            },
        )
        .await;

        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::InvalidArgument(format!("invalid image config: {e}")))?;
        let diff_ids = config.diff_ids().map_err(|e| Error::InvalidArgument(format!("invalid image config: {e}")))?;
        if diff_ids.len() != manifest.layers.len() {
            return Err(Error::InvalidArgument(
                "the manifest and the image config list different numbers of layers".into(),
            ));
        }
        let chains = chain_ids(&diff_ids);
        let inner = self.images.inner.clone();
        let mut present = Vec::with_capacity(chains.len());
        for (c, l) in chains.iter().zip(&manifest.layers) {
            let exists = inner.meta.layer(&c.to_string()).map_err(store_err("reading layer"))?.is_some();
            say(tx, JsonMessage::layer(&short(&l.digest), if exists { "Already exists" } else { "Pulling fs layer" }))
                .await;
            present.push(exists);
        }
        // Download, verify and unpack the missing layers, several at once.
        let wanted: Vec<Wanted> = manifest
            .layers
            .iter()
            .zip(&present)
            .enumerate()
            .filter(|(_, (_, exists))| !**exists)
            .map(|(index, (l, _))| Wanted { index, digest: l.digest.clone(), size: l.size })
            .collect();
        let layers = fetch_layers(&inner, client, wanted, manifest.layers.len(), tx).await?;
        // Record the image under the image lock.
        let tags: Vec<Reference> = if r.digest().is_none() { vec![r.clone()] } else { vec![] };
        let repo_digest = format!("{}@{}", r.name(), top.digest);
        let (id, was_current) = {
            let inner = inner.clone();
            let tags = tags.clone();
            tokio::task::spawn_blocking(move || add_pulled(&inner, &config_bytes, layers, &tags, &repo_digest))
                .await
                .map_err(|e| Error::Internal(format!("pull task: {e}")))??
        };
        tracing::debug!(image = %id, "pulled");
        say(tx, JsonMessage::status(format!("Digest: {}", top.digest))).await;
        let what = if was_current { "Image is up to date for" } else { "Downloaded newer image for" };
        say(tx, JsonMessage::status(format!("Status: {what} {}", r.familiar()))).await;
        self.emit_image(&r.familiar(), "pull", &r.familiar());
        Ok(())
    }
}

/// What one registry endpoint gave for a reference: the top manifest (or index) as fetched,
/// the platform's manifest and its config.
struct Resolved {
    top: berth_registry::Fetched,
    manifest: Manifest,
    config_bytes: Vec<u8>,
}

/// Fetches the manifest of `tag_or_digest` (resolving an index to `want`) and its config.
async fn resolve(client: &Client, r: &Reference, tag_or_digest: &str, want: &Platform) -> Result<Resolved> {
    let top = client.fetch_manifest(tag_or_digest).await.map_err(|e| match e {
        berth_registry::Error::NotFound(_) => {
            Error::NotFound(format!("manifest for {} not found: manifest unknown", r.familiar()))
        }
        other => registry_err(other),
    })?;
    let mut fetched = top.clone();
    if is_index(&top.media_type) {
        let index: Index = serde_json::from_slice(&top.bytes)
            .map_err(|e| Error::InvalidArgument(format!("invalid image index: {e}")))?;
        let desc = berth_registry::select_platform(&index, want).ok_or_else(|| {
            let v = want.variant.as_ref().map(|v| format!("/{v}")).unwrap_or_default();
            Error::NotFound(format!(
                "no matching manifest for {}/{}{v} in the manifest list entries",
                want.os, want.architecture
            ))
        })?;
        fetched = client.fetch_manifest(&desc.digest.to_string()).await.map_err(registry_err)?;
    }
    let manifest: Manifest = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| Error::InvalidArgument(format!("invalid image manifest: {e}")))?;
    let config_bytes = client.fetch_blob(&manifest.config.digest, manifest.config.size).await.map_err(registry_err)?;
    Ok(Resolved { top, manifest, config_bytes })
}

/// Records the image over the unpacked `layers` with its tag and repo digest. Returns the image
/// id and whether the tag already pointed at it. The layers' snapshots are removed on error.
fn add_pulled(
    inner: &Inner,
    config_bytes: &[u8],
    layers: Vec<Option<NewLayer>>,
    tags: &[Reference],
    repo_digest: &str,
) -> Result<(Digest, bool)> {
    let _g = inner.lock();
    let id = Digest::sha256_of(config_bytes);
    let was_current = match tags.first() {
        Some(t) => inner.meta.tag(&t.to_string()).map(|v| v.as_deref() == Some(&id.to_string())),
        None => inner.meta.image(&id.to_string()).map(|v| v.is_some()),
    };
    let was_current = match was_current {
        Ok(v) => v,
        Err(e) => {
            for l in layers.into_iter().flatten() {
                let _ = inner.snapshots.remove(l.snapshot);
            }
            return Err(Error::store("reading image", e));
        }
    };
    let id = inner.add_image(config_bytes, layers, tags, !was_current)?;
    inner
        .meta
        .write(|w| {
            if let Some(mut rec) = w.image(&id.to_string())? {
                if !rec.repo_digests.iter().any(|d| d == repo_digest) {
                    rec.repo_digests.push(repo_digest.to_string());
                    w.put_image(&rec)?;
                }
            }
            Ok(())
        })
        .map_err(store_err("recording repo digest"))?;
    Ok((id, was_current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_from_query() {
        let req = |img: &str, tag: &str| PullRequest { from_image: img.into(), tag: tag.into(), ..Default::default() };
        assert_eq!(req("busybox", "").reference().unwrap().to_string(), "docker.io/library/busybox:latest");
        assert_eq!(req("127.0.0.1:5000/bb", "1").reference().unwrap().to_string(), "127.0.0.1:5000/bb:1");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = req("127.0.0.1:5000/bb", &d).reference().unwrap();
        assert_eq!(r.digest().unwrap().to_string(), d);
        assert!(req("Bad", "").reference().is_err());
        assert!(PullRequest { platform: "linux".into(), ..Default::default() }.platform().is_err());
    }
}
