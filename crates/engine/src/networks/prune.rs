//! `POST /networks/prune` (NetworkPrune): removes every user-defined network without endpoints
//! that the `until`, `label` and `label!` filters select, as dockerd does.

use berth_api_types::models::NetworkPruneResponse;
use berth_api_types::Filters;
use chrono::{DateTime, Utc};

use super::list::labels_match;
use super::registry::NetworkRecord;
use crate::images::prune::parse_timestamp;
use crate::{Engine, Error, Result};

const ACCEPTED: &[&str] = &["label", "label!", "until"];

/// What a prune request's filters select.
#[derive(Debug, Clone, PartialEq)]
struct PruneFilters {
    /// Only networks created before this unix time.
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

    /// dockerd's `matchLabels`: every `label` matches, and not every `label!` does (a network
    /// is kept only when all the `label!` filters match it).
    fn selects(&self, n: &NetworkRecord) -> bool {
        if self.until.is_some_and(|u| n.created.timestamp() > u) {
            return false;
        }
        labels_match(&n.labels, &self.labels)
            && (self.not_labels.is_empty() || !labels_match(&n.labels, &self.not_labels))
    }
}

impl Engine {
    /// Removes the unused user-defined networks the filters select; answers their names.
    pub async fn network_prune(&self, filters: &Filters) -> Result<NetworkPruneResponse> {
        let f = PruneFilters::parse(filters, Utc::now())?;
        let reg = self.networks.snapshot();
        let mut deleted = Vec::new();
        for n in reg.networks.values() {
            if n.is_predefined() || !reg.containers_on(&n.id).is_empty() || !f.selects(n) {
                continue;
            }
            if self.network_delete(&n.id).await.is_ok() {
                deleted.push(n.name.clone());
            }
        }
        Ok(NetworkPruneResponse { networks_deleted: Some(deleted) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(json: &str) -> Filters {
        Filters::parse(json).unwrap()
    }

    fn network(created: i64, labels: &[(&str, &str)]) -> NetworkRecord {
        NetworkRecord {
            id: "1".repeat(64),
            name: "n1".into(),
            driver: "bridge".into(),
            created: DateTime::from_timestamp(created, 0).unwrap(),
            device: String::new(),
            subnet: None,
            gateway: None,
            ip_range: None,
            internal: false,
            attachable: false,
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            options: Default::default(),
        }
    }

    #[test]
    fn filters_parse_like_dockerd() {
        let now = Utc::now();
        let err = |json: &str| PruneFilters::parse(&filters(json), now).unwrap_err().to_string();
        assert_eq!(err(r#"{"bogus":["x"]}"#), "Invalid filter 'bogus'");
        assert_eq!(err(r#"{"until":["soon"]}"#), r#"failed to parse value as time or duration: "soon""#);
        assert_eq!(err(r#"{"until":["1h","2h"]}"#), "more than one until filter specified");
        let f = PruneFilters::parse(&filters(r#"{"until":["1h"]}"#), now).unwrap();
        assert_eq!(f.until, Some(now.timestamp() - 3600));
    }

    #[test]
    fn until_and_labels_select() {
        let now = Utc::now();
        let f = |json: &str| PruneFilters::parse(&filters(json), now).unwrap();
        let old = network(now.timestamp() - 7200, &[("env", "test"), ("keep", "")]);
        let new = network(now.timestamp() - 60, &[("env", "prod")]);
        assert!(f(r#"{"until":["1h"]}"#).selects(&old));
        assert!(!f(r#"{"until":["1h"]}"#).selects(&new));
        assert!(f(r#"{"label":["env=test"]}"#).selects(&old));
        assert!(!f(r#"{"label":["env=test"]}"#).selects(&new));
        assert!(!f(r#"{"label!":["keep"]}"#).selects(&old));
        assert!(f(r#"{"label!":["keep"]}"#).selects(&new));
        // Kept only when every label! filter matches, as dockerd's MatchKVList.
        assert!(!f(r#"{"label!":["keep","env=test"]}"#).selects(&old));
        assert!(f(r#"{"label!":["keep","env=prod"]}"#).selects(&old));
        assert!(f(r#"{}"#).selects(&new));
    }
}
