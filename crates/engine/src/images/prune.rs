//! `POST /images/prune` (ImagePrune): removes dangling images (untagged), or with
//! `dangling=false` every image no container uses, filtered by `until` and `label`/`label!`.
//! `SpaceReclaimed` is the size of the layers actually deleted, as dockerd counts it.

use std::collections::HashMap;

use berth_api_types::query::images::DeleteItem;
use berth_api_types::query::system::ImagePruneReport;
use berth_api_types::Filters;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::store_err;
use crate::{Engine, Error, Result};

const ACCEPTED: &[&str] = &["dangling", "label", "label!", "until"];

/// What the filters of a prune ask for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PruneFilters {
    /// Only untagged images (the default).
    pub dangling_only: bool,
    /// Only images created before this unix time.
    pub until: Option<i64>,
    pub labels: Filters,
}

impl PruneFilters {
    pub fn parse(f: &Filters, now: DateTime<Utc>) -> Result<PruneFilters> {
        if let Err(e) = f.validate(ACCEPTED) {
            return Err(Error::InvalidArgument(match e {
                berth_api_types::filters::FilterError::UnknownKey(k) => format!("Invalid filter '{k}'"),
                other => other.to_string(),
            }));
        }
        let dangling_only = match f.get("dangling") {
            [] => true,
            [v] => match v.to_ascii_lowercase().as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => return Err(Error::InvalidArgument(format!("Invalid filter 'dangling=[{v}]'"))),
            },
            [v, ..] => return Err(Error::InvalidArgument(format!("Invalid filter 'dangling=[{v}]'"))),
        };
        let until = match f.get("until") {
            [] => None,
            [v] => Some(parse_timestamp(v, now)?),
            _ => return Err(Error::InvalidArgument("more than one until filter specified".into())),
        };
        let mut labels = Filters::default();
        for key in ["label", "label!"] {
            for v in f.get(key) {
                labels.insert(key, v.clone());
            }
        }
        Ok(PruneFilters { dangling_only, until, labels })
    }

    fn matches_labels(&self, labels: &HashMap<String, String>) -> bool {
        let has = |f: &str| match f.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(f),
        };
        self.labels.get("label").iter().all(|f| has(f)) && !self.labels.get("label!").iter().any(|f| has(f))
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
        let f = PruneFilters::parse(filters, Utc::now())?;
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
            if f.until.is_some_and(|u| config.created_time().timestamp() >= u) {
                continue;
            }
            let labels: HashMap<String, String> =
                config.config.labels.clone().unwrap_or_default().into_iter().collect();
            if !f.matches_labels(&labels) {
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
        let f = PruneFilters::parse(&Filters::default(), now).unwrap();
        assert!(f.dangling_only && f.until.is_none());
        let f = PruneFilters::parse(&filters(r#"{"dangling":["false"],"label":["a=b"],"label!":["c"]}"#), now).unwrap();
        assert!(!f.dangling_only);
        let labels = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert!(f.matches_labels(&labels(&[("a", "b")])));
        assert!(!f.matches_labels(&labels(&[("a", "b"), ("c", "1")])));
        assert!(!f.matches_labels(&labels(&[("a", "x")])));
        let err = PruneFilters::parse(&filters(r#"{"bogus":["x"]}"#), now).unwrap_err();
        assert_eq!(err.to_string(), "Invalid filter 'bogus'");
        assert!(PruneFilters::parse(&filters(r#"{"dangling":["maybe"]}"#), now).is_err());
        assert!(PruneFilters::parse(&filters(r#"{"until":["soon"]}"#), now).is_err());
    }
}
