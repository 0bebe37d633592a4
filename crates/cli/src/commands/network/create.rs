//! `berth network create` (NetworkCreate).

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};

use crate::client::Client;
use crate::error::{daemon_message, CliError, CmdResult};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Enable manual container attachment
    #[arg(long = "attachable")]
    pub attachable: bool,
    /// Driver to manage the Network
    #[arg(short = 'd', long = "driver", default_value = "bridge")]
    pub driver: String,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long = "gateway")]
    pub gateway: Vec<String>,
    /// Restrict external access to the network
    #[arg(long = "internal")]
    pub internal: bool,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range")]
    pub ip_range: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", default_value = "default")]
    pub ipam_driver: String,
    /// Set metadata on a network
    #[arg(long = "label")]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    pub opt: Vec<String>,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long = "subnet")]
    pub subnet: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

/// The IPAM pools: one per `--subnet`, with the `--gateway`/`--ip-range` given in the same
/// order (docker's rule: each gateway/range belongs to the subnet at its position).
pub fn ipam_configs(a: &Args) -> Result<Vec<IpamConfig>, CliError> {
    if a.subnet.is_empty() && (!a.gateway.is_empty() || !a.ip_range.is_empty()) {
        return Err(CliError::new(1, "every ip-range or gateway must have a corresponding subnet"));
    }
    if a.gateway.len() > a.subnet.len() || a.ip_range.len() > a.subnet.len() {
        return Err(CliError::new(1, "every ip-range or gateway must have a corresponding subnet"));
    }
    Ok(a.subnet
        .iter()
        .enumerate()
        .map(|(i, s)| IpamConfig {
            subnet: Some(s.clone()),
            gateway: a.gateway.get(i).cloned(),
            ip_range: a.ip_range.get(i).cloned(),
            ..Default::default()
        })
        .collect())
}

pub fn request(a: &Args) -> Result<NetworkCreateRequest, CliError> {
    Ok(NetworkCreateRequest {
        name: a.name.clone(),
        driver: Some(a.driver.clone()),
        internal: Some(a.internal),
        attachable: Some(a.attachable),
        ipam: Some(Ipam { driver: Some(a.ipam_driver.clone()), config: Some(ipam_configs(a)?), options: None }),
        options: Some(super::kv_map(&a.opt)),
        labels: Some(super::kv_map(&a.label)),
        ..Default::default()
    })
}

pub async fn run(c: &Client, a: Args) -> CmdResult {
    let resp = c.docker.create_network(request(&a)?).await.map_err(|e| CliError::new(1, daemon_message(&e)))?;
    println!("{}", resp.id);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct T {
        #[command(flatten)]
        a: Args,
    }

    #[test]
    fn flags_to_request() {
        let t = T::parse_from([
            "x",
            "--subnet",
            "10.9.0.0/24",
            "--gateway",
            "10.9.0.254",
            "--ip-range",
            "10.9.0.128/25",
            "--internal",
            "--label",
            "a=b",
            "-o",
            "com.docker.network.bridge.name=brx",
            "net1",
        ]);
        let r = request(&t.a).unwrap();
        assert_eq!(r.name, "net1");
        let cfg = &r.ipam.unwrap().config.unwrap()[0];
        assert_eq!(cfg.gateway.as_deref(), Some("10.9.0.254"));
        assert_eq!(cfg.ip_range.as_deref(), Some("10.9.0.128/25"));
        assert_eq!(r.internal, Some(true));
        assert_eq!(r.labels.unwrap()["a"], "b");
        assert_eq!(r.options.unwrap()["com.docker.network.bridge.name"], "brx");
        let bad = T::parse_from(["x", "--gateway", "10.0.0.1", "n"]);
        assert!(request(&bad.a).is_err());
    }
}
