//! `POST /containers/prune` (ContainerPrune): removes every stopped container (created, exited
//! or dead) that matches the `until`, `label` and `label!` filters, as dockerd does.

use std::collections::{BTreeMap, HashMap};

use berth_api_types::query::system::ContainerPruneReport;
use berth_api_types::Filters;
use chrono::{DateTime, Utc};

use super::record::Record;
use super::state::Status;
use crate::images::prune::parse_timestamp;
use crate::{Engine, Error, Result};

const ACCEPTED: &[&str] = &["label", "label!", "until"];

/// What a prune request's filters select.
#[derive(Debug, Clone, PartialEq)]
struct PruneFilters {
    /// Only containers created before this unix time.
    until: Option<i64>,
    labels: Vec<String>,
    not_labels: Vec<String>,
}

impl PruneFilters {
    fn parse(f: &Filters, now: DateTime<Utc>) -> Result<PruneFilters> {
        if let Err(e) = f.validate(ACCEPTED) {
            return Err(Error::InvalidArgument(match e {
                berth_api_types::filters::FilterError::UnknownKey(k) => format!("Invalid filter '{k}'"),
                other => other.to_string(),
            }));
        }
        let until = match f.get("until") {
            [] => None,
            [v] => Some(parse_timestamp(v, now)?),
            _ => return Err(Error::InvalidArgument("more than one until filter specified".into())),
        };
        Ok(PruneFilters { until, labels: f.get("label").to_vec(), not_labels: f.get("label!").to_vec() })
    }

    /// Whether a container in `status` with record `r` is pruned.
    fn selects(&self, status: Status, r: &Record) -> bool {
        if !matches!(status, Status::Created | Status::Exited | Status::Dead) {
            return false;
        }
        if self.until.is_some_and(|u| r.created.timestamp() > u) {
            return false;
        }
        let labels: HashMap<&str, &str> = r.config.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let has = |f: &String| match f.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| *have == v),
            None => labels.contains_key(f.as_str()),
        };
        self.labels.iter().all(has) && !self.not_labels.iter().any(has)
    }
}

impl Engine {
    /// Removes the stopped containers the filters select; answers their ids and the bytes their
    /// writable layers held, and emits a `container prune` event with `reclaimed`.
    pub async fn container_prune(&self, filters: &Filters) -> Result<ContainerPruneReport> {
        let f = PruneFilters::parse(filters, Utc::now())?;
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        for c in self.containers.all() {
            if !f.selects(c.status(), &c.record()) {
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
        let none = PruneFilters::parse(&Filters::default(), now).unwrap();
        assert!(none.selects(Status::Exited, &r));
        assert!(none.selects(Status::Created, &r));
        assert!(!none.selects(Status::Running, &r));
        assert!(!none.selects(Status::Restarting, &r));
        let keep = PruneFilters::parse(&filters(r#"{"label!":["keep"]}"#), now).unwrap();
        assert!(!keep.selects(Status::Exited, &r));
        let keep_no = PruneFilters::parse(&filters(r#"{"label!":["keep=no"]}"#), now).unwrap();
        assert!(keep_no.selects(Status::Exited, &r));
        let label = PruneFilters::parse(&filters(r#"{"label":["keep=yes"]}"#), now).unwrap();
        assert!(label.selects(Status::Exited, &r));
        let old = PruneFilters::parse(&filters(r#"{"until":["1h"]}"#), now).unwrap();
        assert!(old.selects(Status::Exited, &r));
        let older = PruneFilters::parse(&filters(r#"{"until":["3h"]}"#), now).unwrap();
        assert!(!older.selects(Status::Exited, &r));
    }

    #[test]
    fn rejects_bad_filters_like_dockerd() {
        let now = Utc::now();
        let e = PruneFilters::parse(&filters(r#"{"bogus":["x"]}"#), now).unwrap_err();
        assert_eq!(e.to_string(), "Invalid filter 'bogus'");
        let e = PruneFilters::parse(&filters(r#"{"until":["garbage"]}"#), now).unwrap_err();
        assert_eq!(e.to_string(), "failed to parse value as time or duration: \"garbage\"");
    }
}
