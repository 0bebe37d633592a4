//! `POST /containers/{id}/update` (ContainerUpdate): new resource limits, written to the running
//! container's cgroup and persisted; the restart policy part goes to `restart_policy.rs`.

use berth_api_types::models::ContainerUpdateBody;
use berth_kernel::cgroup_limits::{self, Update};

use super::resources::{self, Resources};
use crate::{Engine, Error, Result};

/// The cgroup writes for the fields an update sets, from the merged limits `r`.
pub fn cgroup_update(body: &ContainerUpdateBody, r: &Resources) -> Update {
    let set = |v: Option<i64>| v.filter(|v| *v != 0);
    let mut u = Update {
        memory: set(body.memory).map(|_| r.memory),
        memory_swap: (set(body.memory).is_some() || set(body.memory_swap).is_some())
            .then_some(r.memory_swap)
            .filter(|s| *s != 0),
        memory_reservation: set(body.memory_reservation).map(|_| r.memory_reservation),
        cpu_shares: set(body.cpu_shares).and_then(|_| u64::try_from(r.cpu_shares).ok()),
        cpu_quota: set(body.cpu_quota).map(|_| r.cpu_quota),
        cpu_period: set(body.cpu_period).and_then(|_| u64::try_from(r.cpu_period).ok()),
        cpuset_cpus: body.cpuset_cpus.clone().filter(|c| !c.is_empty()),
        cpuset_mems: body.cpuset_mems.clone().filter(|m| !m.is_empty()),
        pids_limit: body.pids_limit.map(|p| p.max(0)),
        blkio_weight: body.blkio_weight.filter(|w| *w != 0 && r.blkio_weight != 0),
        oom_kill_disable: None,
    };
    if set(body.nano_cpus).is_some() {
        let (period, quota) = berth_runtime::resources::nano_cpus_to_cfs(r.nano_cpus);
        u.cpu_period = Some(period);
        u.cpu_quota = Some(quota);
    }
    u
}

impl Engine {
    /// Applies an update; returns dockerd's warnings.
    pub async fn container_update(&self, key: &str, body: ContainerUpdateBody) -> Result<Vec<String>> {
        let c = self.containers.get(key)?;
        if let Some(policy) = body.restart_policy.as_ref() {
            self.set_restart_policy(&c.id, Some(policy)).await?;
        }
        let _op = c.op.lock().await;
        let record = c.record();
        let cannot = |e: String| Error::InvalidArgument(format!("Cannot update container {}: {e}", c.id));
        let mut next = record.host.resources.updated(&body).map_err(|e| cannot(e.to_string()))?;
        // dockerd checks the settings first (plain messages), then wraps what fails while updating.
        let warnings = next.validate(resources::host_caps())?;
        if record.state.status.is_running() {
            let u = cgroup_update(&body, &next);
            let root = std::path::Path::new(berth_kernel::cgroup::CGROUP_ROOT);
            cgroup_limits::update(root, &self.cgroup_path(&c.id), &u).map_err(|e| cannot(e.to_string()))?;
        }
        c.update(|r| {
            r.host.resources = next;
            Ok(())
        })?;
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_what_changed() {
        let old = Resources { memory: 64 << 20, memory_swap: 128 << 20, pids_limit: Some(5), ..Default::default() };
        let body = ContainerUpdateBody {
            nano_cpus: Some(500_000_000),
            memory: Some(256 << 20),
            memory_swap: Some(-1),
            ..Default::default()
        };
        let next = old.updated(&body).unwrap();
        let u = cgroup_update(&body, &next);
        assert_eq!(u.memory, Some(256 << 20));
        assert_eq!(u.memory_swap, Some(-1));
        assert_eq!((u.cpu_period, u.cpu_quota), (Some(100_000), Some(50_000)));
        assert_eq!(u.pids_limit, None, "not in the request");
        assert_eq!(u.cpu_shares, None);
        let u = cgroup_update(&ContainerUpdateBody { pids_limit: Some(-1), ..Default::default() }, &next);
        assert_eq!(u.pids_limit, Some(0), "-1 = unlimited");
    }
}
