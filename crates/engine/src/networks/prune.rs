//! `POST /networks/prune` (NetworkPrune).

use berth_api_types::models::NetworkPruneResponse;

use crate::{Engine, Result};

impl Engine {
    /// Removes every user-defined network without endpoints (label filters: `label=k[=v]`).
    pub async fn network_prune(&self, labels: &[String]) -> Result<NetworkPruneResponse> {
        let reg = self.networks.snapshot();
        let mut deleted = Vec::new();
        for n in reg.networks.values() {
            if n.is_predefined()
                || !reg.containers_on(&n.id).is_empty()
                || !super::list::labels_match(&n.labels, labels)
            {
                continue;
            }
            if self.network_delete(&n.id).await.is_ok() {
                deleted.push(n.name.clone());
            }
        }
        Ok(NetworkPruneResponse { networks_deleted: Some(deleted) })
    }
}
