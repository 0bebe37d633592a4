//! The daemon's whole nftables ruleset as data, rendered as an `nft -f` script that replaces
//! the daemon's own table atomically (and never touches any other table).
//!
//! One table (`ip berth`, or a per-daemon name) holds: DNAT of published ports (from outside,
//! and from the host itself incl. 127.0.0.1 with `route_localnet` on the bridge), masquerade of
//! outbound traffic, hairpin masquerade, isolation between bridges, and internal networks.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::Subnet;

/// One bridge network's device and subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    pub device: String,
    pub subnet: Subnet,
    /// `Internal`: no traffic in or out of the bridge but between its containers.
    pub internal: bool,
}

/// One published port: traffic to `host_ip:host_port` goes to `addr:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// `tcp` or `udp`.
    pub proto: String,
    /// `None` for all host addresses.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub addr: Ipv4Addr,
    pub port: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub table: String,
    pub bridges: Vec<Bridge>,
    pub forwards: Vec<Forward>,
}

/// Removes `table` (creating it first so the delete cannot fail when it is absent).
pub fn delete_script(table: &str) -> String {
    format!("table ip {table}\ndelete table ip {table}\n")
}

impl Ruleset {
    /// The `nft -f` script: deletes the table and defines it anew, in one transaction.
    pub fn render(&self) -> String {
        let mut o = delete_script(&self.table);
        let _ = writeln!(o, "table ip {} {{", self.table);
        o.push_str("\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
        o.push_str("\t\tfib daddr type local jump publish\n\t}\n");
        o.push_str("\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n");
        o.push_str("\t\tfib daddr type local jump publish\n\t}\n");
        o.push_str("\tchain publish {\n");
        for f in &self.forwards {
            o.push_str("\t\t");
            if let Some(ip) = f.host_ip {
                let _ = write!(o, "ip daddr {ip} ");
            }
            let _ = writeln!(o, "{} dport {} dnat to {}:{}", f.proto, f.host_port, f.addr, f.port);
        }
        o.push_str("\t}\n");
        o.push_str("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        for b in &self.bridges {
            let (d, s) = (&b.device, b.subnet.normalized());
            if !b.internal {
                let _ = writeln!(o, "\t\tip saddr {s} oifname != \"{d}\" masquerade");
            }
            let _ = writeln!(o, "\t\toifname \"{d}\" ip saddr 127.0.0.0/8 masquerade");
            let _ = writeln!(o, "\t\toifname \"{d}\" ip saddr {s} ct status dnat masquerade");
        }
        o.push_str("\t}\n");
        o.push_str("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
        for b in self.bridges.iter().filter(|b| b.internal) {
            let d = &b.device;
            let _ = writeln!(o, "\t\tiifname \"{d}\" oifname != \"{d}\" drop");
            let _ = writeln!(o, "\t\toifname \"{d}\" iifname != \"{d}\" drop");
        }
        o.push_str("\t\tct status dnat accept\n");
        for a in &self.bridges {
            for b in self.bridges.iter().filter(|b| b.device != a.device) {
                let _ = writeln!(o, "\t\tiifname \"{}\" oifname \"{}\" drop", a.device, b.device);
            }
        }
        o.push_str("\t}\n}\n");
        o
    }
}
