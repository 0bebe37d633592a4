//! `DELETE /networks/{id}` (NetworkDelete).

use berth_kernel::netlink;

use super::daemon::run_blocking;
use crate::{Engine, Error, Result};

impl Engine {
    pub async fn network_delete(&self, key: &str) -> Result<()> {
        let _op = self.networks.ops.lock().await;
        let net = self.networks.update(|r| {
            let n = r.find(key).cloned().ok_or_else(|| Error::NotFound(format!("network {key} not found")))?;
            if n.is_predefined() {
                return Err(Error::Forbidden(format!("{} is a pre-defined network and cannot be removed", n.name)));
            }
            if !r.containers_on(&n.id).is_empty() {
                return Err(Error::Forbidden(format!(
                    "error while removing network: network {} id {} has active endpoints",
                    n.name, n.id
                )));
            }
            r.networks.remove(&n.id);
            Ok(n)
        })?;
        let device = net.device.clone();
        run_blocking(move || netlink::link_delete(&device)).await?.map_err(super::kernel_err)?;
        self.apply_firewall().await?;
        self.emit_network(&net.id, "destroy", &net.name, &net.driver, None);
        Ok(())
    }
}
