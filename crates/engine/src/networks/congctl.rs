//! TCP congestion control for a container's on-link traffic: the TCP connections between a
//! container and its bridge's address (including published ports reached from the host, which
//! are masqueraded to that address) or the other containers on the bridge, which never leave
//! the host.
//!
//! A new network namespace takes the host's default algorithm. When that is BBR (a common host
//! tuning), these local connections crawl: BBR paces every 1448-byte-MSS burst over a virtual
//! path with microsecond round trips, and a 1 MiB HTTP response through a published port
//! costs ~50% more CPU than on the host's loopback (measured with `bench/network.sh`). Only the
//! on-link subnet routes get the kernel's default algorithm (`cubic`, else `reno`): the one
//! inside the container and the bridge's own on the host (for a host server sending to its
//! containers). Traffic leaving the host keeps the host's choice, and a container that sets
//! `net.ipv4.tcp_congestion_control` itself (`--sysctl`) is left alone.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const SYSCTL: &str = "net.ipv4.tcp_congestion_control";

/// The algorithm for the on-link route of a container with `sysctls`, or `None` to leave it.
pub(crate) fn onlink_congctl(sysctls: &BTreeMap<String, String>) -> Option<&'static str> {
    static HOST: OnceLock<(String, String)> = OnceLock::new();
    let (default, available) = HOST.get_or_init(|| {
        let read = |f: &str| std::fs::read_to_string(format!("/proc/sys/net/ipv4/{f}")).unwrap_or_default();
        (read("tcp_congestion_control"), read("tcp_available_congestion_control"))
    });
    choose(default, available, sysctls.contains_key(SYSCTL))
}

/// The algorithm for the host's on-link route of a bridge (the host side of the same traffic).
pub(crate) fn bridge_congctl() -> Option<&'static str> {
    onlink_congctl(&BTreeMap::new())
}

/// `host_default` and `available` as /proc/sys/net/ipv4 shows them.
fn choose(host_default: &str, available: &str, user_set: bool) -> Option<&'static str> {
    if user_set || !host_default.trim().starts_with("bbr") {
        return None;
    }
    if available.split_whitespace().any(|a| a == "cubic") {
        Some("cubic")
    } else {
        Some("reno")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bbr_host_default_is_replaced() {
        assert_eq!(choose("bbr\n", "reno bbr cubic\n", false), Some("cubic"));
        assert_eq!(choose("bbr", "reno bbr", false), Some("reno"));
        assert_eq!(choose("bbr", "reno bbr cubic", true), None);
        assert_eq!(choose("cubic\n", "reno cubic bbr", false), None);
        assert_eq!(choose("", "", false), None);
    }

    #[test]
    fn a_container_sysctl_wins() {
        let s = BTreeMap::from([(SYSCTL.to_string(), "bbr".to_string())]);
        assert_eq!(onlink_congctl(&s), None);
    }
}
