//! The engine's side of [`berth_builder::BuildBackend`]: step containers through the normal
//! container operations (create, start, logs, wait, delete), commits through the image store,
//! cache records under `<data-root>/builder/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use berth_api_types::models::{ContainerCreateBody, HostConfig};
use berth_api_types::query::images::JsonMessage;
use berth_api_types::stdcopy::{decode_frame, StreamType};
use berth_builder::{BuildBackend, Layer, MountedImage, Progress, RunMount, RunSpec};
use berth_image::ImageConfig;
use bytes::BytesMut;
use futures_util::StreamExt;

use super::cache;
use super::layer::{commit_image, runtime_stubs, upper_dir, NewLayer};
use crate::containers::{LogOptions, WaitCondition};
use crate::Engine;

pub(crate) struct EngineBackend {
    pub engine: Arc<Engine>,
}

fn berr(e: crate::Error) -> berth_builder::Error {
    match e.kind() {
        crate::ErrorKind::NotFound | crate::ErrorKind::InvalidArgument => {
            berth_builder::Error::InvalidArgument(e.to_string())
        }
        _ => berth_builder::Error::Backend(e.to_string()),
    }
}

type BResult<T> = berth_builder::Result<T>;

fn nonzero(v: i64) -> Option<i64> {
    (v != 0).then_some(v)
}

impl BuildBackend for EngineBackend {
    async fn resolve_image(
        &self,
        name: &str,
        pull: bool,
        platform: Option<&str>,
        out: &Progress,
    ) -> BResult<(String, ImageConfig)> {
        let found = self.engine.images.resolve(name);
        let image = match found {
            Ok(i) if !pull => i,
            other => {
                let req = crate::images::PullRequest {
                    from_image: name.to_string(),
                    tag: String::new(),
                    platform: platform.unwrap_or("").to_string(),
                    auth: Default::default(),
                };
                let (tx, mut rx) = tokio::sync::mpsc::channel::<JsonMessage>(64);
                let fwd_out = out.clone();
                let fwd = tokio::spawn(async move {
                    while let Some(m) = rx.recv().await {
                        let _ = fwd_out.send(m).await;
                    }
                });
                let pulled = self.engine.image_pull(req, tx).await;
                let _ = fwd.await;
                match (pulled, other) {
                    (Ok(()), _) => self.engine.images.resolve(name).map_err(berr)?,
                    // `--pull` with no registry reachable: a local image still builds.
                    (Err(_), Ok(local)) => local,
                    (Err(e), Err(_)) => return Err(berr(e)),
                }
            }
        };
        Ok((image.id, image.config))
    }

    async fn image_config(&self, id: &str) -> BResult<ImageConfig> {
        Ok(self.engine.images.resolve(id).map_err(berr)?.config)
    }

