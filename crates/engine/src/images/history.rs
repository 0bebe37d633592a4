//! `GET /images/{name}/history`: the config's history, newest first, with layer sizes.

use berth_api_types::query::images::HistoryItem;
use berth_image::HistoryEntry;

use super::store_err;
use crate::{Engine, Result};

impl Engine {
    pub async fn image_history(&self, name: &str) -> Result<Vec<HistoryItem>> {
        let inner = &self.images.inner;
        let rec = inner.resolve(name)?;
        let config = inner.config(&rec.id)?.1;
        let mut sizes = Vec::new();
        for c in &rec.layers {
            sizes.push(inner.meta.layer(c).map_err(store_err("reading layer"))?.map(|l| l.size).unwrap_or(0));
        }
        let history = if config.history.is_empty() {
            vec![HistoryEntry::default(); rec.layers.len().max(1)]
        } else {
            config.history.clone()
        };
        let mut layer = 0;
        let mut out = Vec::new();
        for h in &history {
            let size = if h.empty_layer {
                0
            } else {
                layer += 1;
                sizes.get(layer - 1).copied().unwrap_or(0)
            };
            let created = h
                .created
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map(|t| t.timestamp())
                .unwrap_or(0);
            out.push(HistoryItem {
                comment: h.comment.clone().unwrap_or_default(),
                created,
                created_by: h.created_by.clone().unwrap_or_default(),
                id: "<missing>".into(),
                size: size as i64,
                tags: None,
            });
        }
        out.reverse();
        if let Some(top) = out.first_mut() {
            top.id = rec.id.clone();
            let tags = inner.tags_of(&rec.id)?;
            top.tags = (!tags.is_empty()).then_some(tags);
        }
        Ok(out)
    }
}
