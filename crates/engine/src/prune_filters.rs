//! The filters that container, image and network prune share, read as dockerd reads them
//! (`daemon/prune.go`): `until` (one at most) and `label` / `label!` (`matchLabels`: every
//! `label` matches, and a `label!` list excludes only when all of its entries match).

use berth_api_types::Filters;
use chrono::{DateTime, Utc};

use crate::images::prune::parse_timestamp;
use crate::{Error, Result};

/// `until`, `label` and `label!` of a prune request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PruneFilters {
    /// Only objects created before this unix time.
    pub until: Option<i64>,
    labels: Vec<String>,
    not_labels: Vec<String>,
}

impl PruneFilters {
    /// Checks the keys against `accepted` (dockerd's "Invalid filter" message) and reads the
    /// shared filters; other accepted keys are the caller's.
    pub fn parse(f: &Filters, accepted: &[&str], now: DateTime<Utc>) -> Result<PruneFilters> {
        if let Err(e) = f.validate(accepted) {
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

    /// dockerd's `matchLabels` over an object's labels, looked up with `get`.
    pub fn matches_labels<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        let all = |filters: &[String]| {
            filters.iter().all(|f| match f.split_once('=') {
                Some((k, v)) => get(k) == Some(v),
                None => get(f).is_some(),
            })
        };
        all(&self.labels) && (self.not_labels.is_empty() || !all(&self.not_labels))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn parse(json: &str) -> Result<PruneFilters> {
        PruneFilters::parse(&Filters::parse(json).unwrap(), &["label", "label!", "until"], Utc::now())
    }

    #[test]
    fn labels_as_dockerd_matches_them() {
        let labels = BTreeMap::from([("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]);
        let get = |k: &str| labels.get(k).map(String::as_str);
        assert!(parse(r#"{"label":["a=1","b"]}"#).unwrap().matches_labels(get));
        assert!(!parse(r#"{"label":["a=2"]}"#).unwrap().matches_labels(get));
        // `label!` excludes only when every entry matches.
        assert!(!parse(r#"{"label!":["a"]}"#).unwrap().matches_labels(get));
        assert!(parse(r#"{"label!":["a","c"]}"#).unwrap().matches_labels(get));
        assert!(!parse(r#"{"label!":["a","b=2"]}"#).unwrap().matches_labels(get));
    }

    #[test]
    fn bad_filters_give_dockerd_messages() {
        let e = parse(r#"{"dangling":["true"]}"#).unwrap_err().to_string();
        assert!(e.contains("Invalid filter 'dangling'"), "{e}");
        let e = parse(r#"{"until":["1h","2h"]}"#).unwrap_err().to_string();
        assert!(e.contains("more than one until filter specified"), "{e}");
        assert_eq!(parse(r#"{"until":["100"]}"#).unwrap().until, Some(100));
    }
}
