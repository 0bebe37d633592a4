//! `GET /networks` (NetworkList).

use std::collections::BTreeMap;

use berth_api_types::models::{Ipam, IpamConfig, Network};

use super::registry::NetworkRecord;
use crate::{Engine, Result};

/// `label=key` or `label=key=value` filters: all must match.
pub fn labels_match(labels: &BTreeMap<String, String>, filters: &[String]) -> bool {
    filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(f),
    })
}

/// The wire form of a network (without containers).
pub fn summary(n: &NetworkRecord) -> Network {
    let ipam_config = n
        .subnet
        .map(|s| {
            vec![IpamConfig {
                subnet: Some(s.to_string()),
                gateway: n.gateway.map(|g| g.to_string()),
                ip_range: n.ip_range.map(|r| r.to_string()),
                ..Default::default()
            }]
        })
        .unwrap_or_default();
    Network {
        name: Some(n.name.clone()),
        id: Some(n.id.clone()),
        created: Some(n.created.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)),
        scope: Some("local".into()),
        driver: Some(n.driver.clone()),
        ipam: Some(Ipam { driver: Some("default".into()), config: Some(ipam_config), options: None }),
        internal: Some(n.internal),
        attachable: Some(n.attachable),
        ingress: Some(false),
        config_only: Some(false),
        options: Some(n.options.clone().into_iter().collect()),
        labels: Some(n.labels.clone().into_iter().collect()),
        ..Default::default()
    }
}

/// List filters: `name`, `id` (substring/prefix), `driver`, `label`, `type` (custom|builtin).
#[derive(Debug, Clone, Default)]
pub struct ListFilters {
    pub name: Vec<String>,
    pub id: Vec<String>,
    pub driver: Vec<String>,
    pub label: Vec<String>,
    pub typ: Vec<String>,
}

impl Engine {
    pub async fn network_list(&self, f: &ListFilters) -> Result<Vec<Network>> {
        let reg = self.networks.snapshot();
        let mut out: Vec<Network> = reg
            .networks
            .values()
            .filter(|n| f.name.is_empty() || f.name.iter().any(|x| n.name.contains(x.as_str())))
            .filter(|n| f.id.is_empty() || f.id.iter().any(|x| n.id.starts_with(x.as_str())))
            .filter(|n| f.driver.is_empty() || f.driver.contains(&n.driver))
            .filter(|n| labels_match(&n.labels, &f.label))
            .filter(|n| {
                f.typ.is_empty()
                    || f.typ.iter().any(|t| (t == "builtin") == n.is_predefined() && (t == "builtin" || t == "custom"))
            })
            .map(summary)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
