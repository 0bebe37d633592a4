//! The embedded DNS server of containers on user-defined networks: the daemon-wide name table
//! kept in step with endpoints, and one server task per container, listening on 127.0.0.11:53
//! inside its namespace.
//!
//! The sockets are opened inside the container's namespace by a short-lived thread that enters
//! it (`berth_kernel::netns::bind_in`) and served from berthd's runtime. Docker instead listens
//! on a random port and DNATs 127.0.0.11:53 to it with rules inside the namespace; binding the
//! real address needs no rules, no per-container ruleset, and nothing to clean up but the task.

use std::net::{IpAddr, SocketAddr};

use berth_kernel::netns;
use berth_net::dns::{self, DnsEntry, Resolver};

use super::daemon::run_blocking;
use super::etc_files::HOST_RESOLV_CONF;
use crate::containers::record::Record;
use crate::Engine;

/// The label compose puts on a service's containers: its value is a name on the network too.
pub const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";

impl Engine {
    /// The names `record` answers to on its user-defined networks: its name, short id, aliases
    /// and compose service, each also as `<name>.<network>` (the container's qualified name
    /// first: reverse lookups answer it).
    pub(crate) fn dns_entries(&self, record: &Record) -> Vec<DnsEntry> {
        let reg = self.networks.snapshot();
        let name = self.containers.get(&record.id).map(|c| c.name()).unwrap_or_else(|_| record.name.clone());
        let short = record.id[..12.min(record.id.len())].to_string();
        let service = record.config.labels.get(COMPOSE_SERVICE_LABEL).cloned();
        reg.endpoints
            .get(&record.id)
            .into_iter()
            .flatten()
            .filter(|e| reg.networks.get(&e.network_id).is_some_and(|n| !n.is_predefined()))
            .map(|e| {
                let names: Vec<String> = [name.clone(), short.clone()]
                    .into_iter()
                    .chain(e.aliases.iter().cloned())
                    .chain(service.clone())
                    .collect();
                // Each name also qualified with the network's name (`web.front`), as Docker.
                let network = reg.networks.get(&e.network_id).map(|n| n.name.clone()).unwrap_or_default();
                let qualified: Vec<String> = names.iter().map(|n| format!("{n}.{network}")).collect();
                // The first name answers reverse (PTR) queries: `name.network`, as Docker.
                let first = qualified.first().cloned();
                DnsEntry::new(&record.id, &e.network_id, e.ip, first.into_iter().chain(names).chain(qualified))
            })
            .collect()
    }

    /// Brings the table and the server of `record` in line with its endpoints: names published,
    /// a server running while it is on a user-defined network, none otherwise.
    pub(crate) async fn dns_refresh(&self, record: &Record) {
        let entries = self.dns_entries(record);
        if entries.is_empty() {
            self.dns_stop(&record.id);
            return;
        }
        self.networks.dns.set_container(&record.id, entries);
        if self.dns_tasks().contains_key(&record.id) {
            return;
        }
        let path = self.netns_path(&record.id);
        let addr = SocketAddr::new(IpAddr::V4(dns::DNS_ADDR), 53);
        let bound = match run_blocking(move || netns::bind_in(&path, addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::warn!(id = %record.id, error = %e, "embedded DNS server");
                return;
            }
            Err(e) => {
                tracing::warn!(id = %record.id, error = %e, "embedded DNS server");
                return;
            }
        };
        let resolver =
            Resolver { container: record.id.clone(), table: self.networks.dns.clone(), upstreams: upstreams(record) };
        let id = record.id.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = dns::serve(bound.0, bound.1, resolver).await {
                tracing::warn!(%id, error = %e, "embedded DNS server stopped");
            }
        });
        if let Some(old) = self.dns_tasks().insert(record.id.clone(), task.abort_handle()) {
            old.abort();
        }
    }

    /// Stops the server of `id` and withdraws its names.
    pub(crate) fn dns_stop(&self, id: &str) {
        self.networks.dns.remove_container(id);
        if let Some(t) = self.dns_tasks().remove(id) {
            t.abort();
        }
    }

    fn dns_tasks(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, tokio::task::AbortHandle>> {
        // Holds only handles; a poisoned lock is still consistent.
        self.networks.dns_tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Where the server of `record` forwards names it does not know: its `--dns` servers, else the
/// host's (from the daemon's namespace, so a loopback resolver of the host works).
fn upstreams(record: &Record) -> Vec<SocketAddr> {
    let given: Vec<SocketAddr> =
        record.host.net.dns.iter().filter_map(|d| d.parse::<IpAddr>().ok()).map(|ip| SocketAddr::new(ip, 53)).collect();
    if !given.is_empty() {
        return given;
    }
    dns::upstreams(&std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default())
}
