//! A container's `/etc/hosts` and `/etc/resolv.conf` from its endpoints: the embedded DNS
//! server on user-defined networks, the host's resolvers (or `--dns`) otherwise, `--add-host`
//! (with `host-gateway`) and `--link` entries.

use berth_net::hosts;

use crate::containers::record::Record;
use crate::{Engine, Error, Result};

/// The host's resolv.conf (where the embedded DNS server forwards to, unless `--dns`).
pub(crate) const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

impl Engine {
    /// Whether container `id` has an endpoint on a user-defined network.
    pub(crate) fn on_user_network(&self, id: &str) -> bool {
        let reg = self.networks.snapshot();
        reg.endpoints
            .get(id)
            .is_some_and(|eps| eps.iter().any(|e| reg.networks.get(&e.network_id).is_some_and(|n| !n.is_predefined())))
    }

    /// The hosts file of `record`: its own address and hostname, `--add-host` entries, and
    /// `--link`ed containers (names on user-defined networks resolve through the embedded DNS).
    fn hosts_for(&self, record: &Record) -> hosts::Hosts {
        let reg = self.networks.snapshot();
        let mine = reg.endpoints.get(&record.id).cloned().unwrap_or_default();
        let gateway = mine
            .first()
            .and_then(|e| reg.networks.get(&e.network_id))
            .or_else(|| reg.find("bridge"))
            .and_then(|n| n.gateway)
            .map(|g| g.to_string())
            .unwrap_or_default();
        let extra = record
            .host
            .net
            .extra_hosts
            .iter()
            .filter_map(|h| h.split_once(':'))
            .map(|(n, ip)| (n.to_string(), if ip == "host-gateway" { gateway.clone() } else { ip.to_string() }))
            .collect();
        let own = mine.first().map(|e| (e.ip, vec![record.config.hostname.clone()]));
        // dockerd's line per link: the alias, the linked container's hostname, and its name
        // when that differs from the alias.
        let peers = self
            .linked(record)
            .into_iter()
            .map(|l| {
                let mut names = vec![l.alias.clone(), l.record.config.hostname.clone()];
                if l.alias != l.name {
                    names.push(l.name.clone());
                }
                (l.ip, names)
            })
            .collect();
        hosts::Hosts { extra, own, peers }
    }

    /// Writes `hosts` and `resolv.conf` of a starting (or newly connected) container, in place
    /// (they are bind-mounted into a running container).
    pub(crate) fn write_net_files(&self, record: &Record, host_network: bool) -> Result<()> {
        let dir = self.containers.container_dir(&record.id);
        let host_resolv = std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default();
        let n = &record.host.net;
        let resolv = if !host_network && self.on_user_network(&record.id) {
            hosts::resolv_conf_embedded(&host_resolv, &n.dns_search, &n.dns_options)
        } else {
            hosts::resolv_conf(&host_resolv, &n.dns, &n.dns_search, &n.dns_options, host_network)
        };
        let hosts_text = if host_network {
            std::fs::read_to_string("/etc/hosts").unwrap_or_else(|_| hosts::DEFAULT_HOSTS.to_string())
        } else {
            self.hosts_for(record).render()
        };
        for (name, data) in [("hosts", hosts_text), ("resolv.conf", resolv)] {
            let p = dir.join(name);
            std::fs::write(&p, data).map_err(|e| Error::io(format!("writing {}", p.display()), e))?;
        }
        Ok(())
    }
}
