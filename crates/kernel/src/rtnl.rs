//! A small synchronous rtnetlink client: `netlink-packet-route` messages over a blocking
//! `netlink-sys` socket (the same packet crates libcontainer links), for the per-container link
//! work on the start path, where running `ip` processes cost milliseconds each.
//!
//! A socket talks to the namespace it was created in, so [`Rtnl::in_netns`] creates it on a
//! short-lived thread that entered the target namespace; the daemon's own threads never move.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::Path;

use netlink_packet_core::{
    DefaultNla, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteMetric, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::Socket;
use nix::sched::{setns, CloneFlags};

/// An rtnetlink socket bound to one network namespace.
pub struct Rtnl {
    socket: Socket,
    seq: u32,
}

/// The container end of a veth pair, created directly inside its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer<'a> {
    pub name: &'a str,
    pub mac: [u8; 6],
    /// The namespace the peer is created in.
    pub netns: &'a Path,
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

impl Rtnl {
    /// A socket in the calling thread's namespace.
    pub fn new() -> io::Result<Rtnl> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// A socket in the namespace mounted at `netns`.
    pub fn in_netns(netns: &Path) -> io::Result<Rtnl> {
        let file = std::fs::File::open(netns)?;
        std::thread::spawn(move || {
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            Rtnl::new()
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("netlink namespace thread panicked")))
    }

    /// Sends `msg` with `flags` and an ACK request; returns the messages before the ACK.
    fn request(&mut self, msg: RouteNetlinkMessage, flags: u16) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut req = NetlinkMessage::from(msg);
        req.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        req.header.sequence_number = self.seq;
        req.finalize();
        let mut buf = vec![0u8; req.header.length as usize];
        req.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        let mut out = Vec::new();
        let mut rx = vec![0u8; 64 * 1024];
        loop {
            rx.clear();
            let n = self.socket.recv(&mut rx, 0)?;
            let mut offset = 0;
            while offset < n {
                let m = <NetlinkMessage<RouteNetlinkMessage>>::deserialize(&rx[offset..n])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("netlink reply: {e}")))?;
                let len = m.header.length as usize;
                if m.header.sequence_number == self.seq {
                    match m.payload {
                        NetlinkPayload::Error(e) => {
                            return match e.code {
                                None => Ok(out),
                                Some(code) => Err(io::Error::from_raw_os_error(-code.get())),
                            }
                        }
                        NetlinkPayload::InnerMessage(inner) => out.push(inner),
                        NetlinkPayload::Done(_) => return Ok(out),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }

    /// The index of link `name`.
    pub fn link_index(&mut self, name: &str) -> io::Result<u32> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        let replies = self.request(RouteNetlinkMessage::GetLink(m), 0).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENODEV) {
                io::Error::new(io::ErrorKind::NotFound, format!("link {name} not found"))
            } else {
                e
            }
        })?;
        replies
            .into_iter()
            .find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l.header.index),
                _ => None,
            })
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("link {name} not found")))
    }

    /// Deletes link `name` (a veth takes its peer with it); `Ok(false)` when it does not exist.
    pub fn link_delete(&mut self, name: &str) -> io::Result<bool> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        match self.request(RouteNetlinkMessage::DelLink(m), 0) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Brings link `index` up.
    pub fn link_up(&mut self, index: u32) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(m), 0).map(drop)
    }

    /// Creates veth `name` (up, enslaved to link `master`) with its `peer` made inside the peer's
    /// namespace, both with `mtu`.
    pub fn veth_create(&mut self, name: &str, mtu: u32, master: u32, peer: &Peer<'_>) -> io::Result<()> {
        let ns = std::fs::File::open(peer.netns)?;
        let mut p = LinkMessage::default();
        p.attributes = vec![
            LinkAttribute::IfName(peer.name.to_string()),
            LinkAttribute::Mtu(mtu),
            LinkAttribute::Address(peer.mac.to_vec()),
            LinkAttribute::NetNsFd(ns.as_raw_fd()),
        ];
        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        m.attributes = vec![
            LinkAttribute::IfName(name.to_string()),
            LinkAttribute::Mtu(mtu),
            LinkAttribute::Controller(master),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
            ]),
        ];
        // `ns` stays open until the kernel answered.
        let r = self.request(RouteNetlinkMessage::NewLink(m), NLM_F_CREATE | NLM_F_EXCL).map(drop);
        drop(ns);
        r
    }

    /// Adds `addr/prefix` to link `index`.
    pub fn addr_add(&mut self, index: u32, addr: Ipv4Addr, prefix: u8) -> io::Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = prefix;
        m.header.index = index;
        m.attributes = vec![AddressAttribute::Local(addr.into()), AddressAttribute::Address(addr.into())];
        self.request(RouteNetlinkMessage::NewAddress(m), NLM_F_CREATE | NLM_F_EXCL).map(drop)
    }

    /// `ip route replace default via gateway dev <index>`.
    pub fn default_route_replace(&mut self, gateway: Ipv4Addr, index: u32) -> io::Result<()> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Boot;
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unicast;
        m.attributes = vec![RouteAttribute::Gateway(RouteAddress::Inet(gateway)), RouteAttribute::Oif(index)];
        self.request(RouteNetlinkMessage::NewRoute(m), NLM_F_CREATE | NLM_F_REPLACE).map(drop)
    }

    /// Replaces the kernel's on-link route `network/prefix dev <index> src <src>` (the one
    /// made for an address) with the same route using TCP congestion control `congctl`
    /// (`ip route replace … congctl <name>`): it applies to traffic with the on-link subnet only.
    pub fn onlink_route_congctl(
        &mut self,
        index: u32,
        network: Ipv4Addr,
        prefix: u8,
        src: Ipv4Addr,
        congctl: &str,
    ) -> io::Result<()> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = prefix;
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Kernel;
        m.header.scope = RouteScope::Link;
        m.header.kind = RouteType::Unicast;
        // RTAX_CC_ALGO is a NUL-terminated name (the crate's `CcAlgo` variant encodes a number).
        let mut name = congctl.as_bytes().to_vec();
        name.push(0);
        m.attributes = vec![
            RouteAttribute::Destination(RouteAddress::Inet(network)),
            RouteAttribute::Oif(index),
            RouteAttribute::PrefSource(RouteAddress::Inet(src)),
            RouteAttribute::Metrics(vec![RouteMetric::Other(DefaultNla::new(RTAX_CC_ALGO, name))]),
        ];
        self.request(RouteNetlinkMessage::NewRoute(m), NLM_F_CREATE | NLM_F_REPLACE).map(drop)
    }
}

/// `RTAX_CC_ALGO` from linux/rtnetlink.h.
const RTAX_CC_ALGO: u16 = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(parse_mac("02:42:0a:00:00:ff"), Some([2, 0x42, 10, 0, 0, 0xff]));
        assert_eq!(parse_mac("02:42:0a:00:00"), None);
        assert_eq!(parse_mac("02:42:0a:00:00:00:01"), None);
        assert_eq!(parse_mac("zz:42:0a:00:00:00"), None);
    }

    #[test]
    fn loopback_is_found_in_our_namespace() {
        // Reading links needs no privilege.
        let mut nl = Rtnl::new().unwrap();
        assert_eq!(nl.link_index("lo").unwrap(), 1);
        let e = nl.link_index("bnosuchlnk0").unwrap_err();
        assert!(matches!(e.kind(), io::ErrorKind::NotFound), "{e}");
    }

    #[test]
    fn deleting_an_absent_link_is_not_an_error() {
        let mut nl = Rtnl::new().unwrap();
        match nl.link_delete("bnosuchlnk0") {
            Ok(existed) => assert!(!existed),
            // Without CAP_NET_ADMIN the kernel refuses before looking the name up.
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}"),
        }
    }
}
