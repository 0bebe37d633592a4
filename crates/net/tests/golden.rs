//! Golden files of the nftables rulesets (`tests/golden/*.nft`). Regenerate with
//! `BERTH_UPDATE_GOLDEN=1 cargo test -p berth-net --test golden`.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use berth_net::nft::{Bridge, Forward, Ruleset};

fn check(name: &str, got: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("BERTH_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(got, want, "{} differs (BERTH_UPDATE_GOLDEN=1 to regenerate)", path.display());
}

#[test]
fn empty_daemon() {
    check("empty.nft", &Ruleset { table: "berth".into(), ..Default::default() }.render());
}

#[test]
fn two_bridges_internal_and_ports() {
    let r = Ruleset {
        table: "berth".into(),
        bridges: vec![
            Bridge { device: "berth0".into(), subnet: "172.18.0.0/16".parse().unwrap(), internal: false },
            Bridge { device: "br-0123456789ab".into(), subnet: "10.5.0.0/24".parse().unwrap(), internal: false },
            Bridge { device: "br-internal0".into(), subnet: "10.6.0.0/24".parse().unwrap(), internal: true },
        ],
        forwards: vec![
            Forward {
                proto: "tcp".into(),
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_port: 8080,
                addr: Ipv4Addr::new(172, 18, 0, 2),
                port: 80,
            },
            Forward { proto: "udp".into(), host_ip: None, host_port: 5353, addr: Ipv4Addr::new(10, 5, 0, 3), port: 53 },
        ],
    };
    check("two-bridges-ports.nft", &r.render());
}
