//! `POST /commit` (ImageCommit): a container's writable layer and config as a new image,
//! with `changes` (Dockerfile lines) applied, tagged `repo:tag` when given.

use std::collections::BTreeMap;

use berth_image::{HistoryEntry, ImageConfig};

use crate::build::layer::{commit_image, runtime_stubs, upper_dir, NewLayer};
use crate::{Engine, Error, Result};

/// The parameters of `docker commit`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitRequest {
    pub container: String,
    pub repo: String,
    pub tag: String,
    pub comment: String,
    pub author: String,
    pub changes: Vec<String>,
    pub pause: bool,
}

impl Engine {
    /// Commits the container; returns the new image id (`sha256:…`).
    pub async fn image_commit(&self, req: CommitRequest) -> Result<String> {
        let target = if req.repo.is_empty() { None } else { Some(super::tag::parse_target(&req.repo, &req.tag)?) };
        let c = self.containers.get(&req.container)?;
        let r = c.record();
        let inner = self.images.inner.clone();
        let (_, mut config) = inner.config(&r.image_id)?;
        let s = &r.config;
        let cc = &mut config.config;
        cc.env = (!s.env.is_empty()).then(|| s.env.clone());
        cc.cmd = s.cmd.clone();
        cc.entrypoint = s.entrypoint.clone();
        cc.user = (!s.user.is_empty()).then(|| s.user.clone());
        cc.working_dir = (!s.working_dir.is_empty()).then(|| s.working_dir.clone());
        cc.labels = (!s.labels.is_empty()).then(|| s.labels.clone());
        cc.stop_signal = s.stop_signal.clone();
        if !s.exposed_ports.is_empty() {
            cc.exposed_ports =
                Some(s.exposed_ports.iter().map(|p| (p.clone(), serde_json::json!({}))).collect::<BTreeMap<_, _>>());
        }
        if !s.volumes.is_empty() {
            cc.volumes = Some(s.volumes.iter().map(|p| (p.clone(), serde_json::json!({}))).collect::<BTreeMap<_, _>>());
        }
        for line in req.changes.iter().flat_map(|c| c.lines()).filter(|l| !l.trim().is_empty()) {
            cc.apply_change(line).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        }
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let created_by = std::iter::once(r.path.clone()).chain(r.args.iter().cloned()).collect::<Vec<_>>().join(" ");
        config.created = Some(now.clone());
        config.author = (!req.author.is_empty()).then(|| req.author.clone());
        config.extra.clear();
        config.history.push(HistoryEntry {
            created: Some(now),
            created_by: Some(created_by),
            author: config.author.clone(),
            comment: (!req.comment.is_empty()).then(|| req.comment.clone()),
            empty_layer: false,
        });
        let upper = upper_dir(self, &c.id)?;
        let skip = runtime_stubs(&upper);
        let parent = r.image_id.clone();
        let config: ImageConfig = config;
        let task = tokio::task::spawn_blocking(move || {
            commit_image(&inner, &parent, config, NewLayer::Upper { dir: upper, skip })
        });
        let id = task.await.map_err(|e| Error::Internal(format!("commit task: {e}")))??;
        if let Some(t) = target {
            self.image_tag(&id.to_string(), &t.name(), t.tag().unwrap_or("latest")).await?;
        }
        Ok(id.to_string())
    }
}
