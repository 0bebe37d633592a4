//! `POST /images/prune` (ImagePrune): removes dangling images (untagged), or with
//! `dangling=false` every image no container uses, filtered by `until` and `label`/`label!`.
//! `SpaceReclaimed` is the size of the layers actually deleted, as dockerd counts it.

use std::collections::HashMap;

use berth_api_types::query::images::DeleteItem;
use berth_api_types::query::system::ImagePruneReport;
use berth_api_types::Filters;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::store_err;
use crate::prune_filters::PruneFilters;
use crate::{Engine, Error, Result};

const ACCEPTED: &[&str] = &["dangling", "label", "label!", "until"];

/// What the filters of a prune ask for.
#[derive(Debug, Clone, PartialEq)]
struct ImagePruneFilters {
    /// Only untagged images (the default).
    dangling_only: bool,
    /// `until`, `label`, `label!`.
    common: PruneFilters,
}

impl ImagePruneFilters {
    fn parse(f: &Filters, now: DateTime<Utc>) -> Result<ImagePruneFilters> {
        let common = PruneFilters::parse(f, ACCEPTED, now)?;
        let dangling_only = match f.get("dangling") {
            [] => true,
            [v] => match v.to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => return Err(Error::InvalidArgument(format!("Invalid filter 'dangling=[{v}]'"))),
            },
            [v, ..] => return Err(Error::InvalidArgument(format!("Invalid filter 'dangling=[{v}]'"))),
        };
        Ok(ImagePruneFilters { dangling_only, common })
    }
}

/// dockerd's `until`/`since` timestamps: a duration before `now`, unix seconds (with an
/// optional fraction), or an RFC 3339 / `2006-01-02T15:04:05` / `2006-01-02` date (UTC).
pub(crate) fn parse_timestamp(v: &str, now: DateTime<Utc>) -> Result<i64> {
    if let Some(d) = berth_api_types::units::parse_go_duration(v).filter(|_| v != "0") {
        return Ok(now.timestamp() - d / 1_000_000_000);
    }
    if let Ok(f) = v.parse::<f64>() {
        return Ok(f as i64);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.timestamp());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return Ok(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp()).unwrap_or_default());
    }
    Err(Error::InvalidArgument(format!("failed to parse value as time or duration: \"{v}\"")))
}

impl Engine {
    pub async fn image_prune(&self, filters: &Filters) -> Result<ImagePruneReport> {
        let f = ImagePruneFilters::parse(filters, Utc::now())?;
        let inner = self.images.inner.clone();
        let sizes: HashMap<String, u64> = inner
            .meta
            .layers()
            .map_err(store_err("reading layers"))?
            .into_iter()
            .map(|l| (l.chain_id, l.size))
            .collect();
        let mut tags: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in inner.meta.tags().map_err(store_err("reading tags"))? {
            tags.entry(v).or_default().push(k);
        }
        let mut deleted = Vec::new();
        for rec in inner.meta.images().map_err(store_err("reading images"))? {
            let refs = tags.get(&rec.id).cloned().unwrap_or_default();
            if f.dangling_only && !refs.is_empty() {
                continue;
            }
            if !self.containers.using_image(&rec.id).is_empty() || !self.images.snapshot_users(&rec.id).is_empty() {
                continue;
            }
            let config = inner.config(&rec.id)?.1;
            if f.common.until.is_some_and(|u| config.created_time().timestamp() >= u) {
                continue;
            }
            let labels = config.config.labels.as_ref();
            if !f.common.matches_labels(|k| labels.and_then(|l| l.get(k)).map(String::as_str)) {
                continue;
            }
            // By reference for tagged images (each tag untagged, the last one deletes), by id
            // for dangling ones. An image that went away meanwhile is not an error.
            let names = if refs.is_empty() { vec![rec.id.clone()] } else { refs };
            for name in names {
                match self.image_delete(&name, false, false).await {
                    Ok(items) => deleted.extend(items),
                    Err(Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let space_reclaimed = deleted
            .iter()
            .filter_map(|d| match d {
                DeleteItem::Deleted(id) => sizes.get(id),
                DeleteItem::Untagged(_) => None,
            })
            .sum();
        Ok(ImagePruneReport { images_deleted: (!deleted.is_empty()).then_some(deleted), space_reclaimed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(json: &str) -> Filters {
        Filters::parse(json).unwrap()
    }

    #[test]
    fn timestamps_like_dockerd() {
        let now = DateTime::parse_from_rfc3339("2024-01-02T00:00:00Z").unwrap().with_timezone(&Utc);
        let t = now.timestamp();
        assert_eq!(parse_timestamp("24h", now).unwrap(), t - 86400);
        assert_eq!(parse_timestamp("1h30m", now).unwrap(), t - 5400);
        assert_eq!(parse_timestamp("1500000000", now).unwrap(), 1_500_000_000);
        assert_eq!(parse_timestamp("1500000000.5", now).unwrap(), 1_500_000_000);
        assert_eq!(parse_timestamp("2024-01-01", now).unwrap(), t - 86400);
        assert_eq!(parse_timestamp("2024-01-01T12:00:00Z", now).unwrap(), t - 43200);
        assert_eq!(parse_timestamp("2024-01-01T12:00:00", now).unwrap(), t - 43200);
        assert!(parse_timestamp("yesterday", now).is_err());
        assert!(parse_timestamp("10x", now).is_err());
    }

    #[test]
    fn prune_filters_parse_and_match() {
        let now = Utc::now();
        let f = ImagePruneFilters::parse(&Filters::default(), now).unwrap();
        assert!(f.dangling_only && f.common.until.is_none());
        let f = ImagePruneFilters::parse(&filters(r#"{"dangling":["false"],"label":["a=b"],"label!":["c"]}"#), now)
            .unwrap();
        assert!(!f.dangling_only);
        let matches = |kv: &[(&str, &str)]| {
            let labels: HashMap<String, String> = kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            f.common.matches_labels(|k| labels.get(k).map(String::as_str))
        };
        assert!(matches(&[("a", "b")]));
        assert!(!matches(&[("a", "b"), ("c", "1")]));
        assert!(!matches(&[("a", "x")]));
        let err = ImagePruneFilters::parse(&filters(r#"{"bogus":["x"]}"#), now).unwrap_err();
        assert_eq!(err.to_string(), "Invalid filter 'bogus'");
        assert!(ImagePruneFilters::parse(&filters(r#"{"dangling":["maybe"]}"#), now).is_err());
        assert!(ImagePruneFilters::parse(&filters(r#"{"until":["soon"]}"#), now).is_err());
    }
}
