//! `POST /volumes/prune` (VolumePrune).

use berth_api_types::models::VolumePruneResponse;
use berth_api_types::Filters;

use super::list::filter_bool;
use super::store::{disk_usage, VolumeRecord};
use crate::{Engine, Result};

pub const PRUNE_FILTERS: [&str; 3] = ["label", "label!", "all"];

/// True when prune may take `v` (unused is checked by the caller): anonymous only unless
/// `all=true` (Docker 23+), then `label` / `label!`.
pub fn prunable(filters: &Filters, v: &VolumeRecord) -> Result<bool> {
    let mut all = false;
    for a in filters.get("all") {
        all = filter_bool("all", a)?;
    }
    if !all && !v.anonymous {
        return Ok(false);
    }
    let labels = v.labels.clone().into_iter().collect();
    if !filters.match_labels(&labels) {
        return Ok(false);
    }
    let excluded = filters.get("label!").iter().any(|f| match f.split_once('=') {
        Some((k, val)) => v.labels.get(k).is_some_and(|have| have == val),
        None => v.labels.contains_key(f.as_str()),
    });
    Ok(!excluded)
}

impl Engine {
    pub fn volume_prune(&self, filters: &Filters) -> Result<VolumePruneResponse> {
        filters.validate(&PRUNE_FILTERS).map_err(super::list::invalid_filter)?;
        let _g = self.volumes.lock();
        let mut deleted = Vec::new();
        let mut reclaimed = 0i64;
        for v in self.volumes.all() {
            if !prunable(filters, &v)? || !self.volume_users(&v.name, None).is_empty() {
                continue;
            }
            let size = disk_usage(&self.volumes.data_dir(&v.name));
            match self.volumes.remove(&v.name) {
                Ok(()) => {
                    deleted.push(v.name.clone());
                    reclaimed = reclaimed.saturating_add(size);
                }
                Err(e) => tracing::warn!(volume = %v.name, error = %e, "pruning volume"),
            }
        }
        Ok(VolumePruneResponse { volumes_deleted: Some(deleted), space_reclaimed: Some(reclaimed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_only_unless_all() {
        let named = VolumeRecord::new("named", [("k".to_string(), "v".to_string())].into(), Default::default(), false);
        let anon = VolumeRecord::new("anon1", Default::default(), Default::default(), true);
        let none = Filters::default();
        assert!(!prunable(&none, &named).unwrap());
        assert!(prunable(&none, &anon).unwrap());
        let all = Filters::parse(r#"{"all":["true"]}"#).unwrap();
        assert!(prunable(&all, &named).unwrap());
        let not_k = Filters::parse(r#"{"all":["1"],"label!":["k"]}"#).unwrap();
        assert!(!prunable(&not_k, &named).unwrap());
    }
}
