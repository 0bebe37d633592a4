//! `POST /containers/prune` (ContainerPrune): removes every stopped container (created, exited
//! or dead) that matches the `until`, `label` and `label!` filters, as dockerd does.

use std::collections::BTreeMap;

use berth_api_types::query::system::ContainerPruneReport;
use berth_api_types::Filters;
use chrono::Utc;

use super::record::Record;
use super::state::Status;
use crate::prune_filters::PruneFilters;
use crate::{Engine, Result};

const ACCEPTED: &[&str] = &["label", "label!", "until"];

/// Whether prune `f` selects a container in `status` with record `r`: stopped (created, exited
/// or dead), created before `until`, labels as dockerd matches them.
fn selects(f: &PruneFilters, status: Status, r: &Record) -> bool {
    matches!(status, Status::Created | Status::Exited | Status::Dead)
        && f.until.is_none_or(|u| r.created.timestamp() <= u)
        && f.matches_labels(|k| r.config.labels.get(k).map(String::as_str))
}

impl Engine {
    /// Removes the stopped containers the filters select; answers their ids and the bytes their
    /// writable layers held, and emits a `container prune` event with `reclaimed`.
    pub async fn container_prune(&self, filters: &Filters) -> Result<ContainerPruneReport> {
        let f = PruneFilters::parse(filters, ACCEPTED, Utc::now())?;
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        for c in self.containers.all() {
            if !selects(&f, c.status(), &c.record()) {
                continue;
            }
            let size = self.images.rootfs_sizes(&c.id).map(|(rw, _)| rw).unwrap_or(0);
            match self.container_delete(&c.id, false, false).await {
                Ok(()) => {
                    deleted.push(c.id.clone());
                    reclaimed = reclaimed.saturating_add(u64::try_from(size).unwrap_or(0));
                }
                // Started or removed meanwhile: not ours to prune any more.
                Err(e) => tracing::warn!(id = %c.id, error = %e, "pruning container"),
            }
        }
        self.emit("container", "prune", "", BTreeMap::from([("reclaimed".to_string(), reclaimed.to_string())]));
        Ok(ContainerPruneReport {
            containers_deleted: (!deleted.is_empty()).then_some(deleted),
            space_reclaimed: reclaimed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(json: &str) -> Filters {
        Filters::parse(json).unwrap()
    }

    #[test]
    fn selects_stopped_containers_by_label_and_age() {
        let now = Utc::now();
        let mut r = super::super::record::sample(&"a".repeat(64), "p");
        r.config.labels.insert("keep".into(), "yes".into());
        r.created = now - chrono::Duration::hours(2);
        let none = PruneFilters::parse(&Filters::default(), ACCEPTED, now).unwrap();
        assert!(selects(&none, Status::Exited, &r));
        assert!(selects(&none, Status::Created, &r));
        assert!(!selects(&none, Status::Running, &r));
        assert!(!selects(&none, Status::Restarting, &r));
        let keep = PruneFilters::parse(&filters(r#"{"label!":["keep"]}"#), ACCEPTED, now).unwrap();
        assert!(!selects(&keep, Status::Exited, &r));
        let keep_no = PruneFilters::parse(&filters(r#"{"label!":["keep=no"]}"#), ACCEPTED, now).unwrap();
        assert!(selects(&keep_no, Status::Exited, &r));
        let label = PruneFilters::parse(&filters(r#"{"label":["keep=yes"]}"#), ACCEPTED, now).unwrap();
        assert!(selects(&label, Status::Exited, &r));
        let old = PruneFilters::parse(&filters(r#"{"until":["1h"]}"#), ACCEPTED, now).unwrap();
        assert!(selects(&old, Status::Exited, &r));
        let older = PruneFilters::parse(&filters(r#"{"until":["3h"]}"#), ACCEPTED, now).unwrap();
        assert!(!selects(&older, Status::Exited, &r));
    }

    #[test]
    fn rejects_bad_filters_like_dockerd() {
        let now = Utc::now();
        let e = PruneFilters::parse(&filters(r#"{"bogus":["x"]}"#), ACCEPTED, now).unwrap_err();
        assert_eq!(e.to_string(), "Invalid filter 'bogus'");
        let e = PruneFilters::parse(&filters(r#"{"until":["garbage"]}"#), ACCEPTED, now).unwrap_err();
        assert_eq!(e.to_string(), "failed to parse value as time or duration: \"garbage\"");
    }
}
