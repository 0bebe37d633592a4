//! `GET /images/{name}/json`: the full ImageInspect document as dockerd writes it.

use std::collections::BTreeMap;

use berth_api_types::query::images::{GraphDriver, ImageContainerConfig, ImageInspect, ImageMetadata, ImageRootFs};
use berth_image::ContainerConfig;

use super::list::image_size;
use crate::{Engine, Error, Result};

/// Go's zero time, which dockerd prints for never-tagged images.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Which version-dependent fields to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InspectFields {
    /// `VirtualSize` (API < 1.44).
    pub virtual_size: bool,
    /// `Container`, `ContainerConfig` (API < 1.45).
    pub container: bool,
}

impl Engine {
    pub async fn image_inspect(&self, name: &str, fields: InspectFields) -> Result<ImageInspect> {
        let inner = &self.images.inner;
        let rec = inner.resolve(name).map_err(|e| match e {
            Error::NotFound(m) => Error::NotFound(format!("no such image: {name}: {m}")),
            other => other,
        })?;
        let config = inner.config(&rec.id)?.1;
        let size = image_size(inner, &rec.layers)? as i64;
        let extra_str = |k: &str| config.extra.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let container_config = config
            .extra
            .get("container_config")
            .and_then(|v| serde_json::from_value::<ContainerConfig>(v.clone()).ok())
            .unwrap_or_default();
        let mut data = BTreeMap::new();
        let mut lowers = Vec::new();
        for chain in rec.layers.iter().rev() {
            if let Some(l) = inner.meta.layer(chain).map_err(|e| Error::store("reading layer", e))? {
                lowers.push(inner.snapshots.fs_dir(l.snapshot).display().to_string());
            }
        }
        if let Some((top, rest)) = lowers.split_first() {
            if !rest.is_empty() {
                data.insert("LowerDir".to_string(), rest.join(":"));
            }
            data.insert("UpperDir".to_string(), top.clone());
        }
        Ok(ImageInspect {
            id: rec.id.clone(),
            repo_tags: inner.tags_of(&rec.id)?,
            repo_digests: rec.repo_digests.clone(),
            parent: rec.parent.clone(),
            comment: extra_str("comment"),
            created: config.created.clone().unwrap_or_else(|| ZERO_TIME.into()),
            container: fields.container.then(|| extra_str("container")),
            container_config: fields.container.then(|| wire_config(&container_config)),
            docker_version: extra_str("docker_version"),
            author: config.author.clone().unwrap_or_default(),
            config: wire_config(&config.config),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
            os: config.os.clone(),
            size,
            virtual_size: fields.virtual_size.then_some(size),
            graph_driver: GraphDriver { data, name: "overlay2".into() },
            root_fs: ImageRootFs { kind: config.rootfs.kind.clone(), layers: config.rootfs.diff_ids.clone() },
            metadata: ImageMetadata { last_tag_time: rec.last_tag_time.clone().unwrap_or_else(|| ZERO_TIME.into()) },
        })
    }
}

/// An image's runtime defaults in dockerd's `container.Config` shape.
pub(crate) fn wire_config(c: &ContainerConfig) -> ImageContainerConfig {
    ImageContainerConfig {
        user: c.user.clone().unwrap_or_default(),
        exposed_ports: c.exposed_ports.clone(),
        env: c.env.clone(),
        cmd: c.cmd.clone(),
        healthcheck: c.healthcheck.clone(),
        volumes: c.volumes.clone(),
        working_dir: c.working_dir.clone().unwrap_or_default(),
        entrypoint: c.entrypoint.clone(),
        on_build: c.on_build.clone(),
        labels: c.labels.clone(),
        stop_signal: c.stop_signal.clone(),
        shell: c.shell.clone(),
        ..Default::default()
    }
}
