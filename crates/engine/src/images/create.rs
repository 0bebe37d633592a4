//! `POST /images/create`: `fromSrc` imports a root filesystem tar (plain, gzip or zstd) as a
//! one-layer image, with `changes` applied to its config; `fromImage` (registry pull) is in
//! `pull.rs`.

use std::collections::BTreeMap;

use berth_image::{ContainerConfig, HistoryEntry, ImageConfig, Platform, Reference, RootFs};
use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

use crate::{Engine, Error, Result};

/// The parameters of an import.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportRequest {
    pub repo: String,
    pub tag: String,
    pub message: String,
    /// Dockerfile lines (`CMD ["sh"]`, `ENV A=b`, ...).
    pub changes: Vec<String>,
}

impl ImportRequest {
    /// The tag to apply (`None` without `repo`) and the container config: checked before any
    /// byte of the body is read.
    fn validate(&self) -> Result<(Option<Reference>, ContainerConfig)> {
        let reference = if self.repo.is_empty() {
            None
        } else {
            let r = Reference::parse_repository_name(&self.repo).map_err(|e| Error::InvalidArgument(e.to_string()))?;
            let r = if self.tag.is_empty() {
                r.with_default_tag()
            } else {
                if r.tag().is_some() || r.digest().is_some() {
                    return Err(Error::InvalidArgument("invalid reference format".into()));
                }
                r.with_tag(&self.tag).map_err(|e| Error::InvalidArgument(e.to_string()))?
            };
            Some(r)
        };
        let mut config = ContainerConfig::default();
        for line in self.changes.iter().flat_map(|c| c.lines()).filter(|l| !l.trim().is_empty()) {
            config.apply_change(line).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        }
        Ok((reference, config))
    }
}

impl Engine {
    /// `docker import`: stores `body` (a tar) as a new image; returns its id.
    pub async fn image_create_from_src(
        &self,
        req: ImportRequest,
        body: impl AsyncRead + Send + Unpin + 'static,
    ) -> Result<String> {
        let (reference, container_config) = req.validate()?;
        let inner = self.images.inner.clone();
        let reader = SyncIoBridge::new(body);
        let task = tokio::task::spawn_blocking(move || {
            let _g = inner.lock();
            let layer = inner.unpack_layer(reader)?;
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            let comment = (!req.message.is_empty()).then(|| req.message.clone());
            let mut extra = BTreeMap::new();
            if let Some(c) = &comment {
                extra.insert("comment".to_string(), serde_json::Value::String(c.clone()));
            }
            let host = Platform::host();
            let config = ImageConfig {
                architecture: host.architecture,
                os: host.os,
                variant: None,
                created: Some(now.clone()),
                author: None,
                config: container_config,
                rootfs: RootFs { kind: "layers".into(), diff_ids: vec![layer.diff_id.to_string()] },
                history: vec![HistoryEntry { created: Some(now), comment, ..Default::default() }],
                extra,
            };
            let bytes = serde_json::to_vec(&config).map_err(|e| Error::Internal(format!("encoding config: {e}")))?;
            let tags: Vec<Reference> = reference.into_iter().collect();
            inner.add_image(&bytes, vec![Some(layer)], &tags, true)
        });
        let id = task.await.map_err(|e| Error::Internal(format!("import task: {e}")))??;
        self.emit_image(&id.to_string(), "import", &id.to_string());
        Ok(id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_before_reading() {
        let ok = ImportRequest { repo: "busybox".into(), changes: vec!["CMD [\"sh\"]".into()], ..Default::default() };
        let (r, c) = ok.validate().unwrap();
        assert_eq!(r.unwrap().to_string(), "docker.io/library/busybox:latest");
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        let bad = ImportRequest { repo: "Bad".into(), ..Default::default() };
        assert!(bad.validate().is_err());
        let bad = ImportRequest { changes: vec!["RUN x".into()], ..Default::default() };
        assert!(bad.validate().is_err());
        let none = ImportRequest::default();
        assert!(none.validate().unwrap().0.is_none());
    }
}
