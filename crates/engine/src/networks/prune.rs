//! `POST /networks/prune` (NetworkPrune): removes every user-defined network without endpoints
//! that the `until`, `label` and `label!` filters select, as dockerd does.

use berth_api_types::models::NetworkPruneResponse;
use berth_api_types::Filters;
use chrono::Utc;

use super::registry::NetworkRecord;
use crate::prune_filters::PruneFilters;
use crate::{Engine, Result};

const ACCEPTED: &[&str] = &["label", "label!", "until"];

/// Whether prune `f` selects network `n` (created before `until`, labels as dockerd matches).
fn selects(f: &PruneFilters, n: &NetworkRecord) -> bool {
    f.until.is_none_or(|u| n.created.timestamp() <= u) && f.matches_labels(|k| n.labels.get(k).map(String::as_str))
}

impl Engine {
    /// Removes the unused user-defined networks the filters select; answers their names.
    pub async fn network_prune(&self, filters: &Filters) -> Result<NetworkPruneResponse> {
        let f = PruneFilters::parse(filters, ACCEPTED, Utc::now())?;
        let reg = self.networks.snapshot();
        let mut deleted = Vec::new();
        for n in reg.networks.values() {
            if n.is_predefined() || !reg.containers_on(&n.id).is_empty() || !selects(&f, n) {
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
    use chrono::DateTime;

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
        let err = |json: &str| PruneFilters::parse(&filters(json), ACCEPTED, now).unwrap_err().to_string();
        assert_eq!(err(r#"{"bogus":["x"]}"#), "Invalid filter 'bogus'");
        assert_eq!(err(r#"{"until":["soon"]}"#), r#"failed to parse value as time or duration: "soon""#);
        assert_eq!(err(r#"{"until":["1h","2h"]}"#), "more than one until filter specified");
        let f = PruneFilters::parse(&filters(r#"{"until":["1h"]}"#), ACCEPTED, now).unwrap();
        assert_eq!(f.until, Some(now.timestamp() - 3600));
    }

    #[test]
    fn until_and_labels_select() {
        let now = Utc::now();
        let f = |json: &str| PruneFilters::parse(&filters(json), ACCEPTED, now).unwrap();
        let old = network(now.timestamp() - 7200, &[("env", "test"), ("keep", "")]);
        let new = network(now.timestamp() - 60, &[("env", "prod")]);
        assert!(selects(&f(r#"{"until":["1h"]}"#), &old));
        assert!(!selects(&f(r#"{"until":["1h"]}"#), &new));
        assert!(selects(&f(r#"{"label":["env=test"]}"#), &old));
        assert!(!selects(&f(r#"{"label":["env=test"]}"#), &new));
        assert!(!selects(&f(r#"{"label!":["keep"]}"#), &old));
        assert!(selects(&f(r#"{"label!":["keep"]}"#), &new));
        // Kept only when every label! filter matches, as dockerd's MatchKVList.
        assert!(!selects(&f(r#"{"label!":["keep","env=test"]}"#), &old));
        assert!(selects(&f(r#"{"label!":["keep","env=prod"]}"#), &old));
        assert!(selects(&f(r#"{}"#), &new));
    }
}