    async fn run(&self, spec: RunSpec, out: &Progress) -> BResult<(String, i64)> {
        let mut binds = Vec::new();
        let mut tmpfs = HashMap::new();
        for m in &spec.mounts {
            match m {
                RunMount::Bind { source, target, readonly } => {
                    binds.push(format!("{}:{}{}", source.display(), target, if *readonly { ":ro" } else { "" }))
                }
                RunMount::Tmpfs { target } => {
                    tmpfs.insert(target.clone(), String::new());
                }
            }
        }
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            entrypoint: Some(spec.args.clone()),
            env: Some(spec.env.clone()),
            user: Some(spec.user.clone()),
            working_dir: Some(spec.workdir.clone()),
            host_config: Some(HostConfig {
                network_mode: Some(spec.network.clone()),
                binds: Some(binds),
                tmpfs: Some(tmpfs),
                extra_hosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.clone()),
                shm_size: nonzero(spec.limits.shm_size),
                memory: nonzero(spec.limits.memory),
                memory_swap: nonzero(spec.limits.memory_swap),
                cpu_shares: nonzero(spec.limits.cpu_shares),
                cpu_period: nonzero(spec.limits.cpu_period),
                cpu_quota: nonzero(spec.limits.cpu_quota),
                cpuset_cpus: Some(spec.limits.cpuset_cpus.clone()).filter(|s| !s.is_empty()),
                cpuset_mems: Some(spec.limits.cpuset_mems.clone()).filter(|s| !s.is_empty()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let e = &self.engine;
        let id = e.container_create(None, body).await.map_err(berr)?.id;
        let _ = out.send(JsonMessage::stream(format!(" ---> Running in {}\n", &id[..12]))).await;
        let waiter = e.container_wait(&id, WaitCondition::NextExit).map_err(berr)?;
        e.container_start(&id).await.map_err(berr)?;
        let opts = LogOptions { follow: true, stdout: true, stderr: true, ..Default::default() };
        if let Ok(logs) = e.container_logs(&id, opts).await {
            let mut body = logs.body;
            let mut buf = BytesMut::new();
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else { break };
                buf.extend_from_slice(&chunk);
                while let Ok(Some((kind, payload))) = decode_frame(&mut buf) {
                    let text = String::from_utf8_lossy(&payload).into_owned();
                    let text = if kind == StreamType::Stderr { format!("\u{1b}[91m{text}\u{1b}[0m") } else { text };
                    let _ = out.send(JsonMessage::stream(text)).await;
                }
            }
        }
        let outcome = waiter.await;
        Ok((id, outcome.status_code))
    }

    async fn remove_container(&self, id: &str) -> BResult<()> {
        self.engine.container_delete(id, true, true).await.map_err(berr)
    }

    async fn commit(&self, parent: &str, mut config: ImageConfig, layer: Layer) -> BResult<String> {
        // As dockerd stamps its own version on every image it commits (the `/version` one).
        config.extra.insert("docker_version".into(), env!("CARGO_PKG_VERSION").into());
        let new = match layer {
            Layer::None => NewLayer::None,
            Layer::Tar(p) => NewLayer::Tar(p),
            Layer::Container { id, drop_paths } => {
                let dir = upper_dir(&self.engine, &id).map_err(berr)?;
                let mut skip = runtime_stubs(&dir);
                skip.extend(drop_paths);
                NewLayer::Upper { dir, skip }
            }
        };
        let inner = self.engine.images.inner.clone();
        let parent = parent.to_string();
        let task = tokio::task::spawn_blocking(move || commit_image(&inner, &parent, config, new));
        let id = task.await.map_err(|e| berth_builder::Error::Backend(format!("commit task: {e}")))?.map_err(berr)?;
        Ok(id.to_string())
    }

    async fn mount_image(&self, id: &str) -> BResult<MountedImage> {
        let token = format!("build-{}", hex::encode(rand::random::<[u8; 16]>()));
        if id.is_empty() {
            let dir = self.engine.images.inner.tmp.join(&token);
            std::fs::create_dir_all(&dir)
                .map_err(|e| berth_builder::Error::Backend(format!("creating {}: {e}", dir.display())))?;
            return Ok(MountedImage { root: dir, token: format!("dir:{token}") });
        }
        let images = &self.engine.images;
        images.create_rootfs(&token, id).map_err(berr)?;
        match images.mount_rootfs(&token) {
            Ok(root) => Ok(MountedImage { root, token }),
            Err(e) => {
                let _ = images.remove_rootfs(&token);
                Err(berr(e))
            }
        }
    }

    async fn unmount_image(&self, m: &MountedImage) {
        if let Some(t) = m.token.strip_prefix("dir:") {
            let _ = std::fs::remove_dir_all(self.engine.images.inner.tmp.join(t));
            return;
        }
        if let Err(e) = self.engine.images.remove_rootfs(&m.token) {
            tracing::warn!(token = %m.token, error = %e, "releasing build mount");
        }
    }

    async fn cache_get(&self, key: &str) -> Option<(String, ImageConfig)> {
        let id = cache::get(&self.engine.config.data_root, key)?;
        self.engine.images.resolve(&id).ok().map(|i| (i.id, i.config))
    }

    async fn cache_from(&self, sources: &[String], parent: &str, created_by: &str) -> Option<(String, ImageConfig)> {
        let images = &self.engine.images;
        for s in sources {
            let Ok(mut img) = images.resolve(s) else { continue };
            // The source and its ancestors, newest first.
            for _ in 0..1000 {
                let rec = images.inner.meta.image(&img.id).ok().flatten()?;
                let last = img.config.history.last().and_then(|h| h.created_by.as_deref());
                if rec.parent == parent && last == Some(created_by) {
                    return Some((img.id, img.config));
                }
                if rec.parent.is_empty() {
                    break;
                }
                let Ok(next) = images.resolve(&rec.parent) else { break };
                img = next;
            }
        }
        None
    }

    async fn cache_put(&self, key: &str, image: &str) -> BResult<()> {
        cache::put(&self.engine.config.data_root, key, image).map_err(berr)
    }

    fn cache_mount_dir(&self, id: &str) -> BResult<PathBuf> {
        cache::mount_dir(&self.engine.config.data_root, id).map_err(berr)
    }

    async fn fetch(&self, url: &str, dest: &std::path::Path) -> BResult<berth_builder::Fetched> {
        super::fetch::fetch(url, dest).await
    }

    async fn tag(&self, image: &str, tag: &str) -> BResult<()> {
        let r = berth_image::Reference::parse(tag).map_err(|e| berth_builder::Error::InvalidArgument(e.to_string()))?;
        let r = r.with_default_tag();
        self.engine.image_tag(image, &r.name(), r.tag().unwrap_or("latest")).await.map_err(berr)
    }
}
