//! IPv4 address management: subnets, choosing a free subnet for a new bridge, allocating
//! addresses inside one, and Docker's MAC derived from an address.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IpamError {
    #[error("invalid CIDR address: {0}")]
    InvalidCidr(String),
    #[error("no available IPv4 addresses on this network's address pools: {subnet}")]
    Exhausted { subnet: Subnet },
    #[error("address {addr} is not in subnet {subnet}")]
    OutOfSubnet { addr: Ipv4Addr, subnet: Subnet },
    #[error("Address already in use: {0}")]
    InUse(Ipv4Addr),
    #[error(
        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"
    )]
    NoFreePool,
}

/// An IPv4 network `addr/prefix`; `addr` is kept as given (a `--bip` names the gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Subnet {
        Subnet { addr, prefix: prefix.min(32) }
    }

    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    /// The network address (host bits zero).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    /// This subnet with host bits cleared.
    pub fn normalized(&self) -> Subnet {
        Subnet::new(self.network(), self.prefix)
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()) | !self.mask())
    }

    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.network())
    }

    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.network()) || other.contains(self.network())
    }

    /// Docker's default gateway: the first host address.
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network()) + 1)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = IpamError;
    fn from_str(s: &str) -> Result<Subnet, IpamError> {
        let bad = || IpamError::InvalidCidr(s.to_string());
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        Ok(Subnet { addr, prefix })
    }
}

impl TryFrom<String> for Subnet {
    type Error = IpamError;
    fn try_from(s: String) -> Result<Subnet, IpamError> {
        s.parse()
    }
}

impl From<Subnet> for String {
    fn from(s: Subnet) -> String {
        s.to_string()
    }
}

/// Docker's default address pools for local bridges: 172.17–31.0.0/16, then 192.168.x.0/20.
pub fn default_pools() -> Vec<Subnet> {
    let mut v: Vec<Subnet> = (17..=31).map(|b| Subnet::new(Ipv4Addr::new(172, b, 0, 0), 16)).collect();
    v.extend((0..=240).step_by(16).map(|c| Subnet::new(Ipv4Addr::new(192, 168, c, 0), 20)));
    v
}

/// The first of `pools` overlapping none of `in_use` (host routes, other networks).
pub fn choose_subnet(pools: &[Subnet], in_use: &[Subnet]) -> Result<Subnet, IpamError> {
    pools.iter().copied().find(|p| !in_use.iter().any(|u| u.overlaps(p))).ok_or(IpamError::NoFreePool)
}

/// Destinations of `ip -4 route show` output (`default` is skipped: it overlaps everything).
pub fn parse_routes(text: &str) -> Vec<Subnet> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|d| if d.contains('/') { d.parse().ok() } else { format!("{d}/32").parse().ok() })
        .collect()
}

/// Allocates an address in `subnet` (restricted to `range` when given): the `wanted` one, or
/// the lowest free one after the gateway, skipping `used`, the network and broadcast addresses.
pub fn allocate(
    subnet: &Subnet,
    range: Option<&Subnet>,
    used: &BTreeSet<Ipv4Addr>,
    wanted: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, IpamError> {
    if let Some(w) = wanted {
        if !subnet.contains(w) {
            return Err(IpamError::OutOfSubnet { addr: w, subnet: *subnet });
        }
        if used.contains(&w) {
            return Err(IpamError::InUse(w));
        }
        return Ok(w);
    }
    let pool = range.unwrap_or(subnet);
    let first = u32::from(pool.network()).max(u32::from(subnet.network()) + 1);
    let last = u32::from(pool.broadcast()).min(u32::from(subnet.broadcast()).saturating_sub(1));
    (first..=last).map(Ipv4Addr::from).find(|a| !used.contains(a)).ok_or(IpamError::Exhausted { subnet: *subnet })
}

/// Docker's MAC for an address: `02:42` followed by the four address bytes.
pub fn mac_for(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Subnet {
        x.parse().unwrap()
    }

    #[test]
    fn subnet_math() {
        let n = s("172.18.5.1/16");
        assert_eq!(n.network(), Ipv4Addr::new(172, 18, 0, 0));
        assert_eq!(n.broadcast(), Ipv4Addr::new(172, 18, 255, 255));
        assert_eq!(n.first_host(), Ipv4Addr::new(172, 18, 0, 1));
        assert!(n.overlaps(&s("172.18.3.0/24")));
        assert!(!n.overlaps(&s("172.19.0.0/16")));
        assert!("1.2.3.4".parse::<Subnet>().is_err());
        assert!("1.2.3.4/33".parse::<Subnet>().is_err());
    }

    #[test]
    fn chooses_first_free_pool() {
        let routes = parse_routes("default via 192.0.2.1 dev eth0\n172.17.0.0/16 dev docker0\n10.0.0.1 dev x\n");
        assert_eq!(routes, vec![s("172.17.0.0/16"), s("10.0.0.1/32")]);
        assert_eq!(choose_subnet(&default_pools(), &routes).unwrap(), s("172.18.0.0/16"));
        assert_eq!(choose_subnet(&[s("10.0.0.0/8")], &routes), Err(IpamError::NoFreePool));
    }

    #[test]
    fn allocates_lowest_free_after_gateway() {
        let n = s("10.9.0.0/29");
        let mut used = BTreeSet::from([n.first_host()]);
        let a = allocate(&n, None, &used, None).unwrap();
        assert_eq!(a, Ipv4Addr::new(10, 9, 0, 2));
        used.insert(a);
        assert_eq!(allocate(&n, None, &used, None).unwrap(), Ipv4Addr::new(10, 9, 0, 3));
        for i in 3..=6 {
            used.insert(Ipv4Addr::new(10, 9, 0, i));
        }
        assert!(matches!(allocate(&n, None, &used, None), Err(IpamError::Exhausted { .. })));
        assert_eq!(allocate(&n, None, &used, Some(Ipv4Addr::new(10, 9, 0, 2))), Err(IpamError::InUse(a)));
        let r = s("10.9.0.4/30");
        assert_eq!(allocate(&n, Some(&r), &BTreeSet::new(), None).unwrap(), Ipv4Addr::new(10, 9, 0, 4));
    }

    #[test]
    fn docker_mac() {
        assert_eq!(mac_for(Ipv4Addr::new(172, 17, 0, 2)), "02:42:ac:11:00:02");
    }
}
