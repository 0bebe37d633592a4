//! Container networking as data: IPAM ([`ipam`]: subnets, address allocation, Docker's MACs),
//! port-publishing plans ([`ports`]), the nftables ruleset of one daemon ([`nft`]: generated
//! as `nft -f` text, golden-tested in `tests/golden/`), and the per-container `/etc/hosts` and
//! `/etc/resolv.conf` ([`hosts`]), and the embedded DNS server of user-defined networks
//! ([`dns`]: the one part that runs, as tasks on the daemon's runtime).
//!
//! Everything else here is pure: it computes what should exist. Creating bridges, veths and network
//! namespaces and loading rulesets is done by `berth-kernel` (`netns`, `netlink`, `nft`), called
//! by the engine with the plans made here. Must not touch the host itself, nor depend on
//! anything but `berth-kernel`.

pub mod dns;
pub mod hosts;
pub mod ipam;
pub mod nft;
pub mod ports;

pub use ipam::Subnet;
